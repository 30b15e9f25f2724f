"""The fix editor: a task's response as JSON, validated as the operator types (line and
column of the first error), submitted through an async callback; the text can also be
edited in ``$VISUAL`` / ``$EDITOR``. When the submit fails the editor stays open with the
operator's text and the error."""

from __future__ import annotations

import json
import os
import shlex
import subprocess
import tempfile
from typing import Any, Awaitable, Callable

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.widgets import Label, Static, TextArea

from tasktui.ui.keymap import bind
from tasktui.ui.modals.confirm import ConfirmDialog, Dialog
from tasktui.ui.safe import clean, one_line

__all__ = ["FixEditor", "edit_in_external_editor", "validate_response_json"]


def json_error_words(msg: str) -> str:
    """The JSON parser's message in an operator's words (it says "Invalid control
    character at", its position being given apart)."""
    msg = msg.removesuffix(" at")
    if msg.startswith("Invalid control character"):
        return "a control character (a raw tab or line break) inside a string: write it as \\t or \\n"
    return msg


def validate_response_json(text: str) -> tuple[Any, str | None, tuple[int, int] | None]:
    """Parse the fix editor's text. Returns (value, error, (line, column)) where
    error is None when the text is a valid JSON object."""
    try:
        value = json.loads(text)
    except json.JSONDecodeError as e:
        return None, f"Line {e.lineno}, column {e.colno}: {json_error_words(e.msg)}", (e.lineno, e.colno)
    if not isinstance(value, dict):
        kind = {list: "a list", str: "a string", bool: "a boolean", type(None): "null"}.get(
            type(value), "a number")
        return None, f"Line 1, column 1: the response must be a JSON object {{...}}, not {kind}", (1, 1)
    return value, None, None


def edit_in_external_editor(text: str, *, env: dict[str, str] | None = None) -> str:
    """Run ``$VISUAL`` / ``$EDITOR`` (else ``vi``) on a temporary ``.json`` file holding
    ``text``; return what the operator saved. Raises OSError / RuntimeError with a
    sentence when the editor cannot run or fails. Call it inside ``app.suspend()``."""
    env = dict(os.environ if env is None else env)
    editor = env.get("VISUAL") or env.get("EDITOR") or "vi"
    fd, path = tempfile.mkstemp(prefix="tasktui-fix-", suffix=".json")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(text)
        try:
            rc = subprocess.call([*shlex.split(editor), path], env=env)
        except FileNotFoundError:
            raise RuntimeError(f"the editor {editor!r} was not found (set $EDITOR)") from None
        if rc != 0:
            raise RuntimeError(f"the editor {editor!r} exited with status {rc}; nothing was submitted")
        with open(path, encoding="utf-8") as f:
            return f.read()
    finally:
        try:
            os.unlink(path)
        except OSError:
            pass


class FixEditor(Dialog):
    """Edit a task's response as JSON and submit it as a fix."""

    BINDINGS = [
        bind("fix.submit", "ctrl+s", "submit", "Submit fix", priority=True),
        bind("fix.external", "ctrl+o", "external", "Open in $EDITOR", priority=True),
        bind("fix.goto_error", "ctrl+g", "goto_error", "Go to error", priority=True),
        # priority: the code editor would otherwise take the first esc to give up focus
        bind("fix.cancel", "escape", "cancel", "Cancel", priority=True),
    ]

    def __init__(
        self,
        task_id: str,
        text: str,
        submit: Callable[[dict[str, Any]], Awaitable[str | None]],
        *,
        error: str | None = None,
        original: Any = None,
    ) -> None:
        """``submit(response)`` returns None on success (the editor closes with the
        response) or an error sentence (the editor stays open, text kept).
        ``original`` is the response as it is now (default: ``text`` parsed); submitting
        it unchanged is refused."""
        super().__init__()
        self._task_id = task_id
        self._text = text
        self._submit = submit
        self._initial_error = error
        self._original = original if original is not None else validate_response_json(text)[0]
        self._error_at: tuple[int, int] | None = None
        self._error_toast = False  # a "Not submitted" toast is up
        self._busy = False
        self.value: Any = None
        self.error: str | None = None

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield Label(Text(f"Fix the response of {one_line(self._task_id, 60)}"), classes="dialog-title")
            yield TextArea.code_editor(self._text, language="json", id="fix-text", soft_wrap=False)
            yield Static("", id="fix-status")
            yield Static(Text("ctrl+s submit fix · ctrl+o open in $EDITOR · ctrl+g go to error · esc cancel"),
                         classes="dialog-keys")

    def on_mount(self) -> None:
        self.query_one(TextArea).focus()
        self._validate()
        if self._initial_error:
            self._show(self._initial_error, ok=False)

    @property
    def text(self) -> str:
        return self.query_one(TextArea).text

    def _show(self, message: str, *, ok: bool) -> None:
        status = self.query_one("#fix-status", Static)
        status.update(Text(clean(message)))
        status.set_class(ok, "valid")
        status.set_class(not ok, "invalid")

    def _validate(self) -> bool:
        value, error, at = validate_response_json(self.text)
        self.value, self.error, self._error_at = value, error, at
        if error:
            self._show(f"Invalid JSON — {error}. Fix it to submit.", ok=False)
            return False
        self._show("Valid JSON object — ctrl+s submits the fix.", ok=True)
        if self._error_toast:
            # the toast about the invalid JSON is stale now, and covers the key hints
            self._error_toast = False
            self.app.clear_notifications()
        return True

    @on(TextArea.Changed)
    def _changed(self, event: TextArea.Changed) -> None:
        self._validate()

    def action_goto_error(self) -> None:
        if self._error_at:
            line, col = self._error_at
            ta = self.query_one(TextArea)
            ta.move_cursor((max(0, line - 1), max(0, col - 1)))
            ta.focus()

    def _unchanged(self) -> bool:
        """Whether the text is as it was opened: the same text, or JSON of the same value
        (re-indented, or escapes written differently)."""
        text = self.text
        if text == self._text:
            return True
        value, error, _at = validate_response_json(text)
        return error is None and value == validate_response_json(self._text)[0]

    def action_cancel(self) -> None:
        if not self._unchanged() and not self._busy:
            def answered(discard: bool | None) -> None:
                if discard:
                    self.dismiss(None)
            self.app.push_screen(
                ConfirmDialog("Discard your changes?", "The edited JSON has not been submitted.",
                              yes="Discard", no="Keep editing"),
                answered,
            )
        else:
            self.dismiss(None)

    async def action_submit(self) -> None:
        if self._busy:
            return
        if not self._validate():
            self.app.bell()
            self.notify(f"Not submitted: {self.error}", severity="error", markup=False)
            self._error_toast = True
            return
        if self.value == self._original:
            self.app.bell()
            self._show("No changes yet: edit the response first (or esc, then a to accept it as it is).", ok=False)
            return
        self._busy = True
        self._show("Submitting the fix…", ok=True)
        try:
            failure = await self._submit(self.value)
        except Exception as e:  # the store turns API failures into sentences
            failure = str(e) or type(e).__name__
        finally:
            self._busy = False
        if failure:
            self._show(f"The fix was not saved: {failure}. Your JSON is still here; ctrl+s retries.", ok=False)
            return
        self.dismiss(self.value)

    @work(exclusive=True, group="fix-external")
    async def action_external(self) -> None:
        text = self.text
        try:
            with self.app.suspend():
                edited = edit_in_external_editor(text)
        except Exception as e:
            self.notify(f"Could not use the external editor: {e}", severity="error", markup=False)
            return
        self.query_one(TextArea).load_text(edited)
        self._validate()
