"""The parallel reader against a server that speaks only the public contract: the bundled
server behind the public-contract proxy, and the bundled server itself with the client
told to ignore its extensions. The oracle is the server's SQLite (``sql``), never the
client under test; every request the public API would refuse fails the test."""

from __future__ import annotations


import httpx
import pytest

from tasktui.api import RetryPolicy, TaskClient, UnsupportedError
from tasktui.domain import OperatorStatus as S
from tasktui.domain import DateField, SortOrder, TaskQuery
from tasktui.testing import Fault

from .conftest import BIG_N

OSTATUS = {S.QUEUED: "queued", S.IN_PROGRESS: "in_progress", S.REDO: "redo"}


async def _clients(handle, proxy, **kw):
    """(label, client) pairs: through the public gate, and direct with the extensions ignored."""
    return [("public", TaskClient(proxy.url, handle.api_key, **kw)),
            ("direct", TaskClient(handle.url, handle.api_key, ignore_extensions=True, **kw))]


def _ids_by_sql(sql, handle, where: str = "1", order: str = "DESC") -> list[str]:
    return [r[0] for r in sql(handle, f"SELECT task_id FROM tasks WHERE {where} "
                                      f"ORDER BY created_at {order}, task_id {order}")]


@pytest.mark.parametrize("order", [SortOrder.NEWEST, SortOrder.OLDEST])
async def test_a_whole_listing_in_either_order_every_task_once(big_server, proxy_for, sql, fast_retry, order):
    proxy = await proxy_for(big_server, public_contract=True)
    want = _ids_by_sql(sql, big_server, order="DESC" if order is SortOrder.NEWEST else "ASC")
    assert len(want) == BIG_N
    for label, client in await _clients(big_server, proxy, retry=fast_retry):
        async with client as c:
            got = [t.task_id async for t in c.iter_tasks(TaskQuery(order=order))]
        assert got == want, label
    assert proxy.refused == []


async def test_the_reader_runs_chains_at_once(big_server, proxy_for, sql, fast_retry):
    """100 pages at 100 ms each: the proxy sees 8 requests in flight at once (counted there,
    not timed)."""
    proxy = await proxy_for(big_server, public_contract=True, latency=0.1)
    async with TaskClient(proxy.url, big_server.api_key, retry=fast_retry) as c:
        assert c.parallel == 8
        n = 0
        async for page in c.iter_pages_sliced(TaskQuery(), min_tasks=0):
            n += len(page.tasks)
    assert n == BIG_N
    assert proxy.stats.max_in_flight == 8, proxy.stats.max_in_flight
    assert proxy.refused == []


@pytest.mark.parametrize("status", [S.QUEUED, S.IN_PROGRESS, S.REDO])
async def test_pending_splits_count_exactly_and_list_in_order(shared_server, proxy_for, sql, fast_retry, status):
    proxy = await proxy_for(shared_server, public_contract=True)
    want = _ids_by_sql(sql, shared_server, f"ostatus = '{OSTATUS[status]}'")
    pending = sql(shared_server, "SELECT count(*) FROM tasks WHERE ostatus IN ('queued', 'in_progress', 'redo')")[0][0]
    assert want
    q = TaskQuery(statuses=frozenset({status}))
    for label, client in await _clients(shared_server, proxy, retry=fast_retry):
        async with client as c:
            seen: list[tuple[int, int, int]] = []
            assert await c.count(q, on_progress=lambda *a: seen.append(a)) == (len(want), True), label
            assert seen[-1] == (pending, pending, len(want)), label
            assert [t.task_id async for t in c.iter_tasks(q)] == want, label
            oldest = [t.task_id async for t in c.iter_tasks(q.replace(order=SortOrder.OLDEST))]
            assert oldest == want[::-1], label
    assert proxy.refused == []


async def test_count_on_the_bundled_server_is_one_request(shared_server, proxy_for, sql, fast_retry):
    proxy = await proxy_for(shared_server)  # extensions pass through
    (queued,), = sql(shared_server, "SELECT count(*) FROM tasks WHERE ostatus = 'queued'")
    async with TaskClient(proxy.url, shared_server.api_key, retry=fast_retry) as c:
        await c.discover()
        proxy.reset_stats()
        assert await c.count(TaskQuery(statuses=frozenset({S.QUEUED}))) == (queued, True)
    assert proxy.stats.requests == 1


async def test_list_tasks_keeps_reading_until_a_match_with_no_page_cap(shared_server, proxy_for, sql, fast_retry):
    """The oldest pending task only: the first match lies behind every other pending page."""
    proxy = await proxy_for(shared_server, public_contract=True)
    (oldest_id,), = sql(shared_server, "SELECT task_id FROM tasks WHERE ostatus IN ('queued','in_progress','redo') "
                                       "ORDER BY created_at, task_id LIMIT 1")
    # a prefix (a whole id would be looked up, not scanned)
    q = TaskQuery(statuses=frozenset({S.QUEUED, S.IN_PROGRESS, S.REDO}), search=oldest_id[:20])
    async with TaskClient(proxy.url, shared_server.api_key, retry=fast_retry) as c:
        page = await c.list_tasks(q, limit=100)
    assert [t.task_id for t in page.tasks] == [oldest_id]
    assert not page.total_exact and page.scanned > 100


