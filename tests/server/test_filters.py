"""Every filter, alone and combined, checked against the database: the server's answer
(all pages, in order, with ``total``) must equal the ids SQL written in ``tests/sql_oracle.py`` reads from the ``tasks`` table
(not ``TaskQuery.matches``, which is the client's own copy of the semantics)."""

from __future__ import annotations

import random
import sqlite3
from datetime import timedelta

import httpx
import orjson
import pytest

from tasktui.domain import (
    EXT_MULTI,
    EXT_OPERATOR_STATUS,
    EXT_ORDER,
    EXT_SEARCH,
    AuditStatus,
    DateField,
    OperatorStatus,
    SortOrder,
    Task,
    TaskQuery,
)
from sql_oracle import epoch_ms, expected_ids
from tasktui.server.content import PROJECTS

EXT = {EXT_OPERATOR_STATUS, EXT_ORDER, EXT_SEARCH, EXT_MULTI}


@pytest.fixture(scope="module")
def tasks(shared_server) -> list[Task]:
    conn = sqlite3.connect(shared_server.db_path)
    try:
        return [Task(orjson.loads(d)) for (d,) in conn.execute("SELECT doc FROM docs")]
    finally:
        conn.close()


@pytest.fixture(scope="module")
def c(shared_server, api_key):
    with httpx.Client(base_url=shared_server.url, auth=(api_key, ""), timeout=30) as client:
        yield client


def fetch_all(c: httpx.Client, params: list[tuple[str, str]]) -> tuple[list[dict], int]:
    out: list[dict] = []
    token = None
    totals = set()
    for _ in range(400):
        p = [kv for kv in params if kv[0] != "next_token"] + ([("next_token", token)] if token else [])
        r = c.get("/tasks", params=p)
        assert r.status_code == 200, r.text
        body = r.json()
        assert set(body) == {"docs", "total", "limit", "offset", "has_more", "next_token"}
        assert body["has_more"] == (body["next_token"] is not None)
        totals.add(body["total"])
        out.extend(body["docs"])
        token = body["next_token"]
        if not token:
            break
    assert len(totals) == 1
    return out, totals.pop()


@pytest.fixture(scope="module")
def db(shared_server):
    return shared_server.db_path


def check(c, db, q: TaskQuery, limit: int = 100) -> int:
    docs, total = fetch_all(c, q.wire_params(EXT, limit=limit))
    want = expected_ids(db, q)
    assert [d["task_id"] for d in docs] == want, q
    assert total == len(want), q
    for d in docs:
        assert None not in d.values()
    return total


def rnd_range(rng: random.Random, now):
    a = now - timedelta(days=rng.uniform(0, 95), minutes=rng.randint(0, 1440))
    b = a + timedelta(days=rng.uniform(0.01, 40))
    return a, b


def test_no_filter_small_pages(c, db, tasks):
    assert check(c, db, TaskQuery(), limit=37) == len(tasks)


@pytest.mark.parametrize("status", list(OperatorStatus))
def test_each_operator_status(c, db, tasks, status):
    assert check(c, db, TaskQuery(statuses=frozenset({status}))) > 0


@pytest.mark.parametrize("audit", list(AuditStatus))
def test_each_audit_status(c, db, tasks, audit):
    assert check(c, db, TaskQuery(audit_statuses=frozenset({audit}))) > 0


@pytest.mark.parametrize("project", [p["name"] for p in PROJECTS])
def test_each_project_oldest_first(c, db, tasks, project):
    assert check(c, db, TaskQuery(projects=(project,), order=SortOrder.OLDEST)) > 0


