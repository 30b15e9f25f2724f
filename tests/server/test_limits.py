"""Limits (issue 13, items 11 and 12): whatever a client sends — how many parameters, how
deep a JSON body, how many tags, which characters in a name, how many copies of a header,
how long a request line, which Host — the answer is a 4xx in the Scale error shape
``{"status_code": N, "error": "..."}`` naming the limit, never a 500 (which the client
retries as "overloaded"), and the database is unchanged."""

from __future__ import annotations

import base64
import json
import socket
from urllib.parse import quote

import httpx
import orjson
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tasktui.server import limits


def scale_error(r: httpx.Response, status: int = 400) -> str:
    """The error sentence of a Scale-shaped error answer with ``status``."""
    assert r.status_code == status, (r.status_code, r.text[:300])
    assert r.headers["content-type"].startswith("application/json"), r.headers
    body = r.json()
    assert set(body) == {"status_code", "error"} and body["status_code"] == status, body
    return body["error"]


@pytest.fixture
def c(server, api_key):
    with httpx.Client(base_url=server.url, auth=(api_key, ""), timeout=30) as client:
        yield client


def digest(sql, handle) -> list:
    return sql(handle, "SELECT t.*, d.doc FROM tasks t JOIN docs d USING (id) ORDER BY t.id")


def nested(depth: int) -> bytes:
    """A JSON object ``{"metadata": {"a": {"a": ... 1}}}`` ``depth`` levels deep."""
    return b'{"metadata":' + b'{"a":' * (depth - 1) + b"1" + b"}" * (depth - 1) + b"}"


# -- item 11: parameter counts and nesting depth --------------------------------------

@pytest.mark.parametrize("name", ["tags", "unique_id", "project", "batch", "type"])
@pytest.mark.parametrize("n", [limits.REPEATED_VALUES_MAX + 1, 1000])
def test_too_many_values_of_a_repeated_parameter_is_a_400_naming_the_limit(c, name, n):
    err = scale_error(c.get("/tasks", params=[(name, f"v{i}") for i in range(n)]))
    assert name in err and f"{limits.REPEATED_VALUES_MAX}" in err


def test_the_most_values_allowed_still_answer(c):
    r = c.get("/tasks", params=[("tags", f"v{i}") for i in range(limits.REPEATED_VALUES_MAX)])
    assert r.status_code == 200 and r.json()["total"] == 0


@pytest.mark.parametrize("path", ["/tasks", "/batches", "/projects"])
def test_too_many_parameters_in_all_is_a_400_naming_the_limit(c, path):
    n = limits.QUERY_PARAMS_MAX + 1
    err = scale_error(c.get(path, params=[(f"k{i}", "1") for i in range(n)]))
    assert f"{limits.QUERY_PARAMS_MAX:,}" in err and "parameters" in err


@pytest.mark.parametrize("depth", [limits.JSON_DEPTH_MAX + 1, 255, 600, 1023, 1024, 5000])
def test_deeply_nested_json_is_a_400_naming_the_limit(server, c, sql, depth):
    before = digest(sql, server)
    tid = sql(server, "SELECT task_id FROM tasks WHERE ostatus='completed' AND review='pending' LIMIT 1")[0][0]
    body = nested(depth)
    for method, path, raw in (("POST", "/task/imageannotation", body),
                              ("POST", f"/task/{tid}/setMetadata", nested(depth + 1)[len(b'{"metadata":'):-1]),
                              ("POST", f"/task/{tid}/audit", b'{"response":' + body + b"}"),
                              ("POST", f"/task/{tid}/unique_id", b'{"unique_id":' + body + b"}"),
                              ("POST", f"/task/{tid}/tags", b"[" + body + b"]")):
        err = scale_error(c.request(method, path, content=raw, headers={"content-type": "application/json"}))
        assert f"{limits.JSON_DEPTH_MAX}" in err and "nested" in err, (path, err)
    assert digest(sql, server) == before


def test_nesting_up_to_the_limit_is_stored_and_served(c):
    r = c.post("/task/imageannotation", content=nested(limits.JSON_DEPTH_MAX))
    assert r.status_code == 200
    got = c.get(f"/task/{r.json()['task_id']}").json()["metadata"]
    depth = 1
    while isinstance(got, dict):
        got, depth = got["a"], depth + 1
    assert got == 1 and depth == limits.JSON_DEPTH_MAX


json_values = st.recursive(
    st.none() | st.booleans() | st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats(allow_nan=False, allow_infinity=False) | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
    max_leaves=30)


