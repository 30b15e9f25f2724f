"""Deferred imports really defer: ``tasktui --help`` and the headless commands' help never
load Textual (or the server). Each case runs ``python -m tasktui ARGS`` in a fresh
interpreter (through runpy, the way ``-m`` does) and reads ``sys.modules`` afterwards."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


PROBE = """
import json, runpy, sys
sys.argv = ["tasktui", *json.loads(sys.argv[1])]
try:
    runpy.run_module("tasktui", run_name="__main__", alter_sys=True)
except SystemExit as e:
    code = e.code
# a None entry is an import blocked on purpose (tasktui/__init__.py), not a module loaded
loaded = sorted(name for name, module in sys.modules.items() if module is not None)
sys.stderr.write("\\nMODULES " + json.dumps({"code": code, "modules": loaded}) + "\\n")
"""


def imported_by(*args: str) -> set[str]:
    """The modules ``python -m tasktui ARGS`` has imported once it exits (with 0)."""
    r = subprocess.run([sys.executable, "-c", PROBE, json.dumps(args)], cwd=ROOT,
                       capture_output=True, text=True, timeout=60, stdin=subprocess.DEVNULL)
    report = json.loads(r.stderr.rsplit("MODULES ", 1)[1])
    assert report["code"] in (0, None), r.stderr[-2000:]
    assert "usage: tasktui" in r.stdout
    names = set(report["modules"])
    assert "tasktui.cli.main" in names  # the probe saw the run
    return names


def loaded(names: set[str], package: str) -> list[str]:
    return sorted(n for n in names if n == package or n.startswith(package + "."))


def test_top_level_help_loads_no_subcommand():
    names = imported_by("--help")
    for heavy in ("textual", "textual_image", "tasktui.ui", "tasktui.server", "httpx", "uvicorn",
                  "tasktui.config", "tasktui.cli.tui", "tasktui.cli.export"):
        assert loaded(names, heavy) == [], heavy


@pytest.mark.parametrize("command", ["export", "get", "config", "serve", "sync"])
def test_headless_help_never_loads_textual(command):
    names = imported_by(command, "--help")
    assert f"tasktui.cli.{command}" in names
    for heavy in ("textual", "textual_image", "tasktui.ui", "tasktui.cli.tui"):
        assert loaded(names, heavy) == [], heavy


def test_the_console_help_does_not_load_the_app_either():
    names = imported_by("tui", "--help")
    assert "tasktui.cli.tui" in names
    assert loaded(names, "textual") == [] and loaded(names, "tasktui.ui") == []
