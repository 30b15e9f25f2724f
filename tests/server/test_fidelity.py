"""The bundled server is a faithful stand-in for the real API (issue 11, item 7): its tasks
carry only the fields Scale documents (no ``redo`` flag, no top-level ``error``), a
completed task awaiting review says ``customer_review_status: pending``, a task being
re-done after a rejection is ``pending`` with ``customer_review_status: rejected``, and the
error of a task in Error is in its ``response`` (where Scale puts it). The oracle is the
field list of the Scale v1 task object (shared/reference/scale-api.md, DESIGN.md) and the
server's own index row, read with SQL."""

from __future__ import annotations

from waiting import wait_until

import httpx
import orjson

from tasktui.server import db as dbm
from tasktui.server import start_server_thread

#: The task object of Scale v1: the documented fields, then those third parties report.
PUBLIC_TASK_FIELDS = frozenset({
    "task_id", "created_at", "updated_at", "completed_at", "type", "status", "instruction", "params",
    "callback_url", "callback_completed", "response", "metadata", "audits", "tags", "unique_id", "project",
    "batch", "is_test", "priority", "customer_review_status", "customer_review_comments", "prior_responses",
    "work_started", "processed_attachments"})


def all_served(handle, api_key) -> list[dict]:
    out, token = [], None
    with httpx.Client(base_url=handle.url, auth=(api_key, ""), timeout=60) as c:
        while True:
            page = c.get("/tasks", params={"limit": 100, **({"next_token": token} if token else {})}).json()
            out += page["docs"]
            token = page["next_token"]
            if not token:
                return out


def index(sql, handle) -> dict[str, tuple[str, str]]:
    return {tid: (ost, review) for tid, ost, review in sql(handle, "SELECT task_id, ostatus, review FROM tasks")}


ALL_BRANCHES = frozenset({"completed", "redo", "queued", "in_progress", "error"})


def check_public(tasks: list[dict], idx: dict[str, tuple[str, str]], meets=ALL_BRANCHES) -> None:
    # the branches below must meet tasks (``meets``), or their checks would be skipped in silence
    assert {idx[t["task_id"]][0] for t in tasks} >= meets
    for t in tasks:
        extra = set(t) - PUBLIC_TASK_FIELDS
        assert not extra, (t["task_id"], extra)
        ost, review = idx[t["task_id"]]
        if ost == "completed":
            assert t["status"] == "completed" and t["customer_review_status"] == (review or "pending"), t
        if ost == "redo":
            assert t["status"] == "pending" and t["customer_review_status"] == "rejected", t
        if ost in ("queued", "in_progress"):
            assert t["status"] == "pending" and t.get("customer_review_status") in (None, "pending", "accepted"), t
        if ost == "error":
            assert isinstance(t["response"]["error"], str) and len(t["response"]["error"]) > 15, t


def test_seeded_tasks_carry_only_public_fields(shared_server, api_key, sql):
    tasks = all_served(shared_server, api_key)
    idx = index(sql, shared_server)
    assert len(tasks) == len(idx) and {o for o, _ in idx.values()} >= {"completed", "redo", "error", "queued"}
    check_public(tasks, idx)


def test_simulated_tasks_carry_only_public_fields(server_factory, api_key, sql):
    h = server_factory(n=200, simulate=True, simulate_interval=0.05, simulate_batch=5, simulate_error_rate=0.3)
    with httpx.Client(base_url=h.url, auth=(api_key, ""), timeout=30) as c:
        # reject some completed tasks: the workforce turns them into Redo and back
        done = [t for t in c.get("/tasks", params={"status": "completed", "limit": 20}).json()["docs"]
                if t.get("customer_review_status") == "pending"]
        for t in done[:5]:
            assert c.post(f"/task/{t['task_id']}/audit", json={"accepted": False}).status_code == 200
        created = c.post("/task/imageannotation", json={"project": "Street Scenes"}).json()
        wait_until(lambda: c.get(f"/task/{created['task_id']}").json()["status"] != "pending",
                   "the workforce to take the new task", timeout=15)
    h.stop()  # a quiet database to compare with
    h = start_server_thread(h.db_path, h.api_keys)
    try:
        tasks = all_served(h, api_key)
        # the workforce may have drained Queued and Redo by now (it runs as fast as the machine)
        check_public(tasks, index(sql, h), meets={"completed", "error"})
        assert any(t["task_id"] == created["task_id"] and t["status"] in ("completed", "error") for t in tasks)
    finally:
        h.stop()


def test_old_databases_are_served_in_the_public_form(server, api_key, sql):
    """A sandbox written by an earlier version stored ``redo``, a top-level ``error`` and
    no review status on completed tasks; it is served like a new one."""
    ids = {}
    conn = dbm.connect(server.db_path)
    try:
        with dbm.Tx(conn, write=True):
            for ost in ("redo", "error", "completed"):
                tid = sql(server, "SELECT task_id FROM tasks WHERE ostatus=? AND review IN ('', 'pending', 'rejected') "
                                  "LIMIT 1", ost)[0][0]
                rid, doc = dbm.load_doc(conn, tid)
                if ost == "redo":
                    doc["redo"] = True
                elif ost == "error":
                    doc["error"] = doc.pop("response", {}).get("error", "Attachment could not be fetched: HTTP 404")
                else:
                    doc.pop("customer_review_status", None)
                dbm.write_doc(conn, rid, doc)
                ids[ost] = tid
    finally:
        conn.close()
    with httpx.Client(base_url=server.url, auth=(api_key, ""), timeout=30) as c:
        got = {ost: c.get(f"/task/{tid}").json() for ost, tid in ids.items()}
    check_public(list(got.values()), index(sql, server), meets={"redo", "error", "completed"})
    assert got["error"]["response"]["error"].startswith("Attachment")


def test_stored_redo_tasks_are_pending_and_rejected(shared_server, sql):
    docs = [orjson.loads(d) for (d,) in sql(shared_server, "SELECT doc FROM docs JOIN tasks USING (id) "
                                                           "WHERE ostatus = 'redo'")]
    assert docs and all(d["status"] == "pending" and d["customer_review_status"] == "rejected" for d in docs)
    assert not any("redo" in d for d in docs)


def test_the_openapi_task_schema_has_no_bundled_only_field(shared_server, api_key):
    spec = httpx.get(shared_server.url + "/openapi.json", auth=(api_key, "")).json()
    assert set(spec["components"]["schemas"]["Task"]["properties"]) <= PUBLIC_TASK_FIELDS
