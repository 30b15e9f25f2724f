"""What the store answers about what may be done, and what the operator chose: one
answer for writes, Fix and refusals; query, order and zone held once and changed only
through the store, with an event for every change."""

from __future__ import annotations

import pytest

from tasktui.api import ApiError, TaskClient
from tasktui.domain import DateField, OperatorStatus, SortOrder, Task, TaskQuery, Zone
from tasktui.store import VERBS, BulkResult, plan_bulk
from tasktui.store.actions import optimistic, read_only_refusal, task_refusal

READ_ONLY_CANCEL = ("Read-only mode: tasks cannot be canceled in this session "
                    "(start without --read-only, or set read_only = false in the config).")
NO_FIX = ("This server does not offer Fix (editing a task's response); only Accept and "
          "Reject are available here.")


def task(tid: str, status: str = "pending", **raw) -> Task:
    return Task({"task_id": tid, "status": status, **raw})


# pure rules ---------------------------------------------------------------------------
def test_each_action_has_its_words():
    assert [(VERBS[a].name, VERBS[a].past, VERBS[a].done) for a in ("cancel", "accept", "reject", "fix")] == [
        ("Cancel", "canceled", "Canceled"), ("Accept", "accepted", "Accepted"),
        ("Reject", "rejected", "Rejected"), ("Fix", "fixed", "Fixed")]
    assert read_only_refusal("cancel") == READ_ONLY_CANCEL
    with pytest.raises(ValueError):
        read_only_refusal("delete")


def test_a_tasks_state_decides_which_actions_it_allows():
    queued, done = task("q"), task("d", "completed")
    assert task_refusal(queued, "cancel") is None
    assert task_refusal(queued, "accept") == "q is Queued: only completed tasks can be audited"
    assert task_refusal(done, "fix") is None
    assert "cannot be canceled" in task_refusal(done, "cancel")


def test_the_optimistic_guess_shows_the_action_applied():
    done = task("d", "completed", response={"a": 1}, prior_responses=[], customer_review_comments=[])
    assert optimistic(task("q"), "cancel", None, None).status == "canceled"
    fixed = optimistic(done, "fix", "better", {"a": 2})
    assert fixed.raw["customer_review_status"] == "fixed" and fixed.response == {"a": 2}
    assert fixed.prior_responses == [{"a": 1}] and fixed.customer_review_comments == ["better"]
    assert done.response == {"a": 1}  # the original is untouched


def test_a_bulk_plan_sorts_the_marked_tasks():
    query = TaskQuery(statuses=frozenset({OperatorStatus.QUEUED}))
    tasks = {"q1": task("q1"), "q2": task("q2"), "c1": task("c1", "completed"), "c2": task("c2", "completed"),
             "gone": LookupError("task gone was not found")}
    plan = plan_bulk("cancel", ["q1", "c1", "q1", "gone", "c2", "q2", "nowhere"], tasks, query)
    assert plan.eligible == ["q1", "q2"] and plan.visible_eligible == ["q1", "q2"]
    assert plan.skipped == {"c1": "Completed", "c2": "Completed"} and plan.hidden == ["c1", "c2"]
    assert plan.unknown == {"gone": "task gone was not found", "nowhere": "not found"}
    assert plan.describe() == ("2 will be canceled; 2 are Completed and will be skipped; 2 could not be "
                               "looked up and will be skipped; 2 marked tasks are hidden by the current filter.")
    with pytest.raises(ValueError):
        plan_bulk("fix", [], {})


def test_a_bulk_result_summarises_in_the_actions_word():
    r = BulkResult("accept", requested=1, succeeded=["a"])
    assert r.ok and r.summary() == "Accepted 1 of 1 task."


# the store's one answer ---------------------------------------------------------------
async def test_a_read_only_store_offers_no_action(shared_server, make_store):
    store, _ = await make_store(shared_server.url, shared_server.api_key, read_only=True)
    await store.set_query(TaskQuery())
    assert store.read_only and not store.can_write and not store.can_fix
    assert store.refusal("cancel") == READ_ONLY_CANCEL
    assert store.refusal("accept", store.rows[0]).startswith("Read-only mode: tasks cannot be accepted")
    with pytest.raises(ValueError):
        store.refusal("delete")


async def test_fix_is_offered_unless_the_server_is_known_not_to(shared_server, make_store):
    store, _ = await make_store(shared_server.url, shared_server.api_key)
    assert store.can_write and store.can_fix and store.refusal("fix") is None  # not asked yet
    await store.set_query(TaskQuery())
    assert store.can_fix and store.refusal("fix") is None  # the bundled server offers it
    plain, _ = await make_store(shared_server.url, shared_server.api_key,
                                client_kw={"ignore_extensions": True})
    assert not plain.can_fix and plain.can_write
    assert plain.refusal("fix") == NO_FIX and plain.refusal("accept") is None


