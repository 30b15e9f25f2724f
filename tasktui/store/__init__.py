"""The headless view-model: what the views show and may do, fetched and held once.

``TaskStore`` (store.py) orchestrates loading, generations, the cache and the poll over a
pure row ``Window`` (window.py); events (events.py) tell the views what changed; the
action rules and words (actions.py) are shared by the store and the views. No Textual.
"""

from tasktui.store.actions import (
    ACTIONS,
    BULK_ACTIONS,
    FIX_NOT_OFFERED,
    VERBS,
    ActionRefused,
    BulkPlan,
    BulkResult,
    ReadOnlyError,
    Verb,
    plan_bulk,
)
from tasktui.store.events import Callback, ScanProgress, StoreEvent, StoreEventKind
from tasktui.store.store import (
    DEFAULT_CACHE_SIZE,
    DEFAULT_MAX_ROWS,
    DEFAULT_PAGE_SIZE,
    MAX_EMPTY_PAGES,
    MAX_POLL_PAGES,
    POLL_OVERLAP,
    RECOUNT_EVERY,
    IndexSource,
    TaskStore,
)
from tasktui.store.window import Window

__all__ = [
    "ACTIONS",
    "BULK_ACTIONS",
    "DEFAULT_CACHE_SIZE",
    "DEFAULT_MAX_ROWS",
    "DEFAULT_PAGE_SIZE",
    "FIX_NOT_OFFERED",
    "IndexSource",
    "MAX_EMPTY_PAGES",
    "MAX_POLL_PAGES",
    "POLL_OVERLAP",
    "RECOUNT_EVERY",
    "ScanProgress",
    "VERBS",
    "ActionRefused",
    "BulkPlan",
    "BulkResult",
    "Callback",
    "ReadOnlyError",
    "StoreEvent",
    "StoreEventKind",
    "TaskStore",
    "Verb",
    "Window",
    "plan_bulk",
]
