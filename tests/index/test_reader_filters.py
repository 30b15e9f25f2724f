"""The console reads the local index (issue 12): for every filter of the sidebar — the
ones the real API cannot answer too (Queued / In Progress / Redo, prefix search, several
projects, oldest first) — the store over an index answers the same rows in the same
order with the same exact total as the bundled server holding the source data, and it
sends no request to the API while the index covers the view. The index is made the way
an operator makes it: synced through the public-contract proxy. The oracle is the
bundled server itself (its own client, with every extension) and its SQLite."""

from __future__ import annotations

import pytest

from tasktui.api import TaskClient
from tasktui.domain import TaskQuery
from tasktui.index.reader import IndexReader
from tasktui.index.scope import SyncScope
from tasktui.store import TaskStore
from tasktui.testing import FaultProxy

from .con_support import FAST, make_index, sidebar_queries


async def _server_answer(handle, q: TaskQuery) -> tuple[list[str], int]:
    async with TaskClient(handle.url, handle.api_key, retry=FAST) as c:
        ids = [t.task_id async for t in c.iter_tasks(q)]
        total, _ = await c.count(q)
    return ids, total


def _names(sql, handle):
    (p1,), (p2,) = sql(handle, "SELECT project FROM tasks GROUP BY project ORDER BY COUNT(*) DESC LIMIT 2")
    (tid,), = sql(handle, "SELECT task_id FROM tasks ORDER BY created_at LIMIT 1")
    return p1, p2, "hostile-text", tid[:3]


async def test_every_sidebar_filter_from_the_index_equals_the_bundled_server(shared_server, sql, tmp_path):
    path = await make_index(shared_server, tmp_path / "idx.sqlite")
    reader = IndexReader.for_index(path)
    queries = sidebar_queries(*_names(sql, shared_server))
    with FaultProxy(shared_server.url, public_contract=True).running() as api:
        client = TaskClient(api.url, shared_server.api_key, retry=FAST)
        store = TaskStore(client, index=reader)
        try:
            for name, q in queries.items():
                want_ids, want_total = await _server_answer(shared_server, q)
                await store.set_query(q)
                assert store.from_index, name
                assert store.error is None, (name, store.error)
                assert (store.total, store.total_exact) == (want_total, True), name
                assert [t.task_id for t in store.rows] == want_ids[:len(store.rows)], name
                assert len(store.rows) == min(100, want_total), name
                while store.has_more:  # the whole listing, page by page, as the console scrolls
                    await store.load_more()
                assert [t.task_id for t in store.rows] == want_ids, name
                assert not store.scanning and store.progress is None, name  # the index never scans
        finally:
            await store.close()
            await client.aclose()
            await reader.aclose()
        assert api.stats.requests == 0  # every view was answered from disk
    (n,), = sql(shared_server, "SELECT COUNT(*) FROM tasks")
    assert queries and store.source_text(now=reader.synced_at + 4) == "index · synced 4 s ago"
    assert reader.status().tasks == n


async def test_a_view_outside_the_scope_goes_to_the_api_and_says_so(shared_server, sql, tmp_path):
    (p1,), (p2,) = sql(shared_server, "SELECT project FROM tasks GROUP BY project ORDER BY project LIMIT 2")
    path = await make_index(shared_server, tmp_path / "idx.sqlite", SyncScope.parse([p1]))
    reader = IndexReader.for_index(path)
    (want,), = sql(shared_server, "SELECT COUNT(*) FROM tasks WHERE project = ?", p2)
    with FaultProxy(shared_server.url).running() as api:
        client = TaskClient(api.url, shared_server.api_key, retry=FAST)
        store = TaskStore(client, index=reader)
        try:
            await store.set_query(TaskQuery(projects=(p1,)))
            assert store.from_index and api.stats.requests == 0
            await store.set_query(TaskQuery(projects=(p2,)))
            assert not store.from_index
            assert store.total == want and api.stats.requests > 0
            assert store.source_text() == "API · outside the index"
            await store.set_query(TaskQuery())  # every project: the index holds one only
            assert not store.from_index
        finally:
            await store.close()
            await client.aclose()
            await reader.aclose()


async def test_an_index_whose_first_sync_never_finished_covers_nothing(shared_server, tmp_path):
    from tasktui.index.db import open_index

    path = tmp_path / "idx.sqlite"
    open_index(path).close()  # made, never synced
    reader = IndexReader.for_index(path)
    try:
        assert not reader.complete
        assert not reader.covers(TaskQuery())
        assert reader.describe() == "index · never synced"
    finally:
        await reader.aclose()


@pytest.mark.parametrize("content, why", [
    (b"not sqlite at all", "is not a tasktui index"),
])
def test_a_file_that_is_not_an_index_is_refused_in_words(tmp_path, content, why):
    p = tmp_path / "x.sqlite"
    p.write_bytes(content * 200)
    with pytest.raises(ValueError, match=why):
        IndexReader(p)


def test_a_missing_index_says_how_to_make_one(tmp_path):
    from tasktui.index.reader import IndexMissingError

    with pytest.raises(IndexMissingError, match="tasktui sync"):
        IndexReader.for_index(tmp_path / "none.sqlite")
