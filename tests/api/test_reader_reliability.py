"""Issue 11's lost-tasks suspicion (a Queued view once totalled 775 where SQLite said 800):
the parallel slice reader against every timing it can meet, made deterministic.

- Answers in an adversarial order: each request of an in-memory public listing waits a
  seeded number of event-loop turns, so the chains, the probes and the slices finish in
  many different orders (no clock involved: the same seed is the same interleaving).
- Ties: many tasks in one creation millisecond, at the newest end (the plan cuts that
  millisecond off on its own: a cut exactly on a tie) and elsewhere.
- Faults at a chosen request over real HTTP (the bundled server behind the public-contract
  proxy): a 429, a dropped connection, a cut body, a 503 ... on the Nth listing request, on a
  probe, in the middle of a slice — the count, the rows and their order still equal SQLite.
- The Queued view through the store with a fault mid-scan: its exact total equals SQLite
  and every pending task was read once.

The oracles are literals, the in-memory listing's own rows, and the server's SQLite.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import random
from datetime import datetime, timedelta, timezone
from typing import Callable

import orjson
import pytest

from tasktui.api import TaskClient, TaskPage
from tasktui.api.paging import Pager
from tasktui.domain import OperatorStatus as S
from tasktui.domain import SortOrder, Task, TaskQuery
from tasktui.domain.statuses import PENDING_SPLIT
from tasktui.server.times import ms_to_wire
from tasktui.store import TaskStore
from tasktui.store import store as store_module
from tasktui.testing import Fault

from .conftest import BIG_N

T0 = datetime(2026, 3, 1, 8, 0, tzinfo=timezone.utc)
QUEUED = TaskQuery(statuses=frozenset({S.QUEUED}))


# -- in memory: the public API in miniature, answering in a seeded order -----------------

def _pending(n: int, seed: int) -> list[Task]:
    """``n`` pending tasks (about half Queued), newest 150 in one millisecond, the rest in
    bursts, gaps and more shared milliseconds."""
    rng = random.Random(seed)
    t = T0
    out = []
    for i in range(n - 150):
        t += rng.choice([timedelta(0), timedelta(0), timedelta(milliseconds=1), timedelta(seconds=3),
                         timedelta(minutes=9), timedelta(hours=7), timedelta(days=1)])
        out.append((t, i))
    t += timedelta(hours=1)
    out += [(t, n - 150 + k) for k in range(150)]
    return [Task.from_wire({"task_id": f"{i:06x}{rng.getrandbits(64):016x}"[:24], "status": "pending",
                            "work_started": rng.random() < 0.5,
                            "created_at": at.isoformat(timespec="milliseconds").replace("+00:00", "Z")})
            for at, i in out]


class Scrambled:
    """Newest first whatever is asked, ``(created_at, task_id)`` descending as the bundled
    server sorts, ``start_time`` inclusive and ``end_time`` exclusive, offset tokens; every
    answer is held back a seeded number of event-loop turns, before and after it is read."""

    end_inclusive = False  # a server that counts a task at ``end_time`` in as well

    def __init__(self, tasks: list[Task], seed: int):
        self.tasks = tasks
        self.rng = random.Random(seed)
        self.requests = 0

    async def wire_page(self, query: TaskQuery, token: str | None, limit: int) -> TaskPage:
        self.requests += 1
        for _ in range(self.rng.randrange(0, 40)):
            await asyncio.sleep(0)
        rows = sorted((t for t in self.tasks
                       if (query.start is None or t.created_at >= query.start)
                       and (query.end is None or t.created_at < query.end
                            or (self.end_inclusive and t.created_at == query.end))),
                      key=lambda t: (t.created_at, t.task_id), reverse=True)
        at = int(token or 0)
        more = at + limit < len(rows)
        page = TaskPage(rows[at:at + limit], len(rows), str(at + limit) if more else None, more, token=token)
        for _ in range(self.rng.randrange(0, 40)):
            await asyncio.sleep(0)
        return page


def _pager(listing: Scrambled) -> Pager:
    async def list_page(query, token, limit):  # one chain, filtered here (list_tasks)
        page = await listing.wire_page(query, token, limit)
        return TaskPage([t for t in page.tasks if query.matches(t)], page.total, page.next_token,
                        page.has_more, token=token, total_exact=False)

    async def never(query):
        return False

    return Pager(list_page, never, wire_page=listing.wire_page, needs_local=lambda q: bool(q.statuses))


# The expected rows, as literal predicates on the wire fields the tasks were made with
# (``_pending``: status pending, work_started true or false, no review status), not as
# TaskQuery.matches — which the reader itself filters with, so it would move with a bug.
def _queued(t: Task) -> bool:
    """Queued: pending and not started."""
    return t.raw["status"] == "pending" and not t.raw["work_started"] and "customer_review_status" not in t.raw


def _wire_pending(t: Task) -> bool:
    """Queued, In Progress or Redo: every pending task."""
    return t.raw["status"] == "pending"


def _any(t: Task) -> bool:
    return True


def _want(tasks: list[Task], keep: Callable[[Task], bool], *, oldest: bool = False) -> list[str]:
    """The ids of the tasks ``keep`` keeps, newest first (``oldest``: oldest first), ties
    by task id as the listing sorts."""
    rows = sorted((t for t in tasks if keep(t)), key=lambda t: (t.created_at, t.task_id), reverse=not oldest)
    return [t.task_id for t in rows]


@pytest.mark.parametrize("seed", range(12))
async def test_every_task_once_in_order_whatever_order_the_answers_come_in(seed):
    tasks = _pending(1_865, seed)
    for query, keep, oldest in ((QUEUED, _queued, False), (TaskQuery(statuses=PENDING_SPLIT), _wire_pending, False),
                                (QUEUED.replace(order=SortOrder.OLDEST), _queued, True)):
        listing = Scrambled(tasks, seed)
        async with contextlib.aclosing(_pager(listing).sliced(
                query, limit=100, parallel=8, min_tasks=0)) as it:
            pages = [p async for p in it]
        got = [t.task_id for p in pages for t in p.tasks]
        want = _want(tasks, keep, oldest=oldest)
        assert len(want) > 700
        assert got == want, (query, len(got), len(want))
        assert sum(p.scanned for p in pages) == 1_865  # every wire task read once, none twice
        assert {p.total for p in pages} == {1_865}


class Counted(Scrambled):
    """``Scrambled`` that also counts requests under way (most at once) and wire tasks sent."""

    def __init__(self, tasks: list[Task], seed: int):
        super().__init__(tasks, seed)
        self.in_flight = self.most = self.sent = 0

    async def wire_page(self, query: TaskQuery, token: str | None, limit: int) -> TaskPage:
        self.in_flight += 1
        self.most = max(self.most, self.in_flight)
        try:
            page = await super().wire_page(query, token, limit)
        finally:
            self.in_flight -= 1
        self.sent += len(page.tasks)
        return page


@pytest.mark.parametrize("seed", range(12))
async def test_in_arrival_order_every_task_once_and_every_cursor_resumes(seed):
    """``sliced(in_order=False)`` (``tasktui sync``), planning and reading in one stream
    over bursts, gaps and ties, answers in a seeded order: every task once; pages handed
    out before the plan is whole carry no cursor (a resume starts again) and count
    nothing as covered; the last page ends the listing; from any page's cursor a resume
    loses nothing and leaves exactly ``covered`` behind; never more than ``parallel``
    requests at once. Oracle: the in-memory listing's rows."""
    tasks = _pending(1_865, seed)
    cuts_again = 0
    for query, keep in ((QUEUED, _queued), (TaskQuery(), _any)):
        listing = Counted(tasks, seed)
        async with contextlib.aclosing(_pager(listing).sliced(
                query, limit=100, parallel=8, min_tasks=0, in_order=False)) as it:
            pages = [p async for p in it]
        want = set(_want(tasks, keep))
        got = [t.task_id for p in pages for t in p.tasks]
        assert len(got) == len(set(got)) and set(got) == want
        assert sum(p.scanned for p in pages) == 1_865  # each wire task handed out in one page
        assert listing.most <= 8
        assert [p.has_more for p in pages] == [True] * (len(pages) - 1) + [False]
        covered = [p.covered for p in pages]
        assert covered == sorted(covered) and covered[-1] == len(want)
        planning = [p for p in pages if p.has_more and p.next_token is None]
        assert planning and all(p.covered == 0 for p in planning), "pages handed out while planning"
        # probes of slices cut again: their tasks are read again by the parts
        cuts_again += listing.sent > 1_865 + 100
        for k in range(len(pages) - 1):
            again = Counted(tasks, seed + k)
            async with contextlib.aclosing(_pager(again).sliced(
                    query, limit=100, parallel=8, min_tasks=0, in_order=False,
                    start_cursor=pages[k].next_token)) as it:
                rest = [t.task_id for p in [p async for p in it] for t in p.tasks]
            before = {t.task_id for p in pages[:k + 1] for t in p.tasks}
            assert before | set(rest) == want, k
            assert len(rest) == len(set(rest)), k
            assert pages[k].covered == len(want - set(rest)), k
    if seed in (0, 1, 2):
        assert cuts_again, "these listings' first cut is too coarse somewhere: a slice is cut again"


