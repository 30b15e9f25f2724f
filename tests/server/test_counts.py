"""The maintained count tables behind ``total`` stay exact through every kind of write."""

from __future__ import annotations

import httpx

FRESH_COUNTS = ("SELECT created_at / 86400000, ostatus, review, project, batch, type, COUNT(*) FROM tasks "
                "GROUP BY 1, 2, 3, 4, 5, 6")
FRESH_TAGS = ("SELECT t.created_at / 86400000, g.tag, t.ostatus, t.review, t.project, t.batch, t.type, COUNT(*) "
              "FROM task_tags g JOIN tasks t ON t.id = g.id GROUP BY 1, 2, 3, 4, 5, 6, 7")


def assert_counts_exact(sql, h):
    assert sorted(sql(h, FRESH_COUNTS)) == sorted(sql(h, "SELECT day, ostatus, review, project, batch, type, n "
                                                         "FROM counts WHERE n > 0"))
    assert sorted(sql(h, FRESH_TAGS)) == sorted(sql(h, "SELECT day, tag, ostatus, review, project, batch, type, n "
                                                       "FROM tag_counts WHERE n > 0"))


def test_counts_follow_writes(server, sql):
    assert_counts_exact(sql, server)
    ids = lambda where, n: [r[0] for r in sql(server, f"SELECT task_id FROM tasks WHERE {where} LIMIT {n}")]  # noqa: E731
    with httpx.Client(base_url=server.url, auth=(server.api_key, ""), timeout=30) as c:
        for tid in ids("ostatus='queued'", 5):
            assert c.post(f"/task/{tid}/cancel").status_code == 200
        for k, tid in enumerate(ids("ostatus='completed' AND review='pending'", 9)):
            body = [{"accepted": True}, {"accepted": False}, {"response": {"category": "x"}}][k % 3]
            assert c.post(f"/task/{tid}/audit", json=body).status_code == 200
        tagged = ids("id IN (SELECT id FROM task_tags)", 6)
        for k, tid in enumerate(tagged):
            method = ["POST", "PUT", "DELETE"][k % 3]
            assert c.request(method, f"/task/{tid}/tags", json=["night", "brand-new"]).status_code == 200
        new = c.post("/task/categorization", json={"project": "Support Tickets", "batch": "tickets-batch-03",
                                                     "tags": ["night", "fresh"]})
        assert new.status_code == 200
        # the API's totals agree with a direct count, for a tag alone and a tag with filters
        for params in ({"tags": "night"}, {"tags": "brand-new"}, {"tags": "night", "status": "canceled"},
                       {"tags": "night", "project": "Support Tickets", "start_time": "2026-10-03T05:00:00Z"}):
            got = c.get("/tasks", params={**params, "limit": 1}).json()["total"]
            where = ["id IN (SELECT id FROM task_tags WHERE tag = ?)"]
            args = [params["tags"]]
            if "status" in params:
                where.append("ostatus = ?")
                args.append(params["status"])
            if "project" in params:
                where += ["project = ?", "created_at >= 1791003600000"]
                args.append(params["project"])
            assert got == sql(server, f"SELECT COUNT(*) FROM tasks WHERE {' AND '.join(where)}", *args)[0][0] > 0
    assert_counts_exact(sql, server)


def test_template_counts_are_exact(shared_server, sql):
    assert_counts_exact(sql, shared_server)
