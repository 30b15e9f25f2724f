"""Filling an index from the API: an initial sync of every listing of the scope, then
delta syncs of what changed.

- **Initial**: each listing (:meth:`SyncScope.parts`: one per project, or one) is read by
  the client's parallel slice reader (``iter_pages_sliced``: creation-time slices sized
  from the totals the API returns, ``parallel`` chains, standard parameters only). After
  every page, its tasks and the cursor that resumes right after it are written in ONE
  transaction: a sync killed at any point resumes from the last page written, without
  losing or repeating a task (upserts make a repeat harmless anyway). Pages handed out
  while the reader still sizes its slices have no position yet: they are written and
  the position stays (a sync killed then starts the listing again).
- **Delta**: a complete listing is read again with ``updated_after`` = its high-water
  mark less ``OVERLAP`` (tasks accepted, cancelled or created since; a task updated
  twice is simply upserted twice). The high-water mark is the server's clock (its
  ``Date`` header) when the read began, so a task changed while the read ran is read
  again next time rather than missed. When nothing changed: one request per listing.
- **Prune**: tasks outside the scope (it was narrowed) are deleted, with the sync state
  of the listings that left it.

Progress is reported as :class:`SyncProgress` (tasks read / total) to a callback, so
the command line's bar and the console show the same figures.
"""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import os
import sqlite3
import time
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Callable, Iterator

from tasktui.domain import EXT_PAGE_SIZE, PAGE_LIMIT_MAX, TaskQuery
from tasktui.index.db import (
    ORIGIN_KEY,
    SCOPE_KEY,
    SYNCED_KEY,
    delete_outside,
    put_tasks,
    upsert,
    write_meta,
)
from tasktui.index.scope import SyncScope
from tasktui.server import db as sdb

if TYPE_CHECKING:
    from tasktui.api import TaskClient

#: A delta re-reads this much before the high-water mark (clock skew, a write that
#: committed just after the mark was taken). Upserts make the overlap harmless.
OVERLAP_MS = 120_000
#: Page size of the initial read where the server offers the page-size extension.
BULK_PAGE = 1_000
#: An initial read of at least this many tasks (and of more than the index holds
#: already) drops the indexes that only answer queries and builds them once at the end
#: (``server.db.drop_query_indexes``): 10,000 tasks are written in half the CPU time.
BULK_MIN_TASKS = 1_000
#: Pages read ahead of the writer at most (their tasks are held in memory meanwhile).
WRITE_QUEUE_PAGES = 64


async def _put(queue: asyncio.Queue, item: object, writer: "asyncio.Task[None]") -> None:
    """Queue ``item`` for the writer, or raise its error if it stopped (a full queue
    would otherwise wait for ever)."""
    if writer.done():
        writer.result()
        raise RuntimeError("the index writer stopped")
    put = asyncio.ensure_future(queue.put(item))
    try:
        await asyncio.wait({put, writer}, return_when=asyncio.FIRST_COMPLETED)
    finally:
        if not put.done():
            put.cancel()
    if not put.done() or put.cancelled():
        writer.result()
        raise RuntimeError("the index writer stopped")


#: The position of a page handed out before the read's cursor exists (the listing's
#: slices still being planned): a resume starts the listing again.
_UNMOVED = "<unmoved>"


class SyncBusy(RuntimeError):
    """Another sync holds this index."""


@dataclass(frozen=True)
class SyncProgress:
    read: int  # tasks read (an initial sync counts those of earlier, interrupted runs too)
    total: int | None  # tasks the listings being read hold (None while unknown, or for a delta)
    phase: str  # "initial" or "delta"
    done: bool = False

    @property
    def fraction(self) -> float | None:
        if not self.total:
            return None
        return min(1.0, self.read / self.total)


@dataclass(frozen=True)
class SyncResult:
    initial: int  # tasks read by initial syncs in this run
    delta: int  # tasks read by delta syncs in this run
    resumed: int  # tasks an interrupted initial sync had already written
    pruned: int  # tasks deleted by --prune
    tasks: int  # tasks in the index afterwards
    elapsed: float
    first: bool = False  # some listing was read from the start (or resumed), not as a delta


ProgressCallback = Callable[[SyncProgress], None]


