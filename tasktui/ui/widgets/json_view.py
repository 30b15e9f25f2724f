"""Read-only JSON with a find bar: the text in a highlighted, read-only editor; ``find``
selects the next / previous match (case-insensitive, wrapping) and says "2 of 7".

The text shown is bounded (``MAX_JSON_VIEW_CHARS``, cut at a line end): past it a line
above the text says what was cut and how to get the whole (``d`` saves the task to a
file, ``Y`` copies it), so that a task of megabytes neither freezes the editor's
highlighting nor holds its memory.

The screen that holds it binds the keys (``/`` opens the bar, ``n`` / ``N`` next /
previous match while :attr:`JsonView.find_term` is set, ``esc`` closes it) and calls
:meth:`open_find`, :meth:`find` and :meth:`close_find`.
"""

from __future__ import annotations

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.message import Message
from textual.widgets import Input, Static, TextArea
from textual.widgets.text_area import Selection

from tasktui.ui.safe import one_line

__all__ = ["MAX_JSON_VIEW_CHARS", "JsonView", "bound_json_text"]

#: longest JSON text put in the view
MAX_JSON_VIEW_CHARS = 300_000


def bound_json_text(text: str, limit: int = MAX_JSON_VIEW_CHARS) -> tuple[str, str]:
    """(the text to show, a note saying what was cut or "") for JSON ``text``."""
    if len(text) <= limit:
        return text, ""
    head = text[:limit]
    nl = head.rfind("\n")
    if nl > 0:
        head = head[:nl]
    lines = head.count("\n") + 1
    note = (f"JSON cut: the first {lines:,} lines ({len(head):,} of {len(text):,} characters) are shown; "
            "d saves the whole task to a file, Y copies it.")
    return head, note


class JsonText(TextArea):
    """The read-only JSON: ``Home`` / ``End`` go to its top and end, as in every other
    tab (an editor's line start / end mean little in a viewer); ``j`` / ``k`` / ``g`` / ``G``
    are the detail screen's."""

    BINDINGS = [
        Binding("home", "document_start", show=False),
        Binding("end", "document_end", show=False),
    ]

    def action_document_start(self) -> None:
        self.move_cursor((0, 0))

    def action_document_end(self) -> None:
        self.move_cursor(self.document.end)


class JsonView(Vertical):
    """Read-only JSON text with a find bar."""

    DEFAULT_CSS = """
    JsonView #json-find-bar { height: auto; display: none; }
    JsonView #json-find-bar.visible { display: block; }
    JsonView #json-find { width: 1fr; }
    JsonView #json-find-status { width: auto; padding: 1 1 0 1; color: $text-muted; }
    JsonView #json-text { height: 1fr; }
    JsonView #json-cut { height: auto; color: $warning; display: none; }
    JsonView #json-cut.visible { display: block; }
    """

    class FindChanged(Message):
        """The search term was set or cleared (so the screen refreshes its bindings)."""

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.find_term = ""

    def compose(self) -> ComposeResult:
        with Horizontal(id="json-find-bar"):
            yield Input(placeholder="find in JSON (enter: next, esc: close)", id="json-find")
            yield Static("", id="json-find-status")
        yield Static("", id="json-cut")
        yield JsonText("", language="json", read_only=True, id="json-text",
                       show_line_numbers=True, soft_wrap=False, theme="monokai")

    @property
    def text_area(self) -> TextArea:
        return self.query_one("#json-text", TextArea)

    @property
    def finding(self) -> bool:
        """True while the find bar is open or a term is set."""
        return bool(self.find_term) or self.query_one("#json-find-bar").has_class("visible")

    def load(self, text: str) -> None:
        """Show ``text`` (at most ``MAX_JSON_VIEW_CHARS`` of it, saying so when cut); an
        active search moves to its first match in it."""
        shown, note = bound_json_text(text)
        cut = self.query_one("#json-cut", Static)
        cut.update(Text(note))
        cut.set_class(bool(note), "visible")
        self.text_area.load_text(shown)
        if self.find_term:
            self.find(self.find_term, forward=True, from_start=True)

    def open_find(self) -> None:
        self.query_one("#json-find-bar").add_class("visible")
        self.query_one("#json-find", Input).focus()

    def close_find(self) -> None:
        self.find_term = ""
        self.query_one("#json-find-bar").remove_class("visible")
        self.query_one("#json-find", Input).value = ""
        self.text_area.focus()
        self.post_message(self.FindChanged())

    @on(Input.Changed, "#json-find")
    def _find_changed(self, event: Input.Changed) -> None:
        event.stop()
        self.find_term = event.value
        if event.value:
            self.find(event.value, forward=True, from_start=True)
        else:
            self.query_one("#json-find-status", Static).update("")

    @on(Input.Submitted, "#json-find")
    def _find_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        if event.value:
            self.find_term = event.value
            self.find(event.value, forward=True)
            self.text_area.focus()
            self.post_message(self.FindChanged())

    def find(self, term: str, *, forward: bool, from_start: bool = False) -> bool:
        """Select the next (or previous) match of ``term``; False when there is none."""
        ta = self.text_area
        status = self.query_one("#json-find-status", Static)
        low, needle = ta.text.lower(), term.lower()
        count = low.count(needle) if needle else 0
        if not count:
            status.update(Text(f"no match for {one_line(term, 30)!r}", style="red"))
            return False
        doc = ta.document
        sel = ta.selection
        cur_start = doc.get_index_from_location(min(sel.start, sel.end))
        cur_end = doc.get_index_from_location(max(sel.start, sel.end))
        if from_start:
            idx = low.find(needle, cur_start)
            if idx < 0:
                idx = low.find(needle)
        elif forward:
            idx = low.find(needle, cur_end if cur_end > cur_start else cur_start + 1)
            if idx < 0:
                idx = low.find(needle)
        else:
            idx = low.rfind(needle, 0, cur_start)
            if idx < 0:
                idx = low.rfind(needle)
        start = doc.get_location_from_index(idx)
        end = doc.get_location_from_index(idx + len(needle))
        ta.selection = Selection(start, end)
        ta.scroll_cursor_visible(center=True)
        nth = low.count(needle, 0, idx) + 1
        status.update(Text(f"{nth} of {count} · n next, N previous"))
        return True
