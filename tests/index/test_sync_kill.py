"""``tasktui sync`` killed with SIGKILL mid-sync, twice (no chance to clean up), then run
again: the index ends with exactly the tasks the server holds, each once, with counts that
match its rows — and the last run continued where the killed ones stopped instead of
starting over. Through the public-contract proxy, with latency so each kill lands mid-way;
the kill waits for rows to be committed (a condition read from the index file by SQL)."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tasktui.index.db import index_path, open_index
from tasktui.testing import FaultProxy

from .conftest import ALL_INDEXES, COUNTS, indexes_of, read_sql, recounted


def _committed(path: Path) -> int:
    try:
        rows = read_sql(path, "SELECT COALESCE(SUM(read), 0) FROM sync_state")
    except sqlite3.Error:
        return 0
    return rows[0][0]


@pytest.mark.timeout(300)
def test_sync_killed_twice_resumes_to_exactly_the_full_set(shared_server, sql, tmp_path: Path) -> None:
    expected = sorted(r[0] for r in sql(shared_server, "SELECT task_id FROM tasks"))
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SCALE_", "TASKTUI_"))}
    env.update(TASKTUI_CONFIG=str(tmp_path / "none.toml"), TASKTUI_DATA_DIR=str(tmp_path / "data"))
    with FaultProxy(shared_server.url, public_contract=True, latency=0.15).running() as proxy:
        path = index_path(proxy.url, {"TASKTUI_DATA_DIR": str(tmp_path / "data")})
        cmd = [sys.executable, "-m", "tasktui", "sync", "--parallel", "2", "--no-progress",
               "--api-url", proxy.url, "--api-key", shared_server.api_key]
        for i, rows in enumerate((200, 700)):
            proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
            deadline = time.monotonic() + 90
            while time.monotonic() < deadline and proc.poll() is None and _committed(path) < rows:
                time.sleep(0.02)  # polling interval
            assert proc.poll() is None, f"the sync ended before kill {i + 1} ({proc.stderr.read()[-500:]!r})"
            committed = _committed(path)
            if committed < rows:
                proc.kill()  # not the kill under test: the process must not outlive the failure
                proc.wait(timeout=30)
            assert committed >= rows, (f"the index never had {rows} rows committed in time before kill {i + 1} "
                                       f"({committed} were; {proc.stderr.read()[-500:]!r})")
            os.kill(proc.pid, signal.SIGKILL)
            proc.wait(timeout=30)
            proc.stderr.close()
            held = read_sql(path, "SELECT COUNT(*), COALESCE(MAX(complete), 0) FROM tasks, sync_state")[0]
            assert held[1] == 0 and 0 < held[0] < len(expected)  # killed mid-way, nothing looks complete
            # killed while it wrote without the query indexes: whoever opens the index next
            # (here, as the console would) finds every one of them again
            assert indexes_of(path) < ALL_INDEXES
            open_index(path).close()
            assert indexes_of(path) == ALL_INDEXES
        r = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=120)
        assert proxy.refused == []
    assert r.returncode == 0, r.stderr[-800:]
    resumed_from = read_sql(path, "SELECT read FROM sync_state")[0][0]
    assert "continuing from" in r.stderr, r.stderr
    got = [row[0] for row in read_sql(path, "SELECT task_id FROM tasks ORDER BY task_id")]
    assert got == expected  # every task, each once
    assert resumed_from == len(expected)  # pages counted once each across the three runs
    assert read_sql(path, "SELECT COUNT(*) FROM docs") == [(len(expected),)]
    assert read_sql(path, COUNTS) == recounted(path)
    assert read_sql(path, "SELECT complete, cursor FROM sync_state") == [(1, None)]
    assert indexes_of(path) == ALL_INDEXES
