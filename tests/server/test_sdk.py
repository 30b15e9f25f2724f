"""The official ``scaleapi`` SDK against the bundled server over real HTTP, every answer
checked against what the database holds (read directly, filtered with the domain's own
status mapping)."""

from __future__ import annotations

from datetime import timedelta

import orjson
import pytest
import scaleapi
from scaleapi.exceptions import ScaleInvalidRequest, ScaleResourceNotFound, ScaleUnauthorized
from scaleapi.tasks import TaskReviewStatus, TaskStatus, TaskType

from tasktui.domain import Task, to_wire_time


@pytest.fixture(scope="module")
def all_tasks(shared_server, sql):
    return [Task(orjson.loads(d)) for (d,) in sql(shared_server, "SELECT doc FROM docs")]


@pytest.fixture(scope="module")
def sql(request):
    import sqlite3

    def run(handle, query, *args):
        conn = sqlite3.connect(handle.db_path, timeout=30)
        try:
            return conn.execute(query, args).fetchall()
        finally:
            conn.close()
    return run


@pytest.fixture
def client(shared_server, api_key):
    return scaleapi.ScaleClient(api_key, api_instance_url=shared_server.url)


def ids(tasks) -> set[str]:
    return {t.id if hasattr(t, "id") else t.task_id for t in tasks}


def test_get_tasks_by_project_follows_every_page(client, all_tasks):
    got = list(client.get_tasks(project_name="Street Scenes"))
    want = {t.task_id for t in all_tasks if t.project == "Street Scenes"}
    assert len(want) > 100  # more than one page
    assert [t.id for t in got] == sorted(
        (t.id for t in got), key=lambda i: next(x.created_at for x in all_tasks if x.task_id == i), reverse=True)
    assert ids(got) == want and len(got) == len(want)


def test_get_tasks_by_batch_and_status(client, shared_server, sql):
    got = list(client.get_tasks(batch_name="street-batch-02", status=TaskStatus.Completed))
    want = {r[0] for r in sql(shared_server, "SELECT task_id FROM tasks WHERE batch = 'street-batch-02' "
                                             "AND ostatus = 'completed'")}
    assert want and ids(got) == want


def test_pending_status_covers_queued_in_progress_and_redo(client, shared_server, sql):
    got = list(client.get_tasks(project_name="Lidar Highway", status=TaskStatus.Pending))
    rows = sql(shared_server, "SELECT task_id, ostatus FROM tasks WHERE project = 'Lidar Highway' "
                              "AND ostatus IN ('queued', 'in_progress', 'redo')")
    assert {o for _, o in rows} == {"queued", "in_progress", "redo"}  # the seed holds all three
    assert ids(got) == {tid for tid, _ in rows}


def test_review_status_list(client, shared_server, sql):
    got = list(client.get_tasks(project_name="Support Tickets",
                                review_status=[TaskReviewStatus.Accepted, TaskReviewStatus.Fixed]))
    want = {r[0] for r in sql(shared_server, "SELECT task_id FROM tasks WHERE project = 'Support Tickets' "
                                             "AND review IN ('accepted', 'fixed')")}
    assert want and ids(got) == want


def test_created_range(client, all_tasks, seed_now):
    lo, hi = seed_now - timedelta(days=20, hours=5), seed_now - timedelta(days=3, hours=7)
    got = list(client.get_tasks(project_name="Street Scenes", created_after=lo.isoformat(),
                                created_before=hi.isoformat()))
    want = {t.task_id for t in all_tasks if t.project == "Street Scenes" and lo <= t.created_at < hi}
    assert want and ids(got) == want


def test_tags_mean_every_tag(client, all_tasks):
    got = list(client.get_tasks(project_name="Street Scenes", tags=["night", "rain"]))
    want = {t.task_id for t in all_tasks if t.project == "Street Scenes" and {"night", "rain"} <= set(t.tags)}
    assert want and ids(got) == want


def test_unique_ids(client, all_tasks):
    chosen = [t for t in all_tasks if t.unique_id and t.project == "Receipts OCR"][:3]
    got = list(client.get_tasks(project_name="Receipts OCR", unique_id=[t.unique_id for t in chosen]))
    assert ids(got) == {t.task_id for t in chosen} and len(chosen) == 3


def test_type_and_count(client, all_tasks):
    n = client.get_tasks_count(project_name="Retail Shelves", task_type=TaskType.ImageAnnotation)
    assert n == sum(1 for t in all_tasks if t.project == "Retail Shelves" and t.type == "imageannotation") > 0
    assert client.get_tasks_count(project_name="Retail Shelves", task_type=TaskType.LidarAnnotation) == 0


