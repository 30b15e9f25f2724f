"""How ``tasktui sync`` reads through the public contract: the listing's first page once
(no discovery request of its own), then the bulk-read chains (``BULK_READ_PARALLEL``, the
export's default too) — counted at the proxy, never timed. Oracles: the proxy's request
log and counters, SQL read from the server's database and from the index file."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from tasktui.api.throttle import BULK_READ_PARALLEL
from tasktui.testing import FaultProxy
from tests.index.conftest import read_sql, recounted

ROOT = Path(__file__).resolve().parents[2]


def test_sync_asks_once_for_the_head_then_reads_with_the_bulk_chains(server_factory, sql, tmp_path):
    server = server_factory(n=6000)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SCALE_", "TASKTUI_"))}
    env.update(TASKTUI_CONFIG=str(tmp_path / "none.toml"), TASKTUI_DATA_DIR=str(tmp_path / "data"),
               PYTHONPATH=str(ROOT))
    # a little latency, so that the chains' requests overlap at the proxy
    with FaultProxy(server.url, public_contract=True, latency=0.05).running() as proxy:
        r = subprocess.run([sys.executable, "-m", "tasktui", "sync", "-q", "--api-url", proxy.url,
                            "--api-key", server.api_key], env=env, cwd=ROOT, capture_output=True, text=True,
                           timeout=120, stdin=subprocess.DEVNULL)
        assert r.returncode == 0, r.stderr
        lines = [s.request_line for s in proxy.log]
        assert proxy.refused == []
        in_flight = proxy.stats.max_in_flight
    [path] = list((tmp_path / "data" / "index").glob("*.sqlite"))
    assert read_sql(path, "SELECT task_id FROM tasks ORDER BY 1") == sql(server, "SELECT task_id FROM tasks ORDER BY 1")
    assert read_sql(path, "SELECT day, ostatus, review, project, batch, type, n FROM counts WHERE n != 0 "
                          "ORDER BY 1, 2, 3, 4, 5, 6") == recounted(path)
    # the first request is the listing's first page (limit=100, no bound yet); no limit=1 probe
    assert lines[0] == "GET /v1/tasks?limit=100 HTTP/1.1", lines[0]
    assert lines.count(lines[0]) == 1  # not read again to size the slices
    assert not [x for x in lines if "limit=1 " in x or "limit=1&" in x], lines
    # every later request carries the upper bound fixed from that answer's Date
    assert all("end_time=" in x for x in lines[1:]), lines[1:3]
    assert 8 < in_flight <= BULK_READ_PARALLEL == 16
