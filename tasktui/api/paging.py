"""Reading a whole listing: page chains with one page prefetched, and long listings cut
into creation-time slices read by several chains at once, resumable by a slice cursor.

A ``Pager`` is given how to fetch one page (``list_page``) and how to learn whether the
server can list a query in creation order without local filtering (``can_slice``);
it knows nothing of HTTP, extensions or the client.
"""

from __future__ import annotations

import asyncio
import functools
import base64
import contextlib
from collections import deque
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any, AsyncIterator, Awaitable, Callable

import orjson

from tasktui.api.errors import UnsupportedError, malformed
from tasktui.api.page import TaskPage
from tasktui.api.slicing import TICK, cut_points, slice_target, too_big
from tasktui.domain import DateField, SortOrder, Task, TaskQuery

#: One page of ``query`` from ``token`` (None: the first), ``limit`` tasks at most.
ListPage = Callable[[TaskQuery, "str | None", int], Awaitable[TaskPage]]

#: At most this many creation-time slices (whole UTC days each) per listing.
MAX_SLICES = 64
#: Tasks a slice being read may run ahead of the caller (in whole pages, at least one):
#: enough for the chains to keep the server busy, bounded whatever the listing's length.
SLICE_LOOKAHEAD_TASKS = 1_600
#: Chains times page size stays within this many tasks (pages of 1,000 from the bundled
#: server: four chains, so the server always has a page to make while tasktui writes one;
#: an export of 50,000 tasks with no filter 7% faster than with two, 6 MiB more at peak,
#: eight no faster; pages of 100: the caller's chains).
PARALLEL_PAGE_BUDGET = 4_000
#: Prefix of the cursors ``Pager.sliced`` hands out (a plain server token never has it).
SLICED_CURSOR_PREFIX = "tasktui-slices."

Bounds = list[tuple[datetime | None, datetime | None]]


@functools.lru_cache(maxsize=4)
def _wire_bounds(bounds: tuple[tuple[datetime | None, datetime | None], ...]) -> list[list[str | None]]:
    """The bounds of a slice plan as a cursor holds them (one plan is encoded once per
    page read: its ISO dates are made once)."""
    return [[a.isoformat() if a else None, b.isoformat() if b else None] for a, b in bounds]


def encode_slice_cursor(bounds: Bounds, index: int, token: str | None, total: int, skip: int = 0) -> str:
    """A cursor that resumes a sliced read: the slices' bounds, the slice being read,
    the server token within it (None: its start), the listing's total, and — for a slice
    read whole and reversed (oldest first on a server that lists newest first only) —
    how many of its tasks were already handed out."""
    doc = {"b": _wire_bounds(tuple(bounds)), "i": index, "t": token, "n": total}
    if skip:
        doc["s"] = skip
    return SLICED_CURSOR_PREFIX + base64.urlsafe_b64encode(orjson.dumps(doc)).decode("ascii")


def decode_slice_cursor(cursor: str) -> tuple[Bounds, int, str | None, int]:
    """Inverse of ``encode_slice_cursor`` (without the skip: see ``cursor_skip``); a
    ValueError naming the cursor when it is damaged."""
    try:
        doc = orjson.loads(base64.urlsafe_b64decode(cursor[len(SLICED_CURSOR_PREFIX):].encode("ascii")))
        bounds = [(datetime.fromisoformat(a) if a else None, datetime.fromisoformat(b) if b else None)
                  for a, b in doc["b"]]
        index, token, total = int(doc["i"]), doc["t"], int(doc["n"])
        if not bounds or not 0 <= index < len(bounds) or not (token is None or isinstance(token, str)):
            raise ValueError
    except (ValueError, TypeError, KeyError, orjson.JSONDecodeError):
        raise ValueError("the saved export position (cursor) is damaged") from None
    return bounds, index, token, total


def cursor_skip(cursor: str) -> int:
    """The skip of a sliced cursor (0 when it has none)."""
    try:
        doc = orjson.loads(base64.urlsafe_b64decode(cursor[len(SLICED_CURSOR_PREFIX):].encode("ascii")))
        skip = int(doc.get("s", 0))
    except (ValueError, TypeError, AttributeError, orjson.JSONDecodeError):
        raise ValueError("the saved export position (cursor) is damaged") from None
    if skip < 0:
        raise ValueError("the saved export position (cursor) is damaged")
    return skip


