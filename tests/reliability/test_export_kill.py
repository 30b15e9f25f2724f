"""``tasktui export`` killed with SIGKILL mid-export, twice (no chance to clean up or to write a
last checkpoint), then run again with ``--resume``: the file ends with exactly the tasks
the database holds, each once, and nothing finished-looking exists before that."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tasktui.testing.faultproxy import Fault, FaultProxy


@pytest.mark.timeout(300)
@pytest.mark.parametrize("fmt, kills", [("ndjson", (150, 700)), ("json", (400, 1100))])
def test_export_killed_twice_resumes_to_exactly_the_full_set(shared_server, sql, tmp_path: Path,
                                                             fmt: str, kills: tuple[int, ...]) -> None:
    expected = {r[0] for r in sql(shared_server, "SELECT task_id FROM tasks")}
    out = tmp_path / f"all.{fmt}"
    partial = Path(f"{out}.partial")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SCALE_", "TASKTUI_"))}
    env.update(TASKTUI_CONFIG=str(tmp_path / "none.toml"), TASKTUI_DATA_DIR=str(tmp_path / "data"))
    # every page answered 0.15 s late: the export takes seconds, so each kill lands mid-way
    with FaultProxy(shared_server.url, rate=1.0, kinds=(Fault.slow(0.15),)).running() as proxy:
        cmd = [sys.executable, "-m", "tasktui", "export", "-o", str(out), "--format", fmt, "--page-size", "50",
               "--no-progress", "--api-url", proxy.url, "--api-key", shared_server.api_key]
        for i, lines in enumerate(kills):
            proc = subprocess.Popen([*cmd, *(["--resume"] if i else [])], env=env,
                                    stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
            deadline = time.monotonic() + 60
            reached = False
            while time.monotonic() < deadline and proc.poll() is None:
                if partial.exists() and partial.read_bytes().count(b"\n") >= lines:
                    reached = True
                    break
                time.sleep(0.02)  # polling interval
            assert proc.poll() is None, f"the export ended before kill {i + 1} ({proc.stderr.read()[-500:]!r})"
            if not reached:
                proc.kill()  # not the kill under test: the process must not outlive the failure
                proc.wait(timeout=30)
            assert reached, (f"the partial file never reached {lines} lines in time before kill {i + 1} "
                             f"({proc.stderr.read()[-500:]!r})")
            os.kill(proc.pid, signal.SIGKILL)
            proc.wait(timeout=30)
            proc.stderr.close()
            assert not out.exists()  # nothing looks finished
            assert partial.exists()
        r = subprocess.run([*cmd, "--resume"], env=env, capture_output=True, timeout=120)
    assert r.returncode == 0, r.stderr.decode()[-800:]
    text = out.read_text()
    docs = [json.loads(line) for line in text.splitlines()] if fmt == "ndjson" else json.loads(text)
    ids = [d["task_id"] for d in docs]
    assert len(ids) == len(set(ids)) == len(expected)
    assert set(ids) == expected
    assert not partial.exists()
