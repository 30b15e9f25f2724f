"""What the table area says when there is nothing to list: the filters hide every task
(listing them plainly, with the key that clears them), or the queue is empty."""

from __future__ import annotations

from rich.text import Text
from textual.widgets import Static

from tasktui.ui.safe import one_line


def empty_text(active_filters: list[str], clear_key: str) -> Text:
    t = Text(justify="left")
    if active_filters:
        t.append("No tasks match these filters.\n\n", style="bold")
        t.append("Active filters:\n")
        for f in active_filters:
            t.append("  • ")
            t.append(one_line(f))  # filter values (project names, search text) are data
            t.append("\n")
        t.append("\nPress ")
        t.append(clear_key, style="bold reverse")
        t.append(" to clear all filters.")
    else:
        t.append("There are no tasks yet.\n\n", style="bold")
        t.append("The list refreshes on its own while live refresh is on.")
    return t


class EmptyState(Static):
    DEFAULT_CSS = """
    EmptyState {
        width: 100%; height: 1fr; padding: 2 4; display: none; background: $surface;
    }
    EmptyState.-shown { display: block; }
    """

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__("", id=id, markup=False)
        self.plain = ""

    def show(self, active_filters: list[str], clear_key: str) -> None:
        t = empty_text(active_filters, clear_key)
        self.plain = t.plain
        self.update(t)
        self.add_class("-shown")

    def hide(self) -> None:
        self.plain = ""
        self.remove_class("-shown")