def is_slice_cursor(token: str | None) -> bool:
    return token is not None and token.startswith(SLICED_CURSOR_PREFIX)


def _consume_result(task: asyncio.Task) -> None:
    if not task.cancelled():
        task.exception()


@dataclass
class _Slice:
    """A creation-time range ``[lo, hi)`` (``lo`` None: open) and, once probed, its first
    wire page (newest first), whose ``total`` is the range's size."""

    lo: datetime | None
    hi: datetime | None
    first: TaskPage | None = None
    cuttable: bool = True
    depth: int = 0  # cuts above it (arrival order)


_DONE = object()


def trim_head(head: TaskPage, end: datetime | None) -> TaskPage | None:
    """A listing's first wire page (newest first) cut to the tasks created before
    ``end``, with the total of the listing bounded there — exact when the page reaches
    below ``end`` or is the whole listing; None when that cannot be told."""
    if end is None or any(t.created_at is None for t in head.tasks):
        return None
    kept = [t for t in head.tasks if t.created_at < end]  # type: ignore[operator]
    if head.has_more and not kept:
        return None
    return TaskPage(kept, head.total - (len(head.tasks) - len(kept)), None, False,
                    total_exact=head.total_exact, scanned=len(head.tasks), server_time=head.server_time)


def _parts(lo: datetime | None, hi: datetime | None, cuts: list[datetime], depth: int = 0) -> list[_Slice]:
    """The slices ``[lo, hi)`` is cut into at ``cuts`` (descending), newest first; at
    ``depth`` cuts below the listing (``MAX_CUT_DEPTH`` deep, a slice is not cut again)."""
    edges: list[datetime | None] = [hi, *cuts, lo]
    return [_Slice(bottom, top, depth=depth, cuttable=depth < MAX_CUT_DEPTH)
            for top, bottom in zip(edges, edges[1:])]


def _first_cut(wire_q: TaskQuery, head: TaskPage, target: int) -> list[_Slice]:
    """The slices of a listing's first cut (from its first page, newest first), as
    ``Pager._plan_by_total`` makes them; [] when it is small enough or cannot be cut."""
    hi = _top(wire_q, head)
    if hi is None or not too_big(head.total, target):
        return []
    cuts = cut_points(wire_q.start, hi, [t.created_at for t in head.tasks if t.created_at], head.total, target)
    return _parts(wire_q.start, hi, cuts, depth=1) if cuts else []


def _top(wire_q: TaskQuery, head: TaskPage) -> datetime | None:
    """The upper bound of a listing's slices: the query's, else just after the newest
    task of its first page (None when that page tells none)."""
    if head.total == 0 or not head.tasks:
        return None
    times = [t.created_at for t in head.tasks if t.created_at is not None]
    return wire_q.end or (max(times) + TICK if times else None)


#: Cuts of cuts at most (a slice whose tasks share one instant cannot be cut for ever).
MAX_CUT_DEPTH = 12


async def _pump(items: AsyncIterator[Any], put: Callable[[Any], Awaitable[None]]) -> None:
    """Hand each of a producer's items to ``put``, then ``_DONE``; its error, if any,
    is handed on as an item (the consumer raises it in its turn)."""
    try:
        async with contextlib.aclosing(items) as it:
            async for item in it:
                await put(item)
        await put(_DONE)
    except asyncio.CancelledError:
        raise
    except BaseException as e:  # handed to the consumer
        await put(e)


async def _cancel(tasks: list[asyncio.Task]) -> None:
    """Cancel producers still running and wait until they have stopped."""
    for task in tasks:
        task.cancel()
    if tasks:
        await asyncio.gather(*tasks, return_exceptions=True)


