"""``tasktui export``, ``sync`` and ``get`` end their process as soon as the command
returns (``cli.main.entry``): the standard streams flushed and the ``atexit`` functions
run, but no interpreter teardown (which frees every object one by one). Oracle: a witness
object in the process's ``__main__`` module that says so when it is torn down, an
``atexit`` function that says so when it runs, and the command's own words and exit
status, read from the child process's streams."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

WITNESS = """
import atexit, sys
class Witness:
    def __del__(self):
        sys.stderr.write("teardown ran\\n")
w = Witness()
atexit.register(lambda: sys.stderr.write("atexit ran\\n"))
sys.argv = ["tasktui", *sys.argv[1:]]
from tasktui.cli.main import entry
entry()
"""


def _run(tmp_path: Path, *args: str) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SCALE_", "TASKTUI_", "PYTHONUNBUFFERED"))}
    env.update(TASKTUI_DATA_DIR=str(tmp_path / "data"), TASKTUI_CONFIG=str(tmp_path / "none.toml"))
    return subprocess.run([sys.executable, "-c", WITNESS, *args], env=env, capture_output=True, text=True,
                          timeout=60)


def test_get_ends_without_teardown_but_with_its_words_and_atexit(tmp_path: Path) -> None:
    r = _run(tmp_path, "get", "--offline", "--api-url", "http://127.0.0.1:9/v1", "task_nope")
    assert r.returncode == 1
    assert "there is no index at" in r.stderr  # the command's words reached the stream
    assert "atexit ran" in r.stderr
    assert "teardown ran" not in r.stderr


def test_output_written_to_a_pipe_is_flushed_before_the_end(tmp_path: Path) -> None:
    from tasktui.index.db import index_path, open_index

    url = "http://127.0.0.1:9/v1"
    open_index(index_path(url, {"TASKTUI_DATA_DIR": str(tmp_path / "data")})).close()
    r = _run(tmp_path, "sync", "--status", "--api-url", url)
    assert r.returncode == 0, r.stderr
    # every line `sync --status` prints (block-buffered into the pipe) reached it
    assert [line.split(":")[0] for line in r.stdout.splitlines()] == [
        "index", "origin", "tasks", "disk", "last sync", "scope"], r.stdout
    assert "teardown ran" not in r.stderr


def test_other_commands_end_the_ordinary_way(tmp_path: Path) -> None:
    """The witness is torn down after `config path` (not one of the commands that end
    at once): what the other tests see is the fast end, not a witness that never speaks."""
    r = _run(tmp_path, "config", "path")
    assert r.returncode == 0
    assert r.stdout.strip() == str(tmp_path / "none.toml")
    assert "atexit ran" in r.stderr
    assert "teardown ran" in r.stderr
