"""Reading a whole listing: page chains with one page prefetched, and long listings cut
into creation-time slices read by several chains at once, resumable by a slice cursor.

A ``Pager`` is given how to fetch one page (``list_page``) and how to learn whether the
server can list a query in creation order without local filtering (``can_slice``);
it knows nothing of HTTP, extensions or the client.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
from collections import deque
from dataclasses import replace
from datetime import datetime, timedelta
from typing import AsyncIterator, Awaitable, Callable

import orjson

from tasktui.api.errors import malformed
from tasktui.api.page import TaskPage
from tasktui.domain import DateField, SortOrder, TaskQuery

#: One page of ``query`` from ``token`` (None: the first), ``limit`` tasks at most.
ListPage = Callable[[TaskQuery, "str | None", int], Awaitable[TaskPage]]

#: At most this many creation-time slices (whole UTC days each) per listing.
MAX_SLICES = 64
#: Tasks a slice being read may run ahead of the caller (in whole pages, at least one):
#: enough for the chains to keep the server busy, bounded whatever the listing's length.
SLICE_LOOKAHEAD_TASKS = 1_600
#: Chains times page size stays within this many tasks (pages of 100: 3 chains;
#: pages of 1,000: two chains).
PARALLEL_PAGE_BUDGET = 2_000
#: Prefix of the cursors ``Pager.sliced`` hands out (a plain server token never has it).
SLICED_CURSOR_PREFIX = "tasktui-slices."

Bounds = list[tuple[datetime | None, datetime | None]]


def encode_slice_cursor(bounds: Bounds, index: int, token: str | None, total: int) -> str:
    """A cursor that resumes a sliced read: the slices' bounds, the slice being read,
    the server token within it (None: its start) and the listing's total."""
    doc = {"b": [[a.isoformat() if a else None, b.isoformat() if b else None] for a, b in bounds],
           "i": index, "t": token, "n": total}
    return SLICED_CURSOR_PREFIX + base64.urlsafe_b64encode(orjson.dumps(doc)).decode("ascii")


def decode_slice_cursor(cursor: str) -> tuple[Bounds, int, str | None, int]:
    """Inverse of ``encode_slice_cursor``; a ValueError naming the cursor when it is damaged."""
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


def _consume_result(task: asyncio.Task) -> None:
    if not task.cancelled():
        task.exception()


class Pager:
    """Page chains over one source of pages."""

    def __init__(self, list_page: ListPage, can_slice: Callable[[TaskQuery], Awaitable[bool]]):
        self._list_page = list_page
        self._can_slice = can_slice

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
                     parallel: int, min_tasks: int) -> AsyncIterator[TaskPage]:
        """Every page of the listing, in its order, like :meth:`pages` — but a listing of
        at least ``min_tasks`` is read by up to ``parallel`` chains over creation-time
        slices, each at most ``SLICE_LOOKAHEAD_TASKS`` ahead of the caller.

        Each page's ``next_token`` is a cursor that resumes right after that page: pass
        it back as ``start_cursor``. A sliced cursor carries the slices it was planned
        with, so a resume reads exactly the same slices; a plain server token (when the
        listing was read by one chain) resumes one chain. ``total`` is the whole
        listing's on every page.
        """
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
        async with contextlib.aclosing(
                self._read_slices(slices, bounds, index, token, total, limit, par, start_cursor)) as pages:
            async for page in pages:
                yield page

    async def _read_slices(self, slices: list[TaskQuery], bounds: Bounds, index: int, token: str | None,
                           total: int, limit: int, par: int, start_cursor: str | None) -> AsyncIterator[TaskPage]:
        lookahead = max(1, SLICE_LOOKAHEAD_TASKS // max(1, limit))
        done = object()
        running: dict[int, tuple[asyncio.Task, asyncio.Queue]] = {}

        async def produce(i: int, queue: asyncio.Queue) -> None:
            try:
                start = token if i == index else None
                async with contextlib.aclosing(self.pages(slices[i], start_token=start, limit=limit)) as pages:
                    async for page in pages:
                        await queue.put(page)
                await queue.put(done)
            except asyncio.CancelledError:
                raise
            except BaseException as e:  # handed to the consumer, in order
                await queue.put(e)

        previous = start_cursor
        started = index
        try:
            for i in range(index, len(slices)):
                while started < len(slices) and started < i + par:
                    q: asyncio.Queue = asyncio.Queue(maxsize=lookahead)
                    running[started] = (asyncio.ensure_future(produce(started, q)), q)
                    started += 1
                _, queue = running[i]
                while True:
                    item = await queue.get()
                    if item is done:
                        break
                    if isinstance(item, BaseException):
                        raise item
                    if item.has_more:
                        cursor = encode_slice_cursor(bounds, i, item.next_token, total)
                    elif i + 1 < len(slices):
                        cursor = encode_slice_cursor(bounds, i + 1, None, total)
                    else:
                        cursor = None
                    yield replace(item, next_token=cursor, has_more=cursor is not None,
                                  token=previous, total=total)
                    previous = cursor
                del running[i]
        finally:
            for task, _ in running.values():
                task.cancel()
            if running:
                await asyncio.gather(*(t for t, _ in running.values()), return_exceptions=True)

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