async def in_slice_order(first: int, count: int, par: int, lookahead: int,
                         produce: Callable[[int], AsyncIterator[Any]]) -> AsyncIterator[tuple[int, Any]]:
    """Run ``produce(i)`` for slices ``first`` .. ``count - 1``, at most ``par`` of them
    at once and each at most ``lookahead`` items ahead of the consumer, and yield
    ``(i, item)`` in slice order. A producer's error is raised here, in its turn; closing
    the generator cancels the producers still running."""
    running: dict[int, tuple[asyncio.Task, asyncio.Queue]] = {}
    started = first
    try:
        for i in range(first, count):
            while started < count and started < i + par:
                q: asyncio.Queue = asyncio.Queue(maxsize=lookahead)
                running[started] = (asyncio.ensure_future(_pump(produce(started), q.put)), q)
                started += 1
            _, queue = running[i]
            while True:
                item = await queue.get()
                if item is _DONE:
                    break
                if isinstance(item, BaseException):
                    raise item
                yield i, item
            del running[i]
    finally:
        await _cancel([t for t, _ in running.values()])


async def in_arrival_order(first: int, count: int, par: int, bound: int,
                           produce: Callable[[int], AsyncIterator[Any]]) -> AsyncIterator[tuple[int, Any]]:
    """Run ``produce(i)`` for slices ``first`` .. ``count - 1``, at most ``par`` of them
    at once (started in slice order, the next as one ends), and yield ``(i, item)`` as
    items arrive — a slice's own items in their order — with at most ``bound`` of them
    waiting for the consumer. A producer's error is raised here at once; closing the
    generator cancels the producers still running."""
    queue: asyncio.Queue = asyncio.Queue(maxsize=max(1, bound))
    running: dict[int, asyncio.Task] = {}

    def start(i: int) -> None:
        async def put(item: Any) -> None:
            await queue.put((i, item))

        running[i] = asyncio.ensure_future(_pump(produce(i), put))

    started = first
    try:
        while started < count and len(running) < par:
            start(started)
            started += 1
        while running:
            i, item = await queue.get()
            if item is _DONE:
                del running[i]
                if started < count:
                    start(started)
                    started += 1
                continue
            if isinstance(item, BaseException):
                raise item
            yield i, item
    finally:
        await _cancel(list(running.values()))


class _Frontier:
    """Where a listing read out of slice order may resume without losing a task: the
    first slice not yet read whole, after the last of its pages handed out. Pages of
    later slices handed out already are read again from there (a reader that resumes
    must take a task twice in its stride, as an upsert does)."""

    def __init__(self, bounds: Bounds, index: int, token: str | None, total: int):
        self.bounds = bounds
        self.total = total
        self.slice = index
        self.tokens: dict[int, str | None] = {index: token}
        self.done: set[int] = set()
        self.handed: dict[int, int] = {}  # tasks handed out per slice
        self.covered = 0  # tasks handed out before the resume point

    def after(self, i: int, more: str | None, tasks: int) -> str | None:
        """Slice ``i`` handed out a page of ``tasks`` tasks; ``more``: the token of its
        next page (None: it was its last). Returns the cursor to resume from (None: every
        slice is read whole)."""
        self.handed[i] = self.handed.get(i, 0) + tasks
        if i == self.slice:
            self.covered += tasks
        if more is None:
            self.done.add(i)
        else:
            self.tokens[i] = more
        while self.slice in self.done:
            self.slice += 1
            self.covered += self.handed.get(self.slice, 0)
        if self.slice >= len(self.bounds):
            return None
        return encode_slice_cursor(self.bounds, self.slice, self.tokens.get(self.slice), self.total)


