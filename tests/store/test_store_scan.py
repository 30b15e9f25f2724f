"""TaskStore over a server that cannot filter or order the whole query (the public API):
the pending split (Queued / In Progress / Redo), prefix search and oldest first are read by
a scan of parallel slices that never stalls, says how far it got, can be stopped, and
reports totals honestly ("at least N" until the scan is complete, then exact). Polling
costs one request when nothing changed. Run through the public-contract proxy and
directly (extensions ignored); the oracle is the server's SQLite."""

from __future__ import annotations

import asyncio

import pytest

from waiting import eventually
from tasktui.domain import OperatorStatus as S
from tasktui.domain import SortOrder, TaskQuery

QUEUED = TaskQuery(statuses=frozenset({S.QUEUED}))


async def _stores(handle, proxy, make_store, **kw):
    public, prec = await make_store(proxy.url, handle.api_key, **kw)
    direct, drec = await make_store(handle.url, handle.api_key, client_kw={"ignore_extensions": True}, **kw)
    return [("public", public, prec), ("direct", direct, drec)]


def _ids(sql, handle, where: str, order: str = "DESC") -> list[str]:
    return [r[0] for r in sql(handle, f"SELECT task_id FROM tasks WHERE {where} "
                                      f"ORDER BY created_at {order}, task_id {order}")]


async def _scan_done(store) -> None:
    await eventually(lambda: not store.scanning and store.total_exact, "the scan to finish")


@pytest.mark.parametrize("status", [S.QUEUED, S.IN_PROGRESS, S.REDO])
async def test_the_pending_split_shows_the_newest_rows_then_an_exact_total(
        shared_server, proxy_for, make_store, sql, status):
    proxy = await proxy_for(shared_server, public_contract=True)
    word = {S.QUEUED: "queued", S.IN_PROGRESS: "in_progress", S.REDO: "redo"}[status]
    want = _ids(sql, shared_server, f"ostatus = '{word}'")
    (pending,), = sql(shared_server, "SELECT count(*) FROM tasks WHERE ostatus IN ('queued','in_progress','redo')")
    for label, store, rec in await _stores(shared_server, proxy, make_store, page_size=20):
        await store.set_query(TaskQuery(statuses=frozenset({status})))
        assert [t.task_id for t in store.rows] == want[:len(store.rows)] and store.rows, label
        await _scan_done(store)
        assert store.total == len(want) and store.total_exact, label
        assert store.progress is not None and store.progress.done
        assert store.progress.describe() == f"read all {pending:,} pending tasks · {len(want):,} match"
        before = [e for e in rec.of("total") if e.count != len(want)]
        assert all(e.count <= len(want) for e in before), label  # "at least", never more
        assert rec.of("progress"), label
    assert proxy.refused == []


async def test_no_match_after_a_complete_scan_is_the_empty_state(shared_server, proxy_for, make_store):
    proxy = await proxy_for(shared_server, public_contract=True)
    for label, store, _ in await _stores(shared_server, proxy, make_store):
        await store.set_query(QUEUED.replace(search="zz-no-such-task"))
        await _scan_done(store)
        assert store.is_empty and store.total == 0 and store.total_exact, label
        assert not store.has_more and not store.loading, label
    assert proxy.refused == []


async def test_oldest_first_without_the_extension_reads_from_the_oldest(shared_server, proxy_for, make_store, sql):
    proxy = await proxy_for(shared_server, public_contract=True)
    want = _ids(sql, shared_server, "ostatus = 'queued'", order="ASC")
    for label, store, _ in await _stores(shared_server, proxy, make_store, page_size=50):
        await store.set_query(QUEUED.replace(order=SortOrder.OLDEST))
        await _scan_done(store)
        while store.has_more:
            await store.load_more()
        assert [t.task_id for t in store.rows] == want, label
        assert store.total == len(want), label
    assert proxy.refused == []


