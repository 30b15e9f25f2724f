"""TaskClient: the endpoints of the Scale v1 wire contract (and the bundled server's
extensions) as typed async calls, and the discovery of which extensions the server offers.

Requests, retries and error mapping are the ``Transport``'s (``transport.py``); reading
whole listings is the ``Pager``'s (``paging.py``), which the client feeds with
``list_tasks``. The API key never appears in logs, reprs or error messages.
"""

from __future__ import annotations

import asyncio
import contextlib
import re
from dataclasses import replace
from datetime import datetime, timezone
from typing import Any, AsyncIterator, Callable
from urllib.parse import quote

import httpx

from tasktui import __version__
from tasktui.api.errors import InvalidRequestError, NotFoundError, UnsupportedError, malformed
from tasktui.api.listing import RawListing, decode_listing
from tasktui.api.page import Attachment, ListingHead, TaskPage
from tasktui.api.paging import Pager, is_slice_cursor
from tasktui.api.throttle import Throttle
from tasktui.api.retry import RetryPolicy
from tasktui.api.transport import Transport, display_url, server_date
from tasktui.domain import (
    ALL_EXTENSIONS,
    AuditStatus,
    EXT_FIX,
    EXT_IDEMPOTENCY,
    EXT_ORDER,
    EXT_PAGE_SIZE,
    EXT_SEARCH,
    EXTENSIONS_HEADER,
    DateField,
    SortOrder,
    PAGE_LIMIT_MAX,
    MalformedTaskError,
    Task,
    TaskQuery,
)
from tasktui.domain.text import clean_for_error
from tasktui.domain.wire import Param

USER_AGENT = f"tasktui/{__version__}"
DEFAULT_MAX_ATTACHMENT = 25 * 1024 * 1024
#: Page chains a sliced read runs at once by default (``TaskClient(parallel=...)``).
DEFAULT_PARALLEL = 8
#: ``iter_tasks`` reads listings longer than this with several page chains at once
#: (counted in pages of ``BULK_PAGE_SIZE``: see ``iter_pages_sliced``).
PARALLEL_MIN_TASKS = 1_000
#: Page size ``iter_tasks`` uses by default where the server offers ``page-size``.
BULK_PAGE_SIZE = 1_000
#: Chains a sliced read of such bulk pages runs at most (see ``iter_pages_sliced``).
BULK_CHAINS = 3
#: A whole Scale task id (a 24-digit hex ObjectId). A search for one, on a server without
#: the search extension, is answered by ``GET /task/{id}`` and ``unique_id=`` instead of
#: a prefix scan: no other task id can begin with a whole one. (A unique id that merely
#: begins with a whole task id is the one thing such a search does not find.)
WHOLE_TASK_ID = re.compile(r"^[0-9a-fA-F]{24}$")
#: Upper bound on batches read by ``batches()`` (offset paging).
MAX_BATCHES = 20_000


