"""One-line text prompts: :class:`PromptDialog` (any text, optionally validated) and
:class:`RejectDialog` (the comment sent with a rejection). Each returns the text, or None
when the operator backs out."""

from __future__ import annotations

from typing import Callable

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.widgets import Input, Label, Static

from tasktui.ui.keymap import bind
from tasktui.ui.modals.confirm import Dialog

__all__ = ["PromptDialog", "RejectDialog"]


class PromptDialog(Dialog):
    """Asks for a line of text; ``validate(text)`` returns a problem sentence or None."""

    BINDINGS = [bind("prompt.cancel", "escape", "cancel", "Cancel")]
    HELP_TITLE = "Prompt"

    def __init__(self, title: str, *, value: str = "", placeholder: str = "", hint: str = "",
                 validate: Callable[[str], str | None] | None = None) -> None:
        super().__init__()
        self.title_text = title
        self.value = value
        self.placeholder = placeholder
        self.hint = hint
        self.validate_fn = validate

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield Static(Text(self.title_text), id="prompt-title", classes="dialog-title")
            yield Input(self.value, placeholder=self.placeholder, id="prompt-input")
            yield Static("", id="prompt-error", classes="dialog-error", markup=False)
            yield Static(Text(self.hint or "enter: OK · esc: cancel"), id="prompt-hint")

    @on(Input.Submitted)
    def _submitted(self, event: Input.Submitted) -> None:
        event.stop()
        text = event.value.strip()
        if self.validate_fn is not None:
            problem = self.validate_fn(text)
            if problem:
                self.query_one("#prompt-error", Static).update(Text("⚠ " + problem))
                return
        self.dismiss(text)

    def action_cancel(self) -> None:
        self.dismiss(None)


class RejectDialog(Dialog):
    """Asks for the rejection comment (required: it is what the labeler is told)."""

    BINDINGS = [bind("dialog.cancel", "escape", "cancel", "Back")]

    def __init__(self, what: str, *, initial: str = "") -> None:
        super().__init__()
        self._what = what
        self._initial = initial

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield Label(Text(f"Reject {self._what}"), classes="dialog-title")
            yield Static(Text("Why? The comment goes to the labeler with the rejection."))
            yield Input(value=self._initial, placeholder="comment (what is wrong)", id="reject-comment")
            yield Static("", id="reject-error", classes="dialog-error", markup=False)
            yield Static(Text("enter reject · esc back (nothing is rejected)"), classes="dialog-keys")

    def on_mount(self) -> None:
        self.query_one(Input).focus()

    @on(Input.Submitted)
    def _submitted(self, event: Input.Submitted) -> None:
        event.stop()
        comment = event.value.strip()
        if not comment:
            self.query_one("#reject-error", Static).update(
                Text("⚠ Say why: a rejection needs a comment (esc backs out)."))
            return
        self.dismiss(comment)

    def action_cancel(self) -> None:
        self.dismiss(None)