def test_get_task_matches_the_database(client, all_tasks):
    t = next(x for x in all_tasks if x.customer_review_status == "fixed")
    got = client.get_task(t.task_id).as_dict()
    assert got["task_id"] == t.task_id and got["status"] == "completed"
    assert got["customer_review_status"] == "fixed"
    assert got["prior_responses"] and got["response"] != got["prior_responses"][-1]
    assert got["params"]["attachment"].startswith(client.api.base_api_url + "/media/")
    assert not any(k.startswith("_") for k in got)
    assert None not in got.values()


def test_unknown_task_is_404(client):
    with pytest.raises(ScaleResourceNotFound):
        client.get_task("0000000000000000deadbeef")


def test_wrong_key_is_401(shared_server):
    bad = scaleapi.ScaleClient("test_wrong", api_instance_url=shared_server.url)
    with pytest.raises(ScaleUnauthorized):
        bad.get_task("0000000000000000deadbeef")


def test_projects(client, sql, shared_server):
    projects = client.get_projects()
    names = {p.name for p in projects}
    assert names == {n for (n,) in sql(shared_server, "SELECT name FROM projects")}
    for p in projects:
        assert p.type and p.version == 1 and p.instruction.startswith(f"# {p.name}")


def test_batches(client, sql, shared_server):
    batches = list(client.get_batches(project_name="Street Scenes"))
    want = {n for (n,) in sql(shared_server, "SELECT name FROM batches WHERE project = 'Street Scenes'")}
    assert {b.name for b in batches} == want and len(want) == 3
    for b in batches:
        assert b.status and b.project == "Street Scenes" and b.created_at


def test_batch_status_counts(client, all_tasks):
    st = client.batch_status("lidar-batch-03")
    for wire in ("pending", "completed", "error", "canceled"):
        n = sum(1 for t in all_tasks if t.batch == "lidar-batch-03" and t.status == wire)
        assert st.get(wire, 0) == n


def test_cancel_queued_then_completed_refused(server, api_key, sql):
    client = scaleapi.ScaleClient(api_key, api_instance_url=server.url)
    queued = sql(server, "SELECT task_id, unique_id FROM tasks WHERE ostatus='queued' AND unique_id IS NOT NULL LIMIT 1")[0]
    task = client.cancel_task(queued[0], clear_unique_id=True)
    assert task.status == "canceled"
    assert "unique_id" not in task.as_dict()
    assert sql(server, "SELECT ostatus, unique_id FROM tasks WHERE task_id=?", queued[0]) == [("canceled", None)]

    done = sql(server, "SELECT task_id FROM tasks WHERE ostatus='completed' LIMIT 1")[0][0]
    before = sql(server, "SELECT doc FROM docs JOIN tasks USING (id) WHERE task_id=?", done)
    with pytest.raises(ScaleInvalidRequest, match="Completed"):
        client.cancel_task(done)
    assert sql(server, "SELECT doc FROM docs JOIN tasks USING (id) WHERE task_id=?", done) == before


@pytest.mark.parametrize("status,word", [("in_progress", "being worked on"), ("redo", "being worked on"),
                                         ("error", "Error"), ("canceled", "already canceled")])
def test_cancel_refusals_say_why(server, api_key, sql, status, word):
    client = scaleapi.ScaleClient(api_key, api_instance_url=server.url)
    tid = sql(server, "SELECT task_id FROM tasks WHERE ostatus=? LIMIT 1", status)[0][0]
    with pytest.raises(ScaleInvalidRequest, match=word):
        client.cancel_task(tid)
    assert sql(server, "SELECT ostatus FROM tasks WHERE task_id=?", tid) == [(status,)]


def test_audit_accept_and_reject(server, api_key, sql):
    client = scaleapi.ScaleClient(api_key, api_instance_url=server.url)
    a, b = [r[0] for r in sql(server, "SELECT task_id FROM tasks WHERE ostatus='completed' AND review='pending' LIMIT 2")]
    client.audit_task(a, True)
    client.audit_task(b, False, "two boxes missing")
    ta, tb = client.get_task(a).as_dict(), client.get_task(b).as_dict()
    assert ta["customer_review_status"] == "accepted" and ta["audits"][-1]["audit_result"] == "accepted"
    assert tb["customer_review_status"] == "rejected" and tb["customer_review_comments"][-1] == "two boxes missing"
    assert sql(server, "SELECT review FROM tasks WHERE task_id IN (?, ?) ORDER BY review", a, b) == [
        ("accepted",), ("rejected",)]


def test_audit_of_unfinished_task_is_refused(server, api_key, sql):
    client = scaleapi.ScaleClient(api_key, api_instance_url=server.url)
    tid = sql(server, "SELECT task_id FROM tasks WHERE ostatus='queued' LIMIT 1")[0][0]
    with pytest.raises(ScaleInvalidRequest, match="only completed tasks can be audited"):
        client.audit_task(tid, True)
    assert sql(server, "SELECT ostatus, review FROM tasks WHERE task_id=?", tid) == [("queued", "")]


