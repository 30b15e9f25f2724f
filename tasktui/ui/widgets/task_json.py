"""A read-only view of one task's JSON: what Enter opens when the detail screen is not
available. ``esc`` / ``q`` closes it."""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Static, TextArea

from tasktui.domain import Task
from tasktui.ui.keymap import bind
from tasktui.ui.safe import one_line, pretty_json


class TaskJsonScreen(ModalScreen[None]):
    DEFAULT_CSS = """
    TaskJsonScreen { align: center middle; }
    TaskJsonScreen > Vertical { width: 95%; height: 95%; border: thick $accent; background: $surface; }
    TaskJsonScreen #json-title { height: 1; text-style: bold; padding: 0 1; }
    TaskJsonScreen TextArea { height: 1fr; border: none; }
    """
    BINDINGS = [bind("json.close", "escape,q", "close", "Close")]
    HELP_TITLE = "Task JSON"

    def __init__(self, task: Task) -> None:
        super().__init__()
        self.task_obj = task

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Static(Text(f"Task {one_line(self.task_obj.task_id)} — JSON (read-only)  ·  esc closes"),
                         id="json-title")
            yield TextArea.code_editor(pretty_json(self.task_obj.raw), language="json", read_only=True,
                                       id="json-text")

    def on_mount(self) -> None:
        self.query_one(TextArea).focus()

    def action_close(self) -> None:
        self.dismiss(None)
