"""Abuse: SQL-injection strings in every parameter, missing / wrong keys on every route,
oversized bodies on every write, a flood on one key. Nothing leaks, nothing changes."""

from __future__ import annotations

import hashlib
from urllib.parse import quote
import httpx
import pytest

from tasktui.domain.wire import LIST_PARAMS
from tasktui.server import start_server_thread
from tasktui.server.openapi import build

INJECTIONS = [
    "' OR '1'='1",
    "'; DROP TABLE tasks; --",
    '" OR ""="',
    "1; SELECT * FROM sqlite_master",
    "%' UNION SELECT doc FROM docs --",
    "\\' OR 1=1 /*",
    "*/ OR 1=1 --",
    "' || (SELECT group_concat(key) FROM idempotency) || '",
    "\x00' OR 1=1",
    "_%",
]


def routes() -> list[tuple[str, str]]:
    spec = build("http://x/v1")
    out = []
    for path, ops in spec["paths"].items():
        concrete = path.replace("{task_id}", "6b000054000000aaaaaaaaaa").replace("{name}", "street-batch-01")
        if "/media/" in path:
            concrete = concrete.replace("{name}", "image.png")
        for method in ops:
            out.append((method.upper(), "/v1" + concrete))
    return out


def digest(sql, handle) -> str:
    h = hashlib.sha256()
    for table in ("tasks", "docs", "task_tags", "counts", "projects", "batches", "idempotency"):
        for row in sql(handle, f"SELECT * FROM {table} ORDER BY 1, 2"):
            h.update(repr(row).encode())
    return h.hexdigest()


#: List parameters that take free text: an injection there is a name no task has.
TEXT_FILTERS = {"project", "batch", "type", "tags", "unique_id", "search"}


def test_injection_in_every_list_parameter(server, sql):
    before = digest(sql, server)
    n_tasks = sql(server, "SELECT COUNT(*) FROM tasks")[0][0]
    assert TEXT_FILTERS < set(LIST_PARAMS)
    with httpx.Client(base_url=server.url, auth=(server.api_key, ""), timeout=30) as c:
        for name in LIST_PARAMS:
            for bad in INJECTIONS:
                r = c.get("/tasks", params={name: bad})
                body = r.json()
                if name in TEXT_FILTERS:
                    # a text filter compared as data: nothing matches, nothing leaks
                    assert r.status_code == 200 and body["total"] == 0 and body["docs"] == [], (name, bad)
                else:  # not a valid value of a typed parameter: refused, naming it
                    assert r.status_code == 400 and name in body["error"], (name, bad, body)
                low = r.text.lower()
                assert not any(w in low for w in ("syntax error", "operationalerror", "no such column",
                                                  "unrecognized token", "traceback")), (name, bad, r.text)
        # and in path segments
        for bad in INJECTIONS:
            for method, path in (("GET", "/task/{}"), ("POST", "/task/{}/cancel"), ("GET", "/batches/{}/status"),
                                 ("GET", "/batches/{}"), ("GET", "/media/{}/image.png")):
                r = c.request(method, path.format(quote(bad, safe="")))
                assert r.status_code == 404, (method, path, bad, r.text)
        assert digest(sql, server) == before  # no row of any table changed
        # and in bodies: a tag is stored and matched as data
        tid = sql(server, "SELECT task_id FROM tasks WHERE ostatus='queued' LIMIT 1")[0][0]
        for bad in INJECTIONS:
            r = c.post(f"/task/{tid}/tags", json=[bad])
            if "\x00" in bad:  # a tag is a name: control characters are refused (issue 13.12)
                assert r.status_code == 400 and "tags" in r.json()["error"]
                continue
            assert r.status_code == 200 and r.json()["tags"] == [bad]
            r = c.get("/tasks", params={"tags": bad})
            assert [d["task_id"] for d in r.json()["docs"]] == [tid]
            assert c.post(f"/task/{tid}/tags", json=[]).status_code == 200
    assert sql(server, "SELECT COUNT(*) FROM tasks")[0][0] == n_tasks
    assert sql(server, "PRAGMA integrity_check") == [("ok",)]
    assert {n for (n,) in sql(server, "SELECT name FROM sqlite_master WHERE type='table'")} >= {
        "tasks", "docs", "task_tags", "counts", "projects", "batches", "idempotency"}


@pytest.mark.parametrize("method,path", routes())
@pytest.mark.parametrize("auth", [None, ("nope", "")])
def test_every_route_needs_the_key(shared_server, method, path, auth):
    r = httpx.request(method, shared_server.origin + path, auth=auth, json=[] if method != "GET" else None)
    assert r.status_code == 401, (method, path, r.status_code)
    assert r.json()["status_code"] == 401
    assert r.headers["www-authenticate"].startswith("Basic")


@pytest.fixture(scope="module")
def capped(tmp_path_factory, api_key):
    h = start_server_thread(tmp_path_factory.mktemp("capped") / "c.db", [api_key], max_body=2048)
    yield h
    h.stop()


@pytest.mark.parametrize("method,path", [rp for rp in routes() if rp[0] in ("POST", "PUT", "DELETE")])
def test_every_write_caps_the_body(capped, method, path):
    h = capped
    r = httpx.request(method, h.origin + path.replace("6b000054000000aaaaaaaaaa", "imageannotation")
                      if path.endswith("/task/6b000054000000aaaaaaaaaa") else h.origin + path,
                      auth=(h.api_key, ""), content=b'{"x": "' + b"a" * 10_000 + b'"}',
                      headers={"content-type": "application/json"})
    assert r.status_code == 413 and "2048" in r.json()["error"]


def test_flood_on_one_key_is_throttled_not_the_other(server_factory):
    h = server_factory(n=0, rate_limit=20, keys=["key-a", "key-b"])
    with httpx.Client(base_url=h.url, timeout=30) as c:
        codes = [c.get("/projects", auth=("key-a", "")).status_code for _ in range(200)]
        other = c.get("/projects", auth=("key-b", ""))
    assert codes.count(429) > 100 and codes[0] == 200
    assert other.status_code == 200
