"""Bad input gets the right 4xx with a message naming the parameter, in the
``{"status_code", "error"}`` shape — and the database is unchanged."""

from __future__ import annotations

import hashlib

import httpx
import pytest

EXT = "operator-status,order,search,multi-value,fix,idempotency,page-size"


def db_digest(sql, handle) -> str:
    h = hashlib.sha256()
    for row in sql(handle, "SELECT t.*, d.doc FROM tasks t JOIN docs d USING (id) ORDER BY t.id"):
        h.update(repr(row).encode())
    for row in sql(handle, "SELECT * FROM task_tags ORDER BY tag, id"):
        h.update(repr(row).encode())
    return h.hexdigest()


@pytest.fixture(scope="module")
def c(shared_server, api_key):
    with httpx.Client(base_url=shared_server.url, auth=(api_key, ""), timeout=30) as client:
        yield client


@pytest.mark.parametrize("params,word", [
    ({"start_time": "yesterday-ish"}, "start_time"),
    ({"end_time": "2026-02-30"}, "end_time"),
    ({"completed_after": "13/01/2026"}, "completed_after"),
    ({"updated_before": ""}, "updated_before"),
    ({"start_time": "2026-03-08", "end_time": "2026-03-01"}, "end_time is before start_time"),
    ({"status": "done"}, "status"),
    ({"status": "completed,nope"}, "status"),
    ({"customer_review_status": "maybe"}, "customer_review_status"),
    ({"limit": "0"}, "limit"),
    ({"limit": "101"}, "limit"),
    ({"limit": "ten"}, "limit"),
    ({"next_token": "garbage"}, "next_token"),
    ({"next_token": "dDF8ZGVzY3wxfHh4eA' OR 1=1 --"}, "next_token"),
    ({"order": "sideways"}, "order"),
    ({"limited_response": "perhaps"}, "limited_response"),
    ({"offset": "10"}, "offset"),
    ({"project": ""}, "project"),
])
def test_bad_list_parameters(c, params, word):
    r = c.get("/tasks", params=params)
    assert r.status_code == 400
    body = r.json()
    assert body == {"status_code": 400, "error": body["error"]}
    assert word in body["error"]
    assert r.headers["x-tasktui-extensions"] == EXT


def test_token_for_the_other_order_is_refused(c):
    tok = c.get("/tasks", params={"limit": 1}).json()["next_token"]
    r = c.get("/tasks", params={"limit": 1, "order": "asc", "next_token": tok})
    assert r.status_code == 400 and "order" in r.json()["error"]


def test_unknown_task_and_route(c):
    r = c.get("/task/0123456789abcdef01234567")
    assert r.status_code == 404 and "0123456789abcdef01234567" in r.json()["error"]
    r = c.get("/task/" + "x" * 300)
    assert r.status_code == 404
    r = c.get("/nope")
    assert r.status_code == 404 and r.json()["status_code"] == 404
    r = c.delete("/tasks")
    assert r.status_code == 405 and r.json()["status_code"] == 405
    assert r.headers["x-tasktui-extensions"] == EXT


@pytest.mark.parametrize("auth", [None, ("wrong", ""), ("", ""), "Bearer xyz", "Basic !!!notbase64"])
def test_auth_required(shared_server, auth):
    headers = {}
    kw = {}
    if isinstance(auth, tuple):
        kw["auth"] = auth
    elif isinstance(auth, str):
        headers["authorization"] = auth
    r = httpx.get(shared_server.url + "/tasks", headers=headers, **kw)
    assert r.status_code == 401
    assert "API key" in r.json()["error"] and r.headers["www-authenticate"].startswith("Basic")
    assert r.headers["x-tasktui-extensions"] == EXT