async def test_in_arrival_order_the_pages_held_are_bounded():
    """A caller that stops taking pages holds the reader back: what was read and not
    taken stays within ``2 * parallel * lookahead`` pages (here 2 x 2 x 8 pages of 100),
    however big the listing. Oracle: tasks sent by the in-memory listing."""
    tasks = [Task.from_wire({"task_id": f"t{i:07d}", "status": "pending",  # evenly spread: no cut again
                             "created_at": ms_to_wire(int(T0.timestamp() * 1000) + 60_000 * i)})
             for i in range(20_000)]
    listing = Counted(tasks, 4)
    async with contextlib.aclosing(_pager(listing).sliced(
            TaskQuery(), limit=100, parallel=2, min_tasks=0, in_order=False)) as it:
        first = await it.__anext__()
        for _ in range(20_000):  # deliberate: time for the chains to run ahead (event-loop turns)
            await asyncio.sleep(0)
        assert listing.sent - 100 - len(first.tasks) <= 2 * 2 * 8 * 100  # the head's 100 aside
        assert listing.requests - 1 - 1 <= 2 * 2 * 8
        assert listing.sent > 2_000  # they did run ahead
        rest = [t.task_id for p in [p async for p in it] for t in p.tasks]
    assert len(first.tasks) + len(rest) == 20_000 == len(set(rest) | {t.task_id for t in first.tasks})