def test_unique_id_metadata_and_tags(server, api_key, sql):
    client = scaleapi.ScaleClient(api_key, api_instance_url=server.url)
    a, b = [r[0] for r in sql(server, "SELECT task_id FROM tasks ORDER BY id LIMIT 2")]
    assert client.update_task_unique_id(a, "my-unique-1").unique_id == "my-unique-1"
    from scaleapi.exceptions import ScaleDuplicateResource
    with pytest.raises(ScaleDuplicateResource):
        client.update_task_unique_id(b, "my-unique-1")
    assert "unique_id" not in client.clear_task_unique_id(a).as_dict()
    assert client.set_task_metadata(a, {"k": "v"}).metadata == {"k": "v"}
    assert client.set_task_tags(a, ["x", "y"]).tags == ["x", "y"]
    assert client.add_task_tags(a, ["z", "x"]).tags == ["x", "y", "z"]
    assert client.delete_task_tags(a, ["y"]).tags == ["x", "z"]
    assert sorted(r[0] for r in sql(server, "SELECT tag FROM task_tags JOIN tasks USING (id) WHERE task_id=?", a)) == ["x", "z"]
    got = list(client.get_tasks(project_name=client.get_task(a).project, tags=["x", "z"]))
    assert [t.id for t in got] == [a]


def test_created_range_with_wire_time_format(client, all_tasks, seed_now):
    lo = seed_now - timedelta(days=2)
    got = list(client.get_tasks(project_name="Street Scenes", created_after=to_wire_time(lo)))
    assert ids(got) == {t.task_id for t in all_tasks if t.project == "Street Scenes" and t.created_at >= lo}


# -- projects and batches: the SDK calls a script makes before creating tasks --------

def test_get_project(client, sql, shared_server):
    p = client.get_project("Café Menü ✨")
    (doc,) = [orjson.loads(d) for (d,) in sql(shared_server, "SELECT doc FROM projects WHERE name = ?", "Café Menü ✨")]
    assert (p.name, p.type, p.version) == (doc["name"], doc["type"], doc["param_history"][-1]["version"])
    assert p.instruction == doc["param_history"][-1]["instruction"]
    with pytest.raises(ScaleResourceNotFound):
        client.get_project("no such project")


def test_project_task_template(client, sql, shared_server):
    (ptype,) = sql(shared_server, "SELECT type FROM projects WHERE name = 'Product Reviews'")[0]
    assert ptype == "textcollection"  # one of the two types with templates (textcollection, chat)
    t = client.get_project("Product Reviews").get_template()
    assert t.id and t.version >= 1 and t.created_at and t.updated_at and isinstance(t.template_variables, dict)
    assert client.get_project_template("Product Reviews").id == t.id
    with pytest.raises(ScaleInvalidRequest, match="imageannotation"):
        client.get_project_template("Street Scenes")
    with pytest.raises(ScaleResourceNotFound):
        client.get_project_template("no such project")


def test_create_finalize_and_read_a_batch(server, api_key, sql):
    from scaleapi.exceptions import ScaleException
    client = scaleapi.ScaleClient(api_key, api_instance_url=server.url)
    b = client.create_batch("Street Scenes", "my batch/1", metadata={"week": 49})
    assert (b.name, b.project, b.status, b.metadata) == ("my batch/1", "Street Scenes", "staging", {"week": 49})
    assert sql(server, "SELECT project FROM batches WHERE name = ?", "my batch/1") == [("Street Scenes",)]
    task = client.create_task(TaskType.ImageAnnotation, batch="my batch/1", attachment="https://x.invalid/a.png")
    assert task.as_dict()["project"] == "Street Scenes"
    assert client.get_batch("my batch/1").status == "staging"
    assert client.batch_status("my batch/1") == {"status": "staging", "pending": 1}
    done = client.finalize_batch("my batch/1")
    assert done.status == "in_progress" and client.get_batch("my batch/1").status == "in_progress"
    assert client.finalize_batch("my batch/1").status == "in_progress"  # finalizing twice changes nothing
    b2 = client.get_batch("my batch/1")
    b2.get_status()
    assert b2.tasks_pending == 1 and b2.tasks_completed == 0
    assert "my batch/1" in {x.name for x in client.get_batches(project_name="Street Scenes")}
    assert client.set_batch_metadata("my batch/1", {"owner": "ana"}).metadata == {"owner": "ana"}
    assert client.get_batch("my batch/1").metadata == {"owner": "ana"}
    with pytest.raises(ScaleInvalidRequest, match="already exists"):
        client.create_batch("Street Scenes", "my batch/1")
    with pytest.raises(ScaleException, match="no such project|does not exist"):
        client.create_batch("no such project", "b2")
    with pytest.raises(ScaleInvalidRequest, match="name"):
        client.create_batch("Street Scenes", "bad\nname")
    with pytest.raises(ScaleResourceNotFound):
        client.finalize_batch("no such batch")
