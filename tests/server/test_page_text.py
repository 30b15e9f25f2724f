"""A page of ``GET /v1/tasks`` is built without parsing the parts of each stored document
the server leaves alone (``docs.present_all``): it must serve every task exactly as
``GET /v1/task/{id}`` (which parses the whole document, ``docs.present``) does, byte for
byte, whatever the stored document holds — old databases' fields, lazily generated
responses, attachments stored as paths, projects with and without instructions,
attachments in unexpected places. The oracle: the single-task route, and literals."""

from __future__ import annotations

import sqlite3

import httpx
import orjson


STORED = {
    # an old database's redo flag and top-level error; a completed task without its review status
    "t-redo": {"status": "pending", "redo": True, "customer_review_status": "rejected"},
    "t-error": {"status": "error", "error": "boom: the attachment is gone"},
    "t-completed-bare": {"status": "completed", "response": {"a": 1}},
    "t-completed-empty-review": {"status": "completed", "customer_review_status": "", "response": {}},
    "t-completed-null-review": {"status": "completed", "customer_review_status": None},
    "t-completed-accepted": {"status": "completed", "customer_review_status": "accepted"},
    # a lazily generated response (a database seeded before responses were stored)
    "t-lazy": {"status": "completed", "customer_review_status": "pending", "_lazy": ["response"]},
    # attachments: a path (made absolute), a URL (left), a path-like value elsewhere (left)
    "t-path": {"status": "pending", "params": {"attachment": "/v1/media/x/a.png", "attachment_type": "image"}},
    "t-path-second": {"status": "pending", "params": {"attachment_type": "image", "attachment": "/v1/media/x/d.png"}},
    "t-url": {"status": "pending", "params": {"attachment": "https://cdn.example/a.png"}},
    "t-elsewhere": {"status": "pending", "params": {"extra": {"attachment": "/v1/media/x/b.png"}},
                    "metadata": {"attachment": "/v1/media/x/c.png"}},
    "t-params-list": {"status": "pending", "params": ["attachment", "/v1/media/x"]},
    # instructions: its own, the project's, none (no project, a project that is not a string)
    "t-own-instruction": {"status": "pending", "instruction": "mine"},
    "t-no-project": {"status": "pending", "project": None},
    "t-odd-project": {"status": "pending", "project": 7},
    # text that must come back as it was stored
    "t-text": {"status": "pending", "metadata": {"note": "é \u2028 \x1b[31m \\ \" 🙂", "n": -1.5e-300,
                                                  "big": 18446744073709551615}},
}


def _store_crafted(path) -> str:
    """Replace the stored documents of the first tasks by ``STORED``'s (keeping their ids,
    dates and project); returns the name of a project that has an instruction."""
    conn = sqlite3.connect(path)
    try:
        project = next(name for name, doc in conn.execute("SELECT name, doc FROM projects ORDER BY name")
                       if orjson.loads(doc).get("instruction"))
        rows = conn.execute("SELECT d.id, d.doc FROM docs d JOIN tasks t ON t.id = d.id "
                            "WHERE t.project = ? ORDER BY t.created_at DESC LIMIT ?",
                            (project, len(STORED))).fetchall()
        assert len(rows) == len(STORED)
        with conn:
            for (rid, blob), (label, extra) in zip(rows, STORED.items()):
                base = orjson.loads(blob)
                doc = {k: base[k] for k in ("task_id", "created_at", "updated_at", "type", "project", "_seed")
                       if k in base}
                doc.update(extra)
                doc["metadata"] = {**extra.get("metadata", {}), "label": label}
                conn.execute("UPDATE docs SET doc = ? WHERE id = ?", (orjson.dumps(doc), rid))
    finally:
        conn.close()
    return project


def test_a_listed_task_is_byte_for_byte_the_task_read_alone(server_factory, api_key):
    handle = server_factory(n=300)
    project = _store_crafted(handle.db_path)
    with httpx.Client(base_url=handle.url, auth=(api_key, ""), timeout=30) as c:
        page = c.get("/tasks", params={"project": project, "limit": 100})
        assert page.status_code == 200
        listed = orjson.loads(page.content)["docs"]
        by_label = {}
        for doc in listed:
            alone = c.get(f"/task/{doc['task_id']}")
            assert alone.status_code == 200
            # the page's text of this task is the single task's answer, byte for byte
            assert orjson.dumps(doc) == alone.content, doc["task_id"]
            by_label[(doc.get("metadata") or {}).get("label")] = doc
    assert set(STORED) <= set(by_label), "every crafted document is on the page"
    origin = handle.url.removesuffix("/v1")
    # and what each case must look like (literals)
    assert by_label["t-path"]["params"] == {"attachment": origin + "/v1/media/x/a.png", "attachment_type": "image"}
    assert by_label["t-path-second"]["params"] == {"attachment_type": "image",
                                                   "attachment": origin + "/v1/media/x/d.png"}
    assert by_label["t-url"]["params"] == {"attachment": "https://cdn.example/a.png"}
    assert by_label["t-elsewhere"]["params"] == {"extra": {"attachment": "/v1/media/x/b.png"}}
    assert by_label["t-elsewhere"]["metadata"]["attachment"] == "/v1/media/x/c.png"
    assert by_label["t-params-list"]["params"] == ["attachment", "/v1/media/x"]
    assert by_label["t-redo"]["status"] == "pending" and "redo" not in by_label["t-redo"]
    assert "error" not in by_label["t-error"] and by_label["t-error"]["response"] == {
        "error": "boom: the attachment is gone"}
    for label in ("t-completed-bare", "t-completed-empty-review", "t-completed-null-review"):
        assert by_label[label]["customer_review_status"] == "pending", label
    assert by_label["t-completed-accepted"]["customer_review_status"] == "accepted"
    assert "_lazy" not in by_label["t-lazy"] and by_label["t-lazy"]["response"]
    assert not any("_seed" in d for d in listed)
    assert by_label["t-own-instruction"]["instruction"] == "mine"
    assert "instruction" not in by_label["t-no-project"] and "instruction" not in by_label["t-odd-project"]
    assert by_label["t-path"]["instruction"], "a task of a project with an instruction carries it"
    assert by_label["t-text"]["metadata"] == {**STORED["t-text"]["metadata"], "label": "t-text"}
    assert list(by_label["t-path"])[-1] == "instruction", "appended last, as present() does"
