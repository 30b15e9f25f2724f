"""Modal dialogs for the task actions, and the bulk action flow.

- :class:`ConfirmDialog` -> ``bool``: ``y`` confirms, ``n`` / ``esc`` declines.
- :class:`ChoiceDialog` -> the chosen value or None (``esc``): a confirmation with
  several answers (the bulk confirmation offers "all marked" and "visible only").
- :class:`RejectDialog` -> the comment (``str``) or None: ``enter`` rejects.
- :class:`FixEditor` -> the submitted response or None: a JSON editor prefilled with
  the current response, validated as the operator types (line and column of the
  first error), ``ctrl+s`` submits (refused while invalid), ``ctrl+o`` opens the
  text in ``$EDITOR``. Submitting calls an async ``submit`` callback; when it
  fails the editor stays open with the operator's text and the error.
- :class:`BulkSummary`: what a bulk action did, each failure by task.
- :func:`plan_bulk` (pure) and :func:`run_bulk` (the flow the Tasks screen calls for
  its marked rows)::

      from tasktui.ui.dialogs import run_bulk
      self.run_worker(run_bulk(self.app, store, "cancel", marked_ids, read_only=False))

  ``action`` is ``"accept"``, ``"reject"`` or ``"cancel"``. It fetches the marked
  tasks' current state (from the store's rows when it has them), confirms with a
  count of what will happen ("12 will be canceled; 3 are In Progress and will be
  skipped; 2 marked tasks are hidden by the current filter"), asks for a comment
  when rejecting, runs ``store.bulk`` and shows the summary. Returns the
  store's :class:`~tasktui.store.BulkResult` (or None when the operator backed out).

Every binding has an id (``dialog.yes``, ``fix.submit``...) so users can remap it.
"""

from __future__ import annotations

import json
import os
import shlex
import subprocess
import tempfile
from collections import Counter
from dataclasses import dataclass, field
from typing import Any, Awaitable, Callable, Iterable, Sequence

from rich.text import Text
from textual import on, work
from textual.app import App, ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Button, Input, Label, Static, TextArea

from tasktui.api import ApiError
from tasktui.domain import Task
from tasktui.store import ActionRefused, BulkResult, TaskStore
from tasktui.ui.safe import clean, one_line

__all__ = [
    "BULK_ACTIONS",
    "BulkPlan",
    "BulkSummary",
    "ChoiceDialog",
    "ConfirmDialog",
    "FixEditor",
    "RejectDialog",
    "edit_in_external_editor",
    "plan_bulk",
    "run_bulk",
    "validate_response_json",
]

class _Dialog(ModalScreen):
    DEFAULT_CSS = """
    _Dialog, ConfirmDialog, ChoiceDialog, RejectDialog, BulkSummary, FixEditor {
        align: center middle;
        background: $background 60%;
    }
    .dialog {
        width: 76;
        max-width: 100%;
        height: auto;
        max-height: 100%;
        border: thick $primary 80%;
        background: $surface;
        padding: 0 1;
    }
    .dialog-title {
        text-style: bold;
        width: 100%;
        margin-bottom: 1;
    }
    .dialog-body {
        width: 100%;
        height: auto;
        max-height: 20;
    }
    .dialog-keys {
        width: 100%;
        margin-top: 1;
        color: $text-muted;
    }
    .dialog-buttons {
        width: 100%;
        height: auto;
        align-horizontal: right;
        margin-top: 1;
    }
    .dialog-buttons Button {
        margin-left: 1;
        min-width: 10;
    }
    """


class ConfirmDialog(_Dialog):
    """Yes / no question. ``y`` -> True, ``n`` / ``esc`` -> False."""

    BINDINGS = [
        Binding("y", "answer(True)", "Yes", id="dialog.yes"),
        Binding("n", "answer(False)", "No", id="dialog.no"),
        Binding("escape", "answer(False)", "Cancel", id="dialog.cancel"),
    ]

    def __init__(self, title: str, body: str | Text, *, yes: str = "Yes", no: str = "No") -> None:
        super().__init__()
        self._title = title
        self._body = body
        self._yes = yes
        self._no = no

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield Label(Text(self._title), classes="dialog-title")
            body = self._body if isinstance(self._body, Text) else Text(clean(self._body))
            with VerticalScroll(classes="dialog-body"):
                yield Static(body, id="dialog-text")
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


