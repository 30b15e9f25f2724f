"""The bulk commands start without importing what they never use: httpx's own command-line
client (and with it rich, click and pygments, about 80 ms) is kept out of every `tasktui`
process that does not draw the console. Oracle: sys.modules of a fresh interpreter."""

from __future__ import annotations

import subprocess
import sys

CODE = ("import sys, tasktui.cli.main, tasktui.cli.export, tasktui.cli.sync, tasktui.cli.get, tasktui.index.sync, "
        "tasktui.export, tasktui.api, tasktui.backend, httpx; "
        "print(sorted({m.split('.')[0] for m in sys.modules} & {'rich', 'click', 'pygments', 'textual'})); "
        "print(httpx.AsyncClient is not None and callable(httpx.main))")


def test_the_command_line_commands_do_not_import_httpx_cli_nor_rich():
    out = subprocess.run([sys.executable, "-c", CODE], capture_output=True, text=True, check=True).stdout.split("\n")
    assert out[0] == "[]", out
    assert out[1] == "True", "httpx itself still works (its stub main included)"