@contextlib.contextmanager
def sync_lock(path: Path) -> Iterator[None]:
    """Hold ``<index>.lock`` while syncing: a second sync of the same index is refused
    (SyncBusy) rather than run beside the first."""
    lock = Path(f"{path}.lock")
    fd = os.open(lock, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise SyncBusy(f"another tasktui is syncing {path}; wait for it to finish") from None
        yield
    finally:
        os.close(fd)


def _state(conn: sqlite3.Connection, part: str) -> dict | None:
    row = conn.execute("SELECT cursor, complete, started, high_water, read, total FROM sync_state WHERE part=?",
                       (part,)).fetchone()
    if row is None:
        return None
    return dict(zip(("cursor", "complete", "started", "high_water", "read", "total"), row))


def _ms(dt: datetime) -> int:
    return round(dt.timestamp() * 1000)


class _Run:
    def __init__(self, client: "TaskClient", conn: sqlite3.Connection, parallel: int | None,
                 on_progress: ProgressCallback | None):
        self.client = client
        self.conn = conn
        self.parallel = parallel
        self.on_progress = on_progress
        self.read = 0  # this run
        self.base = 0  # read by earlier runs of the listings being read now
        self.totals: dict[str, int] = {}
        self.phase = "initial"
        self.abandoned = False  # a writer was given up while its write may still run

    def tell(self, done: bool = False) -> None:
        if self.on_progress is not None:
            total = sum(self.totals.values()) if self.totals and self.phase == "initial" else None
            self.on_progress(SyncProgress(self.base + self.read, total, self.phase, done))

    def began(self, sent_at: float) -> int:
        """The server's clock (ms) when a request sent at local time ``sent_at`` left,
        from the answer's Date header (whole seconds: one is taken off); local time when
        the server sent none."""
        now = self.client.server_time
        if now is None:
            return round(sent_at * 1000)
        return _ms(now) - round((time.time() - sent_at) * 1000) - 1000

    async def page_size(self) -> int:
        return BULK_PAGE if EXT_PAGE_SIZE in await self.client.discover() else PAGE_LIMIT_MAX

    async def initial(self, part: str, query: TaskQuery) -> None:
        conn = self.conn
        st = _state(conn, part)
        if st is None:
            with sdb.Tx(conn, write=True):
                conn.execute("INSERT INTO sync_state (part) VALUES (?)", (part,))
            st = _state(conn, part)
        assert st is not None
        self.base += st["read"]
        if st["total"] is not None:
            self.totals[part] = st["total"]
        started = st["started"]
        sent = time.time()
        head = None
        if st["cursor"] is None:
            # The listing's first page, read once: it teaches the extensions (no discovery
            # request of its own), gives the start instant (the server's Date header) and
            # sizes the slices. The sliced reader uses a head only under a fixed upper bound:
            # OVERLAP_MS after that Date (a Date may lag the clock that stamps created_at —
            # uvicorn refreshes its Date once a second), so every task created before the
            # answer is in; one created later may be too, and the next delta reads it anyway.
            head = await self.client.head(query)
            started = self.began(sent)
            now = self.client.server_time
            if query.end is None and now is not None:
                query = query.replace(end=now.astimezone(timezone.utc).replace(microsecond=0)
                                      + timedelta(milliseconds=OVERLAP_MS))
        limit = await self.page_size()
        remaining = (head.page.total if head is not None else (st["total"] or 0) - st["read"]) or 0
        bulk = remaining >= BULK_MIN_TASKS and remaining >= sdb.task_count(conn)
        if bulk:
            with sdb.Tx(conn, write=True):
                sdb.drop_query_indexes(conn)
        try:
            await self._read(part, query, st, head, limit, started, sent)
        finally:
            if bulk and not self.abandoned:
                # also after a failed read: what was written is queried at full speed; a
                # killed process leaves them to the next open_index (init_schema)
                await asyncio.to_thread(sdb.create_indexes, conn)

    async def _read(self, part: str, query: TaskQuery, st: dict, head, limit: int, started: int | None,
                    sent: float) -> None:
        # Pages are handed to a writer task through a bounded queue: the chains keep
        # reading while SQLite writes (in a worker thread: it lets go of the GIL), and the
        # pages that queued up meanwhile are written in one transaction, with the cursor
        # right after the last of them.
        queue: asyncio.Queue[tuple[list[dict], str | None, int, int] | None] = asyncio.Queue(maxsize=WRITE_QUEUE_PAGES)
        state = {"started": started}
        writer = asyncio.create_task(self._writer(part, queue, state))
        read_whole = False
        try:
            # pages as they arrive: the index files tasks by id, and each page's cursor
            # is where a resume loses nothing (later slices' pages it holds are read again)
            async with contextlib.aclosing(self.client.iter_pages_sliced(
                    query, start_cursor=st["cursor"], limit=limit, parallel=self.parallel, in_order=False,
                    **({"head": head} if head is not None else {}))) as pages:
                covered = 0
                async for page in pages:
                    if state["started"] is None:
                        state["started"] = self.began(sent)
                    self.totals[part] = page.total
                    # the position's count: the tasks before the page's cursor (those of
                    # later slices read already are read again by a resume from it)
                    now = page.covered if page.covered is not None else covered + len(page.tasks)
                    # a page handed out while the slices were being planned has no cursor
                    # yet (more to come, nowhere to resume from but the start): its tasks
                    # are written and the position stays where it was
                    where = (_UNMOVED if page.next_token is None else page.next_token) if page.has_more else None
                    item = ([t.raw for t in page.tasks], where, page.total, now - covered)
                    covered = now
                    await _put(queue, item, writer)
            read_whole = True
        finally:
            if not writer.done():
                # what was read is written, also when the read failed: the next run continues
                try:
                    await _put(queue, None, writer)
                    await writer
                except BaseException:
                    # a write may still run in its thread on this connection: nothing
                    # else may use it (the query indexes are left to the next opening)
                    self.abandoned = True
                    writer.cancel()
                    if read_whole:
                        raise
        writer.result()

    async def _writer(self, part: str, queue: "asyncio.Queue[tuple[list[dict], str | None, int, int] | None]",
                      state: dict) -> None:
        while True:
            first = await queue.get()
            if first is None:
                return
            batch = [first]
            end = False
            while not queue.empty():
                nxt = queue.get_nowait()
                if nxt is None:
                    end = True
                    break
                batch.append(nxt)
            started = state["started"]
            await asyncio.to_thread(self._write_pages, part, batch, started)
            self.read += sum(len(docs) for docs, _, _, _ in batch)
            self.tell()
            if end:
                return

    def _write_pages(self, part: str, batch: list[tuple[list[dict], str | None, int, int]], started: int) -> None:
        """Pages' tasks and the position right after the last of them, in one transaction
        (``read`` counts the tasks before that position)."""
        conn = self.conn
        _, cursor, total, _ = batch[-1]
        n = sum(counted for _, _, _, counted in batch)
        with sdb.Tx(conn, write=True):
            for docs, _, _, _ in batch:
                upsert(conn, docs)
            if cursor is _UNMOVED:
                assert n == 0 and all(c is _UNMOVED for _, c, _, _ in batch)
            elif cursor is not None:
                conn.execute("UPDATE sync_state SET cursor=?, started=?, read=read+?, total=? WHERE part=?",
                             (cursor, started, n, total, part))
            else:
                conn.execute("UPDATE sync_state SET cursor=NULL, complete=1, started=NULL, high_water=?, "
                             "read=read+?, total=?, synced_at=? WHERE part=?",
                             (started, n, total, time.time(), part))

    async def delta(self, part: str, query: TaskQuery, high_water: int) -> None:
        conn = self.conn
        after = datetime.fromtimestamp((high_water - OVERLAP_MS) / 1000, timezone.utc)
        started: int | None = None
        sent = time.time()
        # no discovery request of its own: when nothing changed, a delta is one request
        known = self.client.extensions_known and EXT_PAGE_SIZE in self.client.extensions
        async with contextlib.aclosing(self.client.iter_pages(
                query, updated_after=after, limit=BULK_PAGE if known else PAGE_LIMIT_MAX)) as pages:
            async for page in pages:
                if started is None:
                    started = self.began(sent)
                docs = [t.raw for t in page.tasks]
                if docs:
                    await asyncio.to_thread(put_tasks, conn, docs)
                self.read += len(docs)
                self.tell()
        with sdb.Tx(conn, write=True):
            conn.execute("UPDATE sync_state SET high_water=?, synced_at=? WHERE part=?",
                         (started if started is not None else high_water, time.time(), part))


async def sync_index(client: "TaskClient", conn: sqlite3.Connection, scope: SyncScope, *, origin: str = "",
                     parallel: int | None = None, prune: bool = False,
                     on_progress: ProgressCallback | None = None) -> SyncResult:
    """Bring the index on ``conn`` up to date with the API for ``scope``: an initial sync
    (or its resumption) of each listing never read whole, then a delta sync of the
    others; with ``prune``, delete what lies outside the scope. ``origin`` (the API URL
    without user info) is recorded for ``--status``. API errors propagate; what was
    written stays, and the next run continues from it."""
    t0 = time.monotonic()
    run = _Run(client, conn, parallel, on_progress)
    with sdb.Tx(conn, write=True):
        write_meta(conn, SCOPE_KEY, scope.to_json())
        if origin:
            write_meta(conn, ORIGIN_KEY, origin)
    parts = scope.parts()
    fresh = [(k, q) for k, q in parts if not (_state(conn, k) or {}).get("complete")]
    resumed = sum((_state(conn, k) or {}).get("read", 0) for k, _ in fresh)
    for key, query in fresh:
        await run.initial(key, query)
    initial_read = run.read
    run.phase, run.read, run.base, run.totals = "delta", 0, 0, {}
    for key, query in parts:
        if any(key == k for k, _ in fresh):
            continue
        st = _state(conn, key)
        assert st is not None and st["high_water"] is not None
        await run.delta(key, query, st["high_water"])
    pruned = 0
    with sdb.Tx(conn, write=True):
        if prune:
            pruned = delete_outside(conn, scope)
            keys = [k for k, _ in parts]
            conn.execute(f"DELETE FROM sync_state WHERE part NOT IN ({','.join('?' * len(keys))})", keys)
        write_meta(conn, SYNCED_KEY, repr(time.time()))
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")  # disk use as it stays
    tasks = sdb.task_count(conn)
    run.tell(done=True)
    return SyncResult(initial_read, run.read, resumed, pruned, tasks, time.monotonic() - t0, first=bool(fresh))
