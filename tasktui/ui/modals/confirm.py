"""The shared dialog frame (:class:`Dialog`) and the question dialogs built on it:
:class:`ConfirmDialog` (yes / no) and :class:`ChoiceDialog` (several answers, each with
its own key). Every modal of the app uses the frame, styled once as ``.dialog`` in
``screens.tcss``."""

from __future__ import annotations

from typing import Any, Sequence

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.events import Key
from textual.screen import ModalScreen
from textual.widgets import Button, Label, Static

from tasktui.ui.keymap import bind
from tasktui.ui.safe import clean

__all__ = ["ChoiceDialog", "ConfirmDialog", "Dialog"]


class Dialog(ModalScreen):
    """A modal centred over the screen below it; its content goes in a ``.dialog`` frame."""

    def question(self, title: str, body: str | Text) -> ComposeResult:
        """The title and the scrollable body of a question dialog (the body is data
        unless it is already a ``Text``)."""
        yield Label(Text(title), classes="dialog-title")
        text = body if isinstance(body, Text) else Text(clean(body))
        with VerticalScroll(classes="dialog-body"):
            yield Static(text, id="dialog-text")


class ConfirmDialog(Dialog):
    """Yes / no question: True when confirmed, False otherwise."""

    BINDINGS = [
        bind("dialog.yes", "y", "answer(True)", "Yes"),
        bind("dialog.no", "n", "answer(False)", "No"),
        bind("dialog.cancel", "escape", "answer(False)", "Back"),
    ]

    def __init__(self, title: str, body: str | Text, *, yes: str = "Yes", no: str = "No") -> None:
        super().__init__()
        self._title = title
        self._body = body
        self._yes = yes
        self._no = no

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield from self.question(self._title, self._body)
            with Horizontal(classes="dialog-buttons"):
                yield Button(f"{self._yes} [y]".replace("[", "\\["), id="yes", variant="error")
                yield Button(f"{self._no} [n]".replace("[", "\\["), id="no")

    def on_mount(self) -> None:
        self.query_one("#no", Button).focus()

    def action_answer(self, value: bool) -> None:
        self.dismiss(value)

    @on(Button.Pressed)
    def _pressed(self, event: Button.Pressed) -> None:
        event.stop()
        self.dismiss(event.button.id == "yes")


class ChoiceDialog(Dialog):
    """A question with several answers, each with its own key; None when backed out."""

    BINDINGS = [bind("dialog.cancel", "escape", "choose(-1)", "Back")]

    def __init__(self, title: str, body: str | Text, choices: Sequence[tuple[str, str, Any]]) -> None:
        """``choices``: (key, label, value) for each answer, first is the default."""
        super().__init__()
        self._title = title
        self._body = body
        self._choices = list(choices)

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield from self.question(self._title, self._body)
            with Horizontal(classes="dialog-buttons"):
                for i, (key, label, _value) in enumerate(self._choices):
                    yield Button(f"{label} \\[{key}]", id=f"choice-{i}",
                                 variant="error" if i == 0 else "default")
                # "Back", not "Cancel": an answer may itself be "Cancel 5 tasks"
                yield Button("Back \\[esc]", id="choice-cancel")

    def on_mount(self) -> None:
        self.query_one("#choice-cancel", Button).focus()

    def on_key(self, event: Key) -> None:
        for key, _label, value in self._choices:
            if event.key == key:
                event.stop()
                event.prevent_default()
                self.dismiss(value)
                return

    def action_choose(self, index: int) -> None:
        self.dismiss(None if index < 0 else self._choices[index][2])

    @on(Button.Pressed)
    def _pressed(self, event: Button.Pressed) -> None:
        event.stop()
        bid = event.button.id or ""
        if bid.startswith("choice-") and bid != "choice-cancel":
            self.dismiss(self._choices[int(bid.removeprefix("choice-"))][2])
        else:
            self.dismiss(None)
