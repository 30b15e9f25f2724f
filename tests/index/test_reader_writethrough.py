"""Actions go to the API; the task re-read after each is put into the index, so a view
answered from the index never shows a stale row or a stale total. Oracles: the API
server's SQLite and the index file's SQLite, read directly."""

from __future__ import annotations

import sqlite3

from tasktui.api import TaskClient
from tasktui.domain import AuditStatus, OperatorStatus, TaskQuery
from tasktui.index.reader import IndexReader
from tasktui.store import TaskStore
from tasktui.testing import FaultProxy

from .con_support import FAST, make_index


def _index_row(path, task_id):
    conn = sqlite3.connect(path)
    try:
        return conn.execute("SELECT ostatus, review FROM tasks WHERE task_id = ?", (task_id,)).fetchone()
    finally:
        conn.close()


async def test_accept_and_cancel_write_through_to_the_index(server, sql, tmp_path):
    path = await make_index(server, tmp_path / "idx.sqlite")
    (ready,), = sql(server, "SELECT task_id FROM tasks WHERE ostatus = 'completed' AND review = 'pending' "
                            "ORDER BY created_at DESC LIMIT 1")
    (queued,), = sql(server, "SELECT task_id FROM tasks WHERE ostatus = 'queued' ORDER BY created_at DESC LIMIT 1")
    (accepted_before,), = sql(server, "SELECT COUNT(*) FROM tasks WHERE review = 'accepted'")
    reader = IndexReader.for_index(path)
    with FaultProxy(server.url, public_contract=True).running() as api:
        client = TaskClient(api.url, server.api_key, retry=FAST)
        store = TaskStore(client, index=reader)
        try:
            q = TaskQuery(audit_statuses=frozenset({AuditStatus.ACCEPTED}))
            await store.set_query(q)
            assert store.from_index and store.total == accepted_before
            assert api.stats.requests == 0
            await store.accept(ready, "ok")
            await store.cancel(queued)
            assert api.refused == []
            assert api.stats.requests >= 4  # two actions + two re-reads went to the API
            await store.reload()
            assert store.from_index
            assert store.total == accepted_before + 1
            assert ready in [t.task_id for t in store.rows]
            await store.set_query(TaskQuery(statuses=frozenset({OperatorStatus.CANCELED})))
            assert queued in [t.task_id for t in store.rows]
        finally:
            await store.close()
            await client.aclose()
            await reader.aclose()
    assert sql(server, "SELECT review FROM tasks WHERE task_id = ?", ready) == [("accepted",)]
    assert _index_row(path, ready) == ("completed", "accepted")
    assert _index_row(path, queued) == ("canceled", "")


async def test_a_poll_puts_what_changed_into_the_index(server, sql, tmp_path):
    path = await make_index(server, tmp_path / "idx.sqlite")
    (queued,), = sql(server, "SELECT task_id FROM tasks WHERE ostatus = 'queued' ORDER BY created_at DESC LIMIT 1")
    reader = IndexReader.for_index(path)
    client = TaskClient(server.url, server.api_key, retry=FAST)
    store = TaskStore(client, index=reader)
    try:
        await store.set_query(TaskQuery())
        # another operator cancels the task (straight at the API, not through this store)
        async with TaskClient(server.url, server.api_key, retry=FAST) as other:
            await other.cancel(queued)
        assert _index_row(path, queued)[0] == "queued"
        await store.poll_once()
        assert _index_row(path, queued)[0] == "canceled"
    finally:
        await store.close()
        await client.aclose()
        await reader.aclose()
