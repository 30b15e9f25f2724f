"""The bulk flow for the Tasks screen's marked rows, and its summary.

:func:`run_bulk` looks up the marked tasks' current state (``store.lookup``: the copy it
holds, else fetched), confirms with a count of what will happen ("12 will be canceled; 3 are In
Progress and will be skipped; 2 marked tasks are hidden by the current filter"), asks for
a comment when rejecting, runs ``store.bulk`` and shows :class:`BulkSummary` with the
store's :class:`~tasktui.store.BulkResult`. The classification is the store's
:func:`~tasktui.store.plan_bulk`.
"""

from __future__ import annotations

from typing import Any, Iterable

from rich.text import Text
from textual.app import App, ComposeResult
from textual.containers import Vertical, VerticalScroll
from textual.widgets import Label, Static

from tasktui.api import ApiError
from tasktui.store import VERBS, ActionRefused, BulkResult, TaskStore, plan_bulk
from tasktui.ui.clipboard import copy_text
from tasktui.ui.keymap import bind
from tasktui.ui.modals.confirm import ChoiceDialog, Dialog
from tasktui.ui.modals.prompt import RejectDialog
from tasktui.ui.safe import one_line

__all__ = ["BulkSummary", "run_bulk"]


class BulkSummary(Dialog):
    """The result of a bulk action, each failure and skip by task (failures can be copied)."""

    BINDINGS = [
        bind("dialog.close", "escape,enter,q", "close", "Close"),
        bind("dialog.copy_failures", "y", "copy_failures", "Copy failures"),
    ]

    def __init__(self, outcome: BulkResult, *, nothing_to_do: bool = False) -> None:
        super().__init__()
        self.outcome = outcome
        self.nothing_to_do = nothing_to_do

    def summary_text(self) -> Text:
        o = self.outcome
        past = VERBS[o.action].past
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
        verb = VERBS[self.outcome.action].name
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
        text = "\n".join(f"{tid}\t{why}" for tid, why in self.outcome.failed.items())
        result = copy_text(self.app, text, what="the failures")
        self.notify(result.message, severity="information" if result.ok else "warning", markup=False)


async def run_bulk(app: App, store: TaskStore, action: str, marked_ids: Iterable[str]) -> BulkResult | None:
    """The bulk flow for the marked rows of the Tasks screen. Run it in a worker
    (it waits on dialogs)."""
    ids = list(dict.fromkeys(marked_ids))
    verb = VERBS[action].name
    if not store.can_write:
        app.notify(store.refusal(action), severity="warning", markup=False)
        return None
    if not ids:
        app.notify(f"No tasks are marked: mark rows with space, then {verb.lower()} them all.",
                   severity="warning", markup=False)
        return None
    app.notify(f"Looking up {len(ids)} marked task{'s' if len(ids) != 1 else ''}…", markup=False, timeout=2)
    tasks = await store.lookup(ids)
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
    # "Accepting 5 tasks…" is over: the summary says how it went (call_later: after the
    # toast itself has been posted, which notify() does through the message queue)
    app.call_later(app.clear_notifications)
    await app.push_screen_wait(BulkSummary(outcome))
    return outcome
