"""The public-contract mode of the fault proxy: the bundled server behind it behaves as the
real Scale API would (no extensions header, standard parameters only, limit <= 100, wire
statuses only, no Fix), optionally with a per-request latency. Requests are made with plain
httpx so the gate is checked independently of tasktui's client; then tasktui's client is
run through it and must never send a request the public API would refuse."""

from __future__ import annotations

import time

import httpx
import pytest

from sql_oracle import expected_ids
from tasktui.api import TaskClient
from tasktui.domain import AuditStatus, OperatorStatus, TaskQuery

REFUSED = [
    ({"status": "queued"}, "status must be one of"),
    ({"status": "pending,completed"}, "status must be one of"),
    ({"limit": "101"}, "limit must be a whole number from 1 to 100"),
    ({"limit": "0"}, "limit must be a whole number"),
    ({"order": "asc"}, "order is not a parameter"),
    ({"search": "abc"}, "search is not a parameter"),
    ({"page_size": "1000"}, "page_size is not a parameter"),
    ([("project", "a"), ("project", "b")], "project may be given once"),
    ({"customer_review_status": "pending,bogus"}, "'bogus' is not a review status"),
    ({"include_attachment_url": "yes"}, "include_attachment_url must be True or False"),
]
ACCEPTED = [
    {"status": "pending"},
    {"customer_review_status": "accepted,fixed"},
    [("tags", "a"), ("tags", "b")],
    {"limit": "100", "include_attachment_url": "False", "start_time": "2026-10-01"},
]


@pytest.fixture
async def public(shared_server, proxy_for):
    return await proxy_for(shared_server, public_contract=True)


@pytest.mark.parametrize("params,why", REFUSED)
async def test_the_gate_refuses_what_the_public_api_would_with_a_scale_400(public, api_key, params, why):
    async with httpx.AsyncClient() as c:
        r = await c.get(f"{public.url}/tasks", params=params, auth=(api_key, ""))
    assert r.status_code == 400
    body = r.json()
    assert body["status_code"] == 400 and why in body["error"]
    assert len(public.refused) == 1 and why in public.refused[0]


@pytest.mark.parametrize("params", ACCEPTED)
async def test_standard_requests_pass_and_lose_the_extensions_header(public, shared_server, api_key, params):
    async with httpx.AsyncClient() as c:
        direct = await c.get(f"{shared_server.url}/tasks", params=params, auth=(api_key, ""))
        r = await c.get(f"{public.url}/tasks", params=params, auth=(api_key, ""))
    assert direct.status_code == 200 and "x-tasktui-extensions" in direct.headers
    assert r.status_code == 200 and "x-tasktui-extensions" not in r.headers
    assert r.json()["total"] == direct.json()["total"]
    assert public.refused == []


async def test_fix_is_refused_but_accept_passes(server, proxy_for, api_key, sql):
    public = await proxy_for(server, public_contract=True)
    (task_id,), = sql(server, "SELECT task_id FROM tasks WHERE ostatus = 'completed' AND review = 'pending' LIMIT 1")
    async with httpx.AsyncClient() as c:
        fix = await c.post(f"{public.url}/task/{task_id}/audit", auth=(api_key, ""),
                           json={"accepted": True, "response": {"x": 1}})
        assert fix.status_code == 400 and "not part of the public API" in fix.json()["error"]
        assert sql(server, "SELECT review FROM tasks WHERE task_id = ?", task_id) == [("pending",)]
        ok = await c.post(f"{public.url}/task/{task_id}/audit", auth=(api_key, ""), json={"accepted": True})
    assert ok.status_code == 200
    assert sql(server, "SELECT review FROM tasks WHERE task_id = ?", task_id) == [("accepted",)]


async def test_latency_is_added_to_every_request(shared_server, proxy_for, api_key):
    slow = await proxy_for(shared_server, public_contract=True, latency=0.25)
    async with httpx.AsyncClient() as c:
        t0 = time.monotonic()
        for _ in range(3):
            assert (await c.get(f"{slow.url}/tasks", params={"limit": "1"}, auth=(api_key, ""))).status_code == 200
    assert time.monotonic() - t0 >= 0.75


QUERIES = [
    TaskQuery(),
    *(TaskQuery(statuses=frozenset({s})) for s in OperatorStatus),
    *(TaskQuery(audit_statuses=frozenset({a})) for a in AuditStatus),
    TaskQuery(statuses=frozenset({OperatorStatus.QUEUED, OperatorStatus.COMPLETED})),
    TaskQuery(audit_statuses=frozenset({AuditStatus.ACCEPTED, AuditStatus.FIXED})),
    TaskQuery(projects=("Street Scenes", "Retail Shelves")),
    TaskQuery(search="6"),
    TaskQuery(tags=("hostile-text",)),
]


@pytest.mark.parametrize("query", QUERIES, ids=lambda q: ",".join(q.active_filters()) or "all")
async def test_tasktuis_client_sends_nothing_the_public_api_would_refuse(public, shared_server, api_key, query):
    want = expected_ids(shared_server.db_path, query)
    async with TaskClient(public.url, api_key) as c:
        await c.discover()
        assert c.extensions == frozenset()
        page = await c.list_tasks(query, limit=100)
        count = await c.count(query)
    assert public.refused == []
    # and the answers are right, not merely allowed (ids and count by SQL)
    assert [t.task_id for t in page.tasks] == want[:len(page.tasks)] and page.tasks
    assert count == (len(want), True)
