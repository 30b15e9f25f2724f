"""The Textual user interface (the only layer that imports Textual).

Importing this package is cheap: the app itself lives in :mod:`tasktui.ui.app` and is
loaded by ``tasktui.cli.tui.run`` when the console actually opens.
"""

from __future__ import annotations

from typing import Any

__all__ = ["TaskTuiApp"]


def __getattr__(name: str) -> Any:
    if name == "TaskTuiApp":
        from tasktui.ui.app import TaskTuiApp

        return TaskTuiApp
    raise AttributeError(name)
