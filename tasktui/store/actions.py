"""The rules and words of the actions that change a task, in one place.

Which actions exist and their verbs, why an action is refused (read-only session, a
server without Fix, a task whose state forbids it), what a task looks like once an action
is applied (the optimistic guess shown before the server answers), and the bulk records:
``BulkPlan`` (what a bulk action would do to the marked tasks) and ``BulkResult`` (what
it did). Pure: no I/O, so views and tests can use the same sentences the store raises.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any, Iterable

from tasktui.api import clean_text
from tasktui.domain import Task, TaskQuery

ACTIONS = ("cancel", "accept", "reject", "fix")
BULK_ACTIONS = ("cancel", "accept", "reject")


@dataclass(frozen=True, slots=True)
class Verb:
    """How an action is named: ``name`` ("Cancel") and ``past`` ("canceled")."""

    name: str
    past: str

    @property
    def done(self) -> str:
        """The report word: "Canceled"."""
        return self.past.capitalize()


VERBS: dict[str, Verb] = {
    "cancel": Verb("Cancel", "canceled"),
    "accept": Verb("Accept", "accepted"),
    "reject": Verb("Reject", "rejected"),
    "fix": Verb("Fix", "fixed"),
}

#: Why Fix is refused on a server that does not offer the extension.
FIX_NOT_OFFERED = ("this server does not offer Fix (editing a task's response); only Accept and "
                   "Reject are available here.")


class ActionRefused(Exception):
    """The store refused an action before sending it; ``str()`` says why."""


class ReadOnlyError(ActionRefused):
    """Every action is refused in read-only mode."""


def _check_known(action: str) -> None:
    if action not in ACTIONS:
        raise ValueError(f"unknown action {action!r}")


#: Why a session is read-only -> (who refuses, what to do instead). "flag": --read-only or
#: the config; "offline": ``tasktui --offline`` reads the local index and never the API;
#: "file": ``tasktui open FILE`` browses an export.
READ_ONLY_WHY: dict[str, tuple[str, str]] = {
    "flag": ("Read-only mode", "(start without --read-only, or set read_only = false in the config)."),
    "offline": ("Offline", "(the console reads the local index, never the API: start without --offline "
                           "to change tasks)."),
    "file": ("An opened export file", "(it is a copy read from disk: start tasktui without `open` to "
                                      "change tasks through the API)."),
}


def read_only_refusal(action: str | None, why: str = "flag") -> str:
    """The sentence that refuses ``action`` (None: every action) in a read-only session;
    ``why`` is a key of ``READ_ONLY_WHY``."""
    who, instead = READ_ONLY_WHY[why]
    if action is None:
        return f"{who}: tasks cannot be accepted, rejected, fixed or canceled here {instead}"
    _check_known(action)
    return f"{who}: tasks cannot be {VERBS[action].past} in this session {instead}"


def fix_not_offered(task_id: str | None = None) -> str:
    """The sentence that refuses Fix on a server without it (naming the task if given)."""
    if task_id is None:
        return FIX_NOT_OFFERED[0].upper() + FIX_NOT_OFFERED[1:]
    return f"Could not fix task {clean_text(task_id, 80)}: {FIX_NOT_OFFERED}"


def task_refusal(task: Task, action: str) -> str | None:
    """Why ``task``'s state forbids ``action`` (None: it allows it)."""
    _check_known(action)
    ok, why = task.can_cancel() if action == "cancel" else task.can_audit()
    return None if ok else why


def optimistic(task: Task, action: str, comments: str | None, response: Any) -> Task:
    """What the task will look like once the action is applied (shown at once)."""
    raw = dict(task.raw)
    if action == "cancel":
        raw["status"] = "canceled"
    else:
        raw["customer_review_status"] = {"accept": "accepted", "reject": "rejected", "fix": "fixed"}[action]
        if comments:
            raw["customer_review_comments"] = [*task.customer_review_comments, comments]
        if action == "fix":
            raw["prior_responses"] = [*task.prior_responses, task.response]
            raw["response"] = response
    return Task(raw)


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
        past = VERBS[self.action].past
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


def plan_bulk(action: str, marked_ids: Iterable[str], tasks: dict[str, Task | Exception],
              query: TaskQuery | None = None) -> BulkPlan:
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
        if task_refusal(task, action) is None:
            plan.eligible.append(tid)
        else:
            plan.skipped[tid] = clean_text(task.status_label)  # an unknown wire status is data
    return plan


@dataclass
class BulkResult:
    """What a bulk action did to each task."""

    action: str
    requested: int = 0
    succeeded: list[str] = field(default_factory=list)
    failed: dict[str, str] = field(default_factory=dict)  # task id -> reason
    skipped: dict[str, str] = field(default_factory=dict)  # task id -> why it was not tried

    @property
    def ok(self) -> bool:
        return not self.failed

    def summary(self) -> str:
        verb = VERBS[self.action].done if self.action in VERBS else self.action
        out = f"{verb} {len(self.succeeded)} of {self.requested} task{'s' if self.requested != 1 else ''}"
        if self.skipped:
            out += f"; {len(self.skipped)} skipped"
        if self.failed:
            out += f"; {len(self.failed)} failed"
        return out + "."