def test_bad_writes_change_nothing(server, sql):
    before = db_digest(sql, server)
    done = sql(server, "SELECT task_id FROM tasks WHERE ostatus='completed' LIMIT 1")[0][0]
    queued = sql(server, "SELECT task_id FROM tasks WHERE ostatus='queued' LIMIT 1")[0][0]
    other_uid = sql(server, "SELECT unique_id FROM tasks WHERE unique_id IS NOT NULL AND task_id != ? LIMIT 1",
                    queued)[0][0]
    cases = [
        ("post", f"/task/{done}/audit", {"content": b"{not json"}, 400, "not valid JSON"),
        ("post", f"/task/{done}/audit", {"json": {"accepted": "yes"}}, 400, "accepted"),
        ("post", f"/task/{done}/audit", {"json": [1, 2]}, 400, "JSON object"),
        ("post", f"/task/{done}/audit", {"json": {"response": "text"}}, 400, "response"),
        ("post", f"/task/{done}/audit", {"json": {"accepted": False, "response": {}}}, 400, "cannot also reject"),
        ("post", f"/task/{done}/audit", {"json": {"accepted": True, "comments": 5}}, 400, "comments"),
        ("post", f"/task/{queued}/audit", {"json": {"accepted": True}}, 400, "only completed tasks"),
        ("post", f"/task/{done}/cancel", {}, 400, "Completed"),
        ("post", f"/task/{queued}/cancel?clear_unique_id=maybe", {}, 400, "clear_unique_id"),
        ("post", "/task/0123456789abcdef01234567/cancel", {}, 404, "no task"),
        ("post", f"/task/{queued}/unique_id", {"json": {"unique_id": other_uid}}, 409, "already used"),
        ("post", f"/task/{queued}/unique_id", {"json": {"unique_id": ""}}, 400, "unique_id"),
        ("post", f"/task/{queued}/setMetadata", {"json": ["not", "a", "dict"]}, 400, "metadata"),
        ("post", f"/task/{queued}/setMetadata", {"content": b"\xff\xfe"}, 400, "not valid JSON"),
        ("post", f"/task/{queued}/tags", {"json": {"a": 1}}, 400, "tags"),
        ("put", f"/task/{queued}/tags", {"json": [1, 2]}, 400, "tags"),
        ("delete", f"/task/{queued}/tags", {"json": [""]}, 400, "tags"),
        ("post", "/task/imageannotation", {"json": {"project": "No Such Project"}}, 400, "project"),
        ("post", "/task/imageannotation", {"json": {"batch": "no-such-batch"}}, 400, "batch"),
        ("post", "/task/imageannotation", {"json": {"unique_id": other_uid}}, 409, "already used"),
        ("post", "/task/imageannotation", {"json": {"metadata": 3}}, 400, "metadata"),
        ("post", "/task/imageannotation", {"content": b""}, 400, "empty"),
    ]
    with httpx.Client(base_url=server.url, auth=(server.api_key, ""), timeout=30) as c:
        for method, path, kw, code, word in cases:
            r = c.request(method.upper(), path, **kw)
            assert r.status_code == code, (path, kw, r.text)
            assert r.json()["status_code"] == code and word in r.json()["error"], (path, r.text)
    assert db_digest(sql, server) == before


def test_oversized_body_is_413(server_factory, sql):
    h = server_factory(n=0, max_body=1000)
    with httpx.Client(base_url=h.url, auth=(h.api_key, "")) as c:
        r = c.post("/task/imageannotation", json={"instruction": "x" * 5000})
        assert r.status_code == 413 and "1000 bytes" in r.json()["error"]

        def chunks():  # no Content-Length: the streamed body is counted too
            for _ in range(10):
                yield b"x" * 500
        r = c.post("/task/imageannotation", content=chunks())
        assert r.status_code == 413
    assert sql(h, "SELECT COUNT(*) FROM tasks")[0][0] == 0


def test_rate_limit_answers_429_with_retry_after(server_factory):
    h = server_factory(n=0, rate_limit=5)
    with httpx.Client(base_url=h.url, auth=(h.api_key, "")) as c:
        codes = [c.get("/projects").status_code for _ in range(30)]
    assert codes[0] == 200 and 429 in codes
    with httpx.Client(base_url=h.url, auth=(h.api_key, "")) as c:
        r = next(r for r in (c.get("/projects") for _ in range(30)) if r.status_code == 429)
    assert int(r.headers["retry-after"]) >= 1 and "too many requests" in r.json()["error"]