class ChoiceDialog(_Dialog):
    """A question with several answers, each with its own key; ``esc`` -> None."""

    BINDINGS = [Binding("escape", "choose(-1)", "Cancel", id="dialog.cancel")]

    def __init__(self, title: str, body: str | Text, choices: Sequence[tuple[str, str, Any]]) -> None:
        """``choices``: (key, label, value) for each answer, first is the default."""
        super().__init__()
        self._title = title
        self._body = body
        self._choices = list(choices)

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield Label(Text(self._title), classes="dialog-title")
            body = self._body if isinstance(self._body, Text) else Text(clean(self._body))
            with VerticalScroll(classes="dialog-body"):
                yield Static(body, id="dialog-text")
            with Horizontal(classes="dialog-buttons"):
                for i, (key, label, _value) in enumerate(self._choices):
                    yield Button(f"{label} \\[{key}]", id=f"choice-{i}",
                                 variant="error" if i == 0 else "default")
                yield Button("Cancel \\[esc]", id="choice-cancel")

    def on_mount(self) -> None:
        self.query_one("#choice-cancel", Button).focus()

    def on_key(self, event) -> None:
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


class RejectDialog(_Dialog):
    """Asks for the rejection comment. ``enter`` rejects, ``esc`` backs out."""

    BINDINGS = [Binding("escape", "cancel", "Cancel", id="dialog.cancel")]

    def __init__(self, what: str, *, initial: str = "") -> None:
        super().__init__()
        self._what = what
        self._initial = initial

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield Label(Text(f"Reject {self._what}"), classes="dialog-title")
            yield Static(Text("Why? The comment goes to the labeler with the rejection."))
            yield Input(value=self._initial, placeholder="comment (what is wrong)", id="reject-comment")
            yield Static(Text("enter reject · esc cancel"), classes="dialog-keys")

    def on_mount(self) -> None:
        self.query_one(Input).focus()

    @on(Input.Submitted)
    def _submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self.dismiss(event.value.strip())

    def action_cancel(self) -> None:
        self.dismiss(None)


# --------------------------------------------------------------------------- fix editor
def validate_response_json(text: str) -> tuple[Any, str | None, tuple[int, int] | None]:
    """Parse the fix editor's text. Returns (value, error, (line, column)) where
    error is None when the text is a valid JSON object."""
    try:
        value = json.loads(text)
    except json.JSONDecodeError as e:
        return None, f"Line {e.lineno}, column {e.colno}: {e.msg}", (e.lineno, e.colno)
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


