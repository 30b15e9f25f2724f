"""A one-line text prompt (``enter`` accepts, ``esc`` cancels) returning the text or None."""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Input, Static

from tasktui.ui.keymap import bind


class PromptDialog(ModalScreen[str | None]):
    DEFAULT_CSS = """
    PromptDialog { align: center middle; }
    PromptDialog > Vertical { width: 64; height: auto; border: thick $accent; background: $surface; padding: 0 1; }
    PromptDialog #prompt-title { text-style: bold; margin-bottom: 1; }
    PromptDialog #prompt-error { color: $text-error; height: auto; }
    PromptDialog #prompt-hint { color: $text-muted; }
    """
    BINDINGS = [bind("prompt.cancel", "escape", "cancel", "Cancel")]
    HELP_TITLE = "Prompt"

    def __init__(self, title: str, *, value: str = "", placeholder: str = "", hint: str = "",
                 validate=None) -> None:
        super().__init__()
        self.title_text = title
        self.value = value
        self.placeholder = placeholder
        self.hint = hint
        self.validate_fn = validate

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Static(Text(self.title_text), id="prompt-title")
            yield Input(self.value, placeholder=self.placeholder, id="prompt-input")
            yield Static("", id="prompt-error", markup=False)
            yield Static(Text(self.hint or "enter: OK · esc: cancel"), id="prompt-hint")

    def on_input_submitted(self, event: Input.Submitted) -> None:
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
