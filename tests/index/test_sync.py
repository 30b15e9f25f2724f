"""Syncing through the public contract (the bundled server behind
``FaultProxy(public_contract=True)``): the index answers every filter exactly as the
bundled server answers for the source data (property-style over random queries, both
answered by the server's own HTTP listing — one over the source database, one over the
index file); a delta sync after accepts, cancels, new tasks and a narrowed scope gives
the same index as a fresh one; a second sync of an unchanged source costs one request.
Every request the public API would refuse fails the test."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tasktui.domain import OperatorStatus, to_wire_time
from tasktui.index.scope import SyncScope
from tasktui.server import start_server_thread
from tasktui.testing import FaultProxy

from .conftest import ALL_INDEXES, COUNTS, dump, indexes_of, read_sql, recounted, sync_into

OSTATUS = [s.value for s in OperatorStatus]
REVIEWS = ["pending", "accepted", "fixed", "rejected"]


@pytest.fixture(scope="module")
def synced(shared_server, tmp_path_factory):
    """The shared server's tasks synced into an index through the public gate, and the
    bundled server started over that index file."""
    path = tmp_path_factory.mktemp("idx") / "index.sqlite"
    with FaultProxy(shared_server.url, public_contract=True).running() as proxy:
        asyncio.run(sync_into(path, proxy.url, shared_server.api_key))
        assert proxy.refused == []
    handle = start_server_thread(path, [shared_server.api_key])
    yield path, handle
    handle.stop()


def _listing(handle, params: list[tuple[str, str]]) -> tuple[list[dict], int]:
    """Every task the server lists for ``params`` (following next_token), and its total."""
    docs: list[dict] = []
    token = None
    total = -1
    with httpx.Client(base_url=handle.url, auth=(handle.api_key, ""), timeout=30) as c:
        while True:
            r = c.get("/tasks", params=[*params, ("page_size", "1000"), *([("next_token", token)] if token else [])])
            assert r.status_code == 200, r.text
            body = r.json()
            docs += body["docs"]
            total = body["total"] if total < 0 else total
            if not body.get("has_more"):
                return docs, total
            token = body["next_token"]


def test_the_index_holds_every_task_once(synced, shared_server, sql):
    path, _ = synced
    want = sorted(r[0] for r in sql(shared_server, "SELECT task_id FROM tasks"))
    assert [r[0] for r in read_sql(path, "SELECT task_id FROM tasks ORDER BY task_id")] == want
    assert read_sql(path, COUNTS) == recounted(path)


@pytest.fixture(scope="module")
def vocabulary(shared_server, seed_now):
    """Values to draw queries from, read from the source database."""
    import sqlite3

    c = sqlite3.connect(shared_server.db_path)
    try:
        one = lambda q: [r[0] for r in c.execute(q)]  # noqa: E731
        return {
            "projects": one("SELECT DISTINCT project FROM tasks ORDER BY 1"),
            "batches": one("SELECT DISTINCT batch FROM tasks WHERE batch != '' ORDER BY 1"),
            "types": one("SELECT DISTINCT type FROM tasks ORDER BY 1"),
            "tags": one("SELECT DISTINCT tag FROM task_tags ORDER BY 1"),
            "ids": one("SELECT task_id FROM tasks ORDER BY id LIMIT 200"),
            "uids": one("SELECT unique_id FROM tasks WHERE unique_id IS NOT NULL ORDER BY id LIMIT 200"),
            "now": seed_now,
        }
    finally:
        c.close()


@st.composite
def list_params(draw, vocab):
    p: list[tuple[str, str]] = []
    pick = lambda name, k: draw(st.lists(st.sampled_from(vocab[name]), max_size=k, unique=True))  # noqa: E731
    sts = draw(st.lists(st.sampled_from(OSTATUS), max_size=3, unique=True))
    if sts:
        p.append(("status", ",".join(sts)))
    rv = draw(st.lists(st.sampled_from(REVIEWS), max_size=2, unique=True))
    if rv:
        p.append(("customer_review_status", ",".join(rv)))
    p += [("project", v) for v in pick("projects", 2)]
    p += [("batch", v) for v in pick("batches", 1)]
    p += [("type", v) for v in pick("types", 2)]
    p += [("tags", v) for v in pick("tags", 1)]
    if draw(st.booleans()):
        src = draw(st.sampled_from(vocab["ids"] + vocab["uids"]))
        p.append(("search", src[: draw(st.integers(1, 4))].upper() if draw(st.booleans()) else
                  src[: draw(st.integers(1, 4))]))
    day = timedelta(days=1)
    for lo_name, hi_name in (("start_time", "end_time"), ("completed_after", "completed_before"),
                             ("updated_after", "updated_before")):
        if draw(st.integers(0, 3)) == 0:
            a = draw(st.integers(0, 95 * 24))
            b = a + draw(st.integers(1, 40 * 24))
            t0 = vocab["now"] - 92 * day
            p.append((lo_name, to_wire_time(t0 + timedelta(hours=a))))
            if draw(st.booleans()):
                p.append((hi_name, to_wire_time(t0 + timedelta(hours=b))))
    if draw(st.booleans()):
        p.append(("order", "asc"))
    return p


def test_random_queries_answer_alike_on_the_index_and_the_source(synced, shared_server, vocabulary):
    _, index_server = synced

    @settings(max_examples=60, deadline=None, database=None,
              suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
    @given(list_params(vocabulary))
    def check(params):
        want_docs, want_total = _listing(shared_server, params)
        got_docs, got_total = _listing(index_server, params)
        assert got_total == want_total == len(want_docs), params
        assert [d["task_id"] for d in got_docs] == [d["task_id"] for d in want_docs], params
        assert got_docs == want_docs, params  # the documents too, field for field

    check()


# -- delta ----------------------------------------------------------------------------

def _api(handle):
    return httpx.Client(base_url=handle.url, auth=(handle.api_key, ""), timeout=30)


def _change(handle, sql) -> dict[str, list[str]]:
    """Accept two tasks awaiting audit, cancel two queued ones, create three: through the
    bundled server's own API. Returns the ids touched."""
    ready = [r[0] for r in sql(handle, "SELECT task_id FROM tasks WHERE ostatus='completed' AND review='pending' "
                                       "ORDER BY id LIMIT 2")]
    queued = [r[0] for r in sql(handle, "SELECT task_id FROM tasks WHERE ostatus='queued' ORDER BY id LIMIT 2")]
    made = []
    with _api(handle) as c:
        for tid in ready:
            assert c.post(f"/task/{tid}/audit", json={"accepted": True}).status_code == 200
        for tid in queued:
            assert c.post(f"/task/{tid}/cancel").status_code == 200
        for i in range(3):
            r = c.post("/task/categorization", json={"project": "Street Scenes", "tags": ["fresh"],
                                                     "unique_id": f"fresh-{i}"})
            assert r.status_code == 200, r.text
            made.append(r.json()["task_id"])
    assert len(ready) == 2 and len(queued) == 2
    return {"accepted": ready, "canceled": queued, "made": made}


