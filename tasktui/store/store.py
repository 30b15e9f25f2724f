"""TaskStore: the one shared, Textual-free owner of fetching and task-list state.

Every view reads the store and subscribes to it; none calls the API. The store holds the
operator's query (its sort order included) and time zone, a bounded window of rows
(:class:`~tasktui.store.window.Window`), the total, loading and error state, an LRU cache
of full tasks, the project and batch lists, and it runs the actions (optimistic, rolled
back on failure) and the optional live poll.

One source for what the operator chose and may do
    ``query`` (with ``order``) and ``zone`` are held here and only here; they change only
    through ``set_query`` / ``set_order`` (event ``QUERY``) and ``set_zone`` (``ZONE``), so a
    view that shows them reads them from the store and repaints on those events. Whether
    tasks can be changed is answered here too: ``can_write``, ``can_fix`` and
    ``refusal(action)`` (the sentence saying why an action is not offered).

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
import logging
import time
from collections import OrderedDict
from datetime import datetime, timedelta, timezone
from typing import Any, Awaitable, Callable, Iterable, Protocol

from tasktui.api import ApiError, Attachment, TaskClient, TaskPage, UnsupportedError, clean_text
from tasktui.domain import (
    EXT_FIX,
    EXT_ORDER,
    DateField,
    SortOrder,
    Task,
    TaskQuery,
    Zone,
)
from tasktui.store.actions import (
    ACTIONS,
    READ_ONLY_WHY,
    BULK_ACTIONS,
    VERBS,
    ActionRefused,
    BulkResult,
    ReadOnlyError,
    fix_not_offered,
    optimistic,
    read_only_refusal,
    task_refusal,
)
from tasktui.store.events import Callback, ScanProgress, StoreEvent, StoreEventKind, Subscribers
from tasktui.store.window import PageRead, Window

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
#: A scan shows the rows it has found after this long, even fewer than a page.
FIRST_PAINT_AFTER = 0.3
#: After a poll saw changes, the exact count of a scanned listing is read again at most
#: this often (it means reading the wider listing again).
RECOUNT_EVERY = timedelta(seconds=30)


class IndexSource(Protocol):
    """A local index the store may read from (``tasktui.index.reader.IndexReader``): the
    store never imports the index or the server; whoever builds the store hands one in.

    ``client()`` answers reads from the index (every extension, exact totals);
    ``covers(query)`` says whether it can answer a query exactly (synced, in scope);
    ``put(tasks)`` writes tasks re-read from the API back (write-through, 0 when it is
    read-only); ``describe()`` is what the header says ("index · synced 4 s ago")."""

    label: str

    def client(self) -> TaskClient: ...

    def covers(self, query: TaskQuery) -> bool: ...

    @property
    def synced_at(self) -> float | None: ...

    @property
    def changes_before(self) -> float | None: ...

    @property
    def writable(self) -> bool: ...

    async def put(self, tasks: Iterable[Task]) -> int: ...

    def describe(self, now: float | None = None) -> str: ...

    async def aclose(self) -> None: ...

    async def sync(self, client: TaskClient, scope: Any = None, *, origin: str = "",
                   on_progress: Callable[[Any], None] | None = None) -> Any: ...


def _read(page: TaskPage) -> PageRead:
    return PageRead(page.token, page.tasks, page.next_token if page.has_more else None)


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
        index: IndexSource | None = None,
        offline: bool = False,
        read_only_why: str = "flag",
    ):
        """``index``: a local index answering every query it ``covers`` (the rest goes to
        ``client``, the API); actions always go to ``client`` and the task re-read after
        each is put into the index. ``offline``: ``client`` IS the index's client (no API
        at all): every read from it, every action refused (read-only, ``read_only_why``
        "offline" or "file" says why in the refusals)."""
        if page_size < 1 or max_rows < 1:
            raise ValueError("page_size and max_rows must be positive")
        self.client = client
        self._query = query or TaskQuery()
        self._zone = zone
        self.page_size = min(page_size, 100)
        self.max_rows = max(max_rows, self.page_size)  # the window holds at least one page
        self._index = index
        self._offline = offline
        self._read_only = read_only or offline
        self._read_only_why = "offline" if offline and read_only_why == "flag" else read_only_why
        #: the client whose tokens the window's pages hold (index or API)
        self._window_client: TaskClient | None = None
        self.bulk_concurrency = max(1, bulk_concurrency)
        self.total: int | None = None
        self.total_exact = True
        self.loading = False
        self.loading_more = False
        #: A scan is reading past the rows shown, towards the exact total (see ``progress``).
        self.scanning = False
        #: How far the current scan has read (None: the query needs no scan).
        self.progress: ScanProgress | None = None
        self.error: ApiError | None = None
        self.projects: list[dict[str, Any]] = []
        self.batches: list[dict[str, Any]] = []
        #: The task under the operator's cursor; ``refresh`` keeps it loaded.
        self.anchor_task_id: str | None = None
        self.generation = 0
        self.loaded_once = False
        self._window = Window(self.max_rows)
        self._window_query: TaskQuery | None = None  # the query the window's pages belong to
        self._cache: OrderedDict[str, Task] = OrderedDict()
        self._cache_size = max(1, cache_size)
        self._subs = Subscribers()
        self._inflight: set[asyncio.Task] = set()
        self._more_task: asyncio.Task | None = None
        self._poll_task: asyncio.Task | None = None
        self._poll_paused = False
        self._watermark: datetime | None = None
        self.last_poll: datetime | None = None
        self._scan_task: asyncio.Task | None = None
        self._stop_requested = False
        self._filling = False
        self._is_scan = False
        self._recount_task: asyncio.Task | None = None
        self._last_count: datetime | None = None
        if client.on_wait is None:  # a countdown for the views, while the client waits
            client.on_wait = self._on_wait

    # notifications -------------------------------------------------------------------
    def subscribe(self, callback: Callback) -> Callable[[], None]:
        return self._subs.subscribe(callback)

    def _emit(self, kind: StoreEventKind, **kw: Any) -> None:
        self._subs.emit(StoreEvent(kind, generation=self.generation, **kw))

    # what the operator chose ---------------------------------------------------------
    @property
    def query(self) -> TaskQuery:
        """The query shown (change it with ``set_query`` / ``set_order``)."""
        return self._query

    @property
    def order(self) -> SortOrder:
        """The sort order shown: the query's (change it with ``set_order``)."""
        return self._query.order

    @property
    def zone(self) -> Zone:
        """The zone times are shown in (change it with ``set_zone``)."""
        return self._zone

    def set_zone(self, zone: Zone) -> None:
        if zone != self._zone:
            self._zone = zone
            self._emit(StoreEventKind.ZONE)

    # what may be done ----------------------------------------------------------------
    @property
    def read_only(self) -> bool:
        return self._read_only

    @property
    def can_write(self) -> bool:
        """Tasks can be changed in this session (not read-only)."""
        return not self._read_only

    @property
    def can_fix(self) -> bool:
        """Fix may be offered: writes are possible and the server is not known to lack
        the Fix extension (before its first answer it is assumed to have it; ``fix``
        asks the server before sending)."""
        return self.can_write and self._fix_offered()

    def _fix_offered(self) -> bool:
        return not self.client.extensions_known or self.client.supports(EXT_FIX)

    def refusal(self, action: str, task: Task | None = None) -> str | None:
        """Why ``action`` (cancel / accept / reject / fix) is not offered now, as a
        sentence for the operator; None when it is. With ``task``, its state is checked
        too (e.g. only Queued tasks can be canceled)."""
        if action not in ACTIONS:
            raise ValueError(f"unknown action {action!r}")
        if not self.can_write:
            return read_only_refusal(action, self._read_only_why)
        if action == "fix" and not self._fix_offered():
            return fix_not_offered()
        return task_refusal(task, action) if task is not None else None

    @property
    def read_only_sentence(self) -> str | None:
        """Why no action is offered in this session (every action), or None."""
        return None if self.can_write else read_only_refusal(None, self._read_only_why)

    # where reads come from -----------------------------------------------------------
    @property
    def index(self) -> IndexSource | None:
        return self._index

    @property
    def offline(self) -> bool:
        return self._offline

    def reader_for(self, query: TaskQuery | None = None) -> TaskClient:
        """The client that answers ``query`` (default: the one shown): the index when it
        covers it (always when offline), otherwise the API."""
        if self._index is None:
            return self.client
        if self._offline or self._index.covers(query or self._query):
            return self._index.client()
        return self.client

    @property
    def from_index(self) -> bool:
        """The rows shown are read from the local index."""
        if self._index is None:
            return False
        return self._offline or self._index.covers(self._query)

    def source_text(self, now: float | None = None) -> str | None:
        """What the header says about where the rows come from: "index · synced 4 s ago"
        when the index answers the view, "API · outside the index" when an index is in use
        but does not cover the view, None without an index."""
        if self._index is None:
            return None
        if not self.from_index:
            return "API · outside the index"
        return self._index.describe(now)

    def attach_index(self, index: IndexSource) -> None:
        """Read from ``index`` from now on where it covers the view (the console made it
        with its first "Sync index"). Not offline: there the index was there from the start."""
        if self._offline:
            raise ValueError("an offline store has its index from the start")
        self._index = index

    async def sync_index(self, scope: Any = None, *, origin: str = "",
                         on_progress: Callable[[Any], None] | None = None) -> Any:
        """Bring the index up to date from the API (the console's "Sync index"), then show
        the view again from it. ``on_progress`` gets the sync's progress (tasks read of
        the total); cancelling the call stops the sync (what was read is kept). Returns
        the sync's result. Refused (``ActionRefused``) offline or without an index."""
        if self._offline or self._index is None:
            raise ActionRefused("Syncing needs the API and an index: start tasktui without --offline "
                                "(or run `tasktui sync`).")
        result = await self._index.sync(self.client, scope, origin=origin, on_progress=on_progress)
        await self.reload()
        return result

    async def _write_through(self, tasks: Iterable[Task]) -> None:
        """Put tasks read from the API into the index (never when offline: the index is
        where they came from). A failure to write is logged, never raised: the API has
        the truth and the next sync brings it."""
        if self._index is None or self._offline or not self._index.writable:
            return
        try:
            await self._index.put(list(tasks))
        except Exception:  # noqa: BLE001 - the index is a cache of the API
            log.exception("writing tasks into the local index failed")

    # testing seams (read-only views of internal state) ---------------------------------
    @property
    def cached_ids(self) -> tuple[str, ...]:
        """Ids of the fully cached tasks, least recently used first."""
        return tuple(self._cache)

    @property
    def poll_paused(self) -> bool:
        return self._poll_paused

    # window information --------------------------------------------------------------
    @property
    def rows(self) -> list[Task]:
        """The window of rows (read it, never change it)."""
        return self._window.rows

    @property
    def offset(self) -> int:
        """Position of ``rows[0]`` in the whole listing."""
        return self._window.offset

    @property
    def has_before(self) -> bool:
        return self._window.has_before

    @property
    def has_more(self) -> bool:
        return self._window.has_more

    @property
    def next_token(self) -> str | None:
        """Token of the page after the window (None at the end)."""
        return self._window.next_token

    @property
    def is_empty(self) -> bool:
        """Loaded, and nothing matches the query."""
        return self.loaded_once and not self.rows and not self.has_more and not self.has_before

    def index_of(self, task_id: str) -> int | None:
        return self._window.index_of(task_id)

    def row(self, task_id: str) -> Task | None:
        return self._window.row(task_id)

    def cached(self, task_id: str) -> Task | None:
        """The freshest copy we hold of a task (cache or rows), without fetching."""
        t = self._cache.get(task_id)
        return t if t is not None else self.row(task_id)

    def set_anchor(self, task_id: str | None) -> None:
        self.anchor_task_id = task_id

    def _on_wait(self, seconds: float, why: str) -> None:
        self._emit(StoreEventKind.WAIT, count=max(1, round(seconds)), message=why)

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

    def _bump(self) -> int:
        self.generation += 1
        for t in list(self._inflight):
            t.cancel()
        self._more_task = None
        self._filling = False
        if self.scanning:
            self.scanning = False
            self._emit(StoreEventKind.LOADING)
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
        self._query = query
        self._emit(StoreEventKind.QUERY)
        await self._wait(self._spawn(self._load_from(gen, None, want_rows=self.page_size)))

    @property
    def can_sort_oldest(self) -> bool:
        """Oldest first may be offered: always by creation date (without the ``order``
        extension the listing is read slice by slice from the oldest); by completion
        date only where the server is not known to lack ``order`` (the Scale API lists
        newest first only, and completion ranges cannot be sliced)."""
        if self._query.date_field is DateField.CREATED:
            return True
        return not self.client.extensions_known or self.client.supports(EXT_ORDER)

    async def set_order(self, order: SortOrder) -> None:
        """Show the same query in ``order`` (a new query: event ``QUERY``)."""
        if order is not self._query.order:
            await self.set_query(self._query.replace(order=order))

    async def reload(self) -> None:
        """Load the current query from its first page (forgetting the window)."""
        await self.set_query(self.query)

    async def refresh(self) -> None:
        """Re-fetch the window and keep the operator's place: starting at the window's
        first page, pages are read until the task at the cursor (``anchor_task_id``) is
        loaded again, or as many rows as the window held (at most ``max_rows``)."""
        if (not self._window.has_pages or self._window_query != self.query
                or self._window_client is not self.reader_for()):
            await self.set_query(self.query)  # the index began (or stopped) covering the view
            return
        gen = self._bump()
        start = self._window.first_token
        want = min(self.max_rows, max(len(self.rows), self.page_size))
        anchor = self.anchor_task_id if self.anchor_task_id in self._window else None
        await self._wait(self._spawn(self._load_from(gen, start, want_rows=want, anchor=anchor,
                                                     keep_before=True)))

    async def _load_from(self, gen: int, start: str | None, *, want_rows: int,
                         anchor: str | None = None, keep_before: bool = False) -> None:
        reader = self.reader_for()
        try:
            self._is_scan = await reader.needs_scan(self.query)
        except ApiError:
            self._is_scan = False  # the load below meets the same error and reports it
        if gen != self.generation:
            return
        self._set_progress(None)
        if self._is_scan:
            painted = asyncio.Event()
            task = self._spawn(self._scan(gen, start, want_rows=want_rows, anchor=anchor,
                                          keep_before=keep_before, painted=painted, reader=reader))
            self._scan_task = task
            waiter = asyncio.ensure_future(painted.wait())
            try:
                await asyncio.wait({task, waiter}, return_when=asyncio.FIRST_COMPLETED)
            finally:
                waiter.cancel()
            return
        self._set_loading(True)
        pages: list[TaskPage] = []
        got = 0
        error: ApiError | None = None
        empty_reads = 0
        try:
            async with contextlib.aclosing(reader.iter_pages(
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
            self._replace_window([], keep_before=False, reader=reader)
            self._emit(StoreEventKind.ROWS_REPLACED)
            self._set_error(error)
            self._set_loading(False)
            return
        self._replace_window(pages, keep_before=keep_before, reader=reader)
        self._watermark = self._first_watermark(pages, reader)
        self.loaded_once = True
        self._emit(StoreEventKind.ROWS_REPLACED)
        last = pages[-1]
        self._set_total(last.total, last.total_exact)
        self._set_error(error)
        self._set_loading(False)

    # scanning (a listing the server cannot filter or order whole) -----------------------
    def _scan_what(self) -> str:
        wires = {s.wire for s in self.query.statuses}
        return "pending tasks" if wires == {"pending"} else "tasks"

    def _set_progress(self, progress: ScanProgress | None) -> None:
        if progress != self.progress:
            self.progress = progress
            self._emit(StoreEventKind.PROGRESS, count=progress.matched if progress else 0,
                       message=progress.describe() if progress else "")

    def _set_scanning(self, value: bool) -> None:
        if self.scanning != value:
            self.scanning = value
            self._emit(StoreEventKind.LOADING)

    def stop_scan(self) -> bool:
        """Stop the scan in progress (the operator pressed esc): the rows found so far
        stay, more can still be loaded, the total stays "at least" what was counted.
        Returns whether a scan was stopped."""
        stopped = False
        for task in (self._scan_task, self._recount_task):
            if task is not None and not task.done():
                self._stop_requested = True
                task.cancel()
                stopped = True
        return stopped

    async def _scan(self, gen: int, start: str | None, *, want_rows: int, anchor: str | None,
                    keep_before: bool, painted: asyncio.Event, reader: TaskClient) -> None:
        """Read the listing in parallel slices from ``start``: the rows until the window
        has ``want_rows`` (shown as soon as some are found), and — from the top — on to
        the end, counting the matches, so that the total becomes exact. Never stalls on a
        page cap; ``stop_scan`` ends it early; progress is told with ``PROGRESS``."""
        self._stop_requested = False
        self._set_loading(True)
        self._set_scanning(True)
        q = self.query
        what = self._scan_what()
        counting = start is None
        pages: list[TaskPage] = []
        got = matched = scanned = wire_total = 0
        shown = False
        filling = True
        self._filling = True
        complete = stopped = False
        error: ApiError | None = None
        t0 = time.monotonic()

        def show() -> None:
            nonlocal shown
            self._replace_window(pages, keep_before=keep_before, reader=reader)
            self._watermark = self._first_watermark(pages, reader)
            self.loaded_once = True
            shown = True
            self._emit(StoreEventKind.ROWS_REPLACED)
            self._set_loading(False)
            painted.set()

        try:
            async with contextlib.aclosing(reader.iter_pages_sliced(
                    q, start_cursor=start, limit=self.page_size, min_tasks=0)) as it:
                async for page in it:
                    if gen != self.generation:
                        return
                    scanned += page.scanned
                    wire_total = page.total
                    matched += len(page.tasks)
                    self._set_progress(ScanProgress(scanned, wire_total, matched, what))
                    if counting:
                        self._set_total(matched, False)
                    if filling and not shown:
                        pages.append(page)
                        got += len(page.tasks)
                        hit = anchor is not None and any(t.task_id == anchor for t in page.tasks)
                        if got >= want_rows or hit or (got and time.monotonic() - t0 >= FIRST_PAINT_AFTER):
                            show()
                            filling = not (got >= want_rows or hit)
                    elif filling:
                        idx, _ = self._window.next_page()
                        done = self._window.append(idx, _read(page))
                        if done.rows:
                            self._refresh_cache(done.rows)
                            self._emit(StoreEventKind.ROWS_APPENDED, count=len(done.rows), dropped=done.dropped,
                                       task_ids=tuple(t.task_id for t in done.rows))
                        got += len(page.tasks)
                        filling = got < want_rows
                    self._filling = filling
                    if not filling and not counting:
                        break
                else:
                    complete = True
        except asyncio.CancelledError:
            if gen != self.generation or not self._stop_requested:
                raise
            me = asyncio.current_task()
            if me is not None:
                me.uncancel()
            stopped = True
        except ApiError as e:
            error = e
        except Exception as e:  # a bug must not leave the view loading forever
            log.exception("scanning tasks failed")
            error = _unexpected("load tasks", e)
        finally:
            if gen == self.generation:
                self._filling = False
                self._set_scanning(False)
        if gen != self.generation:
            return
        if not shown:
            if error is not None and not pages:
                if not keep_before:
                    self._replace_window([], keep_before=False, reader=reader)
                    self._emit(StoreEventKind.ROWS_REPLACED)
                self._set_error(error)
                self._set_loading(False)
                painted.set()
                return
            show()
        self._set_error(error)
        if complete and counting:
            self._last_count = datetime.now(timezone.utc)
            self._set_total(matched, True)
            self._set_progress(ScanProgress(scanned, wire_total, matched, what, done=True))
        else:
            self._set_progress(ScanProgress(scanned, wire_total, matched, what, stopped=stopped))
            if counting:
                self._set_total(matched, False)
            elif not stopped and error is None:
                self._recount(gen)

    def _recount(self, gen: int) -> None:
        """Count a scanned listing exactly again, in the background (after a refresh
        from the middle, or a poll that saw changes); the total is "at least" meanwhile."""
        if self._recount_task is not None and not self._recount_task.done():
            return
        self._set_total(self.total, False)  # "at least" until counted (a refresh kept it exact)
        self._recount_task = self._spawn(self._count_scan(gen))

    async def _count_scan(self, gen: int) -> None:
        q = self.query
        what = self._scan_what()
        self._stop_requested = False
        self._set_scanning(True)

        def told(scanned: int, wire_total: int, matched: int) -> None:
            if gen == self.generation:
                self._set_progress(ScanProgress(scanned, wire_total, matched, what))

        try:
            n, _ = await self.reader_for(q).count(q, on_progress=told)
        except asyncio.CancelledError:
            if gen != self.generation or not self._stop_requested:
                raise
            return
        except ApiError as e:
            if gen == self.generation:
                self._emit(StoreEventKind.POLL, ok=False, error=e, message=str(e))
            return
        finally:
            if gen == self.generation:
                self._set_scanning(False)
        if gen == self.generation:
            self._last_count = datetime.now(timezone.utc)
            self._set_total(n, True)
            p = self.progress
            if p is not None:
                self._set_progress(ScanProgress(p.scanned, p.wire_total, n, what, done=True))

    def _first_watermark(self, pages: list[TaskPage], reader: TaskClient) -> datetime:
        """Where the live refresh starts reading changes after a load: when the rows came
        from the API, the instant it answered; when they came from the local index, the
        instant up to which the index holds every change (its last sync, maybe hours
        ago: what changed since must be read from the API, not taken as seen)."""
        t = self._first_time(pages)
        index = self._index
        if index is not None and not self._offline and reader is index.client():
            before = index.changes_before
            if before is not None:
                t = min(t, datetime.fromtimestamp(before, timezone.utc))
        return t - POLL_OVERLAP

    @staticmethod
    def _first_time(pages: list[TaskPage]) -> datetime:
        for p in pages:
            if p.server_time is not None:
                return p.server_time
        return datetime.now(timezone.utc)

    def _replace_window(self, pages: list[TaskPage], *, keep_before: bool, reader: TaskClient) -> None:
        self._window.replace([_read(p) for p in pages], keep_before=keep_before)
        self._window_query = self.query
        self._window_client = reader
        self._refresh_cache(self.rows)

    async def load_more(self) -> int:
        """Fetch the page after the window (re-fetching a dropped one from its token).
        Returns how many rows were added (0 at the end). Concurrent calls share one fetch."""
        if not self._window.has_pages and not self.loading:
            await self.set_query(self.query)
            return len(self.rows)
        if self._window_query != self.query:
            return 0  # the first page of a new query is still on its way
        if self._window_client is not self.reader_for():  # the index began (or stopped) covering it
            await self.set_query(self.query)
            return len(self.rows)
        if self._more_task is not None and not self._more_task.done():
            return (await self._wait(self._more_task)) or 0
        if not self.has_more or self._filling:  # a scan still filling the window brings the rows
            return 0
        self._more_task = self._spawn(self._fetch_more(self.generation))
        return (await self._wait(self._more_task)) or 0

    async def _fetch_more(self, gen: int) -> int:
        self.loading_more = True
        self._emit(StoreEventKind.LOADING)
        try:
            added = 0
            for _ in range(MAX_EMPTY_PAGES):
                idx, token = self._window.next_page()
                try:
                    page = await self._window_client.list_tasks(self.query, token, limit=self.page_size)
                except Exception as e:  # ApiError, or a bug: reported, never stuck loading
                    if not isinstance(e, ApiError):
                        log.exception("loading more tasks failed")
                        e = _unexpected("load more tasks", e)
                    if gen == self.generation:
                        self._set_error(e)
                    return added
                if gen != self.generation:
                    return 0
                done = self._window.append(idx, PageRead(token, page.tasks,
                                                         page.next_token if page.has_more else None))
                self._refresh_cache(done.rows)
                self._emit(StoreEventKind.ROWS_APPENDED, count=len(done.rows), dropped=done.dropped,
                           task_ids=tuple(t.task_id for t in done.rows))
                if not self._is_scan:  # a scan's total is its count of matches, not the wire's
                    self._set_total(page.total, page.total_exact)
                self._set_error(None)
                added += len(done.rows)
                if done.rows or not self.has_more:
                    break
            return added
        finally:
            if gen == self.generation:
                self.loading_more = False
                self._emit(StoreEventKind.LOADING)

    async def load_previous(self) -> int:
        """Re-fetch the page before the window (dropped when scrolling far down) from
        its remembered token. Returns how many rows were added at the start."""
        if not self.has_before or self._window_query != self.query or self._window_client is None:
            return 0
        return (await self._wait(self._spawn(self._fetch_previous(self.generation)))) or 0

    async def _fetch_previous(self, gen: int) -> int:
        idx, token = self._window.previous_page()
        try:
            page = await self._window_client.list_tasks(self.query, token, limit=self.page_size)
        except Exception as e:  # ApiError, or a bug (a damaged index): reported, never raised
            if not isinstance(e, ApiError):
                log.exception("loading earlier tasks failed")
                e = _unexpected("load earlier tasks", e)
            if gen == self.generation:
                self._set_error(e)
            return 0
        if gen != self.generation:
            return 0
        done = self._window.prepend(idx, PageRead(token, page.tasks, None))
        if done is None:
            return 0
        self._refresh_cache(done.rows)
        self._emit(StoreEventKind.ROWS_PREPENDED, count=len(done.rows), dropped=done.dropped,
                   task_ids=tuple(t.task_id for t in done.rows))
        if not self._is_scan:
            self._set_total(page.total, page.total_exact)
        return len(done.rows)

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
    async def fetch_attachment(self, url: str) -> Attachment:
        """A task's media, for previews (the API key goes only to the API's own origin;
        size capped): screens ask the store, never the client."""
        if self._offline:
            raise UnsupportedError(f"{READ_ONLY_WHY[self._read_only_why][0]}: previews are not shown, "
                                   "the media lives on the API (start without --offline to see them).")
        return await self.client.fetch_attachment(url)

    async def get_task(self, task_id: str, *, refresh: bool = False) -> Task:
        """The full task: from the cache unless ``refresh``; fetched otherwise (and
        the row updated in place if it is loaded)."""
        if not refresh and task_id in self._cache:
            self._cache.move_to_end(task_id)
            return self._cache[task_id]
        task = await self.client.get_task(task_id)
        self._put(task)
        return task

    async def lookup(self, task_ids: Iterable[str], *,
                     concurrency: int | None = None) -> dict[str, Task | ApiError]:
        """The current state of each task: the copy held (cache or rows) when there is
        one, fetched otherwise, a few at a time. A task that could not be read maps to
        the error met."""
        ids = list(dict.fromkeys(task_ids))
        found: dict[str, Task | ApiError] = {}
        sem = asyncio.Semaphore(concurrency or self.bulk_concurrency)

        async def one(tid: str) -> None:
            async with sem:
                try:
                    found[tid] = await self._known_task(tid)
                except ApiError as e:
                    found[tid] = e

        await asyncio.gather(*(one(t) for t in ids))
        return {tid: found[tid] for tid in ids}

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
        if self._window.put(task, only_if=only_if):
            self._emit(StoreEventKind.ROWS_UPDATED, task_ids=(tid,))
        if only_if is None or self._cache.get(tid) in (None, only_if):
            self._cache_put(task)
        self._emit(StoreEventKind.TASK, task_ids=(tid,))

    # actions ---------------------------------------------------------------------------
    def _check_writable(self, action: str) -> None:
        if not self.can_write:
            raise ReadOnlyError(read_only_refusal(action, self._read_only_why))

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
        why = task_refusal(before, action)
        if why is not None:
            raise ActionRefused(why)
        if action == "fix":
            await self.client.discover()
            if not self.client.supports(EXT_FIX):
                raise UnsupportedError(fix_not_offered(task_id))
        guess = optimistic(before, action, comments, response)
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
                    truth = await self.client.get_task(task_id)
                    self._put(truth)
                    await self._write_through([truth])
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
        await self._write_through([after])  # the index never shows a stale row
        if report:
            self._emit(StoreEventKind.ACTION, task_ids=(task_id,), ok=True,
                       message=f"{VERBS[action].done} {task_id}.")
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
        q = self.query.replace(statuses=frozenset(), audit_statuses=frozenset(), tags=(),
                               order=SortOrder.NEWEST)
        if q.date_field is DateField.COMPLETED:
            q = q.replace(start=None, end=None)
        return q

    async def poll_once(self) -> int:
        """Look once for changed tasks and merge them. Returns how many rows changed
        (updated + removed + inserted)."""
        if not self.loaded_once or self._window_query != self.query:
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
            message = "many tasks changed: reloaded"
            index = self._index
            if index is not None and not self._offline and index.writable and self.from_index:
                # the rows come from the index: bring it up to date first (a delta sync:
                # what changed since its last sync), or this poll would find it all again
                try:
                    await index.sync(self.client)
                    message = "many tasks changed: the local index was brought up to date"
                except Exception as e:  # noqa: BLE001 - another sync holds it, the API failed: reload anyway
                    log.warning("bringing the local index up to date after a poll failed: %s", e)
            await self.refresh()
            self.last_poll = datetime.now(timezone.utc)
            self._emit(StoreEventKind.POLL, message=message)
            return len(self.rows)
        self._watermark = (first_time or datetime.now(timezone.utc)) - POLL_OVERLAP
        if changed:
            await self._write_through(changed.values())  # the poll keeps the index fresh too
            if gen != self.generation:
                return 0
        n = self._merge(list(changed.values()))
        if changed and self._is_scan:
            # The exact count of a scanned listing means reading it whole again: not on
            # every poll. Until it is read again the total is "at least".
            now = datetime.now(timezone.utc)
            if self._last_count is None or now - self._last_count >= RECOUNT_EVERY:
                self._set_total(self.total, False)
                self._recount(gen)
        elif changed:
            try:
                total, exact = await self.reader_for().count(self.query)
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
            shown = self.row(tid)
            if shown is not None:
                if q.matches(t):
                    if shown.raw != t.raw:
                        self._window.put(t)
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
            self._window.remove(removed)
            self._emit(StoreEventKind.ROWS_REMOVED, task_ids=tuple(removed))
        if newcomers:
            newest_first = q.order is SortOrder.NEWEST
            newcomers.sort(key=lambda t: (t.created_at or _EPOCH, t.task_id), reverse=newest_first)
            if newest_first:
                dropped = self._window.insert_at_top(newcomers)
            else:
                dropped = self._window.insert_at_end(newcomers)
            self._emit(StoreEventKind.ROWS_INSERTED if newest_first else StoreEventKind.ROWS_APPENDED,
                       task_ids=tuple(t.task_id for t in newcomers), count=len(newcomers), dropped=dropped)
        return len(updated) + len(removed) + len(newcomers)

    def _is_new_at_edge(self, task: Task) -> bool:
        """A matching task not loaded: show it only where it belongs at the loaded edge
        (newer than the top row when the window starts at the top, newest first; after
        the last row when the whole listing is loaded, oldest first)."""
        if not self._window.spans_pages or self._window_query != self.query:
            return False
        created = task.created_at or _EPOCH
        if self.query.order is SortOrder.NEWEST:
            if not self._window.at_top:
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
