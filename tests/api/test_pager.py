"""The Pager over an in-memory listing (no server): chains, prefetch, repeated tokens,
creation-time slices and their cursors."""

from __future__ import annotations

import contextlib
from datetime import datetime, timedelta, timezone

import pytest

from tasktui.api import MalformedResponseError, TaskPage
from tasktui.api.paging import (
    MAX_SLICES,
    SLICED_CURSOR_PREFIX,
    Pager,
    decode_slice_cursor,
    encode_slice_cursor,
)
from tasktui.domain import SortOrder, Task, TaskQuery

T0 = datetime(2026, 1, 1, 6, 30, tzinfo=timezone.utc)


def _tasks(n: int, every: timedelta) -> list[Task]:
    return [Task.from_wire({"task_id": f"t{i:04d}", "status": "completed",
                            "created_at": (T0 + i * every).isoformat().replace("+00:00", "Z")})
            for i in range(n)]


class Listing:
    """A server in miniature: newest first unless the query says oldest; the creation
    range of the query bounds the rows; tokens are offsets."""

    def __init__(self, tasks: list[Task]):
        self.tasks = tasks
        self.calls: list[tuple[TaskQuery, str | None, int]] = []

    async def list_page(self, query: TaskQuery, token: str | None, limit: int) -> TaskPage:
        self.calls.append((query, token, limit))
        rows = [t for t in self.tasks
                if (query.start is None or t.created_at >= query.start)
                and (query.end is None or t.created_at < query.end)]
        rows.sort(key=lambda t: t.created_at, reverse=query.order is SortOrder.NEWEST)
        at = int(token or 0)
        page = rows[at:at + limit]
        more = at + limit < len(rows)
        return TaskPage(page, len(rows), str(at + limit) if more else None, more, token=token)


async def _always(query: TaskQuery) -> bool:
    return True


async def _never(query: TaskQuery) -> bool:
    return False


async def _ids(pages) -> list[str]:
    async with contextlib.aclosing(pages) as it:
        return [t.task_id async for page in it for t in page.tasks]


async def test_one_chain_reads_every_page_in_order_and_resumes_from_a_token():
    listing = Listing(_tasks(25, timedelta(hours=1)))
    pager = Pager(listing.list_page, _always)
    everything = await _ids(pager.pages(TaskQuery(order=SortOrder.OLDEST), limit=10))
    assert everything == [f"t{i:04d}" for i in range(25)]
    rest = await _ids(pager.pages(TaskQuery(order=SortOrder.OLDEST), start_token="10", limit=10))
    assert rest == everything[10:]


async def test_a_token_sent_twice_ends_the_chain_with_an_error():
    async def first_then_back(query, token, limit):
        nxt = {None: "a", "a": "b", "b": "a"}[token]
        return TaskPage([], 5, nxt, True, token=token)

    with pytest.raises(MalformedResponseError, match="page token it had sent before"):
        await _ids(Pager(first_then_back, _always).pages(TaskQuery(), limit=10))


async def test_a_short_listing_is_read_by_one_chain_with_plain_tokens():
    listing = Listing(_tasks(30, timedelta(days=1)))
    pages = Pager(listing.list_page, _always).sliced(TaskQuery(), limit=10, parallel=3, min_tasks=100)
    async with contextlib.aclosing(pages) as it:
        tokens = [p.next_token async for p in it]
    assert tokens == ["10", "20", None]


async def test_slices_cover_the_listing_in_its_order_and_cursors_resume_after_a_page():
    listing = Listing(_tasks(300, timedelta(hours=7)))  # about 88 days
    pager = Pager(listing.list_page, _always)
    one = await _ids(pager.pages(TaskQuery(), limit=10))
    seen: list[str] = []
    cursor = None
    upto = 0
    async with contextlib.aclosing(pager.sliced(TaskQuery(), limit=10, parallel=3, min_tasks=100)) as it:
        async for page in it:
            assert page.total == 300
            seen.extend(t.task_id for t in page.tasks)
            if len(seen) >= 120 and cursor is None:
                cursor, upto = page.next_token, len(seen)
    assert seen == one
    assert cursor is not None and cursor.startswith(SLICED_CURSOR_PREFIX)
    rest = await _ids(pager.sliced(TaskQuery(), start_cursor=cursor, limit=10, parallel=3, min_tasks=100))
    assert seen[:upto] + rest == one


async def test_no_slices_where_the_server_cannot_list_in_creation_order():
    listing = Listing(_tasks(300, timedelta(hours=7)))
    assert await Pager(listing.list_page, _never).plan_slices(TaskQuery(), 100) is None
    assert listing.calls == []


async def test_the_plan_cuts_whole_days_within_the_query_range():
    listing = Listing(_tasks(300, timedelta(hours=7)))
    start, end = T0 + timedelta(days=3, hours=5), T0 + timedelta(days=40, hours=1)
    q = TaskQuery(order=SortOrder.OLDEST, start=start, end=end)
    planned = await Pager(listing.list_page, _always).plan_slices(q, 100)
    assert planned is not None
    slices, total = planned
    assert total == len([t for t in listing.tasks if start <= t.created_at < end]) == 127
    inside = [t for t in listing.tasks if start <= t.created_at < end]
    for t in inside:  # each task of the query in exactly one slice
        assert sum(s.start <= t.created_at < s.end for s in slices) == 1, t
    assert start <= slices[0].start and slices[-1].end <= end
    assert all(a.end == b.start for a, b in zip(slices, slices[1:]))
    assert all(s.start.hour == 0 and s.start.minute == 0 for s in slices[1:])
    assert 2 <= len(slices) <= MAX_SLICES


