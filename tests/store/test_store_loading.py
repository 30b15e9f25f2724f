"""TaskStore loading: newer queries win over answers still in flight, the window of rows
stays bounded however far the operator scrolls (and scrolling back re-fetches from the
remembered tokens), refresh keeps the operator's place."""

from __future__ import annotations

import asyncio

import httpx

from waiting import eventually
from tasktui.api import TaskClient
from tasktui.domain import OperatorStatus, TaskQuery, Zone
from tasktui.testing import Fault

COMPLETED = TaskQuery(statuses=frozenset({OperatorStatus.COMPLETED}))
QUEUED = TaskQuery(statuses=frozenset({OperatorStatus.QUEUED}))


async def test_a_query_changed_while_the_previous_is_in_flight_ends_with_the_newer(
        shared_server, proxy_for, make_store):
    proxy = await proxy_for(shared_server)
    store, rec = await make_store(proxy.url, shared_server.api_key)
    await store.client.discover()
    proxy.script(Fault.slow(1.0, match="status=completed"))
    seen = proxy.stats.requests
    slow = asyncio.ensure_future(store.set_query(COMPLETED))
    await eventually(lambda: proxy.stats.requests > seen, "the slow request to reach the proxy")
    await store.set_query(QUEUED)
    assert store.query == QUEUED and store.rows
    assert all(t.operator_status is OperatorStatus.QUEUED for t in store.rows)
    await slow  # the superseded call returns quietly
    assert store.query == QUEUED
    assert all(t.operator_status is OperatorStatus.QUEUED for t in store.rows)
    replaced = rec.of("rows_replaced")
    assert len(replaced) == 1 and replaced[0].generation == store.generation
    assert not store.loading and store.error is None
    assert proxy.stats.injected["delay"] == 1


async def test_a_stale_answer_that_arrives_anyway_is_dropped(shared_server, make_store):
    store, rec = await make_store(shared_server.url, shared_server.api_key)
    first = asyncio.ensure_future(store.set_query(COMPLETED))
    second = asyncio.ensure_future(store.set_query(QUEUED))
    third = asyncio.ensure_future(store.set_query(COMPLETED.replace(search="6")))
    await asyncio.gather(first, second, third)
    assert store.query.search == "6" and store.rows
    assert all(t.task_id.startswith("6") and t.status == "completed" for t in store.rows)
    assert len(rec.of("rows_replaced")) == 1


async def test_the_window_stays_bounded_and_scrolling_back_refetches(shared_server, make_store):
    async with TaskClient(shared_server.url, shared_server.api_key) as c:
        everything = [t.task_id async for t in c.iter_tasks(TaskQuery())]
    store, rec = await make_store(shared_server.url, shared_server.api_key, max_rows=300, page_size=100)
    await store.set_query(TaskQuery())
    assert len(store.rows) == 100 and store.total == len(everything)
    peak = 0
    while store.has_more:
        await store.load_more()
        peak = max(peak, len(store.rows))
        ids = [t.task_id for t in store.rows]
        assert ids == everything[store.offset: store.offset + len(ids)]
    assert peak == 300 and store.offset + len(store.rows) == len(everything)
    assert store.has_before and not store.has_more
    appended = rec.of("rows_appended")
    assert sum(e.dropped for e in appended) == store.offset  # the UI is told what left
    # scroll all the way back up: each step re-fetches one dropped page by its token
    steps = 0
    while store.has_before:
        added = await store.load_previous()
        assert added == 100 and len(store.rows) <= 300
        ids = [t.task_id for t in store.rows]
        assert ids == everything[store.offset: store.offset + len(ids)]
        steps += 1
    assert store.offset == 0 and steps == (len(everything) - 300 + 99) // 100
    assert rec.of("rows_prepended")[-1].count == 100
    # and down again, re-fetching dropped pages from their tokens
    await store.load_more()
    assert [t.task_id for t in store.rows] == everything[100:400]


