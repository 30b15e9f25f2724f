"""TaskStore: the one shared, Textual-free owner of fetching and task-list state.

Every view reads the store and subscribes to it; none calls the API. The store holds the
operator's query and time zone, a bounded window of rows, the total, loading and error
state, an LRU cache of full tasks, the project and batch lists, and it runs the actions
(optimistic, rolled back on failure) and the optional live poll.

Paging and the window
    Rows arrive a page at a time (``load_more``). The store remembers, for every page it
    has seen, the token that fetches it. When the window would exceed ``max_rows`` it
    drops whole pages from the far end (the top when scrolling down, the bottom when
    scrolling up) and only their tokens stay; ``load_previous`` re-fetches the page
    before the window from its remembered token, and ``load_more`` re-fetches a dropped
    page after it the same way. ``offset`` is the position of ``rows[0]`` in the whole
    list and ``has_before`` / ``has_more`` say whether there is more on either side.

Generations
    Each ``set_query`` / ``refresh`` starts a new generation and cancels the fetches in
    flight; an answer that arrives for an older generation is dropped, never painted.

Notifications
    ``subscribe(callback)`` registers a plain callable receiving a :class:`StoreEvent`;
    it returns a function that unsubscribes. Callbacks run synchronously in the loop;
    one that returns an awaitable has it scheduled. The UI adapts events to messages.
"""

from __future__ import annotations

import asyncio
import contextlib
import inspect
import logging
from collections import OrderedDict
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from enum import StrEnum
from typing import Any, Awaitable, Callable, Iterable

from tasktui.api import ApiError, TaskClient, TaskPage, UnsupportedError, clean_text
from tasktui.domain import (
    EXT_FIX,
    DateField,
    SortOrder,
    Task,
    TaskQuery,
    Zone,
)

log = logging.getLogger("tasktui.store")

DEFAULT_MAX_ROWS = 5_000
DEFAULT_PAGE_SIZE = 100
DEFAULT_CACHE_SIZE = 256
#: How far back each poll looks past the previous one, for clock granularity.
POLL_OVERLAP = timedelta(seconds=2)
#: A poll that finds more changed tasks than this many pages re-loads instead.
MAX_POLL_PAGES = 10
#: ``load_more`` reads at most this many empty pages (locally filtered) in one call.
MAX_EMPTY_PAGES = 10


class StoreEventKind(StrEnum):
    QUERY = "query"  # the query changed (rows follow with ROWS_REPLACED)
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
    ZONE = "zone"
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


class ActionRefused(Exception):
    """The store refused an action before sending it; ``str()`` says why."""


class ReadOnlyError(ActionRefused):
    """Every action is refused in read-only mode."""


ACTIONS = ("cancel", "accept", "reject", "fix")
BULK_ACTIONS = ("cancel", "accept", "reject")
_DONE = {"cancel": "Canceled", "accept": "Accepted", "reject": "Rejected", "fix": "Fixed"}


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
        verb = _DONE.get(self.action, self.action)
        out = f"{verb} {len(self.succeeded)} of {self.requested} task{'s' if self.requested != 1 else ''}"
        if self.skipped:
            out += f"; {len(self.skipped)} skipped"
        if self.failed:
            out += f"; {len(self.failed)} failed"
        return out + "."


@dataclass
class _Page:
    token: str | None  # the token that fetches this page (None: the first)
    next_token: str | None  # the token after it (None: the last page)
    size: int  # rows it had when last loaded
    count: int = 0  # rows of it in the window now (0 when dropped)


Callback = Callable[[StoreEvent], Any]


