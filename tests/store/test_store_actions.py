"""TaskStore actions (optimistic, rolled back on failure, refused with the reason, read-only,
bulk with per-task outcomes) and live polling merged into the loaded rows."""

from __future__ import annotations

import asyncio

import httpx
import pytest

from waiting import eventually
from tasktui.api import ServerError, TaskClient
from tasktui.domain import AuditStatus, OperatorStatus, TaskQuery
from tasktui.store import ActionRefused, ReadOnlyError
from tasktui.testing import Fault

S = OperatorStatus


def _first(store, status: OperatorStatus, n: int = 1):
    found = [t for t in store.rows if t.operator_status is status][:n]
    assert len(found) == n, f"not enough {status} rows loaded"
    return found


async def test_an_action_shows_at_once_then_shows_the_servers_truth(server, proxy_for, make_store):
    proxy = await proxy_for(server)
    store, rec = await make_store(proxy.url, server.api_key, page_size=100)
    await store.set_query(TaskQuery())
    [task] = _first(store, S.QUEUED)
    i = store.index_of(task.task_id)
    proxy.script(Fault.slow(0.5, match="POST"))
    pending = asyncio.ensure_future(store.cancel(task.task_id))
    await eventually(lambda: store.rows[i].status == "canceled", "the optimistic row")
    assert not pending.done()  # shown before the server answered
    after = await pending
    assert after.operator_status is S.CANCELED and store.rows[i] is after
    assert store.index_of(task.task_id) == i  # updated in place
    assert "rows_updated" in rec.kinds()
    act = rec.of("action")[-1]
    assert act.ok and task.task_id in act.message


async def test_a_failed_action_is_rolled_back_and_reported(server, proxy_for, make_store):
    proxy = await proxy_for(server)
    store, rec = await make_store(proxy.url, server.api_key)
    await store.set_query(TaskQuery())
    [task] = _first(store, S.COMPLETED)
    proxy.script(Fault.error(500, match="POST"), times=20)
    with pytest.raises(ServerError):
        await store.accept(task.task_id, "fine")
    row = store.row(task.task_id)
    assert row.audit_status is task.audit_status and row.customer_review_comments == task.customer_review_comments
    act = rec.of("action")[-1]
    assert not act.ok and "server failed" in act.message
    # the optimistic version was shown, then the original again
    updates = [e for e in rec.of("rows_updated") if task.task_id in e.task_ids]
    assert len(updates) >= 2


async def test_actions_are_refused_with_the_reason_before_any_request(shared_server, proxy_for, make_store):
    proxy = await proxy_for(shared_server)
    store, _ = await make_store(proxy.url, shared_server.api_key)
    await store.set_query(TaskQuery())
    [done] = _first(store, S.COMPLETED)
    [working] = _first(store, S.IN_PROGRESS)
    [queued] = _first(store, S.QUEUED)
    seen = proxy.stats.requests
    with pytest.raises(ActionRefused, match="completed tasks cannot be canceled"):
        await store.cancel(done.task_id)
    with pytest.raises(ActionRefused, match="being worked on"):
        await store.cancel(working.task_id)
    with pytest.raises(ActionRefused, match="only completed tasks can be audited"):
        await store.accept(queued.task_id)
    assert proxy.stats.requests == seen


async def test_read_only_refuses_every_action(shared_server, make_store):
    store, _ = await make_store(shared_server.url, shared_server.api_key, read_only=True)
    await store.set_query(TaskQuery())
    [queued] = _first(store, S.QUEUED)
    for call in (lambda: store.cancel(queued.task_id), lambda: store.accept(queued.task_id),
                 lambda: store.reject(queued.task_id, "x"), lambda: store.fix(queued.task_id, {}),
                 lambda: store.bulk("cancel", [queued.task_id])):
        with pytest.raises(ReadOnlyError, match="Read-only mode"):
            await call()
    assert store.row(queued.task_id).operator_status is S.QUEUED


async def test_fix_through_the_store_keeps_the_prior_response(server, make_store):
    store, _ = await make_store(server.url, server.api_key)
    await store.set_query(TaskQuery(audit_statuses=frozenset({AuditStatus.READY_TO_AUDIT})))
    task = store.rows[0]
    assert store.can_fix
    after = await store.fix(task.task_id, {"corrected": True}, "fixed the labels")
    assert after.response == {"corrected": True} and after.audit_status is AuditStatus.FIXED
    assert after.prior_responses[-1] == task.response
    assert (await store.get_task(task.task_id)) is after