async def test_a_scan_can_be_stopped_and_the_total_stays_at_least(shared_server, proxy_for, make_store):
    """No pending task matches: the scan must read every pending page. Stopped part way,
    the view is not empty (more to load), the total is "at least 0", nothing is read after."""
    proxy = await proxy_for(shared_server, public_contract=True, latency=0.2)
    store, rec = await make_store(proxy.url, shared_server.api_key, page_size=20, client_kw={"parallel": 2})
    loading = asyncio.ensure_future(store.set_query(QUEUED.replace(search="zz-none")))
    await eventually(lambda: store.progress is not None and store.progress.scanned >= 40, "some progress")
    assert store.scanning and "reading pending tasks: " in store.progress.describe()
    assert store.stop_scan()
    await loading
    await eventually(lambda: not store.scanning, "the scan to stop")
    assert store.progress.stopped and "stopped reading" in store.progress.describe()
    assert not store.total_exact and store.total == 0
    assert not store.is_empty and store.has_more and not store.loading
    # requests already sent are answered (after the proxy's latency), then a quiet window
    await eventually(lambda: proxy.stats.in_flight == 0, "the requests in flight to be answered")
    seen = proxy.stats.requests
    await asyncio.sleep(0.5)  # deliberate: an observation window for "nothing is sent", not a wait for a result
    assert proxy.stats.requests == seen
    assert store.progress.scanned < store.progress.wire_total


@pytest.mark.parametrize("query", [TaskQuery(), QUEUED], ids=["all", "queued"])
async def test_a_poll_with_nothing_changed_is_one_request(shared_server, proxy_for, make_store, query):
    proxy = await proxy_for(shared_server, public_contract=True)
    store, _ = await make_store(proxy.url, shared_server.api_key)
    await store.set_query(query)
    await _scan_done(store)
    proxy.reset_stats()
    for _ in range(4):
        assert await store.poll_once() == 0
    assert proxy.stats.requests == 4
    assert proxy.refused == []


async def test_refresh_and_scrolling_of_a_scanned_view_keep_rows_and_exact_total(
        shared_server, proxy_for, make_store, sql):
    proxy = await proxy_for(shared_server, public_contract=True)
    want = _ids(sql, shared_server, "ostatus = 'in_progress'")
    store, _ = await make_store(proxy.url, shared_server.api_key, page_size=20, max_rows=40)
    await store.set_query(TaskQuery(statuses=frozenset({S.IN_PROGRESS})))
    await _scan_done(store)
    while store.has_more:  # to the end: the window keeps 40 rows, drops pages at the top
        await store.load_more()
    assert [t.task_id for t in store.rows] == want[store.offset:]
    assert store.has_before and store.total == len(want) and store.total_exact
    offset = store.offset
    await store.refresh()  # from the middle: the rows from the window's cursor, then a re-count
    assert store.offset == offset and [t.task_id for t in store.rows] == want[offset:offset + len(store.rows)]
    await _scan_done(store)
    assert store.total == len(want) and store.total_exact
    while store.has_before:  # and back up from the remembered cursors
        await store.load_previous()
    assert [t.task_id for t in store.rows] == want[:len(store.rows)]
    store.set_anchor(store.rows[5].task_id)
    await store.refresh()
    await _scan_done(store)
    assert [t.task_id for t in store.rows] == want[:len(store.rows)]
    assert store.total == len(want) and store.total_exact
    assert proxy.refused == []


async def test_a_retry_after_wait_reaches_the_views_as_a_countdown(shared_server, proxy_for, make_store):
    from tasktui.testing import Fault

    proxy = await proxy_for(shared_server, public_contract=True)
    store, rec = await make_store(proxy.url, shared_server.api_key)
    proxy.script(Fault.rate_limit(1.2, match="GET /v1/tasks"))
    await store.set_query(QUEUED)
    waits = rec.of("wait")
    assert len(waits) == 1 and waits[0].count == 1 and "429" in waits[0].message
    assert store.rows and store.error is None
    assert store.client.throttle.backoffs == 1