class TaskClient:
    """Async client for ``/v1`` of a Scale-compatible task server.

    Use as ``async with TaskClient(url, key) as client: ...`` or call ``aclose()``.
    ``ignore_extensions=True`` makes the client behave as against the real Scale API
    (no bundled-server extensions assumed even when advertised) — used by tests.
    ``http_transport`` replaces the network (``httpx.ASGITransport(app)``: the local
    index answers in-process, no socket; see ``tasktui.index.reader``).
    """

    def __init__(
        self,
        base_url: str,
        api_key: str,
        *,
        timeout: float | httpx.Timeout = 30.0,
        connect_timeout: float = 10.0,
        retry: RetryPolicy | None = None,
        ignore_extensions: bool = False,
        max_scan_pages: int | None = None,
        max_connections: int = 16,
        parallel: int = DEFAULT_PARALLEL,
        user_agent: str | None = None,
        on_wait: Callable[[float, str], None] | None = None,
        http_transport: httpx.AsyncBaseTransport | None = None,
    ):
        url = httpx.URL(str(base_url).strip().rstrip("/"))
        if url.scheme not in ("http", "https") or not url.host:
            raise ValueError(f"the API URL must start with http:// or https://, got {display_url(url)!r}")
        if not isinstance(api_key, str):
            raise TypeError("api_key must be a string")
        self.retry = retry or RetryPolicy()
        self.ignore_extensions = ignore_extensions
        #: Wire pages one ``list_tasks`` call may read while filtering locally before it
        #: returns an empty page that still ``has_more`` (None: as many as it takes).
        self.max_scan_pages = None if max_scan_pages is None else max(1, max_scan_pages)
        #: Listing requests in flight at once, lowered after a 429 (see ``Throttle``).
        self.throttle = Throttle(max(1, parallel))
        #: ... on listings longer than this.
        self.parallel_min_tasks = PARALLEL_MIN_TASKS
        self._extensions: frozenset[str] = frozenset()
        self._extensions_known = False
        #: The server refused a comma-joined ``customer_review_status`` (a 400): lists of
        #: audit statuses are filtered here from then on (see ``_wire_query``).
        self.review_lists_refused = False
        self._discover_lock = asyncio.Lock()
        #: Server clock at the last answer (from its ``Date`` header), or None.
        self.server_time: datetime | None = None
        # User info in the URL would be a second, unscrubbed copy of a secret: drop it.
        self._transport = Transport(
            url.copy_with(username=None, password=None, query=None, fragment=None), api_key,
            timeout=timeout if isinstance(timeout, httpx.Timeout) else httpx.Timeout(timeout, connect=connect_timeout),
            retry=self.retry, max_connections=max_connections, user_agent=user_agent or USER_AGENT,
            on_answer=self._learn, replays_writes=lambda: EXT_IDEMPOTENCY in self.extensions,
            http_transport=http_transport)
        self._transport.on_rate_limited = self.throttle.rate_limited
        self._transport.on_wait = on_wait
        self._pager = Pager(self._list_page, self._can_slice, wire_page=self._wire_page,
                            needs_local=self.needs_local_filter)

    @property
    def parallel(self) -> int:
        """Page chains a sliced read may run at once (1: never more than one)."""
        return self.throttle.ceiling

    @parallel.setter
    def parallel(self, value: int) -> None:
        self.throttle.set_ceiling(max(1, int(value)))

    @property
    def on_wait(self) -> Callable[[float, str], None] | None:
        """Told ``(seconds, why)`` before the client waits to retry — for ``Retry-After``
        (honoured up to ``retry.max_retry_after``, 120 s by default) and for any backoff
        of a second or more — so a view can show a countdown."""
        return self._transport.on_wait

    @on_wait.setter
    def on_wait(self, callback: Callable[[float, str], None] | None) -> None:
        self._transport.on_wait = callback

    # lifecycle -------------------------------------------------------------------
    async def __aenter__(self) -> "TaskClient":
        return self

    async def __aexit__(self, *exc) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        await self._transport.aclose()

    @property
    def closed(self) -> bool:
        return self._transport.closed

    def __repr__(self) -> str:
        ext = ",".join(sorted(self._extensions)) if self._extensions_known else "?"
        return f"TaskClient({self.base_url!r}, extensions={ext})"

    # identity --------------------------------------------------------------------
    @property
    def base_url(self) -> str:
        return str(self._transport.base)

    @property
    def origin(self) -> str:
        return self._transport.origin

    @property
    def default_headers(self) -> httpx.Headers:
        """Headers sent with every request (the key is added per request, to the API's origin only)."""
        return self._transport.default_headers

    # extensions ------------------------------------------------------------------
    @property
    def extensions(self) -> frozenset[str]:
        """Extensions the server advertised (empty for the real Scale API, or until
        the first answer arrives — see ``discover``)."""
        return frozenset() if self.ignore_extensions else self._extensions

    @property
    def extensions_known(self) -> bool:
        return self._extensions_known or self.ignore_extensions

    def supports(self, extension: str) -> bool:
        return extension in self.extensions

    def _learn(self, response: httpx.Response) -> None:
        # Learn only from successful answers: an error page from a proxy in between
        # says nothing about the server behind it.
        header = response.headers.get(EXTENSIONS_HEADER)
        if header is not None:
            self._extensions = frozenset(x.strip().lower() for x in header.split(",") if x.strip())
        self._extensions_known = True
        when = server_date(response)
        if when is not None:
            self.server_time = when

    async def discover(self) -> frozenset[str]:
        """Learn which extensions the server offers, with a cheap ``GET /tasks?limit=1``
        if no answer has been seen yet. Returns ``extensions``."""
        if self.extensions_known:
            return self.extensions
        async with self._discover_lock:
            if not self.extensions_known:
                await self._transport.call("GET", "tasks", params=[("limit", "1")],
                                           what="connect to the task server")
        return self.extensions

    async def _ensure_extensions_for(self, query: TaskQuery, limit: int = PAGE_LIMIT_MAX) -> None:
        if self.extensions_known:
            return
        # Only ask first when the answer changes the request we would send.
        if (query.wire_params(ALL_EXTENSIONS, limit=limit) != query.wire_params((), limit=limit)
                or query.needs_local_filter(())):
            await self.discover()

    def needs_local_filter(self, query: TaskQuery) -> bool:
        """Whether rows of ``query`` are filtered here (the server cannot express it), by
        the extensions known so far (and whether it refused a list of audit statuses)."""
        return query.needs_local_filter(self.extensions) or self._review_list_dropped(query)

    @staticmethod
    def _review_list(query: TaskQuery) -> bool:
        return 1 < len(query.audit_statuses) < len(AuditStatus)

    def _review_list_dropped(self, query: TaskQuery) -> bool:
        return self.review_lists_refused and self._review_list(query)

    def _wire_query(self, query: TaskQuery) -> TaskQuery:
        """The query as the server is asked for it: without its audit statuses when they
        are a list and the server refused one (the rows are then filtered here)."""
        return query.replace(audit_statuses=frozenset()) if self._review_list_dropped(query) else query

    async def needs_scan(self, query: TaskQuery) -> bool:
        """Whether showing ``query`` means reading more of the server's listing than it
        shows: rows filtered here, or oldest first from a server that lists newest first
        only. Such a listing is read by ``iter_pages_sliced`` (several chains), and its
        exact total is known only once the whole wider listing has been read.

        A newest-first query the public contract expresses whole needs no scan whatever
        the server offers: then nothing is asked first (the first page teaches the
        extensions), which spares the first screen a round trip."""
        if (not self.extensions_known and query.order is SortOrder.NEWEST
                and not query.needs_local_filter(())):
            return False
        ext = await self.discover()
        if self._exact_search(query):
            return False
        return self.needs_local_filter(query) or (query.order is SortOrder.OLDEST and EXT_ORDER not in ext)

    def _exact_search(self, query: TaskQuery) -> bool:
        """Whether ``query`` searches for a whole task id on a server without the search
        extension: then it is looked up, not scanned (see ``WHOLE_TASK_ID``)."""
        return (bool(WHOLE_TASK_ID.match(query.search.strip())) and self.extensions_known
                and EXT_SEARCH not in self.extensions)

    async def _look_up(self, query: TaskQuery) -> TaskPage:
        """The tasks a whole-id search finds: the task of that id (``GET /task/{id}``) and
        the tasks whose unique id it is (the public ``unique_id`` parameter), those that
        match the rest of the query, in its order. Complete: the total is exact."""
        text = query.search.strip()
        found: dict[str, Task] = {}
        try:
            task = await self.get_task(text)
        except NotFoundError:
            pass
        else:
            found[task.task_id] = task
        params = [*self._wire_query(query).wire_params(self.extensions, limit=PAGE_LIMIT_MAX),
                  (Param.UNIQUE_ID, text)]
        data = await self._transport.call("GET", "tasks", params=params, what="look up a unique id")
        for t in self._parse_page(data, "look up a unique id", None)[0]:
            found.setdefault(t.task_id, t)
        tasks = sorted((t for t in found.values() if query.matches(t)),
                       key=lambda t: (t.created_at or _EPOCH, t.task_id),
                       reverse=query.order is SortOrder.NEWEST)
        return TaskPage(tasks, len(tasks), None, False, total_exact=True, scanned=len(found),
                        server_time=self.server_time)

    async def _can_slice(self, query: TaskQuery) -> bool:
        """Whether the server lists ``query`` in creation order without local filtering."""
        ext = await self.discover()
        return EXT_ORDER in ext and not self.needs_local_filter(query)

    # tasks -----------------------------------------------------------------------
    def _parse_page(self, data: Any, what: str, token: str | None) -> tuple[list[Task], int, bool, str | None]:
        tasks: list[Task] | None = None
        if isinstance(data, RawListing):
            tasks = data.tasks()
            if tasks is None:  # a document the fast path does not take: say what is wrong
                data = data.parsed()
        if not isinstance(data, (dict, RawListing)):
            raise malformed(what, f"expected a JSON object with 'docs' and 'total', got {_kind(data)}")
        docs = data.get("docs")
        if not isinstance(docs, list):  # (a RawListing always has one)
            raise malformed(what, f"the answer has no 'docs' list (got {_kind(docs)})")
        total = data.get("total")
        if not isinstance(total, int) or isinstance(total, bool) or total < 0:
            raise malformed(what, f"the answer's 'total' is not a count (got {_kind(total)})")
        nxt = data.get("next_token")
        if nxt is not None and not isinstance(nxt, str):
            raise malformed(what, f"the answer's 'next_token' is not a string (got {_kind(nxt)})")
        has_more = data.get("has_more", bool(nxt))
        if not isinstance(has_more, bool):
            raise malformed(what, f"the answer's 'has_more' is not true/false (got {_kind(has_more)})")
        if has_more and not nxt:
            raise malformed(what, "the server says more tasks follow but gave no token to fetch them")
        if has_more and token is not None and nxt == token:
            raise malformed(what, "the server sent the same page token again: paging would never end")
        try:
            if tasks is None:
                tasks = [Task.from_wire(d) for d in docs]
        except MalformedTaskError as e:
            raise malformed(what, f"a task in the answer is malformed ({clean_for_error(e, 120)})") from None
        return tasks, total, has_more, (nxt or None) if has_more else None

    async def list_tasks(
        self,
        query: TaskQuery | None = None,
        next_token: str | None = None,
        *,
        limit: int = PAGE_LIMIT_MAX,
        updated_after: datetime | None = None,
    ) -> TaskPage:
        """One page of tasks matching ``query``, starting at ``next_token``.

        ``limit`` is the page size: 1–100 on the wire contract, up to 1,000 where the
        server offers the ``page-size`` extension (bulk readers; capped otherwise).

        Against a server without the extensions the query needs, the rows are filtered
        here (``TaskQuery.matches``) and further wire pages are read until some rows
        match or the listing ends, at most ``max_scan_pages`` of them; the page returned
        may then be empty while ``has_more`` is still true.
        """
        query = query or TaskQuery()
        await self._ensure_extensions_for(query, limit)
        if self._exact_search(query) and updated_after is None:
            return replace(await self._look_up(query), token=next_token) if next_token is None else \
                TaskPage([], 0, None, False, token=next_token)
        if is_slice_cursor(next_token) or (query.order is SortOrder.OLDEST and EXT_ORDER not in
                                           await self.discover()):
            return await self._sliced_page(query, next_token, limit)
        token = next_token
        scanned = 0
        when: datetime | None = None
        reads = 0
        while True:
            page = await self._wire_page(query, token, limit, updated_after=updated_after)
            local = self.needs_local_filter(query)  # after the answer: it may have refused a list
            reads += 1
            if when is None:
                when = page.server_time
            scanned += page.scanned
            tasks = [t for t in page.tasks if query.matches(t)] if local else page.tasks
            if not local or tasks or not page.has_more or (
                    self.max_scan_pages is not None and reads >= self.max_scan_pages):
                return TaskPage(tasks, page.total, page.next_token, page.has_more, token=next_token,
                                total_exact=not local, scanned=scanned, server_time=when)
            token = page.next_token

    async def _wire_page(self, query: TaskQuery, token: str | None, limit: int, *,
                         updated_after: datetime | None = None) -> TaskPage:
        """One page as the server sends it (its filters only, its ``total``), taking a
        slot of the throttle for the request."""
        params = self._wire_query(query).wire_params(self.extensions, limit=limit, next_token=token,
                                                     updated_after=updated_after)
        what = "list tasks"
        try:
            async with self.throttle.slot():
                response, data = await self._transport.send("GET", "tasks", params=params, what=what,
                                                            decode=decode_listing)
        except InvalidRequestError:
            # A server that takes one audit status only (the SDK documents a comma list, but
            # a server may refuse it with a 400): ask without them and filter here, from now
            # on. Only for a listing's first page: a token belongs to the query it came from.
            if token is not None or self._review_list_dropped(query) or not self._review_list(query):
                raise
            self.review_lists_refused = True
            return await self._wire_page(query, token, limit, updated_after=updated_after)
        await self.throttle.answered()
        tasks, total, has_more, nxt = self._parse_page(data, what, token)
        return TaskPage(tasks, total, nxt, has_more, token=token, total_exact=not self.needs_local_filter(query),
                        scanned=len(tasks), server_time=server_date(response))

    def _head_params(self, query: TaskQuery) -> tuple[tuple[str, str], ...]:
        return tuple(self._wire_query(query).replace(order=SortOrder.NEWEST, end=None).wire_params(
            self.extensions, limit=PAGE_LIMIT_MAX))

    async def head(self, query: TaskQuery | None = None) -> ListingHead:
        """The first page of ``query`` as the server lists it (newest first, 100 tasks at
        most, its filters only — rows are not filtered here), in one request. Its answer
        sets ``server_time`` and the extensions; an export takes its start instant from
        it and hands it to ``iter_pages_sliced(head=...)``, which then sizes its slices
        from it instead of asking for the listing's first page once more."""
        query = (query or TaskQuery()).replace(order=SortOrder.NEWEST)
        params = self._head_params(query)  # as sent: the answer may teach extensions
        page = await self._wire_page(query, None, PAGE_LIMIT_MAX)
        return ListingHead(page, params, query.end)

    def _usable_head(self, head: ListingHead | None, query: TaskQuery) -> TaskPage | None:
        """``head.page`` when it was read with ``query``'s parameters and an upper bound
        no earlier than ``query``'s (see ``Pager.sliced``), else None."""
        if head is None or query.date_field is not DateField.CREATED or query.end is None:
            return None
        if head.end is not None and head.end < query.end:
            return None
        return head.page if head.params == self._head_params(query) else None

    async def _sliced_page(self, query: TaskQuery, cursor: str | None, limit: int) -> TaskPage:
        """The first page with rows (or the last) of a sliced read from ``cursor``: how
        ``list_tasks`` continues a listing the sliced reader began, and reads oldest first
        from a server that lists newest first only."""
        scanned = 0
        async with contextlib.aclosing(self._pager.sliced(
                query, start_cursor=cursor, limit=limit, min_tasks=0,
                # from a cursor one chain: the page wanted is the next one with rows
                parallel=1 if cursor is not None else self.parallel)) as pages:
            async for page in pages:
                scanned += page.scanned
                if page.tasks or not page.has_more:
                    return replace(page, token=cursor, scanned=scanned)
        return TaskPage([], 0, None, False, token=cursor, scanned=scanned)

    async def count(self, query: TaskQuery | None = None, *,
                    on_progress: Callable[[int, int, int], None] | None = None) -> tuple[int, bool]:
        """The number of tasks matching ``query``, exact: the server's ``total`` when it
        can express the whole query (one request), else by reading the wider listing it
        can express — in parallel creation-time slices — and counting the matches here.
        ``on_progress(scanned, wire_total, matched)`` is told after every page read. The
        second value is kept for callers that knew counts could be wider; it is True."""
        query = (query or TaskQuery()).replace(order=SortOrder.NEWEST)
        await self._ensure_extensions_for(query, 1)
        if self._exact_search(query):
            return len((await self._look_up(query)).tasks), True
        if not self.needs_local_filter(query):
            page = await self._wire_page(query, None, 1)
            if not self.needs_local_filter(query):  # unless it refused a list of audit statuses
                return page.total, True
        matched = scanned = 0
        async with contextlib.aclosing(self.iter_pages_sliced(query, limit=PAGE_LIMIT_MAX, min_tasks=0)) as pages:
            async for page in pages:
                matched += len(page.tasks)
                scanned += page.scanned
                if on_progress is not None:
                    on_progress(scanned, page.total, matched)
        return matched, True

    async def _list_page(self, query: TaskQuery, token: str | None, limit: int) -> TaskPage:
        return await self.list_tasks(query, token, limit=limit)

    async def iter_pages(
        self,
        query: TaskQuery | None = None,
        *,
        start_token: str | None = None,
        limit: int = PAGE_LIMIT_MAX,
        updated_after: datetime | None = None,
        prefetch: bool = True,
    ) -> AsyncIterator[TaskPage]:
        """Every page of the listing from ``start_token`` (None: the beginning), the
        next one fetched while the caller works on this one (``prefetch``); resuming
        from a page's ``next_token`` continues right after it. See ``Pager.pages``."""
        pager = self._pager
        if updated_after is not None:
            pager = Pager(lambda q, t, n: self.list_tasks(q, t, limit=n, updated_after=updated_after),
                          self._can_slice)
        async with contextlib.aclosing(pager.pages(query or TaskQuery(), start_token=start_token,
                                                   limit=limit, prefetch=prefetch)) as pages:
            async for page in pages:
                yield page

    async def iter_tasks(
        self,
        query: TaskQuery | None = None,
        *,
        start_token: str | None = None,
        limit: int | None = None,
        parallel: int | None = None,
    ) -> AsyncIterator[Task]:
        """Every task matching ``query``, once each, in the listing's order, fetching
        ahead while the caller consumes. Memory stays bounded whatever the count.

        A long listing (more than ``parallel_min_tasks``) on a server that can list
        oldest-first is cut into slices of whole UTC days of creation time, read by up
        to ``parallel`` page chains at once (each a few pages ahead at most) and yielded
        slice after slice, so the order is the same as one chain's. Otherwise — and
        always when resuming from ``start_token``, or when the page budget allows one — one
        chain with one page prefetched.

        ``limit`` (page size) defaults to ``BULK_PAGE_SIZE`` where the server offers the
        ``page-size`` extension (fewer round trips), else the wire maximum of 100.
        """
        query = query or TaskQuery()
        if limit is None:
            limit = BULK_PAGE_SIZE if EXT_PAGE_SIZE in await self.discover() else PAGE_LIMIT_MAX
        async with contextlib.aclosing(self.iter_pages_sliced(
                query, start_cursor=start_token, limit=limit, parallel=parallel)) as pages:
            async for page in pages:
                for task in page.tasks:
                    yield task

    async def iter_pages_sliced(
        self,
        query: TaskQuery | None = None,
        *,
        start_cursor: str | None = None,
        limit: int = PAGE_LIMIT_MAX,
        parallel: int | None = None,
        min_tasks: int | None = None,
        head: ListingHead | None = None,
        in_order: bool = True,
    ) -> AsyncIterator[TaskPage]:
        """Every page of the listing, in its order, like :meth:`iter_pages` — but a
        listing of at least ``min_tasks`` (default ``parallel_min_tasks``) is read by up
        to ``parallel`` (default ``self.parallel``, 8) chains over creation-time slices.
        Each page's ``next_token`` resumes right after it when passed back as
        ``start_cursor``. See ``Pager.sliced``.

        ``min_tasks`` is a size in pages of ``BULK_PAGE_SIZE``: what makes chains pay is
        the number of round trips, so with smaller pages (the public API's 100) a listing
        is sliced from proportionally fewer tasks (``min_tasks * limit / 1,000``).

        Against a server that lists newest first only (the public API), the slices are
        sized from the totals it returns, the rows are filtered here where it cannot
        filter, and oldest first is read slice by slice from the oldest. A 429 lowers
        the chains running at once (``throttle``); ``Retry-After`` is waited out.
        ``head`` (from :meth:`head`, for the same filters) spares that reader its first
        request: the listing's size is read from it. ``in_order=False``: pages as they
        arrive, for a reader that files tasks by id (``Pager.sliced``)."""
        query = query or TaskQuery()
        await self._ensure_extensions_for(query, limit)
        if self._exact_search(query) and start_cursor is None:
            yield await self._look_up(query)
            return
        floor = self.parallel_min_tasks if min_tasks is None else min_tasks
        if limit < BULK_PAGE_SIZE:
            floor = floor * limit // BULK_PAGE_SIZE
        if parallel is None:
            # Pages of 1,000 come only from the bundled server's page-size extension, whose
            # CPU is the ceiling (~20 ms a page): a few chains keep it busy, more only
            # contend for its cores. Chains pay for round trips, which pages of 100 have.
            parallel = min(self.parallel, BULK_CHAINS) if limit >= BULK_PAGE_SIZE else self.parallel
        async with contextlib.aclosing(self._pager.sliced(
                query, start_cursor=start_cursor, limit=limit, parallel=parallel,
                min_tasks=floor, head=None if start_cursor else self._usable_head(head, query),
                in_order=in_order)) as pages:
            async for page in pages:
                yield page

    async def get_task(self, task_id: str) -> Task:
        what = f"get task {clean_for_error(task_id, 80)}"
        data = await self._transport.call("GET", f"task/{_q(task_id)}", what=what)
        return self._task_from(data, what)

    def _task_from(self, data: Any, what: str) -> Task:
        try:
            return Task.from_wire(data)
        except MalformedTaskError as e:
            raise malformed(what, f"the answer is not a task ({clean_for_error(e, 120)})") from None

    async def _task_after_action(self, data: Any, task_id: str, what: str) -> Task:
        # The cancel answer is the task; the real API's audit answer may be anything.
        if isinstance(data, dict) and data.get("task_id") == task_id:
            try:
                return Task.from_wire(data)
            except MalformedTaskError:
                pass
        return await self.get_task(task_id)

    # actions ---------------------------------------------------------------------
    async def cancel(self, task_id: str, clear_unique_id: bool = False) -> Task:
        """Cancel a task (only Queued tasks can be; the server answers 400 otherwise).
        Returns the task as it is after the cancel."""
        await self.discover()
        what = f"cancel task {clean_for_error(task_id, 80)}"
        params = [("clear_unique_id", "true")] if clear_unique_id else None
        data = await self._transport.call("POST", f"task/{_q(task_id)}/cancel", params=params, what=what,
                                state_changing=True)
        return await self._task_after_action(data, task_id, what)

    async def accept(self, task_id: str, comments: str | None = None) -> Task:
        return await self._audit(task_id, True, comments, "accept")

    async def reject(self, task_id: str, comments: str | None) -> Task:
        return await self._audit(task_id, False, comments, "reject")

    async def _audit(self, task_id: str, accepted: bool, comments: str | None, verb: str,
                     response: dict | None = None) -> Task:
        await self.discover()
        what = f"{verb} task {clean_for_error(task_id, 80)}"
        body: dict[str, Any] = {"accepted": accepted, "comments": comments or None}
        if response is not None:
            body["response"] = response
        data = await self._transport.call("POST", f"task/{_q(task_id)}/audit", body=body, what=what,
                                state_changing=True)
        return await self._task_after_action(data, task_id, what)

    async def fix(self, task_id: str, response: dict[str, Any], comments: str | None = None) -> Task:
        """Fix a completed task: replace its response (the old one is appended to
        ``prior_responses``) and mark it Fixed. A bundled-server extension."""
        await self.discover()
        if EXT_FIX not in self.extensions:
            raise UnsupportedError(
                f"Could not fix task {clean_for_error(task_id, 80)}: this server does not offer Fix "
                "(editing a task's response); only Accept and Reject are available here.")
        if not isinstance(response, dict):
            raise InvalidRequestError(
                f"Could not fix task {clean_for_error(task_id, 80)}: the new response must be a JSON object "
                f"({{...}}), not {_kind(response)}.")
        return await self._audit(task_id, True, comments, "fix", response=response)

    # projects and batches ----------------------------------------------------------
    async def projects(self) -> list[dict[str, Any]]:
        """Every project (each a dict with at least ``name``)."""
        what = "list projects"
        data = await self._transport.call("GET", "projects", what=what)
        if isinstance(data, dict) and isinstance(data.get("docs"), list):
            data = data["docs"]
        if not isinstance(data, list):
            raise malformed(what, f"expected a list of projects, got {_kind(data)}")
        return [_named(p, what) for p in data]

    async def batches(self, project: str | None = None, *, limit: int = 100) -> list[dict[str, Any]]:
        """Every batch (of ``project`` if given), following the offset paging."""
        what = "list batches"
        out: list[dict[str, Any]] = []
        offset = 0
        while len(out) < MAX_BATCHES:
            params = [("limit", str(limit)), ("offset", str(offset))]
            if project:
                params.append(("project", project))
            data = await self._transport.call("GET", "batches", params=params, what=what)
            if isinstance(data, list):  # a server that answers with a bare array
                out.extend(_named(b, what) for b in data)
                break
            if not isinstance(data, dict) or not isinstance(data.get("docs"), list):
                raise malformed(what, f"expected an object with a 'docs' list, got {_kind(data)}")
            docs = [_named(b, what) for b in data["docs"]]
            out.extend(docs)
            if not data.get("has_more") or not docs:
                break
            offset += len(docs)
        return out

    # attachments -----------------------------------------------------------------
    async def fetch_attachment(self, url: str, *, max_bytes: int = DEFAULT_MAX_ATTACHMENT) -> Attachment:
        """The bytes of an attachment (at most ``max_bytes``). The API key is sent only
        when the URL is on the API's own origin; redirects are followed (and httpx drops
        the credentials when a redirect leaves the origin)."""
        if not isinstance(url, str) or not url.strip():
            raise InvalidRequestError("Could not fetch the attachment: the task has no attachment URL.")
        try:
            target = httpx.URL(url.strip())
            if target.is_relative_url:
                target = httpx.URL(self.origin).join(target)
        except (httpx.InvalidURL, TypeError, ValueError):
            raise InvalidRequestError(
                f"Could not fetch the attachment: {clean_for_error(url, 100)!r} is not a URL.") from None
        if target.scheme not in ("http", "https") or not target.host:
            raise UnsupportedError(
                f"Could not fetch the attachment: only http:// and https:// URLs can be fetched, "
                f"not {clean_for_error(url, 100)!r}.")
        what = f"fetch the attachment {display_url(target)}"
        response, raw = await self._transport.send(
            "GET", str(target), what=what, follow_redirects=True, max_bytes=max_bytes, parse_json=False)
        ctype = response.headers.get("content-type")
        return Attachment(url=str(target), content=raw, content_type=ctype.split(";")[0].strip() if ctype else None)



def _q(task_id: str) -> str:
    if not isinstance(task_id, str) or not task_id.strip():
        raise InvalidRequestError("A task id is needed (it was empty).")
    return quote(task_id.strip(), safe="")


def _kind(value: Any) -> str:
    if value is None:
        return "nothing"
    if isinstance(value, bool):
        return "true/false"
    if isinstance(value, (int, float)):
        return "a number"
    if isinstance(value, str):
        return "text"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "an object"
    return type(value).__name__

def _named(doc: Any, what: str) -> dict[str, Any]:
    if not isinstance(doc, dict) or not isinstance(doc.get("name"), str):
        raise malformed(what, "an entry has no name")
    return doc


_EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)