async def test_oldest_first_resumes_from_a_page_cursor(shared_server, proxy_for, sql, fast_retry):
    proxy = await proxy_for(shared_server, public_contract=True)
    want = _ids_by_sql(sql, shared_server, order="ASC")
    q = TaskQuery(order=SortOrder.OLDEST)
    async with TaskClient(proxy.url, shared_server.api_key, retry=fast_retry) as c:
        first = await c.list_tasks(q, limit=50)
        second = await c.list_tasks(q, first.next_token, limit=50)
        rest = [t.task_id async for p in c.iter_pages_sliced(q, start_cursor=second.next_token, limit=100)
                for t in p.tasks]
    assert [t.task_id for t in first.tasks + second.tasks] + rest == want
    assert proxy.refused == []


async def test_a_429_lowers_the_chains_and_the_read_still_completes(big_server, proxy_for, sql):
    proxy = await proxy_for(big_server, public_contract=True)
    proxy.script(Fault.rate_limit(0.2, match="GET /v1/tasks"), times=3)
    waits: list[float] = []
    retry = RetryPolicy(max_attempts=5, base_delay=0.01, max_delay=0.05, total_time=30, seed=1)
    async with TaskClient(proxy.url, big_server.api_key, retry=retry, on_wait=lambda s, _: waits.append(s)) as c:
        ids = [t.task_id async for t in c.iter_tasks(TaskQuery())]
        assert c.throttle.backoffs >= 1 and c.throttle.limit < 8
    assert ids == _ids_by_sql(sql, big_server)
    assert len(waits) == 3 and all(w >= 0.2 for w in waits)


async def test_a_whole_task_id_is_looked_up_not_scanned(shared_server, proxy_for, sql, fast_retry):
    """The oldest task, searched by its whole id: two requests (GET /task/{id} and
    unique_id=), found, exact — where a prefix scan would read the whole listing."""
    proxy = await proxy_for(shared_server, public_contract=True)
    (oldest,), = sql(shared_server, "SELECT task_id FROM tasks ORDER BY created_at, task_id LIMIT 1")
    q = TaskQuery(search=oldest)
    async with TaskClient(proxy.url, shared_server.api_key, retry=fast_retry) as c:
        await c.discover()
        proxy.reset_stats()
        page = await c.list_tasks(q)
        assert [t.task_id for t in page.tasks] == [oldest] and page.total == 1 and page.total_exact
        assert not await c.needs_scan(q)
        assert await c.count(q) == (1, True)
        assert await c.count(q.replace(statuses=frozenset({S.CANCELED}), search="0" * 24)) == (0, True)
    assert proxy.stats.requests == 6
    lines = [s.request_line for s in proxy.log]
    assert sum(f"/task/{oldest}" in line for line in lines) == 2
    assert sum(f"unique_id={oldest}" in line for line in lines) == 2
    assert proxy.refused == []


async def test_a_unique_id_is_found_by_the_public_parameter(server, proxy_for, sql, fast_retry):
    uid = "a" * 24  # shaped like a task id, but a unique id
    (task_id,), = sql(server, "SELECT task_id FROM tasks ORDER BY created_at LIMIT 1")
    async with httpx.AsyncClient() as h:  # set it as the SDK would
        r = await h.post(f"{server.url}/task/{task_id}/unique_id", json={"unique_id": uid}, auth=(server.api_key, ""))
        assert r.status_code == 200
    assert sql(server, "SELECT task_id FROM tasks WHERE unique_id = ?", uid) == [(task_id,)]
    proxy = await proxy_for(server, public_contract=True)
    async with TaskClient(proxy.url, server.api_key, retry=fast_retry) as c:
        page = await c.list_tasks(TaskQuery(search=uid))
    assert [t.task_id for t in page.tasks] == [task_id]
    assert proxy.refused == []


async def test_oldest_first_by_completion_date_is_refused_in_words(shared_server, proxy_for, fast_retry):
    proxy = await proxy_for(shared_server, public_contract=True)
    q = TaskQuery(date_field=DateField.COMPLETED, order=SortOrder.OLDEST)
    async with TaskClient(proxy.url, shared_server.api_key, retry=fast_retry) as c:
        with pytest.raises(UnsupportedError, match="oldest first by completion date"):
            await c.list_tasks(q)
        with pytest.raises(UnsupportedError, match="oldest first by completion date"):
            [t async for t in c.iter_tasks(q)]
    assert proxy.refused == []


async def test_a_refused_list_of_audit_statuses_is_filtered_here_not_an_error(shared_server, proxy_for, sql, fast_retry):
    """A server that refuses a comma-joined customer_review_status (400): the client asks
    without it and filters here, from then on — the same rows and the exact count."""
    from sql_oracle import expected_ids

    from tasktui.domain import AuditStatus

    proxy = await proxy_for(shared_server, public_contract=True)
    proxy.set_rate(1.0, (Fault.error(400),), match="customer_review_status=accepted%2C")
    q = TaskQuery(audit_statuses=frozenset({AuditStatus.ACCEPTED, AuditStatus.REJECTED}))
    want = expected_ids(shared_server.db_path, q)
    assert want
    async with TaskClient(proxy.url, shared_server.api_key, retry=fast_retry) as c:
        page = await c.list_tasks(q, limit=50)
        assert c.review_lists_refused
        assert [t.task_id for t in page.tasks] == want[:len(page.tasks)] and page.tasks
        assert await c.count(q) == (len(want), True)
        assert [t.task_id async for t in c.iter_tasks(q)] == want
    async with TaskClient(proxy.url, shared_server.api_key, retry=fast_retry) as c:  # a fresh client: count first
        assert await c.count(q) == (len(want), True)
    assert proxy.stats.injected["status"] == 2  # one refusal per client, then never asked again
    assert proxy.refused == []