class TaskStore:
    def __init__(
        self,
        client: TaskClient,
        *,
        query: TaskQuery | None = None,
        zone: Zone = Zone.UTC,
        max_rows: int = DEFAULT_MAX_ROWS,
        page_size: int = DEFAULT_PAGE_SIZE,
        cache_size: int = DEFAULT_CACHE_SIZE,
        read_only: bool = False,
        bulk_concurrency: int = 8,
    ):
        if page_size < 1 or max_rows < 1:
            raise ValueError("page_size and max_rows must be positive")
        self.client = client
        self.query = query or TaskQuery()
        self.zone = zone
        self.page_size = min(page_size, 100)
        self.max_rows = max(max_rows, self.page_size)  # the window holds at least one page
        self.read_only = read_only
        self.bulk_concurrency = max(1, bulk_concurrency)
        #: The window of rows (read it, never change it).
        self.rows: list[Task] = []
        self.total: int | None = None
        self.total_exact = True
        self.loading = False
        self.loading_more = False
        self.error: ApiError | None = None
        self.projects: list[dict[str, Any]] = []
        self.batches: list[dict[str, Any]] = []
        #: The task under the operator's cursor; ``refresh`` keeps it loaded.
        self.anchor_task_id: str | None = None
        self.generation = 0
        self.loaded_once = False
        self._pages: list[_Page] = []
        self._pages_query: TaskQuery | None = None  # the query the page table belongs to
        self._lo = 0  # window = pages[_lo:_hi]
        self._hi = 0
        self._ids: set[str] = set()
        self._pos: dict[str, int] | None = None
        self._cache: OrderedDict[str, Task] = OrderedDict()
        self._cache_size = max(1, cache_size)
        self._subs: list[Callback] = []
        self._inflight: set[asyncio.Task] = set()
        self._more_task: asyncio.Task | None = None
        self._poll_task: asyncio.Task | None = None
        self._poll_paused = False
        self._watermark: datetime | None = None
        self.last_poll: datetime | None = None

    # notifications -------------------------------------------------------------------
    def subscribe(self, callback: Callback) -> Callable[[], None]:
        self._subs.append(callback)

        def unsubscribe() -> None:
            if callback in self._subs:
                self._subs.remove(callback)

        return unsubscribe

    def _emit(self, kind: StoreEventKind, **kw: Any) -> None:
        ev = StoreEvent(kind, generation=self.generation, **kw)
        for cb in list(self._subs):
            try:
                result = cb(ev)
                if inspect.isawaitable(result):
                    asyncio.ensure_future(result)
            except Exception:  # a broken subscriber must not break the store
                log.exception("store subscriber failed on %s", kind)

    # window information --------------------------------------------------------------
    @property
    def offset(self) -> int:
        """Position of ``rows[0]`` in the whole listing."""
        return sum(p.size for p in self._pages[: self._lo])

    @property
    def has_before(self) -> bool:
        return self._lo > 0

    @property
    def has_more(self) -> bool:
        if self._hi < len(self._pages):
            return True
        return bool(self._pages) and self._pages[-1].next_token is not None

    @property
    def next_token(self) -> str | None:
        """Token of the page after the window (None at the end)."""
        if self._hi < len(self._pages):
            return self._pages[self._hi].token
        return self._pages[-1].next_token if self._pages else None

    @property
    def is_empty(self) -> bool:
        """Loaded, and nothing matches the query."""
        return self.loaded_once and not self.rows and not self.has_more and not self.has_before

    def index_of(self, task_id: str) -> int | None:
        if task_id not in self._ids:
            return None
        if self._pos is None:
            self._pos = {t.task_id: i for i, t in enumerate(self.rows)}
        return self._pos.get(task_id)

    def row(self, task_id: str) -> Task | None:
        i = self.index_of(task_id)
        return self.rows[i] if i is not None else None

    def cached(self, task_id: str) -> Task | None:
        """The freshest copy we hold of a task (cache or rows), without fetching."""
        t = self._cache.get(task_id)
        return t if t is not None else self.row(task_id)

    def set_anchor(self, task_id: str | None) -> None:
        self.anchor_task_id = task_id

    @property
    def can_fix(self) -> bool:
        return self.client.supports(EXT_FIX)

    # state helpers ---------------------------------------------------------------------
    def _set_loading(self, value: bool) -> None:
        if self.loading != value:
            self.loading = value
            self._emit(StoreEventKind.LOADING)

    def _set_error(self, error: ApiError | None) -> None:
        if self.error is not error:
            self.error = error
            self._emit(StoreEventKind.ERROR, error=error, ok=error is None,
                       message=str(error) if error else "")

    def _set_total(self, total: int | None, exact: bool = True) -> None:
        if self.total != total or self.total_exact != exact:
            self.total = total
            self.total_exact = exact
            self._emit(StoreEventKind.TOTAL, count=total or 0)

    def _rows_changed(self) -> None:
        self._pos = None

    def _bump(self) -> int:
        self.generation += 1
        for t in list(self._inflight):
            t.cancel()
        self._more_task = None
        if self.loading_more:
            self.loading_more = False
            self._emit(StoreEventKind.LOADING)
        return self.generation

    def _spawn(self, coro: Awaitable[Any]) -> asyncio.Task:
        task = asyncio.ensure_future(coro)
        self._inflight.add(task)
        task.add_done_callback(self._inflight.discard)
        return task

    async def _wait(self, task: asyncio.Task) -> Any:
        """Await a store-owned fetch. If a newer generation cancels it, return None
        quietly; if the caller itself is cancelled, the fetch carries on."""
        try:
            return await asyncio.shield(task)
        except asyncio.CancelledError:
            me = asyncio.current_task()
            if me is not None and me.cancelling():
                raise
            return None

    # loading -------------------------------------------------------------------------
    async def set_query(self, query: TaskQuery) -> None:
        """Show ``query``: cancel what is in flight, load its first page. Returns when
        that page is shown (or when a newer query superseded it)."""
        gen = self._bump()
        self.query = query
        self._emit(StoreEventKind.QUERY)
        await self._wait(self._spawn(self._load_from(gen, None, want_rows=self.page_size)))

    async def reload(self) -> None:
        """Load the current query from its first page (forgetting the window)."""
        await self.set_query(self.query)

    async def refresh(self) -> None:
        """Re-fetch the window and keep the operator's place: starting at the window's
        first page, pages are read until the task at the cursor (``anchor_task_id``) is
        loaded again, or as many rows as the window held (at most ``max_rows``)."""
        if not self._pages or self._pages_query != self.query:
            await self.set_query(self.query)
            return
        gen = self._bump()
        start = self._pages[self._lo].token if self._lo < len(self._pages) else None
        want = min(self.max_rows, max(len(self.rows), self.page_size))
        anchor = self.anchor_task_id if self.anchor_task_id in self._ids else None
        await self._wait(self._spawn(self._load_from(gen, start, want_rows=want, anchor=anchor,
                                                     keep_before=True)))

    async def _load_from(self, gen: int, start: str | None, *, want_rows: int,
                         anchor: str | None = None, keep_before: bool = False) -> None:
        self._set_loading(True)
        pages: list[TaskPage] = []
        got = 0
        error: ApiError | None = None
        empty_reads = 0
        try:
            async with contextlib.aclosing(self.client.iter_pages(
                    self.query, start_token=start, limit=self.page_size,
                    prefetch=want_rows > self.page_size)) as it:
                async for page in it:
                    if gen != self.generation:
                        return
                    pages.append(page)
                    got += len(page.tasks)
                    empty_reads = empty_reads + 1 if not page.tasks else 0
                    if anchor is not None and any(t.task_id == anchor for t in page.tasks):
                        break
                    if got >= want_rows or empty_reads >= MAX_EMPTY_PAGES:
                        break
        except ApiError as e:
            error = e
        except Exception as e:  # a bug must not leave the view loading forever
            log.exception("loading tasks failed")
            error = _unexpected("load tasks", e)
        if gen != self.generation:
            return
        if error is not None and not pages:
            if keep_before:  # a failed refresh keeps what is shown
                self._set_error(error)
                self._set_loading(False)
                return
            self._replace_window([], keep_before=False)
            self._emit(StoreEventKind.ROWS_REPLACED)
            self._set_error(error)
            self._set_loading(False)
            return
        self._replace_window(pages, keep_before=keep_before)
        self._watermark = self._first_time(pages) - POLL_OVERLAP
        self.loaded_once = True
        self._emit(StoreEventKind.ROWS_REPLACED)
        last = pages[-1]
        self._set_total(last.total, last.total_exact)
        self._set_error(error)
        self._set_loading(False)

    @staticmethod
    def _first_time(pages: list[TaskPage]) -> datetime:
        for p in pages:
            if p.server_time is not None:
                return p.server_time
        return datetime.now(timezone.utc)

    def _replace_window(self, pages: list[TaskPage], *, keep_before: bool) -> None:
        before = self._pages[: self._lo] if keep_before else []
        for p in before:
            p.count = 0
        rows: list[Task] = []
        seen: set[str] = set()
        new_pages: list[_Page] = []
        for page in pages:
            n = 0
            for t in page.tasks:
                if t.task_id not in seen:
                    seen.add(t.task_id)
                    rows.append(t)
                    n += 1
            new_pages.append(_Page(page.token, page.next_token if page.has_more else None, n, n))
        self._pages = before + new_pages
        self._pages_query = self.query
        self._lo = len(before)
        self._hi = len(self._pages)
        self.rows = rows
        self._ids = seen
        self._rows_changed()
        self._refresh_cache(rows)
        self._trim(from_start=True)

    def _trim(self, *, from_start: bool) -> int:
        """Drop whole pages from one end until the window fits; returns rows dropped."""
        dropped = 0
        while len(self.rows) > self.max_rows and self._hi - self._lo > 1:
            page = self._pages[self._lo] if from_start else self._pages[self._hi - 1]
            n = page.count
            if from_start:
                gone, self.rows = self.rows[:n], self.rows[n:]
                self._lo += 1
            else:
                gone, self.rows = self.rows[len(self.rows) - n:], self.rows[: len(self.rows) - n]
                self._hi -= 1
            page.count = 0
            for t in gone:
                self._ids.discard(t.task_id)
            dropped += n
        if dropped:
            self._rows_changed()
        return dropped

    async def load_more(self) -> int:
        """Fetch the page after the window (re-fetching a dropped one from its token).
        Returns how many rows were added (0 at the end). Concurrent calls share one fetch."""
        if not self._pages and not self.loading:
            await self.set_query(self.query)
            return len(self.rows)
        if self._pages_query != self.query:
            return 0  # the first page of a new query is still on its way
        if self._more_task is not None and not self._more_task.done():
            return (await self._wait(self._more_task)) or 0
        if not self.has_more:
            return 0
        self._more_task = self._spawn(self._fetch_more(self.generation))
        return (await self._wait(self._more_task)) or 0

    async def _fetch_more(self, gen: int) -> int:
        self.loading_more = True
        self._emit(StoreEventKind.LOADING)
        try:
            added = 0
            for _ in range(MAX_EMPTY_PAGES):
                idx = self._hi
                token = self._pages[idx].token if idx < len(self._pages) else self._pages[-1].next_token
                try:
                    page = await self.client.list_tasks(self.query, token, limit=self.page_size)
                except Exception as e:  # ApiError, or a bug: reported, never stuck loading
                    if not isinstance(e, ApiError):
                        log.exception("loading more tasks failed")
                        e = _unexpected("load more tasks", e)
                    if gen == self.generation:
                        self._set_error(e)
                    return added
                if gen != self.generation:
                    return 0
                fresh = [t for t in page.tasks if t.task_id not in self._ids]
                rec = _Page(token, page.next_token if page.has_more else None, len(fresh), len(fresh))
                if idx < len(self._pages):
                    old = self._pages[idx]
                    if old.next_token != rec.next_token:
                        del self._pages[idx + 1:]  # the listing changed: later tokens are stale
                    self._pages[idx] = rec
                else:
                    self._pages.append(rec)
                self._hi = idx + 1
                self.rows.extend(fresh)
                self._ids.update(t.task_id for t in fresh)
                self._rows_changed()
                self._refresh_cache(fresh)
                dropped = self._trim(from_start=True)
                self._emit(StoreEventKind.ROWS_APPENDED, count=len(fresh), dropped=dropped,
                           task_ids=tuple(t.task_id for t in fresh))
                self._set_total(page.total, page.total_exact)
                self._set_error(None)
                added += len(fresh)
                if fresh or not self.has_more:
                    break
            return added
        finally:
            if gen == self.generation:
                self.loading_more = False
                self._emit(StoreEventKind.LOADING)

    async def load_previous(self) -> int:
        """Re-fetch the page before the window (dropped when scrolling far down) from
        its remembered token. Returns how many rows were added at the start."""
        if self._lo == 0 or self._pages_query != self.query:
            return 0
        return (await self._wait(self._spawn(self._fetch_previous(self.generation)))) or 0

    async def _fetch_previous(self, gen: int) -> int:
        idx = self._lo - 1
        token = self._pages[idx].token
        try:
            page = await self.client.list_tasks(self.query, token, limit=self.page_size)
        except ApiError as e:
            if gen == self.generation:
                self._set_error(e)
            return 0
        if gen != self.generation or self._lo != idx + 1:
            return 0
        fresh = [t for t in page.tasks if t.task_id not in self._ids]
        self._pages[idx] = _Page(token, self._pages[idx].next_token, len(fresh), len(fresh))
        self._lo = idx
        self.rows[:0] = fresh
        self._ids.update(t.task_id for t in fresh)
        self._rows_changed()
        self._refresh_cache(fresh)
        dropped = self._trim(from_start=False)
        self._emit(StoreEventKind.ROWS_PREPENDED, count=len(fresh), dropped=dropped,
                   task_ids=tuple(t.task_id for t in fresh))
        self._set_total(page.total, page.total_exact)
        return len(fresh)

    def set_zone(self, zone: Zone) -> None:
        if zone != self.zone:
            self.zone = zone
            self._emit(StoreEventKind.ZONE)

    # projects and batches ----------------------------------------------------------------
    async def load_projects(self) -> list[dict[str, Any]]:
        self.projects = await self.client.projects()
        self._emit(StoreEventKind.PROJECTS, count=len(self.projects))
        return self.projects

    async def load_batches(self, project: str | None = None) -> list[dict[str, Any]]:
        self.batches = await self.client.batches(project)
        self._emit(StoreEventKind.BATCHES, count=len(self.batches))
        return self.batches

    @property
    def project_names(self) -> list[str]:
        return sorted({p["name"] for p in self.projects})

    @property
    def batch_names(self) -> list[str]:
        return sorted({b["name"] for b in self.batches})

    # single tasks ----------------------------------------------------------------------
    async def get_task(self, task_id: str, *, refresh: bool = False) -> Task:
        """The full task: from the cache unless ``refresh``; fetched otherwise (and
        the row updated in place if it is loaded)."""
        if not refresh and task_id in self._cache:
            self._cache.move_to_end(task_id)
            return self._cache[task_id]
        task = await self.client.get_task(task_id)
        self._put(task)
        return task

    def _refresh_cache(self, tasks: Iterable[Task]) -> None:
        """Newly listed rows are fresher than cached copies of the same tasks."""
        if self._cache:
            for t in tasks:
                if t.task_id in self._cache:
                    self._cache[t.task_id] = t

    def _cache_put(self, task: Task) -> None:
        self._cache[task.task_id] = task
        self._cache.move_to_end(task.task_id)
        while len(self._cache) > self._cache_size:
            self._cache.popitem(last=False)

    def _put(self, task: Task, *, only_if: Task | None = None) -> None:
        """Store a newer version of a task: cache, and the row in place if loaded.
        With ``only_if``, replace the row only while it still holds that object."""
        tid = task.task_id
        i = self.index_of(tid)
        if i is not None and (only_if is None or self.rows[i] is only_if):
            if self.rows[i] is not task:
                self.rows[i] = task
                self._emit(StoreEventKind.ROWS_UPDATED, task_ids=(tid,))
        if only_if is None or self._cache.get(tid) in (None, only_if):
            self._cache_put(task)
        self._emit(StoreEventKind.TASK, task_ids=(tid,))

    # actions ---------------------------------------------------------------------------
    def _check_writable(self, action: str) -> None:
        if self.read_only:
            raise ReadOnlyError(
                f"Read-only mode: tasks cannot be changed in this session, so {action} is not available.")

    async def _known_task(self, task_id: str) -> Task:
        t = self.cached(task_id)
        if t is not None:
            return t
        task = await self.client.get_task(task_id)
        self._cache_put(task)
        return task

    async def cancel(self, task_id: str, *, clear_unique_id: bool = False) -> Task:
        """Cancel a Queued task (refused with the reason otherwise)."""
        return await self._act("cancel", task_id, clear_unique_id=clear_unique_id)

    async def accept(self, task_id: str, comments: str | None = None) -> Task:
        return await self._act("accept", task_id, comments=comments)

    async def reject(self, task_id: str, comments: str | None = None) -> Task:
        return await self._act("reject", task_id, comments=comments)

    async def fix(self, task_id: str, response: dict[str, Any], comments: str | None = None) -> Task:
        return await self._act("fix", task_id, comments=comments, response=response)

    async def _act(self, action: str, task_id: str, *, comments: str | None = None,
                   response: dict[str, Any] | None = None, clear_unique_id: bool = False,
                   refetch: bool = True, report: bool = True) -> Task:
        if action not in ACTIONS:
            raise ValueError(f"unknown action {action!r}")
        self._check_writable(action)
        before = await self._known_task(task_id)
        ok, why = before.can_cancel() if action == "cancel" else before.can_audit()
        if not ok:
            raise ActionRefused(why)
        if action == "fix":
            await self.client.discover()
            if not self.client.supports(EXT_FIX):
                raise UnsupportedError(
                    f"Could not fix task {task_id}: this server does not offer Fix (editing a task's "
                    "response); only Accept and Reject are available here.")
        guess = _optimistic(before, action, comments, response)
        self._put(guess)
        try:
            if action == "cancel":
                after = await self.client.cancel(task_id, clear_unique_id=clear_unique_id)
            elif action == "accept":
                after = await self.client.accept(task_id, comments)
            elif action == "reject":
                after = await self.client.reject(task_id, comments)
            else:
                after = await self.client.fix(task_id, response or {}, comments)
        except (ApiError, asyncio.CancelledError) as e:
            self._put(before, only_if=guess)  # roll back
            if isinstance(e, ApiError):
                try:  # the action may have been applied before the failure: show the truth
                    self._put(await self.client.get_task(task_id))
                except ApiError:
                    pass
                if report:
                    self._emit(StoreEventKind.ACTION, task_ids=(task_id,), ok=False, message=str(e), error=e)
            raise
        if refetch:
            try:
                after = await self.client.get_task(task_id)
            except ApiError:
                pass
        self._put(after)
        if report:
            self._emit(StoreEventKind.ACTION, task_ids=(task_id,), ok=True,
                       message=f"{_DONE[action]} {task_id}.")
        return after

    async def bulk(self, action: str, task_ids: Iterable[str], comments: str | None = None,
                   *, concurrency: int | None = None) -> BulkResult:
        """Apply ``action`` (cancel / accept / reject) to many tasks, a few at a time.
        Tasks whose state forbids the action are skipped with the reason; failures are
        collected per task (and rolled back); nothing is raised for them."""
        if action not in BULK_ACTIONS:
            raise ValueError(f"bulk action must be one of {', '.join(BULK_ACTIONS)}, not {action!r}")
        self._check_writable(action)
        ids = list(dict.fromkeys(task_ids))
        result = BulkResult(action, requested=len(ids))
        sem = asyncio.Semaphore(concurrency or self.bulk_concurrency)
        outcome: dict[str, tuple[str, str]] = {}

        async def one(tid: str) -> None:
            async with sem:
                try:
                    await self._act(action, tid, comments=comments, refetch=False, report=False)
                    outcome[tid] = ("ok", "")
                except ActionRefused as e:
                    outcome[tid] = ("skip", str(e))
                except ApiError as e:
                    outcome[tid] = ("fail", str(e))

        await asyncio.gather(*(one(t) for t in ids))
        for tid in ids:  # report in the order given
            kind, why = outcome.get(tid, ("fail", "not attempted"))
            if kind == "ok":
                result.succeeded.append(tid)
            elif kind == "skip":
                result.skipped[tid] = why
            else:
                result.failed[tid] = why
        self._emit(StoreEventKind.ACTION, task_ids=tuple(ids), ok=result.ok, message=result.summary())
        return result

    # live updates ----------------------------------------------------------------------
    def start_polling(self, interval: float = 5.0) -> None:
        """Every ``interval`` seconds, merge tasks changed since the last look
        (``updated_after``) into the loaded rows."""
        self.stop_polling()
        self._poll_task = asyncio.ensure_future(self._poll_loop(interval))

    def stop_polling(self) -> None:
        if self._poll_task is not None:
            self._poll_task.cancel()
            self._poll_task = None

    @property
    def polling(self) -> bool:
        return self._poll_task is not None and not self._poll_task.done()

    def pause_polling(self, paused: bool = True) -> None:
        """Pause (or resume) the poll, e.g. while a dialog is open."""
        self._poll_paused = paused

    async def _poll_loop(self, interval: float) -> None:
        while True:
            await asyncio.sleep(interval)
            if self._poll_paused or self.loading or not self.loaded_once:
                continue
            try:
                await self.poll_once()
            except ApiError as e:
                self._emit(StoreEventKind.POLL, ok=False, error=e, message=str(e))
            except asyncio.CancelledError:
                raise
            except Exception:  # never let the poll die silently
                log.exception("poll failed")

    def _poll_query(self) -> TaskQuery:
        # Ask for everything that changed among tasks the query could ever show:
        # immutable filters stay on the server; status, audit status, tags and the
        # completion date can change, so those are decided here.
        q = self.query.replace(statuses=frozenset(), audit_statuses=frozenset(), tags=())
        if q.date_field is DateField.COMPLETED:
            q = q.replace(start=None, end=None)
        return q

    async def poll_once(self) -> int:
        """Look once for changed tasks and merge them. Returns how many rows changed
        (updated + removed + inserted)."""
        if not self.loaded_once or self._pages_query != self.query:
            return 0
        gen = self.generation
        since = self._watermark or (datetime.now(timezone.utc) - POLL_OVERLAP)
        changed: dict[str, Task] = {}
        first_time: datetime | None = None
        pages = 0
        too_many = False
        async with contextlib.aclosing(self.client.iter_pages(
                self._poll_query(), updated_after=since, limit=self.page_size)) as it:
            async for page in it:
                if gen != self.generation:
                    return 0
                if first_time is None:
                    first_time = page.server_time
                for t in page.tasks:
                    changed[t.task_id] = t
                pages += 1
                if pages >= MAX_POLL_PAGES and page.has_more:
                    too_many = True
                    break
        if gen != self.generation:
            return 0
        if too_many:  # too much changed to merge: reload in place
            await self.refresh()
            self.last_poll = datetime.now(timezone.utc)
            self._emit(StoreEventKind.POLL, message="many tasks changed: reloaded")
            return len(self.rows)
        self._watermark = (first_time or datetime.now(timezone.utc)) - POLL_OVERLAP
        n = self._merge(list(changed.values()))
        if changed:
            try:
                total, exact = await self.client.count(self.query)
            except ApiError:
                pass
            else:
                if gen == self.generation:
                    self._set_total(total, exact)
        self.last_poll = datetime.now(timezone.utc)
        self._emit(StoreEventKind.POLL, count=n, message=f"{n} row{'s' if n != 1 else ''} changed")
        return n

    def _merge(self, changed: list[Task]) -> int:
        q = self.query
        updated: list[str] = []
        removed: list[str] = []
        newcomers: list[Task] = []
        for t in changed:
            tid = t.task_id
            i = self.index_of(tid)
            if i is not None:
                if q.matches(t):
                    if self.rows[i].raw != t.raw:
                        self.rows[i] = t
                        updated.append(tid)
                else:
                    removed.append(tid)
            elif q.matches(t) and self._is_new_at_edge(t):
                newcomers.append(t)
            if tid in self._cache and self._cache[tid].raw != t.raw:
                self._cache[tid] = t
                self._emit(StoreEventKind.TASK, task_ids=(tid,))
        if updated:
            self._emit(StoreEventKind.ROWS_UPDATED, task_ids=tuple(updated))
        if removed:
            self._remove(removed)
            self._emit(StoreEventKind.ROWS_REMOVED, task_ids=tuple(removed))
        if newcomers:
            newest_first = q.order is SortOrder.NEWEST
            newcomers.sort(key=lambda t: (t.created_at or _EPOCH, t.task_id), reverse=newest_first)
            if newest_first:
                self.rows[:0] = newcomers
                self._pages[self._lo].count += len(newcomers)
                self._pages[self._lo].size += len(newcomers)
            else:
                self.rows.extend(newcomers)
                self._pages[self._hi - 1].count += len(newcomers)
                self._pages[self._hi - 1].size += len(newcomers)
            self._ids.update(t.task_id for t in newcomers)
            self._rows_changed()
            dropped = self._trim(from_start=not newest_first)
            self._emit(StoreEventKind.ROWS_INSERTED if newest_first else StoreEventKind.ROWS_APPENDED,
                       task_ids=tuple(t.task_id for t in newcomers), count=len(newcomers), dropped=dropped)
        return len(updated) + len(removed) + len(newcomers)

    def _is_new_at_edge(self, task: Task) -> bool:
        """A matching task not loaded: show it only where it belongs at the loaded edge
        (newer than the top row when the window starts at the top, newest first; after
        the last row when the whole listing is loaded, oldest first)."""
        if not self._pages or self._hi <= self._lo or self._pages_query != self.query:
            return False
        created = task.created_at or _EPOCH
        if self.query.order is SortOrder.NEWEST:
            if self._lo != 0:
                return False
            if not self.rows:
                return not self.has_more
            top = self.rows[0]
            return (created, task.task_id) > (top.created_at or _EPOCH, top.task_id)
        if self.has_more:
            return False
        if not self.rows:
            return True
        last = self.rows[-1]
        return (created, task.task_id) > (last.created_at or _EPOCH, last.task_id)

    def _remove(self, ids: list[str]) -> None:
        gone = set(ids)
        # account each removed row to its page
        i = 0
        for p in self._pages[self._lo: self._hi]:
            n_before = p.count
            for t in self.rows[i: i + n_before]:
                if t.task_id in gone:
                    p.count -= 1
                    p.size -= 1
            i += n_before
        self.rows = [t for t in self.rows if t.task_id not in gone]
        self._ids -= gone
        self._rows_changed()

    # teardown --------------------------------------------------------------------------
    async def close(self) -> None:
        """Stop polling and every fetch in flight (the client stays open)."""
        self.stop_polling()
        self._bump()
        pending = list(self._inflight)
        if pending:
            await asyncio.gather(*pending, return_exceptions=True)


_EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)


def _unexpected(what: str, exc: Exception) -> ApiError:
    return ApiError(f"Could not {what}: unexpected error ({type(exc).__name__}: {clean_text(exc, 160)}).")


def _optimistic(task: Task, action: str, comments: str | None, response: Any) -> Task:
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