@pytest.fixture(scope="module")
def mc(tmp_path_factory, api_key):
    from tasktui.server import seed_database, start_server_thread
    path = tmp_path_factory.mktemp("limits") / "l.db"
    seed_database(path, 60, seed=5)
    h = start_server_thread(path, [api_key])
    with httpx.Client(base_url=h.url, auth=(api_key, ""), timeout=30) as client:
        client.tid = client.get("/tasks", params={"limit": 1, "status": "completed"}).json()["docs"][0]["task_id"]
        yield client
    h.stop()


@settings(max_examples=150, deadline=None, derandomize=True, database=None,
          suppress_health_check=list(HealthCheck))
@given(value=json_values, depth=st.integers(0, 300), raw=st.binary(max_size=40),
       route=st.sampled_from(["create", "metadata", "audit", "fix", "unique_id", "tags"]))
def test_no_body_is_a_500(mc, value, depth, raw, route):
    """Any value, wrapped any number of levels deep, or any bytes, sent to every JSON route."""
    inner = b"[" * depth + json.dumps(value).encode() + b"]" * depth
    template = {"create": b'{"metadata": {"v": %s}}', "metadata": b'{"v": %s}', "audit": b'{"accepted": %s}',
                "fix": b'{"response": {"v": %s}}', "unique_id": b'{"unique_id": %s}', "tags": b"[%s]"}[route]
    path = {"create": "/task/imageannotation", "metadata": f"/task/{mc.tid}/setMetadata",
            "audit": f"/task/{mc.tid}/audit", "fix": f"/task/{mc.tid}/audit",
            "unique_id": f"/task/{mc.tid}/unique_id", "tags": f"/task/{mc.tid}/tags"}[route]
    for content in (template % inner, raw):
        r = mc.post(path, content=content, headers={"content-type": "application/json"})
        assert r.status_code < 500, (route, r.text[:300])
        if r.status_code != 200:
            scale_error(r, r.status_code)


@settings(max_examples=60, deadline=None, derandomize=True, database=None,
          suppress_health_check=list(HealthCheck))
@given(params=st.lists(st.tuples(st.sampled_from(["tags", "unique_id", "project", "batch", "type", "status",
                                                  "customer_review_status", "x", "limit", "start_time"]),
                                 st.text(max_size=12)), max_size=400),
       path=st.sampled_from(["/tasks", "/batches"]))
def test_no_query_is_a_500(mc, params, path):
    r = mc.get(path, params=params)
    assert r.status_code < 500, r.text[:300]
    if r.status_code != 200:
        scale_error(r, r.status_code)


# -- item 12: names, tags, headers, request lines, Host --------------------------------

@pytest.mark.parametrize("ttype", ["imageannotation\n", "imageannotation\r", "image\x00annotation",
                                   "imageannotation\u2028", "\u202eimageannotation"])
def test_a_task_type_with_control_characters_is_refused(server, c, sql, ttype):
    before = digest(sql, server)
    r = c.post("/task/" + quote(ttype, safe=""), json={"x": 1})
    assert r.status_code in (400, 404)
    scale_error(r, r.status_code)
    assert digest(sql, server) == before


@pytest.mark.parametrize("field", ["project", "batch", "unique_id"])
@pytest.mark.parametrize("bad", ["name\n", "na\x00me", "\x1b[31mred", "name\u2029", "\u202ename", "a\x7f", "a\x9b"])
def test_names_with_control_characters_are_refused_in_every_write(server, c, sql, field, bad):
    before = digest(sql, server)
    tid = sql(server, "SELECT task_id FROM tasks WHERE ostatus='queued' LIMIT 1")[0][0]
    assert field in scale_error(c.post("/task/imageannotation", json={field: bad}))
    if field == "unique_id":
        assert "unique_id" in scale_error(c.post(f"/task/{tid}/unique_id", json={"unique_id": bad}))
    assert "tags" in scale_error(c.post(f"/task/{tid}/tags", json=[bad]))
    assert "tags" in scale_error(c.put(f"/task/{tid}/tags", json=[bad]))
    assert "tags" in scale_error(c.post("/task/imageannotation", json={"tags": [bad]}))
    assert digest(sql, server) == before


