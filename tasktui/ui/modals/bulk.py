"""The bulk flow for the Tasks screen's marked rows, and its summary.

:func:`run_bulk` looks up the marked tasks' current state (from the store's rows when it
has them), confirms with a count of what will happen ("12 will be canceled; 3 are In
Progress and will be skipped; 2 marked tasks are hidden by the current filter"), asks for
a comment when rejecting, runs ``store.bulk`` and shows :class:`BulkSummary` with the
store's :class:`~tasktui.store.BulkResult`. :func:`plan_bulk` is the pure classification.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from dataclasses import dataclass, field
from typing import Any, Iterable

from rich.text import Text
from textual.app import App, ComposeResult
from textual.containers import Vertical, VerticalScroll
from textual.widgets import Label, Static

from tasktui.api import ApiError
from tasktui.domain import Task
from tasktui.store import ActionRefused, BulkResult, TaskStore
from tasktui.ui.clipboard import copy_text
from tasktui.ui.keymap import bind
from tasktui.ui.modals.confirm import ChoiceDialog, Dialog
from tasktui.ui.modals.prompt import RejectDialog
from tasktui.ui.safe import one_line

__all__ = ["BULK_ACTIONS", "BulkPlan", "BulkSummary", "plan_bulk", "run_bulk"]


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
        text = "\n".join(f"{tid}\t{why}" for tid, why in self.outcome.failed.items())
        result = copy_text(self.app, text, what="the failures")
        self.notify(result.message, severity="information" if result.ok else "warning", markup=False)


async def _lookup(store: TaskStore, ids: list[str]) -> dict[str, Task | Exception]:
    """Current state of the marked tasks: from the store's rows when present,
    else fetched (bounded concurrency)."""
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


async def run_bulk(app: App, store: TaskStore, action: str, marked_ids: Iterable[str]) -> BulkResult | None:
    """The bulk flow for the marked rows of the Tasks screen. Run it in a worker
    (it waits on dialogs)."""
    ids = list(dict.fromkeys(marked_ids))
    verb, past = BULK_ACTIONS[action]
    if store.read_only:
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
