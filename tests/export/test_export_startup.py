"""What an export loads at start-up: not httpx's own command-line client (click, pygments,
a Rich console), which httpx imports whenever they are installed and the export never
uses; and the garbage collector's thresholds come back once an in-process export ends."""

from __future__ import annotations

import gc
import os
import subprocess
import sys
from pathlib import Path

from tasktui.cli.main import main

ROOT = Path(__file__).resolve().parents[2]


def _env(tmp_path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("SCALE_API_KEY", "TASKTUI_API_URL")}
    env["TASKTUI_CONFIG"] = str(tmp_path / "no-config.toml")
    env["TASKTUI_DATA_DIR"] = str(tmp_path / "data")
    env["PYTHONPATH"] = str(ROOT)
    return env


def test_an_export_does_not_load_httpx_s_command_line_client(shared_server, sql, tmp_path):
    out = tmp_path / "a.ndjson"
    code = (
        "import sys\n"
        "from tasktui.cli.main import main\n"
        f"rc = main(['export', '-q', '-o', {str(out)!r}, '--api-url', {shared_server.url!r},"
        f" '--api-key', {shared_server.api_key!r}])\n"
        "print(rc, sorted(m for m in ('click', 'pygments', 'httpx._main', 'rich.console') if sys.modules.get(m)))\n"
    )
    r = subprocess.run([sys.executable, "-c", code], env=_env(tmp_path), cwd=ROOT, capture_output=True, timeout=60)
    assert r.stdout.decode().split(maxsplit=1) == ["0", "[]\n"], r.stderr
    (n,), = sql(shared_server, "SELECT COUNT(*) FROM tasks")
    assert len(out.read_bytes().splitlines()) == n  # every task, one per line


def test_an_in_process_export_gives_the_collector_its_thresholds_back(shared_server, tmp_path, monkeypatch):
    monkeypatch.setenv("TASKTUI_CONFIG", str(tmp_path / "no-config.toml"))
    monkeypatch.setenv("TASKTUI_DATA_DIR", str(tmp_path / "data"))
    before = gc.get_threshold()
    rc = main(["export", "-q", "-o", str(tmp_path / "b.json"), "--api-url", shared_server.url,
               "--api-key", shared_server.api_key])
    assert rc == 0
    assert gc.get_threshold() == before
    assert gc.get_freeze_count() == 0