def test_put_tags_cannot_grow_past_the_cap(server, c, sql):
    tid = sql(server, "SELECT task_id FROM tasks WHERE ostatus='queued' AND id NOT IN (SELECT id FROM task_tags) "
                      "LIMIT 1")[0][0]
    cap = limits.TAGS_MAX
    assert c.put(f"/task/{tid}/tags", json=[f"a{i}" for i in range(cap - 1)]).status_code == 200
    before = digest(sql, server)
    err = scale_error(c.put(f"/task/{tid}/tags", json=["b1", "b2"]))
    assert f"{cap}" in err and "tags" in err
    assert digest(sql, server) == before
    assert len(c.put(f"/task/{tid}/tags", json=["b1", "a0"]).json()["tags"]) == cap  # a0 is already there
    assert sql(server, "SELECT COUNT(*) FROM task_tags JOIN tasks USING (id) WHERE task_id=?", tid) == [(cap,)]


def test_tag_count_and_length_are_capped_on_create(c):
    cap, length = limits.TAGS_MAX, limits.TAG_LENGTH_MAX
    assert f"{cap}" in scale_error(c.post("/task/imageannotation", json={"tags": [f"t{i}" for i in range(cap + 1)]}))
    assert f"{length}" in scale_error(c.post("/task/imageannotation", json={"tags": ["x" * (length + 1)]}))
    assert f"{length}" in scale_error(c.post(f"/task/{'0' * 24}/tags", json=["x" * (length + 1)]))
    assert c.post("/task/imageannotation", json={"tags": ["x" * length]}).status_code == 200


def _basic(key: str) -> str:
    return "Basic " + base64.b64encode(f"{key}:".encode()).decode()


@pytest.mark.parametrize("order", ["bad-first", "good-first", "both-good"])
def test_two_authorization_headers_are_refused(server, api_key, order):
    good, bad = _basic(api_key), _basic("wrong-key")
    first, second = {"bad-first": (bad, good), "good-first": (good, bad), "both-good": (good, good)}[order]
    r = httpx.get(server.url + "/projects", headers=[("Authorization", first), ("Authorization", second)])
    assert "Authorization" in scale_error(r, 400)


@pytest.mark.parametrize("header", ["Content-Type", "Idempotency-Key", "Host"])
def test_other_single_headers_given_twice_are_refused(server, api_key, header):
    twice = f"{header}: a\r\n{header}: b\r\n".encode()
    status, headers, body = raw_request(server, b"POST /v1/task/imageannotation HTTP/1.1\r\nAuthorization: "
                                        + _basic(api_key).encode() + b"\r\nContent-Length: 2\r\nConnection: close\r\n"
                                        + twice + b"\r\n{}")
    assert status == 400 and headers["content-type"] == "application/json"
    assert header in orjson.loads(body)["error"]


def raw_request(handle, data: bytes) -> tuple[int, dict[str, str], bytes]:
    with socket.create_connection(("127.0.0.1", handle.port), timeout=10) as s:
        s.sendall(data)
        out = b""
        while True:
            chunk = s.recv(65536)
            if not chunk:
                break
            out += chunk
    head, _, body = out.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    headers = {k.strip().lower(): v.strip() for k, _, v in (ln.partition(":") for ln in lines[1:])}
    return int(lines[0].split()[1]), headers, body


@pytest.mark.parametrize("request_bytes", [
    b"GET /v1/projects?x=" + b"a" * 70_000 + b" HTTP/1.1\r\nHost: x\r\n\r\n",
    b"GARBAGE\r\n\r\n",
    b"GET /v1/projects HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
    b"GET /v1/projects HTTP/1.1\r\nHost: x\r\nBad Header\r\n\r\n",
], ids=["70KB-request-line", "garbage", "length-and-chunked", "malformed-header"])
def test_requests_uvicorn_refuses_get_the_scale_error_shape(server, request_bytes):
    status, headers, body = raw_request(server, request_bytes)
    assert status == 400 and headers["content-type"].startswith("application/json"), (status, headers, body)
    got = orjson.loads(body)
    assert set(got) == {"status_code", "error"} and got["status_code"] == 400 and got["error"]


def test_attachment_urls_and_redirects_ignore_the_host_header(server, c):
    evil = {"Host": "evil.example:1"}
    t = c.get("/tasks", params={"limit": 1, "project": "Street Scenes"}, headers=evil).json()["docs"][0]
    assert t["params"]["attachment"].startswith(server.origin + "/v1/media/")
    assert c.get(f"/task/{t['task_id']}", headers=evil).json()["params"]["attachment"].startswith(server.origin)
    r = c.get("/tasks/", headers=evil)
    assert r.status_code == 307 and r.headers["location"] == server.origin + "/v1/tasks"
    spec = c.get("/openapi.json", headers=evil).json()
    assert spec["servers"] == [{"url": server.url}]