async def test_bulk_reports_each_task_and_applies_once_under_faults(server, proxy_for, make_store):
    proxy = await proxy_for(server, seed=7, rate=0.4, rate_match="POST",
                            kinds=(Fault.error(500, forward=True), Fault.drop("body"), Fault.truncate()))
    store, rec = await make_store(proxy.url, server.api_key)
    await store.set_query(TaskQuery())
    queued = [t.task_id for t in _first(store, S.QUEUED, 6)]
    [done] = _first(store, S.COMPLETED)
    result = await store.bulk("cancel", [*queued, done.task_id, "no-such-task", queued[0]], concurrency=3)
    assert result.succeeded == queued and result.requested == 8
    assert list(result.skipped) == [done.task_id] and "cannot be canceled" in result.skipped[done.task_id]
    assert list(result.failed) == ["no-such-task"] and "not found" in result.failed["no-such-task"]
    assert result.summary() == "Canceled 6 of 8 tasks; 1 skipped; 1 failed."
    assert rec.of("action")[-1].message == result.summary()
    assert all(store.row(t).operator_status is S.CANCELED for t in queued)
    assert proxy.stats.faults >= 1
    async with TaskClient(server.url, server.api_key) as direct:  # the server's view
        for tid in queued:
            assert (await direct.get_task(tid)).operator_status is S.CANCELED


async def test_polling_merges_changes_made_by_another_client(server, make_store):
    store, rec = await make_store(server.url, server.api_key)
    await store.set_query(TaskQuery(statuses=frozenset({S.QUEUED, S.COMPLETED})))
    total = store.total
    [queued] = _first(store, S.QUEUED)
    [done] = _first(store, S.COMPLETED)
    cursor = store.rows[10].task_id
    async with TaskClient(server.url, server.api_key) as other, \
            httpx.AsyncClient(base_url=server.url, auth=(server.api_key, "")) as raw:
        await other.accept(done.task_id, "from elsewhere")  # still matches: updated in place
        await other.cancel(queued.task_id)  # no longer matches: removed
        r = await raw.post("task/imageannotation",
                           json={"instruction": "fresh", "attachment": "https://example.com/b.png"})
        fresh = r.json()["task_id"]  # a new queued task: inserted at the top
    rec.clear()
    changed = await store.poll_once()
    assert changed == 3
    assert store.row(done.task_id).audit_status is AuditStatus.ACCEPTED
    assert store.row(queued.task_id) is None
    assert store.rows[0].task_id == fresh
    assert store.total == total  # one left, one came
    assert rec.of("rows_updated")[0].task_ids == (done.task_id,)
    assert rec.of("rows_removed")[0].task_ids == (queued.task_id,)
    ins = rec.of("rows_inserted")[0]
    assert ins.task_ids == (fresh,) and ins.count == 1
    assert store.row(cursor) is not None  # the cursor's task is still there
    # nothing changed since: the next poll merges nothing
    assert await store.poll_once() == 0


async def test_polling_on_a_timer(server, make_store):
    store, rec = await make_store(server.url, server.api_key)
    await store.set_query(TaskQuery())
    [done] = _first(store, S.COMPLETED)
    store.start_polling(0.05)
    assert store.polling
    async with TaskClient(server.url, server.api_key) as other:
        await other.reject(done.task_id, "redo it")
    await eventually(lambda: store.row(done.task_id).audit_status is AuditStatus.REJECTED, "the poll")
    await eventually(lambda: rec.of("poll"), "the poll to finish")
    assert rec.of("poll")[-1].ok and store.last_poll is not None
    store.stop_polling()
    assert not store.polling


async def test_polling_oldest_first_appends_new_tasks_at_the_end(server, make_store):
    from tasktui.domain import SortOrder

    store, rec = await make_store(server.url, server.api_key)
    await store.set_query(TaskQuery(statuses=frozenset({S.QUEUED}), order=SortOrder.OLDEST))
    while store.has_more:
        await store.load_more()
    n, total = len(store.rows), store.total
    async with httpx.AsyncClient(base_url=server.url, auth=(server.api_key, "")) as other:
        r = await other.post("task/imageannotation",
                             json={"instruction": "late", "attachment": "https://example.com/c.png"})
        fresh = r.json()["task_id"]
    rec.clear()
    assert await store.poll_once() == 1
    assert store.rows[-1].task_id == fresh and len(store.rows) == n + 1 and store.total == total + 1
    assert rec.of("rows_appended")[0].task_ids == (fresh,)
