"""Every filter, alone and combined, returns exactly the tasks the database holds for it —
both with the bundled server's extensions and on the path a real Scale API takes
(no extensions: ``pending`` asked for, Queued / In Progress / Redo split locally)."""

from __future__ import annotations

from collections import Counter
from datetime import timedelta

import pytest

from sql_oracle import expected_ids
from tasktui.api import TaskClient
from tasktui.domain import (
    EXT_OPERATOR_STATUS,
    AuditStatus,
    DateField,
    OperatorStatus,
    SortOrder,
    Task,
    TaskQuery,
)

S = OperatorStatus
A = AuditStatus


@pytest.fixture(scope="module")
def everything(shared_server, fast_retry) -> list[Task]:
    """Every task, read unfiltered over the wire (a plain synchronous read, so the
    fixture can be module-scoped)."""
    import asyncio

    async def read() -> list[Task]:
        async with TaskClient(shared_server.url, shared_server.api_key, retry=fast_retry) as c:
            return [t async for t in c.iter_tasks(TaskQuery())]

    return asyncio.run(read())


def _common(values, k: int = 1) -> list:
    return [v for v, _ in Counter(v for v in values if v).most_common(k)]


def queries(everything: list[Task], now) -> dict[str, TaskQuery]:
    projects = _common((t.project for t in everything), 2)
    batches = _common((t.batch for t in everything), 2)
    types = _common((t.type for t in everything), 2)
    tags = _common((tag for t in everything for tag in t.tags), 2)
    some = everything[len(everything) // 3]
    uniq = next(t.unique_id for t in everything if t.unique_id)
    done = sorted((t for t in everything if t.completed_at), key=lambda t: t.completed_at, reverse=True)
    q = TaskQuery
    out = {f"status={s.value}": q(statuses=frozenset({s})) for s in S}
    out |= {f"audit={a.value}": q(audit_statuses=frozenset({a})) for a in A}
    out |= {
        "status=queued,in_progress": q(statuses=frozenset({S.QUEUED, S.IN_PROGRESS})),
        "status=all-pending": q(statuses=frozenset({S.QUEUED, S.IN_PROGRESS, S.REDO})),
        "status=completed,error": q(statuses=frozenset({S.COMPLETED, S.ERROR})),
        "status=queued,canceled": q(statuses=frozenset({S.QUEUED, S.CANCELED})),
        "audit=accepted,fixed": q(audit_statuses=frozenset({A.ACCEPTED, A.FIXED})),
        "project": q(projects=(projects[0],)),
        "projects-2": q(projects=tuple(projects)),
        "batch": q(batches=(batches[0],)),
        "batches-2": q(batches=tuple(batches)),
        "type": q(types=(types[0],)),
        "types-2": q(types=tuple(types)),
        "tag": q(tags=(tags[0],)),
        "tags-2": q(tags=tuple(tags)),
        "search-task-id": q(search=some.task_id[:7]),
        "search-unique-id": q(search=uniq[:6].upper()),
        "created-range": q(start=now - timedelta(days=30), end=now - timedelta(days=10)),
        "created-since": q(start=now - timedelta(days=5)),
        "completed-range": q(date_field=DateField.COMPLETED, start=now - timedelta(days=40),
                             end=now - timedelta(days=3)),
        # both ends on exact task timestamps: the start's task is in, the end's task is out
        "created-range-exact": q(start=everything[400].created_at, end=everything[100].created_at),
        "completed-range-exact": q(date_field=DateField.COMPLETED, start=done[-30].completed_at,
                                   end=done[10].completed_at),
        "oldest-first": q(order=SortOrder.OLDEST),
        "combo-status-project-range": q(statuses=frozenset({S.COMPLETED}), projects=(projects[0],),
                                        start=now - timedelta(days=60)),
        "combo-audit-type-tag": q(audit_statuses=frozenset({A.READY_TO_AUDIT, A.REJECTED}),
                                  types=(types[0],), tags=(tags[0],)),
        "combo-pending-batch": q(statuses=frozenset({S.QUEUED, S.REDO}), batches=tuple(batches)),
        "combo-inprogress-projects-search": q(statuses=frozenset({S.IN_PROGRESS}),
                                              projects=tuple(projects), search=some.task_id[:2]),
    }
    return out


def _expected(server, query: TaskQuery) -> list[str]:
    """The ids the database holds for the query, in its order, by SQL written here
    (not ``TaskQuery.matches``, the very filter the client applies locally)."""
    return expected_ids(server.db_path, query)


#: Cases whose expected set must not be empty on the seed, or they would pass for any filter.
MUST_SELECT = ("project", "projects-2", "batch", "batches-2", "type", "types-2", "tag", "tags-2",
               "search-task-id", "search-unique-id", "created-range", "created-since",
               "completed-range", "created-range-exact", "completed-range-exact", "combo-status-project-range", "combo-audit-type-tag",
               "combo-pending-batch", "combo-inprogress-projects-search")


async def _read(client: TaskClient, query: TaskQuery) -> list[Task]:
    return [t async for t in client.iter_tasks(query, limit=97)]


def _check_order(tasks: list[Task], order: SortOrder) -> None:
    keys = [(t.created_at, t.task_id) for t in tasks]
    assert keys == sorted(keys, reverse=order is SortOrder.NEWEST)


async def test_every_filter_alone_and_combined_matches_the_database(everything, client, seed_now,
                                                                   shared_server):
    assert len(everything) == len({t.task_id for t in everything}) > 1000
    await client.discover()
    assert EXT_OPERATOR_STATUS in client.extensions
    nonempty = 0
    for name, query in queries(everything, seed_now).items():
        got = await _read(client, query)
        want = _expected(shared_server, query)
        assert name not in MUST_SELECT or want, f"{name}: the seed holds no task for it"
        assert [t.task_id for t in got] == want, name
        _check_order(got, query.order)
        page = await client.list_tasks(query, limit=1)
        assert page.total == len(want) and page.total_exact, name
        nonempty += bool(want)
    assert nonempty >= 25  # the seed exercises nearly every filter with real rows


async def test_without_extensions_the_local_split_returns_the_same_sets(everything, shared_server, seed_now,
                                                                       fast_retry):
    async with TaskClient(shared_server.url, shared_server.api_key, retry=fast_retry,
                          ignore_extensions=True) as plain:
        for name, query in queries(everything, seed_now).items():
            got = await _read(plain, query)
            want = _expected(shared_server, query)
            assert [t.task_id for t in got] == want, name
        assert plain.extensions == frozenset()


async def test_local_split_asks_the_server_for_pending_only(everything, shared_server, proxy_for, sql):
    """Against a server without extensions, Queued is asked as ``status=pending`` and the
    split happens locally; a page with rows comes back even when the first wire pages
    hold none of them (scan bounded by max_scan_pages)."""
    proxy = await proxy_for(shared_server)
    queued = TaskQuery(statuses=frozenset({S.QUEUED}))
    async with TaskClient(proxy.url, shared_server.api_key, ignore_extensions=True) as plain:
        assert queued.wire_params(plain.extensions)[0] == ("status", "pending")
        page = await plain.list_tasks(queued, limit=5)
        assert page.tasks and all(t.operator_status is S.QUEUED for t in page.tasks)
        assert page.scanned >= len(page.tasks)
        pending_total = sql(shared_server, "SELECT count(*) FROM tasks WHERE ostatus IN "
                                           "('queued', 'in_progress', 'redo')")[0][0]
        assert page.total == pending_total and not page.total_exact


async def test_through_the_public_contract_every_filter_gives_the_same_list_and_count(
        everything, shared_server, seed_now, proxy_for, fast_retry):
    """Issue 11's bar: the same set, the same order and the same (exact) count through the
    public-contract gate as on the bundled server with its extensions, every filter, both
    orders; and no request the public API would refuse."""
    public = await proxy_for(shared_server, public_contract=True)
    some = everything[len(everything) // 2]
    cases = dict(queries(everything, seed_now))
    cases["search-whole-id"] = TaskQuery(search=some.task_id)
    for s in (S.QUEUED, S.IN_PROGRESS, S.REDO):
        cases[f"oldest-{s.value}"] = TaskQuery(statuses=frozenset({s}), order=SortOrder.OLDEST)
    cases["oldest-projects-2"] = cases["projects-2"].replace(order=SortOrder.OLDEST)
    async with TaskClient(shared_server.url, shared_server.api_key, retry=fast_retry) as bundled, \
            TaskClient(public.url, shared_server.api_key, retry=fast_retry) as plain:
        for name, query in cases.items():
            want = [t.task_id for t in await _read(bundled, query)]
            got = await _read(plain, query)
            assert [t.task_id for t in got] == want, name
            assert want == _expected(shared_server, query), name
            _check_order(got, query.order)
            assert await plain.count(query) == (len(want), True), name
    assert plain.extensions == frozenset()
    assert public.refused == []