async def test_refresh_keeps_the_task_at_the_cursor(server, make_store):
    store, rec = await make_store(server.url, server.api_key, max_rows=1000)
    await store.set_query(TaskQuery())
    await store.load_more()
    await store.load_more()
    anchor = store.rows[250]
    store.set_anchor(anchor.task_id)
    # another client creates tasks (they come first, newest first) meanwhile
    async with httpx.AsyncClient(base_url=server.url, auth=(server.api_key, "")) as other:
        for i in range(3):
            r = await other.post(f"task/imageannotation",
                                 json={"instruction": f"new {i}", "attachment": "https://example.com/a.png"})
            assert r.status_code == 200, r.text
    rec.clear()
    await store.refresh()
    i = store.index_of(anchor.task_id)
    assert i == 253  # still loaded, three rows further down
    assert store.total == 1503 and rec.of("rows_replaced")
    assert len(store.rows) >= 254


async def test_refresh_when_scrolled_far_restarts_at_the_window(shared_server, make_store):
    store, _ = await make_store(shared_server.url, shared_server.api_key, max_rows=200, page_size=100)
    await store.set_query(TaskQuery())
    for _ in range(5):
        await store.load_more()
    offset, ids = store.offset, [t.task_id for t in store.rows]
    store.set_anchor(ids[150])
    await store.refresh()
    assert store.offset == offset and [t.task_id for t in store.rows] == ids


async def test_zone_cache_and_projects(shared_server, make_store):
    store, rec = await make_store(shared_server.url, shared_server.api_key, cache_size=2)
    await store.set_query(TaskQuery())
    store.set_zone(Zone.PACIFIC)
    assert store.zone is Zone.PACIFIC and rec.of("zone")
    ids = [t.task_id for t in store.rows[:3]]
    for tid in ids:
        assert (await store.get_task(tid)).task_id == tid
    assert store.cached_ids == tuple(ids[1:])  # bounded LRU
    assert await store.load_projects() and store.project_names
    batches = await store.load_batches(store.project_names[0])
    assert batches and all(b["project"] == store.project_names[0] for b in batches)


async def test_a_failed_load_is_reported_and_the_next_one_recovers(shared_server, proxy_for, make_store):
    proxy = await proxy_for(shared_server)
    store, rec = await make_store(proxy.url, shared_server.api_key)
    proxy.script(Fault.error(500), times=20)
    await store.set_query(TaskQuery())
    assert store.error is not None and "server failed" in str(store.error)
    assert store.rows == [] and not store.loading
    assert rec.of("error")[-1].message == str(store.error)
    proxy.clear()
    await store.reload()
    assert store.error is None and store.rows and rec.of("error")[-1].error is None


async def test_an_empty_result_says_so(shared_server, make_store):
    store, _ = await make_store(shared_server.url, shared_server.api_key)
    await store.set_query(TaskQuery(search="zzzz-no-such-task"))
    assert store.is_empty and store.total == 0 and not store.has_more


async def test_scrolling_while_a_new_query_loads_never_mixes_the_two(shared_server, proxy_for, make_store):
    proxy = await proxy_for(shared_server)
    store, _ = await make_store(proxy.url, shared_server.api_key)
    await store.set_query(TaskQuery())
    proxy.script(Fault.slow(0.5, match="status=queued"))
    pending = asyncio.ensure_future(store.set_query(QUEUED))
    await eventually(lambda: proxy.stats.injected["delay"] == 1 or proxy.scripted_left == 0, "the slow request")
    assert await store.load_more() == 0  # the old query's tokens are not used for the new one
    assert await store.load_previous() == 0
    await pending
    await store.load_more()
    assert len(store.rows) == min(200, store.total) and store.total > 100
    assert all(t.operator_status is OperatorStatus.QUEUED for t in store.rows)


async def test_a_failed_refresh_keeps_what_is_shown(shared_server, proxy_for, make_store):
    proxy = await proxy_for(shared_server)
    store, rec = await make_store(proxy.url, shared_server.api_key)
    await store.set_query(TaskQuery())
    before = [t.task_id for t in store.rows]
    proxy.script(Fault.drop("before"), times=20)
    await store.refresh()
    assert [t.task_id for t in store.rows] == before  # nothing lost
    assert store.error is not None and "dropped" in str(store.error) and not store.loading
    proxy.clear()
    await store.refresh()
    assert store.error is None and [t.task_id for t in store.rows] == before