class FixEditor(_Dialog):
    """Edit a task's response as JSON and submit it as a fix."""

    DEFAULT_CSS = """
    FixEditor .dialog {
        width: 100%;
        height: 100%;
        border: thick $warning 80%;
    }
    FixEditor TextArea {
        height: 1fr;
    }
    FixEditor #fix-status {
        height: auto;
        max-height: 4;
        padding: 0 1;
    }
    FixEditor #fix-status.valid {
        color: $success;
    }
    FixEditor #fix-status.invalid {
        color: $error;
        text-style: bold;
    }
    """

    BINDINGS = [
        Binding("ctrl+s", "submit", "Submit fix", id="fix.submit", priority=True),
        Binding("ctrl+o", "external", "Open in $EDITOR", id="fix.external", priority=True),
        Binding("ctrl+g", "goto_error", "Go to error", id="fix.goto_error", priority=True),
        # priority: the code editor would otherwise take the first esc to give up focus
        Binding("escape", "cancel", "Cancel", id="fix.cancel", priority=True),
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

    def action_cancel(self) -> None:
        if self.text != self._text and not self._busy:
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


# --------------------------------------------------------------------------- bulk
BULK_ACTIONS = {
    # action: (verb, past participle)
    "accept": ("Accept", "accepted"),
    "reject": ("Reject", "rejected"),
    "cancel": ("Cancel", "canceled"),
}


def _is(n: int) -> str:
    return "is" if n == 1 else "are"


@dataclass
class BulkPlan:
    """What a bulk action on the marked tasks would do."""

    action: str
    eligible: list[str] = field(default_factory=list)
    #: task id -> status label of the tasks the action skips
    skipped: dict[str, str] = field(default_factory=dict)
    #: marked tasks (eligible or not) the current filter hides
    hidden: list[str] = field(default_factory=list)
    #: task id -> why it could not be looked up
    unknown: dict[str, str] = field(default_factory=dict)

    @property
    def visible_eligible(self) -> list[str]:
        hidden = set(self.hidden)
        return [t for t in self.eligible if t not in hidden]

    def describe(self) -> str:
        past = BULK_ACTIONS[self.action][1]
        n = len(self.eligible)
        parts = [f"{n} will be {past}" if n else f"none of the marked tasks can be {past}"]
        for label, count in sorted(Counter(self.skipped.values()).items(), key=lambda kv: (-kv[1], kv[0])):
            parts.append(f"{count} {_is(count)} {label} and will be skipped")
        if self.unknown:
            c = len(self.unknown)
            parts.append(f"{c} could not be looked up and will be skipped")
        if self.hidden:
            c = len(self.hidden)
            parts.append(f"{c} marked task{'s' if c != 1 else ''} {_is(c)} hidden by the current filter")
        return "; ".join(parts) + "."


def plan_bulk(action: str, marked_ids: Iterable[str], tasks: dict[str, Task | Exception], query=None) -> BulkPlan:
    """Classify the marked tasks for ``action``. ``tasks`` maps each id to its current
    Task (or the error met looking it up); ``query`` is the list's TaskQuery."""
    if action not in BULK_ACTIONS:
        raise ValueError(f"unknown bulk action {action!r}")
    plan = BulkPlan(action)
    for tid in dict.fromkeys(marked_ids):
        task = tasks.get(tid)
        if task is None or isinstance(task, Exception):
            plan.unknown[tid] = str(task) if task is not None else "not found"
            continue
        if query is not None and not query.matches(task):
            plan.hidden.append(tid)
        ok, _why = task.can_cancel() if action == "cancel" else task.can_audit()
        if ok:
            plan.eligible.append(tid)
        else:
            plan.skipped[tid] = one_line(task.status_label)  # an unknown wire status is data
    return plan


class BulkSummary(_Dialog):
    """The result of a bulk action; ``enter`` / ``esc`` closes it, ``y`` copies the
    failures."""

    BINDINGS = [
        Binding("escape,enter,q", "close", "Close", id="dialog.close"),
        Binding("y", "copy_failures", "Copy failures", id="dialog.copy_failures"),
    ]

    def __init__(self, outcome: BulkResult, *, nothing_to_do: bool = False) -> None:
        super().__init__()
        self.outcome = outcome
        self.nothing_to_do = nothing_to_do

    def summary_text(self) -> Text:
        o = self.outcome
        past = BULK_ACTIONS[o.action][1]
        t = Text()
        if self.nothing_to_do:
            n = len(o.skipped)
            t.append(f"Nothing was {past}: none of the {n} marked task{'s' if n != 1 else ''} "
                     f"can be {past}.\n", style="bold")
        else:
            t.append(f"{len(o.succeeded)} {past}", style="bold green" if o.succeeded else "")
            if o.failed:
                t.append(f"; {len(o.failed)} failed", style="bold red")
            if o.skipped:
                t.append(f"; {len(o.skipped)} skipped")
            t.append(".\n")
        if o.failed:
            t.append("\nFailed:\n", style="bold")
            for tid, why in o.failed.items():
                t.append(f"  {one_line(tid, 40)}", style="bold")
                t.append(f"  {one_line(why, 200)}\n")
        if o.skipped:
            t.append("\nSkipped:\n", style="bold")
            for tid, why in o.skipped.items():
                t.append(f"  {one_line(tid, 40)}  {one_line(why, 200)}\n")
        return t

    def compose(self) -> ComposeResult:
        verb = BULK_ACTIONS[self.outcome.action][0]
        with Vertical(classes="dialog"):
            title = "nothing to do" if self.nothing_to_do else "done"
            yield Label(Text(f"Bulk {verb.lower()}: {title}"), classes="dialog-title")
            with VerticalScroll(classes="dialog-body"):
                yield Static(self.summary_text(), id="dialog-text")
            keys = "enter close" + (" · y copy the failures" if self.outcome.failed else "")
            yield Static(Text(keys), classes="dialog-keys")

    def action_close(self) -> None:
        self.dismiss(None)

    def action_copy_failures(self) -> None:
        if not self.outcome.failed:
            return
        from tasktui.ui.clipboard import copy_text

        text = "\n".join(f"{tid}\t{why}" for tid, why in self.outcome.failed.items())
        result = copy_text(self.app, text, what="the failures")
        self.notify(result.message, severity="information" if result.ok else "warning", markup=False)


async def _lookup(store: TaskStore, ids: list[str]) -> dict[str, Task | Exception]:
    """Current state of the marked tasks: from the store's rows when present,
    else fetched (bounded concurrency)."""
    import asyncio

    known: dict[str, Task | Exception] = {}
    for row in store.rows:
        if row.task_id in ids:
            known[row.task_id] = row
    missing = [t for t in ids if t not in known]
    sem = asyncio.Semaphore(8)

    async def one(tid: str) -> None:
        async with sem:
            try:
                known[tid] = await store.get_task(tid)
            except Exception as e:
                known[tid] = e

    await asyncio.gather(*(one(t) for t in missing))
    return known


async def run_bulk(app: App, store: TaskStore, action: str, marked_ids: Iterable[str], *,
                   read_only: bool = False) -> BulkResult | None:
    """The bulk flow for the marked rows of the Tasks screen. Run it in a worker
    (it waits on dialogs)."""
    ids = list(dict.fromkeys(marked_ids))
    verb, past = BULK_ACTIONS[action]
    if read_only:
        app.notify(f"Read-only mode: tasks cannot be {past} (start without --read-only to act).",
                   severity="warning", markup=False)
        return None
    if not ids:
        app.notify(f"No tasks are marked: mark rows with space, then {verb.lower()} them all.",
                   severity="warning", markup=False)
        return None
    app.notify(f"Looking up {len(ids)} marked task{'s' if len(ids) != 1 else ''}…", markup=False, timeout=2)
    tasks = await _lookup(store, ids)
    plan = plan_bulk(action, ids, tasks, store.query)
    body = Text(plan.describe())
    if plan.skipped or plan.unknown:
        body.append("\n\nSkipped:\n", style="bold")
        for tid, label in list(plan.skipped.items())[:50]:
            body.append(f"  {one_line(tid, 40)}  {label}\n")
        for tid, why in list(plan.unknown.items())[:50]:
            body.append(f"  {one_line(tid, 40)}  {one_line(why, 120)}\n")
    if not plan.eligible:
        await app.push_screen_wait(BulkSummary(BulkResult(action, requested=len(ids), skipped={
            **plan.skipped, **plan.unknown}), nothing_to_do=True))
        return None
    choices: list[tuple[str, str, Any]] = [("y", f"{verb} {len(plan.eligible)}", "all")]
    if plan.hidden and plan.visible_eligible and len(plan.visible_eligible) != len(plan.eligible):
        choices.append(("v", f"Only the {len(plan.visible_eligible)} visible", "visible"))
    answer = await app.push_screen_wait(ChoiceDialog(f"{verb} the marked tasks?", body, choices))
    if answer is None:
        return None
    targets = plan.eligible if answer == "all" else plan.visible_eligible
    comments: str | None = None
    if action == "reject":
        comments = await app.push_screen_wait(RejectDialog(f"{len(targets)} tasks"))
        if comments is None:
            return None
    app.notify(f"{verb}ing {len(targets)} task{'s' if len(targets) != 1 else ''}…",
               markup=False, timeout=3)
    try:
        outcome = await store.bulk(action, targets, comments)
    except (ApiError, ActionRefused) as e:
        outcome = BulkResult(action, requested=len(targets), failed={t: str(e) for t in targets})
    outcome.skipped.update(plan.skipped)
    outcome.skipped.update(plan.unknown)
    if answer == "visible":
        for tid in plan.eligible:
            if tid not in targets:
                outcome.skipped[tid] = "hidden by the current filter"
    await app.push_screen_wait(BulkSummary(outcome))
    return outcome