async def test_a_refusal_with_a_task_names_what_its_state_forbids(shared_server, make_store):
    store, _ = await make_store(shared_server.url, shared_server.api_key)
    await store.set_query(TaskQuery(statuses=frozenset({OperatorStatus.QUEUED})))
    queued = store.rows[0]
    assert store.refusal("cancel", queued) is None
    assert store.refusal("accept", queued) == f"{queued.task_id} is Queued: only completed tasks can be audited"


# what the operator chose ---------------------------------------------------------------
async def test_order_and_zone_change_only_through_the_store_and_say_so(shared_server, make_store):
    store, rec = await make_store(shared_server.url, shared_server.api_key)
    await store.set_query(TaskQuery())
    assert store.order is SortOrder.NEWEST
    newest = [t.task_id for t in store.rows]
    rec.clear()
    await store.set_order(SortOrder.OLDEST)
    assert store.order is SortOrder.OLDEST and store.query.order is SortOrder.OLDEST
    assert rec.kinds()[0] == "query" and "rows_replaced" in rec.kinds()
    assert [t.task_id for t in store.rows] != newest
    rec.clear()
    await store.set_order(SortOrder.OLDEST)  # unchanged: nothing happens
    store.set_zone(Zone.UTC)
    assert rec.kinds() == []
    store.set_zone(Zone.PACIFIC)
    assert store.zone is Zone.PACIFIC and rec.kinds() == ["zone"]
    for name, value in (("zone", Zone.UTC), ("query", TaskQuery()), ("order", SortOrder.NEWEST)):
        with pytest.raises(AttributeError):
            setattr(store, name, value)


async def test_the_poll_pause_can_be_read(shared_server, make_store):
    store, _ = await make_store(shared_server.url, shared_server.api_key)
    assert not store.poll_paused
    store.pause_polling()
    assert store.poll_paused
    store.pause_polling(False)
    assert not store.poll_paused


async def test_oldest_first_is_offered_by_creation_date_everywhere(shared_server, make_store):
    """Without the order extension, oldest first by creation date is read slice by slice;
    by completion date it needs the extension."""
    by_completion = TaskQuery(date_field=DateField.COMPLETED)
    store, _ = await make_store(shared_server.url, shared_server.api_key)
    await store.set_query(TaskQuery())
    assert store.can_sort_oldest
    await store.set_query(by_completion)
    assert store.can_sort_oldest
    plain, _ = await make_store(shared_server.url, shared_server.api_key,
                                client_kw={"ignore_extensions": True})
    assert plain.can_sort_oldest
    await plain.set_query(by_completion)
    assert not plain.can_sort_oldest


async def test_lookup_reads_held_tasks_without_asking_and_reports_each_missing_one(
        shared_server, proxy_for, make_store):
    proxy = await proxy_for(shared_server)
    store, _ = await make_store(proxy.url, shared_server.api_key)
    await store.set_query(TaskQuery())
    shown = [t.task_id for t in store.rows[:3]]
    async with TaskClient(shared_server.url, shared_server.api_key) as direct:
        elsewhere = (await direct.list_tasks(TaskQuery(order=SortOrder.OLDEST), None, limit=1)).tasks[0]
    assert store.row(elsewhere.task_id) is None
    seen = proxy.stats.requests
    found = await store.lookup([*shown, elsewhere.task_id, "no-such-task", shown[0]])
    assert list(found) == [*shown, elsewhere.task_id, "no-such-task"]
    assert all(found[t] is store.row(t) for t in shown)
    assert found[elsewhere.task_id].task_id == elsewhere.task_id
    assert isinstance(found["no-such-task"], ApiError) and "not found" in str(found["no-such-task"])
    assert proxy.stats.requests - seen == 2  # only the two not held were asked for


async def test_the_store_fetches_a_tasks_media_for_the_screens(shared_server, sql):
    from tasktui.api import TaskClient
    from tasktui.store import TaskStore

    (tid,), = sql(shared_server, "SELECT task_id FROM tasks WHERE type = 'imageannotation' LIMIT 1")
    async with TaskClient(shared_server.url, shared_server.api_key) as c:
        store = TaskStore(c)
        task = await store.get_task(tid)
        att = await store.fetch_attachment(task.attachment)
    assert att.content[:8] == b"\x89PNG\r\n\x1a\n" and att.content_type == "image/png"
