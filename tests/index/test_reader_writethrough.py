"""Actions go to the API; the task re-read after each is put into the index, so a view
answered from the index never shows a stale row or a stale total. Oracles: the API
server's SQLite and the index file's SQLite, read directly."""

from __future__ import annotations

import sqlite3

from tasktui.api import TaskClient
from tasktui.domain import AuditStatus, OperatorStatus, TaskQuery
from tasktui.index.db import index_status
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


async def test_a_change_between_the_last_sync_and_opening_is_read_by_the_first_poll(server, sql, tmp_path):
    """The live refresh of a view answered from the index starts where the index's last
    sync ended, not when the console opened: a task cancelled by someone else after the
    sync (and well before the console opened) shows Canceled after one poll. It used to
    stay Queued until the next sync. Oracle: the server's and the index's SQLite."""
    import asyncio

    path = await make_index(server, tmp_path / "idx.sqlite")
    (queued,), = sql(server, "SELECT task_id FROM tasks WHERE ostatus = 'queued' ORDER BY created_at DESC LIMIT 1")
    async with TaskClient(server.url, server.api_key, retry=FAST) as other:
        await other.cancel(queued)
    # deliberate: the console opens later than the poll's own overlap (2 s) after the change
    await asyncio.sleep(2.5)
    reader = IndexReader.for_index(path)
    with FaultProxy(server.url, public_contract=True).running() as api:
        client = TaskClient(api.url, server.api_key, retry=FAST)
        store = TaskStore(client, index=reader)
        try:
            await store.set_query(TaskQuery())
            assert store.from_index
            shown = {t.task_id: t for t in store.rows}
            assert shown[queued].operator_status is OperatorStatus.QUEUED  # the index is behind
            await store.poll_once()
            assert api.refused == []
            shown = {t.task_id: t for t in store.rows}
            assert shown[queued].operator_status is OperatorStatus.CANCELED
        finally:
            await store.close()
            await client.aclose()
            await reader.aclose()
    assert sql(server, "SELECT ostatus FROM tasks WHERE task_id = ?", queued) == [("canceled",)]
    assert _index_row(path, queued)[0] == "canceled"


async def test_when_too_much_changed_for_a_poll_the_index_is_brought_up_to_date(server, sql, tmp_path):
    """More changes than a poll merges (MAX_POLL_PAGES pages) in a view answered from the
    index: the store runs a delta sync of the index and shows the view again from it (a
    reload from the index alone would show the same stale rows, and the next poll would
    find the same changes again). Oracle: the server's SQLite."""
    import asyncio

    from tasktui.store.store import MAX_POLL_PAGES

    page = 5
    path = await make_index(server, tmp_path / "idx.sqlite")
    index_synced = index_status(path).changes_before
    doomed = [r[0] for r in sql(server, "SELECT task_id FROM tasks WHERE ostatus = 'queued' "
                                        "ORDER BY created_at DESC LIMIT ?", MAX_POLL_PAGES * page + 3)]
    assert len(doomed) == MAX_POLL_PAGES * page + 3
    async with TaskClient(server.url, server.api_key, retry=FAST) as other:
        for tid in doomed:
            await other.cancel(tid)
    await asyncio.sleep(2.5)  # deliberate: the changes are older than the poll's own overlap
    reader = IndexReader.for_index(path)
    with FaultProxy(server.url, public_contract=True).running() as api:
        client = TaskClient(api.url, server.api_key, retry=FAST)
        store = TaskStore(client, index=reader, page_size=page)
        try:
            await store.set_query(TaskQuery(statuses=frozenset({OperatorStatus.CANCELED})))
            assert store.from_index
            (canceled,), = sql(server, "SELECT COUNT(*) FROM tasks WHERE ostatus = 'canceled'")
            assert store.total == canceled - len(doomed)  # the index is behind
            await store.poll_once()
            assert api.refused == []
            assert store.from_index and store.total == canceled
            assert {t.task_id for t in store.rows} <= {
                r[0] for r in sql(server, "SELECT task_id FROM tasks WHERE ostatus = 'canceled'")}
            # the index itself was brought up to date (not only the rows on screen)
            assert reader.changes_before is not None and reader.changes_before > index_synced
        finally:
            await store.close()
            await client.aclose()
            await reader.aclose()
    assert {_index_row(path, t)[0] for t in doomed} == {"canceled"}
