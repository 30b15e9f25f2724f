"""A task as the real Scale API sends it goes through the index and the reader unchanged
(attachment URLs included: the server's ``present`` only rewrites paths starting with
"/"), and what the bundled server's code adds on the way out is exactly what the
reader's docstring says. Oracle: literal documents."""

from __future__ import annotations

import copy

from tasktui.domain import AuditStatus, TaskQuery
from tasktui.index.db import open_index, put_tasks
from tasktui.index.reader import IndexReader

REAL = {
    "task_id": "5f127f6f26831d0010e985a1",
    "created_at": "2026-10-01T08:15:30.123Z",
    "updated_at": "2026-10-02T09:00:00.000Z",
    "completed_at": "2026-10-02T09:00:00.000Z",
    "type": "imageannotation",
    "status": "completed",
    "instruction": "Draw a box around every car",
    "params": {"attachment": "https://scale-uploads.s3.amazonaws.com/cars/0001.png?X-Amz-Signature=abc%2Fdef",
               "attachment_type": "image", "objects_to_annotate": ["car"]},
    "callback_url": "https://example.com/callback",
    "response": {"annotations": [{"label": "car", "left": 1, "top": 2, "width": 3, "height": 4}]},
    "metadata": {"frame": 17, "nested": {"a": [1, 2, None]}},
    "project": "cars",
    "batch": "cars-2026-10",
    "unique_id": "cars-0001",
    "tags": ["night", "rain"],
    "audits": [{"audited_by": "ops@example.com", "audited_at": "2026-10-03T00:00:00.000Z", "accepted": True}],
    "customer_review_status": "accepted",
    "customer_review_comments": ["fine"],
    "work_started": True,
}


async def test_a_real_api_task_round_trips_unchanged(tmp_path):
    path = tmp_path / "i.sqlite"
    conn = open_index(path)
    put_tasks(conn, [copy.deepcopy(REAL)])
    conn.close()
    reader = IndexReader(path, origin="https://api.scale.com/v1")
    try:
        c = reader.client()
        got = await c.get_task(REAL["task_id"])
        assert got.raw == REAL
        page = await c.list_tasks(TaskQuery(audit_statuses=frozenset({AuditStatus.ACCEPTED})))
        assert [t.raw for t in page.tasks] == [REAL] and page.total == 1
    finally:
        await reader.aclose()


async def test_what_the_server_adds_on_the_way_out(tmp_path):
    no_review = {k: v for k, v in REAL.items() if k != "customer_review_status"} | {"task_id": "a" * 24,
                                                                                     "unique_id": "u-2"}
    stored_path = dict(REAL, task_id="b" * 24, unique_id="u-3", status="pending",
                       params={"attachment": "/v1/media/x/image.png", "attachment_type": "image"})
    stored_path.pop("completed_at")
    path = tmp_path / "i.sqlite"
    conn = open_index(path)
    put_tasks(conn, [copy.deepcopy(no_review), copy.deepcopy(stored_path)])
    conn.close()
    reader = IndexReader(path, origin="https://api.scale.com/v1")
    try:
        c = reader.client()
        a = (await c.get_task("a" * 24)).raw
        assert a == dict(no_review, customer_review_status="pending")  # Scale says so; the file keeps none
        b = (await c.get_task("b" * 24)).raw
        assert b["params"]["attachment"] == "https://api.scale.com/v1/media/x/image.png"
        assert {k: v for k, v in b.items() if k != "params"} == {k: v for k, v in stored_path.items() if k != "params"}
    finally:
        await reader.aclose()
    c2 = open_index(path)
    (raw,), = c2.execute("SELECT d.doc FROM docs d JOIN tasks t ON t.id = d.id WHERE t.task_id = ?", ("a" * 24,))
    c2.close()
    assert b"customer_review_status" not in raw  # only the answer says "pending"


async def test_the_reader_refuses_writes_in_words(tmp_path):
    from tasktui.api import ApiError

    path = tmp_path / "i.sqlite"
    conn = open_index(path)
    put_tasks(conn, [dict(REAL, status="pending", customer_review_status=None)])
    conn.close()
    reader = IndexReader(path)
    try:
        try:
            await reader.client().cancel(REAL["task_id"])
        except ApiError as e:
            assert "the local index is read-only" in str(e)
        else:
            raise AssertionError("a write to the index was accepted")
    finally:
        await reader.aclose()
    conn = open_index(path)
    (status,), = conn.execute("SELECT ostatus FROM tasks")
    conn.close()
    assert status != "canceled"