@pytest.mark.parametrize("in_order", [True, False])
async def test_a_server_counting_both_ends_of_a_range_in_still_hands_each_task_out_once(in_order):
    """Were ``end_time`` inclusive on some server, a task created exactly at a cut would
    be listed by both slices around it; the reader hands it out once. Ties at cuts are
    forced: every task shares its millisecond with four others."""
    tasks = [Task.from_wire({"task_id": f"t{i:06d}", "status": "pending",
                             "created_at": ms_to_wire(int(T0.timestamp() * 1000) + i // 5)})
             for i in range(3_000)]
    listing = Counted(tasks, 8)
    listing.end_inclusive = True
    async with contextlib.aclosing(_pager(listing).sliced(
            TaskQuery(), limit=100, parallel=8, min_tasks=0, in_order=in_order)) as it:
        got = [t.task_id for p in [p async for p in it] for t in p.tasks]
    assert listing.sent > 3_000 + 100  # the server did list some tasks twice
    assert len(got) == len(set(got)) == 3_000


async def test_a_cut_exactly_on_a_shared_millisecond_hands_each_tied_task_out_once():
    """The newest 150 tasks share one millisecond: the head page (100 of them) tells no
    rate, so the plan cuts that millisecond off the rest — a cut on a tie."""
    tasks = _pending(700, 3)
    listing = Scrambled(tasks, 3)
    q = TaskQuery(statuses=PENDING_SPLIT)
    async with contextlib.aclosing(_pager(listing).sliced(q, limit=100, parallel=4, min_tasks=0)) as it:
        pages = [p async for p in it]
    got = [t.task_id for p in pages for t in p.tasks]
    assert got == _want(tasks, _wire_pending)
    tie = tasks[-1].created_at
    assert sum(1 for i in got if i in {t.task_id for t in tasks if t.created_at == tie}) == 150


# -- over HTTP: the bundled server behind the public-contract proxy -----------------------

def _sql_ids(sql, handle, where: str) -> list[str]:
    return [r[0] for r in sql(handle, f"SELECT task_id FROM tasks WHERE {where} ORDER BY created_at DESC, task_id DESC")]


FAULTS = {
    "429": Fault.rate_limit(0),
    "503": Fault.error(503),
    "drop before": Fault.drop("before"),
    "drop after headers": Fault.drop("headers"),
    "drop mid body": Fault.drop("body"),
    "cut body": Fault.truncate(),
    "garbage": Fault.garbage(),
}


@pytest.mark.parametrize("kind", sorted(FAULTS))
@pytest.mark.parametrize("where", ["probe", "mid-slice"])
async def test_a_fault_on_a_probe_or_mid_slice_loses_and_doubles_nothing(big_server, proxy_for, sql, fast_retry,
                                                                           kind, where):
    proxy = await proxy_for(big_server, public_contract=True)
    # a probe is the first request bounded by end_time; mid-slice, the first with a token
    proxy.script(dataclasses.replace(FAULTS[kind], match="end_time=" if where == "probe" else "next_token="))
    want = _sql_ids(sql, big_server, "ostatus = 'queued'")
    async with TaskClient(proxy.url, big_server.api_key, retry=fast_retry) as c:
        got = [t.task_id async for t in c.iter_tasks(QUEUED)]
    assert proxy.scripted_left == 0 and proxy.stats.injected[FAULTS[kind].kind] == 1
    assert got == want
    assert proxy.refused == []


@pytest.mark.parametrize("kind", sorted(FAULTS))
@pytest.mark.parametrize("where", ["probe", "mid-slice"])
async def test_in_arrival_order_a_fault_on_a_probe_or_mid_slice_loses_and_doubles_nothing(
        big_server, proxy_for, sql, fast_retry, kind, where):
    """The stream ``tasktui sync`` reads (planning and reading at once, pages as they
    arrive) over real HTTP, one fault on a probe or in the middle of a slice: retried,
    every task once, the last page ends the listing. Oracle: the server's SQLite."""
    proxy = await proxy_for(big_server, public_contract=True)
    proxy.script(dataclasses.replace(FAULTS[kind], match="end_time=" if where == "probe" else "next_token="))
    want = {r[0] for r in sql(big_server, "SELECT task_id FROM tasks")}
    async with TaskClient(proxy.url, big_server.api_key, retry=fast_retry) as c:
        pages = [p async for p in c.iter_pages_sliced(TaskQuery(), min_tasks=0, in_order=False, limit=100)]
    assert proxy.scripted_left == 0 and proxy.stats.injected[FAULTS[kind].kind] == 1
    got = [t.task_id for p in pages for t in p.tasks]
    assert len(got) == len(set(got)) and set(got) == want
    assert [p.has_more for p in pages] == [True] * (len(pages) - 1) + [False]
    assert pages[-1].covered == len(want)
    assert proxy.refused == []


@pytest.mark.parametrize("where", ["probe", "mid-slice"])
async def test_in_arrival_order_an_answer_not_retried_stops_the_read_with_its_error(
        big_server, proxy_for, fast_retry, where):
    """With no retry left, a failed probe or page ends the stream with the API's error
    (the caller's sync keeps what it filed), not with a listing silently short of a
    slice, and no chain is left running after it."""
    from tasktui.api import ApiError

    proxy = await proxy_for(big_server, public_contract=True)
    proxy.script(dataclasses.replace(Fault.error(503), match="end_time=" if where == "probe" else "next_token="))
    once = dataclasses.replace(fast_retry, max_attempts=1)
    handed = 0
    async with TaskClient(proxy.url, big_server.api_key, retry=once) as c:
        with pytest.raises(ApiError) as err:
            async for p in c.iter_pages_sliced(TaskQuery(), min_tasks=0, in_order=False, limit=100):
                handed += len(p.tasks)
        assert "503" in str(err.value) or "unavailable" in str(err.value).lower()
        assert handed < BIG_N  # the listing did not complete
        before = proxy.stats.requests
        await asyncio.sleep(0.3)  # deliberate: an observation window for "nothing more is sent"
        assert proxy.stats.requests == before, "a chain kept reading after the error"


@pytest.mark.parametrize("n", [2, 3, 9, 17, 24])
async def test_a_dropped_answer_at_the_nth_request_of_a_count_changes_nothing(big_server, proxy_for, sql,
                                                                              fast_retry, n):
    """Request ``n`` of the count (discovery, head, probes, pages) is answered by the server
    and then lost on the way: the retry's answer is counted once."""
    proxy = await proxy_for(big_server, public_contract=True)
    proxy.script(*[Fault.slow(0)] * (n - 1), Fault.drop("headers"))
    (queued,), = sql(big_server, "SELECT count(*) FROM tasks WHERE ostatus = 'queued'")
    (pending,), = sql(big_server, "SELECT count(*) FROM tasks WHERE ostatus IN ('queued','in_progress','redo')")
    seen: list[tuple[int, int, int]] = []
    async with TaskClient(proxy.url, big_server.api_key, retry=fast_retry) as c:
        assert await c.count(QUEUED, on_progress=lambda *a: seen.append(a)) == (queued, True)
    assert proxy.scripted_left == 0 and proxy.stats.injected["drop_after_headers"] == 1
    assert seen[-1] == (pending, pending, queued)
    assert proxy.refused == []


@pytest.mark.parametrize("paint_early", [False, True])
async def test_the_queued_view_total_is_exact_through_a_429_and_a_drop_mid_scan(big_server, proxy_for, sql,
                                                                                fast_retry, monkeypatch, paint_early):
    """``paint_early``: the rows are shown after the first page with a match (as a loaded
    machine does once ``FIRST_PAINT_AFTER`` has passed), the rest appended as they come."""
    if paint_early:
        monkeypatch.setattr(store_module, "FIRST_PAINT_AFTER", 0.0)
    proxy = await proxy_for(big_server, public_contract=True, latency=0.01)
    proxy.script(Fault.rate_limit(0, match="next_token="), Fault.drop("body", match="next_token="))
    want = _sql_ids(sql, big_server, "ostatus = 'queued'")
    (pending,), = sql(big_server, "SELECT count(*) FROM tasks WHERE ostatus IN ('queued','in_progress','redo')")
    async with TaskClient(proxy.url, big_server.api_key, retry=fast_retry) as c:
        store = TaskStore(c)
        await store.set_query(QUEUED)
        for _ in range(2_000):  # wait for the condition (the scan's end), not for a time
            if store.total_exact and not store.scanning:
                break
            await asyncio.sleep(0.01)
        assert store.total == len(want) and store.total_exact
        assert [t.task_id for t in store.rows] == want[:len(store.rows)] and store.rows
        assert store.progress is not None and store.progress.scanned == pending
        # shown early or not, the window is filled to a page at least, in SQLite's order
        assert len(store.rows) >= min(len(want), store.page_size)
        await store.close()
    assert proxy.scripted_left == 0
    assert proxy.refused == []


def _share_millisecond(sql_path, ids: list[int], ms: int) -> None:
    """Give these tasks one creation millisecond, in the index and in their documents."""
    import sqlite3
    conn = sqlite3.connect(sql_path, timeout=30)
    try:
        with conn:
            for rid in ids:
                conn.execute("UPDATE tasks SET created_at = ? WHERE id = ?", (ms, rid))
                (doc,), = conn.execute("SELECT doc FROM docs WHERE id = ?", (rid,)).fetchall()
                d = orjson.loads(doc)
                d["created_at"] = ms_to_wire(ms)
                conn.execute("UPDATE docs SET doc = ? WHERE id = ?", (orjson.dumps(d), rid))
    finally:
        conn.close()


async def test_tasks_sharing_a_millisecond_at_a_cut_are_counted_once_over_http(server_factory, proxy_for, sql,
                                                                               fast_retry):
    """The 150 newest pending tasks moved into one millisecond (the plan then cuts exactly
    there), and runs of 40 elsewhere: count, rows and order equal SQLite's."""
    handle = server_factory(n=3_000)
    rows = sql(handle, "SELECT id, created_at FROM tasks WHERE ostatus IN ('queued','in_progress','redo') "
                       "ORDER BY created_at DESC, task_id DESC")
    assert len(rows) > 400
    newest = rows[0][1]
    _share_millisecond(handle.db_path, [r[0] for r in rows[:150]], newest)
    for start in (200, 300):
        _share_millisecond(handle.db_path, [r[0] for r in rows[start:start + 40]], rows[start][1])
    proxy = await proxy_for(handle, public_contract=True)
    for status, where in ((S.QUEUED, "ostatus = 'queued'"),
                          (None, "ostatus IN ('queued','in_progress','redo')")):
        q = QUEUED if status else TaskQuery(statuses=PENDING_SPLIT)
        want = _sql_ids(sql, handle, where)
        async with TaskClient(proxy.url, handle.api_key, retry=fast_retry, parallel=8) as c:
            assert await c.count(q) == (len(want), True)
            assert [t.task_id async for t in c.iter_tasks(q)] == want
            oldest = [t.task_id async for t in c.iter_tasks(q.replace(order=SortOrder.OLDEST))]
            assert oldest == want[::-1]
    assert proxy.refused == []
