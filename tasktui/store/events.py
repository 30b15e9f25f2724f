"""What the store tells its subscribers: the event kinds, the event record, and the
subscriber list that delivers them.

Views never poll the store's state for changes; they subscribe once and repaint from
these events. Delivery is synchronous in the loop so that a view sees every change in
the order it happened; a callback that returns an awaitable has it scheduled.
"""

from __future__ import annotations

import asyncio
import inspect
import logging
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, Callable

log = logging.getLogger("tasktui.store")


class StoreEventKind(StrEnum):
    QUERY = "query"  # the query changed, order included (rows follow with ROWS_REPLACED)
    ROWS_REPLACED = "rows_replaced"  # every row replaced (new query, refresh)
    ROWS_APPENDED = "rows_appended"  # `count` rows added at the end; `dropped` removed at the start
    ROWS_PREPENDED = "rows_prepended"  # `count` rows added at the start; `dropped` removed at the end
    ROWS_INSERTED = "rows_inserted"  # `count` new tasks (task_ids) inserted at the top; `dropped` at the end
    ROWS_UPDATED = "rows_updated"  # task_ids changed in place
    ROWS_REMOVED = "rows_removed"  # task_ids removed (no longer match the query)
    LOADING = "loading"  # store.loading / loading_more / scanning changed
    PROGRESS = "progress"  # store.progress changed: a scan read more (count = matched so far)
    WAIT = "wait"  # the client waits for the server (count = seconds, message = why): a countdown
    ERROR = "error"  # store.error changed (None: cleared)
    TOTAL = "total"  # store.total changed (total_exact False: "at least total" while a scan runs)
    TASK = "task"  # a full task is in the cache (task_ids[0]) — for detail views
    PROJECTS = "projects"
    BATCHES = "batches"
    ZONE = "zone"  # store.zone changed
    ACTION = "action"  # an action finished: ok, message, task_ids
    POLL = "poll"  # a poll finished: ok, message (error on failure)


@dataclass(frozen=True, slots=True)
class StoreEvent:
    kind: StoreEventKind
    task_ids: tuple[str, ...] = ()
    count: int = 0
    dropped: int = 0
    ok: bool = True
    message: str = ""
    error: BaseException | None = None
    generation: int = 0


Callback = Callable[[StoreEvent], Any]


@dataclass(frozen=True, slots=True)
class ScanProgress:
    """How far a scan has read: a listing the server cannot filter (or order) whole, read
    here to find its rows and its exact count. ``scanned`` wire tasks of ``wire_total``
    read, ``matched`` of them match; ``done`` once the whole wider listing was read
    (then ``matched`` is the exact total); ``stopped`` when the operator stopped it."""

    scanned: int
    wire_total: int
    matched: int
    what: str = "tasks"
    done: bool = False
    stopped: bool = False

    def describe(self) -> str:
        """``reading pending tasks: 8,200 of 20,345 · 112 match``."""
        match = f"{self.matched:,} match"
        if self.done:
            return f"read all {self.wire_total:,} {self.what} · {match}"
        head = "stopped reading" if self.stopped else "reading"
        return f"{head} {self.what}: {self.scanned:,} of {self.wire_total:,} · {match}"


class Subscribers:
    """The callbacks listening to one store."""

    def __init__(self) -> None:
        self._callbacks: list[Callback] = []

    def subscribe(self, callback: Callback) -> Callable[[], None]:
        """Register ``callback``; returns a function that unsubscribes it."""
        self._callbacks.append(callback)

        def unsubscribe() -> None:
            if callback in self._callbacks:
                self._callbacks.remove(callback)

        return unsubscribe

    def emit(self, event: StoreEvent) -> None:
        for cb in list(self._callbacks):
            try:
                result = cb(event)
                if inspect.isawaitable(result):
                    asyncio.ensure_future(result)
            except Exception:  # a broken subscriber must not break the store
                log.exception("store subscriber failed on %s", event.kind)

    def __len__(self) -> int:
        return len(self._callbacks)
