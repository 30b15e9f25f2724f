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
    LOADING = "loading"  # store.loading changed
    ERROR = "error"  # store.error changed (None: cleared)
    TOTAL = "total"  # store.total changed
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