def test_ranges_on_both_date_fields(c, db, tasks, seed_now):
    for field in DateField:
        for days in (1, 7, 30):
            q = TaskQuery(date_field=field, start=seed_now - timedelta(days=days, hours=3),
                          end=seed_now - timedelta(hours=5))
            assert check(c, db, q) > 0
    # ends on exact task timestamps: the start's task is in, the end's task is out
    by_created = sorted(tasks, key=lambda t: t.created_at)
    done = sorted((t for t in tasks if t.completed_at), key=lambda t: t.completed_at)
    assert check(c, db, TaskQuery(start=by_created[100].created_at, end=by_created[400].created_at)) > 0
    assert check(c, db, TaskQuery(date_field=DateField.COMPLETED, start=done[10].completed_at,
                                  end=done[-30].completed_at)) > 0


def test_search_tags_types_and_multi_values(c, db, tasks):
    some = next(t for t in tasks if t.unique_id)
    assert check(c, db, TaskQuery(search=some.unique_id[:-2].upper())) >= 1
    assert check(c, db, TaskQuery(search=tasks[0].task_id[:6])) >= 1
    assert check(c, db, TaskQuery(search="zz-no-such")) == 0
    assert check(c, db, TaskQuery(tags=("hostile-text",))) > 0
    assert check(c, db, TaskQuery(types=("categorization", "transcription"))) > 0
    assert check(c, db, TaskQuery(projects=("Street Scenes", "Café Menü ✨"),
                                     batches=("street-batch-03", "cafe-batch-03", "lidar-batch-01"))) > 0


def test_random_combinations(c, db, tasks, seed_now):
    rng = random.Random(20261120)
    projects = [p["name"] for p in PROJECTS]
    nonzero = 0
    for _ in range(40):
        kw: dict = {}
        if rng.random() < 0.5:
            kw["statuses"] = frozenset(rng.sample(list(OperatorStatus), rng.randint(1, 3)))
        if rng.random() < 0.4:
            kw["audit_statuses"] = frozenset(rng.sample(list(AuditStatus), rng.randint(1, 2)))
        if rng.random() < 0.4:
            kw["projects"] = tuple(rng.sample(projects, rng.randint(1, 2)))
        if rng.random() < 0.3:
            p = rng.choice(PROJECTS)
            kw["batches"] = (f"{p['slug']}-batch-{rng.randint(1, 3):02d}",)
        if rng.random() < 0.2:
            kw["types"] = (rng.choice(PROJECTS)["type"],)
        if rng.random() < 0.2:
            kw["tags"] = tuple(rng.sample(["night", "rain", "urban", "vip", "qa-sample"], rng.randint(1, 2)))
        if rng.random() < 0.5:
            kw["date_field"] = rng.choice(list(DateField))
            kw["start"], kw["end"] = rnd_range(rng, seed_now)
            if rng.random() < 0.3:
                kw["end"] = None
        if rng.random() < 0.1:
            kw["search"] = rng.choice(tasks).task_id[: rng.randint(3, 8)]
        kw["order"] = rng.choice(list(SortOrder))
        nonzero += check(c, db, TaskQuery(**kw), limit=rng.choice([9, 50, 100])) > 0
    assert nonzero >= 10


def test_standard_wire_params_as_the_sdk_sends_them(c, sql, shared_server):
    docs, total = fetch_all(c, [("status", "pending"), ("project", "Street Scenes"),
                                ("include_attachment_url", "True"), ("limited_response", "True")])
    want = {r[0] for r in sql(shared_server, "SELECT task_id FROM tasks WHERE project = 'Street Scenes' "
                                             "AND ostatus IN ('queued', 'in_progress', 'redo')")}
    assert want
    assert {d["task_id"] for d in docs} == want and total == len(want)
    assert all(set(d) <= {"task_id", "status", "metadata", "project"} for d in docs)


def test_updated_after_as_the_store_polls(c, tasks, sql, shared_server):
    newest = max(t.updated_at for t in tasks)
    docs, total = fetch_all(c, [("updated_after", (newest - timedelta(hours=2)).isoformat())])
    since = epoch_ms(newest - timedelta(hours=2))
    want = {r[0] for r in sql(shared_server, "SELECT task_id FROM tasks WHERE updated_at >= ?", since)}
    assert {d["task_id"] for d in docs} == want and total == len(want) > 0