class Pager:
    """Page chains over one source of pages.

    ``list_page`` reads one page of a query as the caller should see it (filtered locally
    where the server cannot filter); ``can_slice`` says whether the server lists a query
    in creation order without local filtering (then slices are whole days, planned from
    the oldest and newest task). ``wire_page`` — given for a server that may list newest
    first only — reads one raw page as the server sends it (newest first, the server's
    ``total``), and ``needs_local`` says whether a query's rows must be filtered here:
    with them, any listing is sliced from the totals the server returns.
    """

    def __init__(self, list_page: ListPage, can_slice: Callable[[TaskQuery], Awaitable[bool]], *,
                 wire_page: ListPage | None = None, needs_local: Callable[[TaskQuery], bool] | None = None):
        self._list_page = list_page
        self._can_slice = can_slice
        self._wire_page = wire_page
        self._needs_local = needs_local or (lambda q: False)

    async def pages(self, query: TaskQuery, *, start_token: str | None = None, limit: int,
                    prefetch: bool = True) -> AsyncIterator[TaskPage]:
        """Every page of the listing from ``start_token`` (None: the beginning).

        While the caller works on one page the next is already being fetched
        (``prefetch``), so at most two pages are held at a time. Each page carries the
        token that fetched it and ``next_token``: resuming from a page's ``next_token``
        continues right after it. A token seen before ends the chain with an error.
        """
        recent: deque[str] = deque(maxlen=64)

        def fetch(token: str | None) -> asyncio.Task[TaskPage]:
            return asyncio.ensure_future(self._list_page(query, token, limit))

        pending: asyncio.Task[TaskPage] | None = fetch(start_token)
        try:
            while pending is not None:
                page = await pending
                pending = None
                if page.has_more:
                    if page.next_token in recent:
                        raise malformed("list tasks", "the server sent a page token it had sent before: "
                                        "paging would never end")
                    recent.append(page.next_token)
                    if prefetch:
                        pending = fetch(page.next_token)
                yield page
                if page.has_more and not prefetch:
                    pending = fetch(page.next_token)
        finally:
            if pending is not None and not pending.done():
                pending.cancel()
                pending.add_done_callback(_consume_result)

    async def sliced(self, query: TaskQuery, *, start_cursor: str | None = None, limit: int,
                     parallel: int, min_tasks: int, head: TaskPage | None = None,
                     in_order: bool = True) -> AsyncIterator[TaskPage]:
        """Every page of the listing, in its order, like :meth:`pages` — but a listing of
        at least ``min_tasks`` is read by up to ``parallel`` chains over creation-time
        slices, each at most ``SLICE_LOOKAHEAD_TASKS`` ahead of the caller.

        Each page's ``next_token`` is a cursor that resumes right after that page: pass
        it back as ``start_cursor``. A sliced cursor carries the slices it was planned
        with, so a resume reads exactly the same slices; a plain server token (when the
        listing was read by one chain) resumes one chain. ``total`` is the whole
        listing's on every page.

        ``head``, for a server that lists newest first only: the first wire page of the
        same filters with a later upper bound (or none), read before ``query``'s bound
        was fixed. Its tasks at or after the bound are the newest, so once one of them
        is older the head holds every task past the bound, and the listing's size is
        its ``total`` less those: the first request of the read is spared. It is used
        to size the slices only, never handed out (its token belongs to another query).

        ``in_order=False`` (a reader that files tasks by id: ``tasktui sync``): pages are
        handed out as they arrive, a slice's own in its order, so that the caller never
        waits on one slow slice while others are read; each page's ``next_token`` is
        then where a resume loses nothing (``_Frontier``: pages of later slices already
        handed out are read again), and the last page handed out ends the listing. A
        fresh read plans and reads in one stream (``_arriving_by_total``): the pages
        handed out before every slice is sized carry no resume position yet
        (``next_token`` None, ``has_more`` True, ``covered`` 0: a resume starts again).
        Oldest first is always handed out in order.
        """
        one_chain = parallel <= 1 and query.order is SortOrder.NEWEST and not is_slice_cursor(start_cursor)
        if self._wire_page is not None and not one_chain and not await self._can_slice(query):
            async with contextlib.aclosing(self._sliced_by_total(
                    query, start_cursor=start_cursor, limit=limit, parallel=parallel,
                    min_tasks=min_tasks, head=head, in_order=in_order)) as pages:
                async for page in pages:
                    yield page
            return
        # Big pages already amortise the per-request cost; more chains of them would
        # only hold more in memory.
        par = min(max(1, parallel), max(1, PARALLEL_PAGE_BUDGET // max(1, limit)))
        if start_cursor is not None and start_cursor.startswith(SLICED_CURSOR_PREFIX):
            bounds, index, token, total = decode_slice_cursor(start_cursor)
            slices = [query.replace(start=a, end=b) for a, b in bounds]
        else:
            planned = (await self.plan_slices(query, min_tasks)
                       if start_cursor is None and par > 1 else None)
            if not planned:
                async with contextlib.aclosing(self.pages(query, start_token=start_cursor, limit=limit)) as pages:
                    async for page in pages:
                        yield page
                return
            slices, total = planned
            bounds = [(q.start, q.end) for q in slices]
            index, token = 0, None
        async with contextlib.aclosing(self._read_slices(slices, bounds, index, token, total, limit, par,
                                                         start_cursor, in_order)) as pages:
            async for page in pages:
                yield page

    async def _read_slices(self, slices: list[TaskQuery], bounds: Bounds, index: int, token: str | None,
                           total: int, limit: int, par: int, start_cursor: str | None,
                           in_order: bool = True) -> AsyncIterator[TaskPage]:
        lookahead = max(1, SLICE_LOOKAHEAD_TASKS // max(1, limit))

        async def produce(i: int) -> AsyncIterator[TaskPage]:
            start = token if i == index else None
            async with contextlib.aclosing(self.pages(slices[i], start_token=start, limit=limit)) as pages:
                async for page in pages:
                    yield page

        previous = start_cursor
        if not in_order:
            front = _Frontier(bounds, index, token, total)
            async with contextlib.aclosing(in_arrival_order(index, len(slices), par, par * lookahead,
                                                            produce)) as arrived:
                async for i, item in arrived:
                    cursor = front.after(i, item.next_token if item.has_more else None, len(item.tasks))
                    yield replace(item, next_token=cursor, has_more=cursor is not None, token=previous, total=total,
                                  covered=front.covered)
                    previous = cursor
            return
        async with contextlib.aclosing(in_slice_order(index, len(slices), par, lookahead, produce)) as items:
            async for i, item in items:
                if item.has_more:
                    cursor = encode_slice_cursor(bounds, i, item.next_token, total)
                elif i + 1 < len(slices):
                    cursor = encode_slice_cursor(bounds, i + 1, None, total)
                else:
                    cursor = None
                yield replace(item, next_token=cursor, has_more=cursor is not None,
                              token=previous, total=total)
                previous = cursor

    async def plan_slices(self, query: TaskQuery, min_tasks: int) -> tuple[list[TaskQuery], int] | None:
        """Disjoint creation-time slices covering the query, in listing order, and the
        query's total; None when one chain is the better (or the only correct) way."""
        if query.date_field is not DateField.CREATED:
            return None
        if not await self._can_slice(query):
            return None
        head = await self._list_page(query, None, 1)
        if head.total < min_tasks or not head.tasks:
            return None
        flipped = SortOrder.OLDEST if query.order is SortOrder.NEWEST else SortOrder.NEWEST
        tail = await self._list_page(query.replace(order=flipped), None, 1)
        ends = [t.created_at for t in (*head.tasks, *tail.tasks) if t.created_at is not None]
        if len(ends) < 2:
            return None
        lo = min(ends)
        hi = max(ends) + timedelta(milliseconds=1)
        if query.start is not None:
            lo = max(lo, query.start)
        if query.end is not None:
            hi = min(hi, query.end)
        d0 = lo.replace(hour=0, minute=0, second=0, microsecond=0)
        days = (hi - d0 + timedelta(days=1) - timedelta(microseconds=1)).days
        if days < 2:
            return None
        step = -(-days // min(MAX_SLICES, days))
        cuts = [d0 + timedelta(days=i) for i in range(0, days, step)] + [d0 + timedelta(days=days)]
        cuts[0] = lo
        cuts[-1] = hi
        slices = [query.replace(start=a, end=b) for a, b in zip(cuts, cuts[1:]) if a < b]
        if query.order is SortOrder.NEWEST:
            slices.reverse()
        return slices, head.total

    # -- slices from the totals (a server that lists newest first only) -----------------

    async def _sliced_by_total(self, query: TaskQuery, *, start_cursor: str | None, limit: int,
                               parallel: int, min_tasks: int,
                               head: TaskPage | None = None, in_order: bool = True) -> AsyncIterator[TaskPage]:
        """``sliced`` for a server that lists newest first only and may not filter the
        whole query: the listing is cut into creation-time slices sized from the totals
        the server returns (a slice is cut again while it is too big), read by up to
        ``parallel`` chains, filtered here where needed, and handed out in the query's
        order — oldest first by reading each slice whole (it is small) and reversing it."""
        assert self._wire_page is not None
        oldest = query.order is SortOrder.OLDEST
        if query.date_field is not DateField.CREATED:
            if oldest:
                raise UnsupportedError(
                    "Could not list oldest first by completion date: this server lists newest first "
                    "only, and tasktui reads oldest first by creation time only. Choose newest first, "
                    "or filter by creation date.")
            async with contextlib.aclosing(self.pages(query, start_token=start_cursor, limit=limit)) as pages:
                async for page in pages:
                    yield page
            return
        par = max(1, parallel)
        wire_q = query.replace(order=SortOrder.NEWEST)
        skip = 0
        if is_slice_cursor(start_cursor):
            assert start_cursor is not None
            bounds, index, token, total = decode_slice_cursor(start_cursor)
            skip = cursor_skip(start_cursor)
            slices = [_Slice(a, b) for a, b in bounds]
        elif start_cursor is not None:  # a plain server token: one chain, as it was begun
            async with contextlib.aclosing(self.pages(query, start_token=start_cursor, limit=limit)) as pages:
                async for page in pages:
                    yield page
            return
        else:
            sizing = trim_head(head, wire_q.end) if head is not None else None
            if sizing is None:
                head = sizing = await self._wire_page(wire_q, None, limit)
            total = sizing.total
            if not oldest and (par <= 1 or total < min_tasks):
                slices = []  # one chain, page by page from the head read
            else:
                # a slice no bigger than what may be read ahead of the caller, so that every
                # slice under way can be read whole while the caller works through an earlier
                # one (bigger slices left their chains waiting: 2.5 requests in flight of 16)
                target = slice_target(total, par, page=limit, hold=SLICE_LOOKAHEAD_TASKS // 2)
                parts = [] if in_order or oldest else _first_cut(wire_q, sizing, target)
                if parts:
                    async with contextlib.aclosing(self._arriving_by_total(
                            wire_q, parts, target, limit, par, total, self._needs_local(query))) as pages:
                        async for page in pages:
                            yield page
                    return
                slices = await self._plan_by_total(wire_q, sizing, target, limit)
            if oldest:
                slices.reverse()
            if not slices:
                slices = [_Slice(wire_q.start, wire_q.end, sizing)]
            if sizing is not head:  # a head of another query: its pages are read afresh
                for sl in slices:
                    if sl.first is sizing:
                        sl.first = None
            bounds = [(sl.lo, sl.hi) for sl in slices]
            index, token = 0, None
        async with contextlib.aclosing(self._read_by_total(
                wire_q, slices, bounds, index, token, skip, total, limit, par,
                self._needs_local(query), oldest, start_cursor, in_order or oldest)) as pages:
            async for page in pages:
                yield page

    async def _plan_by_total(self, wire_q: TaskQuery, head: TaskPage, target: int, limit: int) -> list[_Slice]:
        """Slices of about ``target`` tasks each, newest first, every one probed (its first
        page read, kept to be handed out). Empty ranges are dropped."""
        assert self._wire_page is not None
        if head.total == 0 or not head.tasks:
            return []
        hi = _top(wire_q, head)
        work = [_Slice(wire_q.start, hi, head)]
        if hi is None:
            return work
        for _ in range(12):  # each round cuts what is still too big; a few rounds suffice
            probes: list[_Slice] = []
            nxt: list[_Slice] = []
            for sl in work:
                assert sl.first is not None
                if not (sl.cuttable and too_big(sl.first.total, target)):
                    nxt.append(sl)
                    continue
                assert sl.hi is not None
                cuts = cut_points(sl.lo, sl.hi, [t.created_at for t in sl.first.tasks if t.created_at],
                                  sl.first.total, target)
                if not cuts:
                    sl.cuttable = False
                    nxt.append(sl)
                    continue
                parts = _parts(sl.lo, sl.hi, cuts)
                probes += parts
                nxt += parts
            if not probes:
                break

            async def probe(part: _Slice) -> None:
                part.first = await self._wire_page(wire_q.replace(start=part.lo, end=part.hi), None, limit)

            await asyncio.gather(*(probe(p) for p in probes))
            work = [sl for sl in nxt if sl.first is not None and sl.first.total > 0]
        return work

    async def _arriving_by_total(self, wire_q: TaskQuery, parts: list[_Slice], target: int,
                                 limit: int, par: int, total: int, local: bool) -> AsyncIterator[TaskPage]:
        """A fresh read in arrival order (``sliced(in_order=False)``): planning and reading
        in one stream. Every slice's chain starts with its probe; a probe that finds its
        slice too big cuts it and the parts start chains of their own (the probe's page is
        dropped: the parts read its tasks), any other goes on through its slice at once —
        no round trip waits for the whole plan, and the requests stay ``par`` in flight
        from the first probe to the last page. Pages are handed out as they arrive. A
        resume position exists once the plan is whole (every slice probed and kept): the
        pages handed out before carry none (``next_token`` None with ``has_more``: resume
        from the start), the later ones the first slice not read whole (``_Frontier``).
        At most ``2 * par * lookahead`` pages are held (under way or not yet taken)."""
        assert self._wire_page is not None
        wire_page = self._wire_page
        gate = asyncio.Semaphore(par)
        room = asyncio.Semaphore(max(1, 2 * par * max(1, SLICE_LOOKAHEAD_TASKS // 2 // max(1, limit))))
        arrivals: asyncio.Queue[tuple] = asyncio.Queue()
        runners: set[asyncio.Task] = set()

        async def fetch(sl: _Slice, token: str | None) -> TaskPage:
            await room.acquire()
            try:
                async with gate:
                    return await wire_page(wire_q.replace(start=sl.lo, end=sl.hi), token, limit)
            except BaseException:
                room.release()
                raise

        async def chain(sl: _Slice) -> None:
            try:
                page = await fetch(sl, None)  # each page fetched holds room until it is taken
                if sl.cuttable and too_big(page.total, target):
                    cuts = cut_points(sl.lo, sl.hi, [t.created_at for t in page.tasks if t.created_at],
                                      page.total, target)
                    if cuts:
                        arrivals.put_nowait(("cut", sl, cuts))
                        return
                while True:
                    arrivals.put_nowait(("page", sl, page))
                    if not page.has_more:
                        return
                    page = await fetch(sl, page.next_token)
            except asyncio.CancelledError:
                raise
            except BaseException as e:  # handed to the consumer, which raises it
                arrivals.put_nowait(("error", e))
            finally:
                arrivals.put_nowait(("end",))

        def start(sl: _Slice) -> None:
            runners.add(asyncio.ensure_future(chain(sl)))

        seen_at_edges: set[str] = set()

        def handed_out(sl: _Slice, tasks: list[Task]) -> list[Task]:
            out = []
            for t in tasks:
                if local and not wire_q.matches(t):
                    continue
                # a task created at a cut is in one slice only (start inclusive, end
                # exclusive); should a server count both ends in, it is handed out once
                if t.created_at == sl.lo or t.created_at == sl.hi:
                    if t.task_id in seen_at_edges:
                        continue
                    seen_at_edges.add(t.task_id)
                out.append(t)
            return out

        live: dict[int, _Slice] = {id(p): p for p in parts}
        state: dict[int, tuple[int, str | None]] = {}  # per slice: tasks handed out, next token (None: done)
        unplanned = len(parts)  # slices whose probe has not told yet whether they stay
        front: _Frontier | None = None
        where: dict[int, int] = {}
        last: TaskPage | None = None
        running = len(parts)
        for p in parts:
            start(p)
        try:
            while running:
                item = await arrivals.get()
                kind = item[0]
                if kind == "end":
                    running -= 1
                    continue
                if kind == "error":
                    raise item[1]
                sl = item[1]
                room.release()
                if kind == "cut":
                    del live[id(sl)]
                    unplanned -= 1
                    for part in _parts(sl.lo, sl.hi, item[2], depth=sl.depth + 1):
                        live[id(part)] = part
                        unplanned += 1
                        running += 1
                        start(part)
                    continue
                page: TaskPage = item[2]
                tasks = handed_out(sl, page.tasks)
                more = page.next_token if page.has_more else None
                cursor = None
                if front is None:
                    if id(sl) not in state:
                        unplanned -= 1
                    n, _ = state.get(id(sl), (0, None))
                    state[id(sl)] = (n + len(tasks), more)
                    if unplanned == 0:  # the plan is whole: from now on, a resume position
                        order = sorted(live.values(), key=lambda x: x.hi, reverse=True)  # type: ignore[arg-type,return-value]
                        front = _Frontier([(x.lo, x.hi) for x in order], 0, None, total)
                        for i, x in enumerate(order):
                            where[id(x)] = i
                            n, nxt = state[id(x)]
                            cursor = front.after(i, nxt, n)
                        state.clear()
                else:
                    cursor = front.after(where[id(sl)], more, len(tasks))
                # before the plan is whole: no position yet, more to come, nothing covered
                out = TaskPage(tasks, total, cursor, cursor is not None or front is None, total_exact=not local,
                               scanned=len(page.tasks), covered=0 if front is None else front.covered)
                if page.tasks or not out.has_more:  # (an empty slice hands out nothing)
                    last = out
                    yield out
            if last is None or last.has_more:  # the listing's end, when no page carried it
                yield TaskPage([], total, None, False, total_exact=not local,
                               covered=front.covered if front is not None else 0)
        finally:
            for r in runners:
                r.cancel()
            if runners:
                await asyncio.gather(*runners, return_exceptions=True)

    async def _read_by_total(self, wire_q: TaskQuery, slices: list[_Slice], bounds: Bounds, index: int,
                             token: str | None, skip: int, total: int, limit: int, par: int, local: bool,
                             oldest: bool, start_cursor: str | None, in_order: bool = True) -> AsyncIterator[TaskPage]:
        assert self._wire_page is not None
        # Twice as many slices under way as requests in flight, each half as far ahead:
        # while the caller waits on a slow slice, the chains go on with the next ones
        # instead of idling (the same number of tasks held at most).
        gate = asyncio.Semaphore(par)
        lookahead = max(1, SLICE_LOOKAHEAD_TASKS // 2 // max(1, limit))
        edges = {e for b in bounds for e in b if e is not None}

        async def wire_page(q: TaskQuery, tok: str | None, n: int) -> TaskPage:
            assert self._wire_page is not None
            async with gate:
                return await self._wire_page(q, tok, n)

        def keep(tasks: list[Task]) -> list[Task]:
            return [t for t in tasks if wire_q.matches(t)] if local else list(tasks)

        async def chain(i: int, start: str | None):
            sq = wire_q.replace(start=bounds[i][0], end=bounds[i][1])
            first = slices[i].first if start is None else None
            page = first if first is not None else await wire_page(sq, start, limit)
            while True:
                yield page
                if not page.has_more:
                    return
                page = await wire_page(sq, page.next_token, limit)

        async def produce(i: int) -> AsyncIterator[tuple[list[Task], int, str | None, int]]:
            if not oldest:
                async for page in chain(i, token if i == index else None):
                    yield keep(page.tasks), len(page.tasks), page.next_token if page.has_more else None, 0
                return
            held: list[Task] = []
            scanned = 0
            async for page in chain(i, None):
                held.extend(keep(page.tasks))
                scanned += len(page.tasks)
            held.reverse()
            at = skip if i == index else 0
            if at >= len(held):
                yield [], scanned, None, 0
            while at < len(held):
                chunk = held[at:at + limit]
                at += len(chunk)
                yield chunk, scanned, None if at >= len(held) else "", at
                scanned = 0

        previous = start_cursor
        seen_at_edges: set[str] = set()
        front = None if in_order else _Frontier(bounds, index, token, total)
        items = (in_slice_order(index, len(slices), 2 * par, lookahead, produce) if in_order else
                 in_arrival_order(index, len(slices), 2 * par, 2 * par * lookahead, produce))
        async with contextlib.aclosing(items) as items:
            async for i, (tasks, scanned, more, at) in items:
                if edges:
                    # A task created at a cut is in one slice only (start inclusive, end
                    # exclusive); should a server count both ends in, it is still handed out once.
                    fresh = []
                    for t in tasks:
                        if t.created_at in edges:
                            if t.task_id in seen_at_edges:
                                continue
                            seen_at_edges.add(t.task_id)
                        fresh.append(t)
                    tasks = fresh
                if front is not None:  # (never oldest first: ``more`` is a server token)
                    cursor = front.after(i, more, len(tasks))
                elif more is not None:
                    cursor = encode_slice_cursor(bounds, i, more or None, total, at)
                elif i + 1 < len(slices):
                    cursor = encode_slice_cursor(bounds, i + 1, None, total)
                else:
                    cursor = None
                yield TaskPage(tasks, total, cursor, cursor is not None, token=previous,
                               total_exact=not local, scanned=scanned,
                               covered=None if front is None else front.covered)
                previous = cursor
