"""Paging: iter_tasks yields every task exactly once over 10,000 tasks, with and without
faults; iter_pages resumes from a token; the next page is fetched while the caller works."""

from __future__ import annotations

import asyncio
import contextlib

from datetime import timedelta

from waiting import eventually
from tasktui.api import TaskClient
from tasktui.api.paging import MAX_SLICES, Pager
from tasktui.domain import OperatorStatus, SortOrder, TaskQuery
from tasktui.testing import DEFAULT_MIX, Fault


async def test_iter_tasks_yields_ten_thousand_tasks_exactly_once(big_server, fast_retry):
    async with TaskClient(big_server.url, big_server.api_key, retry=fast_retry) as c:
        ids = [t.task_id async for t in c.iter_tasks(TaskQuery())]
        total, exact = await c.count(TaskQuery())
    assert len(ids) == 10_000 == total and exact
    assert len(set(ids)) == len(ids)


async def test_iter_tasks_under_faults_still_yields_each_task_once(big_server, proxy_for, fast_retry):
    proxy = await proxy_for(big_server, seed=1234, rate=0.2, kinds=DEFAULT_MIX)
    async with TaskClient(proxy.url, big_server.api_key, retry=fast_retry) as c:
        ids = [t.task_id async for t in c.iter_tasks(TaskQuery(), limit=100)]
    assert len(ids) == 10_000 and len(set(ids)) == 10_000
    s = proxy.stats
    assert s.faults >= 20 and len(s.injected) >= 6  # most kinds of fault were met
    # each request either passed or met one fault (and every fault cost one retry); the
    # pages passed are the 100 full pages, plus the discovery, the two probes that plan the
    # slices and each slice's last partial page
    assert s.requests == s.passed + s.faults
    assert 100 <= s.passed <= 100 + 3 + MAX_SLICES


async def test_parallel_slices_keep_the_order_of_one_chain(shared_server, seed_now, fast_retry):
    """Long listings are read by several chains over creation-day slices; the result is
    the same sequence one chain gives, also with range bounds inside a day and oldest first."""
    queries = [
        TaskQuery(),
        TaskQuery(start=seed_now - timedelta(days=61, hours=5, milliseconds=7),
                  end=seed_now - timedelta(days=2, hours=13)),
        TaskQuery(order=SortOrder.OLDEST, statuses=frozenset({OperatorStatus.COMPLETED})),
    ]
    async def orderable(query: TaskQuery) -> bool:
        return True  # the bundled server lists in either order

    async with TaskClient(shared_server.url, shared_server.api_key, retry=fast_retry) as c:
        c.parallel_min_tasks = 200
        pager = Pager(lambda q, token, n: c.list_tasks(q, token, limit=n), orderable)
        for q in queries:
            planned = await pager.plan_slices(q, 200)
            assert planned and len(planned[0]) > 3, q
            one = [t.task_id async for t in c.iter_tasks(q, parallel=1)]
            many = [t.task_id async for t in c.iter_tasks(q, parallel=3)]
            assert many == one and len(one) > 200


async def test_resuming_from_a_pages_token_continues_right_after_it(shared_server, fast_retry):
    async with TaskClient(shared_server.url, shared_server.api_key, retry=fast_retry) as c:
        everything = [t.task_id async for t in c.iter_tasks(TaskQuery(), limit=50)]
        first: list[str] = []
        token = None
        pages = c.iter_pages(TaskQuery(), limit=50)
        async for page in pages:
            first.extend(t.task_id for t in page.tasks)
            if len(first) >= 150:
                token = page.next_token
                break
        await pages.aclose()
        rest = [t.task_id async for t in c.iter_tasks(TaskQuery(), start_token=token, limit=50)]
    assert token and first + rest == everything


async def test_the_next_page_is_requested_while_the_caller_works(shared_server, proxy_for, fast_retry):
    proxy = await proxy_for(shared_server)
    async with TaskClient(proxy.url, shared_server.api_key, retry=fast_retry) as c:
        await c.discover()
        before = proxy.stats.requests
        pages = c.iter_pages(TaskQuery(), limit=10)
        first = await anext(pages)
        assert first.token is None and first.has_more
        # The caller has not asked for page 2, yet its request reaches the server.
        await eventually(lambda: proxy.stats.requests - before >= 2, "the prefetch of page 2")
        assert proxy.stats.requests - before == 2
        second = await anext(pages)
        assert second.token == first.next_token
        await pages.aclose()
        # closing stops the prefetch chain: at most the one page already asked for, answered,
        # then nothing more in an observation window far longer than one page takes here
        await eventually(lambda: proxy.stats.in_flight == 0, "the page in flight to be answered")
        await asyncio.sleep(0.3)  # deliberate: an observation window for "nothing more is sent"
        assert proxy.stats.requests - before <= 3


async def test_a_slow_page_in_flight_is_cancelled_when_the_caller_stops(shared_server, proxy_for, fast_retry):
    proxy = await proxy_for(shared_server)
    async with TaskClient(proxy.url, shared_server.api_key, retry=fast_retry) as c:
        await c.discover()
        proxy.script(Fault.slow(5.0, match="next_token"))
        async with contextlib.aclosing(c.iter_pages(TaskQuery(), limit=10)) as pages:
            page = await anext(pages)
        assert page.tasks
        # the client is usable at once afterwards
        assert (await c.list_tasks(TaskQuery(), limit=1)).tasks


async def test_bigger_pages_where_the_server_offers_them(big_server, proxy_for, fast_retry):
    proxy = await proxy_for(big_server)
    async with TaskClient(proxy.url, big_server.api_key, retry=fast_retry) as c:
        ids = [t.task_id async for t in c.iter_tasks(TaskQuery(), limit=1000, parallel=1)]
    assert len(ids) == len(set(ids)) == 10_000
    assert proxy.stats.passed == 1 + 10  # discovery, then ten pages of 1,000


async def test_default_page_size_follows_what_the_server_offers(big_server, proxy_for, fast_retry):
    """By default iter_tasks asks for pages of 1,000 where the server offers the
    page-size extension, and the wire maximum of 100 where it does not (the real API)."""
    proxy = await proxy_for(big_server)
    async with TaskClient(proxy.url, big_server.api_key, retry=fast_retry) as c:
        ids = [t.task_id async for t in c.iter_tasks(TaskQuery())]
    assert len(ids) == len(set(ids)) == 10_000
    # discovery + two probes planning the slices + ten full pages + one partial page per slice
    assert proxy.stats.passed <= 3 + 10 + 64
    before = proxy.stats.passed
    async with TaskClient(proxy.url, big_server.api_key, retry=fast_retry, ignore_extensions=True) as c:
        ids = [t.task_id async for t in c.iter_tasks(TaskQuery())]
    assert len(ids) == len(set(ids)) == 10_000
    assert proxy.stats.passed - before >= 100  # no page bigger than 100