def test_slice_cursor_round_trip_and_damage():
    bounds = [(T0, T0 + timedelta(days=1)), (T0 + timedelta(days=1), None)]
    cursor = encode_slice_cursor(bounds, 1, "tok", 42)
    assert decode_slice_cursor(cursor) == (bounds, 1, "tok", 42)
    for damaged in (cursor[:-6], SLICED_CURSOR_PREFIX + "bm90IGpzb24=",
                    encode_slice_cursor(bounds, 2, None, 42)):
        with pytest.raises(ValueError, match="damaged"):
            decode_slice_cursor(damaged)


# -- slices sized from totals (a server that lists newest first only) -------------------

class NewestOnly(Listing):
    """The public API in miniature: newest first whatever the query asks."""

    async def list_page(self, query: TaskQuery, token: str | None, limit: int) -> TaskPage:
        return await super().list_page(query.replace(order=SortOrder.NEWEST), token, limit)


def _uneven(n: int) -> list[Task]:
    """Creation times in bursts and gaps (so the first guess of a cut is often wrong),
    a few tasks sharing a millisecond."""
    import random
    rng = random.Random(5)
    t = T0
    out = []
    for i in range(n):
        t += rng.choice([timedelta(0), timedelta(seconds=1), timedelta(minutes=7), timedelta(days=2)])
        out.append(Task.from_wire({"task_id": f"t{i:04d}", "status": "completed",
                                   "created_at": t.isoformat(timespec="milliseconds").replace("+00:00", "Z")}))
    return out


def _public_pager(listing: NewestOnly, local: bool = False) -> Pager:
    async def filtered(query, token, limit):  # what list_tasks does for one chain
        page = await listing.list_page(query, token, limit)
        return TaskPage([t for t in page.tasks if query.matches(t)], page.total, page.next_token,
                        page.has_more, token=token, total_exact=not local)

    return Pager(filtered, _never, wire_page=listing.list_page, needs_local=lambda q: local)


@pytest.mark.parametrize("order", [SortOrder.NEWEST, SortOrder.OLDEST])
async def test_total_sized_slices_hand_out_every_task_once_in_order_and_resume_anywhere(order):
    listing = NewestOnly(_uneven(2_000))
    pager = _public_pager(listing)
    want = sorted(listing.tasks, key=lambda t: (t.created_at, t.task_id), reverse=order is SortOrder.NEWEST)
    q = TaskQuery(order=order)
    pages = []
    async with contextlib.aclosing(pager.sliced(q, limit=100, parallel=4, min_tasks=0)) as it:
        pages = [p async for p in it]
    got = [t.task_id for p in pages for t in p.tasks]
    assert len(got) == len(set(got)) == 2_000
    # within one millisecond the server's tie order stands; across them, the listing's order
    assert [listing.tasks[int(i[1:])].created_at for i in got] == [t.created_at for t in want]
    assert all(p.total == 2_000 and p.total_exact for p in pages)
    assert all(len(p.tasks) <= 100 for p in pages)
    for k in range(0, len(pages) - 1, 3):  # resume after every third page
        cursor = pages[k].next_token
        assert cursor is not None and cursor.startswith(SLICED_CURSOR_PREFIX)
        rest = await _ids(pager.sliced(q, start_cursor=cursor, limit=100, parallel=4, min_tasks=0))
        assert [t.task_id for p in pages[:k + 1] for t in p.tasks] + rest == got


async def test_total_sized_slices_filter_locally_and_say_the_total_is_the_wider_one():
    listing = NewestOnly(_uneven(1_500))
    q = TaskQuery(search="t1")
    want = [t.task_id for t in sorted(listing.tasks, key=lambda t: (t.created_at, t.task_id), reverse=True)
            if t.task_id.startswith("t1")]
    async with contextlib.aclosing(_public_pager(listing, local=True).sliced(
            q, limit=100, parallel=3, min_tasks=0)) as it:
        pages = [p async for p in it]
    assert sorted(t.task_id for p in pages for t in p.tasks) == sorted(want)
    assert all(p.total == 1_500 and not p.total_exact for p in pages)
    assert sum(p.scanned for p in pages) == 1_500  # every wire task read once, none twice


async def test_the_plan_probes_each_slice_once_and_reuses_that_page():
    listing = NewestOnly(_tasks(3_000, timedelta(minutes=3)))
    ids = await _ids(_public_pager(listing).sliced(TaskQuery(), limit=100, parallel=8, min_tasks=0))
    assert len(ids) == 3_000
    # 30 pages of data; the head read and the probes of cut-again ranges come on top
    assert len(listing.calls) <= 30 + 1 + 8, len(listing.calls)