async def test_a_delta_after_accepts_cancels_and_new_tasks_equals_a_fresh_sync(server, public_proxy, sql, tmp_path):
    proxy = await public_proxy(server)
    kept, fresh = tmp_path / "kept.sqlite", tmp_path / "fresh.sqlite"
    await sync_into(kept, proxy.url, server.api_key)
    touched = _change(server, sql)
    proxy.reset_stats()
    result = await sync_into(kept, proxy.url, server.api_key)
    assert not result.first and result.delta >= 7  # the seven changed tasks were read again
    await sync_into(fresh, proxy.url, server.api_key)
    assert dump(kept) == dump(fresh)
    got = dict(read_sql(kept, "SELECT task_id, ostatus || '/' || review FROM tasks"))
    assert [got[t] for t in touched["accepted"]] == ["completed/accepted"] * 2
    assert [got[t] for t in touched["canceled"]] == ["canceled/"] * 2
    assert all(got[t] == "queued/" for t in touched["made"])
    assert read_sql(kept, "SELECT COUNT(*) FROM tasks") == sql(server, "SELECT COUNT(*) FROM tasks")
    assert proxy.refused == []


async def test_a_delta_when_nothing_changed_is_one_request(server, public_proxy, tmp_path):
    proxy = await public_proxy(server)
    path = tmp_path / "i.sqlite"
    await sync_into(path, proxy.url, server.api_key)
    before = dump(path)
    proxy.reset_stats()
    result = await sync_into(path, proxy.url, server.api_key)
    assert (result.first, result.delta) == (False, 0)
    assert len(proxy.log) == 1, [s.request_line for s in proxy.log]
    assert "updated_after=" in proxy.log[0].request_line
    assert dump(path) == before


async def test_a_narrowed_scope_with_prune_equals_a_fresh_sync_of_it(server, public_proxy, sql, tmp_path, seed_now):
    proxy = await public_proxy(server)
    projects = [r[0] for r in sql(server, "SELECT project FROM tasks GROUP BY 1 ORDER BY COUNT(*) DESC LIMIT 2")]
    lo, hi = seed_now - timedelta(days=60), seed_now - timedelta(days=20)
    wide = SyncScope(tuple(projects))
    narrow = SyncScope(projects[:1], lo, hi)
    kept, fresh = tmp_path / "kept.sqlite", tmp_path / "fresh.sqlite"
    await sync_into(kept, proxy.url, server.api_key, wide)
    wide_n = sql(server, "SELECT COUNT(*) FROM tasks WHERE project IN (?, ?)", *projects)
    assert read_sql(kept, "SELECT COUNT(*) FROM tasks") == wide_n
    await sync_into(kept, proxy.url, server.api_key, narrow)  # without --prune: nothing is dropped
    assert read_sql(kept, "SELECT COUNT(*) FROM tasks") == wide_n
    result = await sync_into(kept, proxy.url, server.api_key, narrow, prune=True)
    assert result.pruned > 0
    await sync_into(fresh, proxy.url, server.api_key, narrow)
    assert dump(kept) == dump(fresh)
    want = sql(server, "SELECT COUNT(*) FROM tasks WHERE project = ? AND created_at >= ? AND created_at < ?",
               projects[0], round(lo.timestamp() * 1000), round(hi.timestamp() * 1000))
    assert read_sql(kept, "SELECT COUNT(*) FROM tasks") == want and want[0][0] > 0
    assert read_sql(kept, "SELECT COUNT(*) FROM sync_state") == [(1,)]
    assert proxy.refused == []


async def test_a_sync_of_many_tasks_leaves_every_index_of_the_schema(shared_server, public_proxy, tmp_path):
    """An initial read of 1,000 tasks or more writes without the ten indexes that only
    answer queries and builds them after; the index it leaves has every one (a missing
    one makes every view of that filter a full scan). Oracle: a literal list of names."""
    proxy = await public_proxy(shared_server)
    path = tmp_path / "idx.sqlite"
    result = await sync_into(path, proxy.url, shared_server.api_key)
    assert result.initial == 1500
    assert indexes_of(path) == ALL_INDEXES
