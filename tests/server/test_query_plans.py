"""Complexity checks on the SQL behind ``GET /v1/tasks`` (no wall-clock assertions):
every common view walks an index in page order (no sort of all matches), its total
comes from the maintained counts table, and a deep page costs what the first one does."""

from __future__ import annotations

import sqlite3

import pytest

from tasktui.server import db as dbm
from tasktui.server.queries import _page_sql, count_total, encode_token, fetch_page, parse_list_query

VIEWS = {
    "no filter": [],
    "one status": [("status", "completed")],
    "status + audit + range": [("status", "completed"), ("customer_review_status", "accepted"),
                               ("start_time", "2026-10-01T07:00:00Z"), ("end_time", "2026-11-01T08:00:00Z")],
    "project + batch": [("project", "Street Scenes"), ("batch", "street-batch-02")],
    "audit only": [("customer_review_status", "rejected")],
    "type": [("type", "lidarannotation")],
    "oldest first": [("order", "asc")],
}


@pytest.fixture(scope="module")
def conn(seeded_db_template):
    c = dbm.connect(seeded_db_template)
    yield c
    c.close()


@pytest.mark.parametrize("name", list(VIEWS))
def test_page_walks_an_index_in_order(conn, name):
    q = parse_list_query(VIEWS[name])
    sql, args = _page_sql(q, None, 101)
    plan = " | ".join(r[3] for r in conn.execute("EXPLAIN QUERY PLAN " + sql, args))
    assert "USING" in plan and "INDEX" in plan, plan
    assert "TEMP B-TREE" not in plan, plan


@pytest.mark.parametrize("name", list(VIEWS))
def test_total_reads_the_counts_table(conn, name):
    q = parse_list_query(VIEWS[name])
    seen: list[str] = []
    conn.set_trace_callback(seen.append)
    try:
        total = count_total(conn, q)
    finally:
        conn.set_trace_callback(None)
    # whole days from counts; at most the two partial edge days counted on tasks
    on_tasks = [s for s in seen if "FROM tasks" in s]
    assert any("FROM counts" in s for s in seen)
    assert len(on_tasks) <= 2 and all("created_at >=" in s and "created_at <" in s for s in on_tasks)
    where, args = [], []
    from tasktui.server.queries import base_where
    where, args = base_where(q)
    exact = conn.execute(f"SELECT COUNT(*) FROM tasks {'WHERE ' + ' AND '.join(where) if where else ''}",
                         args).fetchone()[0]
    assert total == exact > 0


def vm_steps(conn: sqlite3.Connection, fn) -> int:
    steps = [0]

    def tick():
        steps[0] += 1
        return 0
    conn.set_progress_handler(tick, 100)
    try:
        fn()
    finally:
        conn.set_progress_handler(None, 0)
    return steps[0]


@pytest.mark.parametrize("params", [[], [("status", "completed")], [("project", "Street Scenes")],
                                    [("status", "queued,in_progress")]])
def test_deep_page_costs_what_the_first_does(conn, params):
    q = parse_list_query(params + [("limit", "20")])
    total = count_total(conn, q)
    first = vm_steps(conn, lambda: fetch_page(conn, q, total))
    rows, _ = fetch_page(conn, q, total)
    token = None
    pages = 0
    while True:
        qq = parse_list_query(params + [("limit", "20")] + ([("next_token", token)] if token else []))
        rows, more = fetch_page(conn, qq, total)
        pages += 1
        if not more:
            break
        token = encode_token(rows[-1][1], rows[-1][2], "desc")
        last_q = parse_list_query(params + [("limit", "20"), ("next_token", token)])
    deep = vm_steps(conn, lambda: fetch_page(conn, last_q, total))
    assert pages >= 5
    assert deep <= first * 1.5 + 5, (first, deep)
