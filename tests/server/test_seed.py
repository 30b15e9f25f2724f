"""Demo data: deterministic per seed, every status in plausible proportions, realistic
content, and the known hostile / unicode / long-text subsets."""

from __future__ import annotations

import sqlite3
from collections import Counter
from datetime import timedelta

import orjson
import pytest

from tasktui.domain import AuditStatus, OperatorStatus, Task
from tasktui.server import seed_database
from tasktui.server.docs import present


@pytest.fixture(scope="module")
def docs(seeded_db_template) -> list[dict]:
    conn = sqlite3.connect(seeded_db_template)
    try:
        return [orjson.loads(d) for (d,) in conn.execute("SELECT doc FROM docs ORDER BY id")]
    finally:
        conn.close()


def test_same_seed_same_tasks(tmp_path, seed_now):
    a, b, c = tmp_path / "a.db", tmp_path / "b.db", tmp_path / "c.db"
    for path, seed in ((a, 4), (b, 4), (c, 5)):
        assert seed_database(path, 300, seed=seed, now=seed_now) == 300

    def rows(p):
        conn = sqlite3.connect(p)
        try:
            return conn.execute("SELECT d.doc FROM docs d ORDER BY id").fetchall()
        finally:
            conn.close()
    assert rows(a) == rows(b) != rows(c)


def test_every_status_in_plausible_proportions(docs):
    tasks = [Task(d) for d in docs]
    ops = Counter(t.operator_status for t in tasks)
    assert set(ops) == set(OperatorStatus)
    assert ops[OperatorStatus.COMPLETED] / len(tasks) > 0.5
    assert all(n / len(tasks) >= 0.02 for n in ops.values()), ops
    audits = Counter(t.audit_status for t in tasks if t.status == "completed")
    assert set(audits) == set(AuditStatus) and all(n >= 20 for n in audits.values()), audits


def test_dates_spread_over_90_days_before_now(docs, seed_now):
    created = [Task(d).created_at for d in docs]
    assert max(created) < seed_now and min(created) >= seed_now - timedelta(days=90)
    assert max(created) - min(created) > timedelta(days=85)
    assert any(Task(d).completed_at for d in docs) and not all(Task(d).completed_at for d in docs)
    for d in docs:
        t = Task(d)
        if t.completed_at:
            assert t.created_at <= t.completed_at < seed_now
        assert t.updated_at >= t.created_at


def test_content_is_realistic(docs):
    types = Counter(d["type"] for d in docs)
    assert {"imageannotation", "lidarannotation", "categorization", "textcollection", "transcription"} <= set(types)
    # every conditional check below must meet a task, or it would be skipped in silence
    assert {"error", "completed"} <= {d["status"] for d in docs}
    assert "fixed" in {d.get("customer_review_status") for d in docs}
    assert any(Task(d).operator_status is OperatorStatus.REDO for d in docs)
    for d in docs:
        t = Task(d)
        assert "callback_url" not in d  # demo tasks never call anywhere
        assert None not in d.values()
        if t.status == "error":
            assert t.error_message and len(t.error_message) > 15
        wire = present(d, "http://h", {d["project"]: "# instructions"})
        if t.status == "completed":
            assert isinstance(wire["response"], dict) and wire["response"]
        if t.customer_review_status == "fixed":
            assert wire["prior_responses"] and wire["prior_responses"][-1] != wire["response"]
            assert wire["audits"][-1]["audit_result"] == "fixed"
        if t.operator_status is OperatorStatus.REDO:
            assert wire["prior_responses"] and "response" not in wire
    assert sum(1 for d in docs if d.get("unique_id")) > len(docs) // 4
    assert sum(1 for d in docs if d.get("tags")) > len(docs) // 5
    assert len({d["unique_id"] for d in docs if d.get("unique_id")}) == sum(1 for d in docs if d.get("unique_id"))


def test_known_hostile_unicode_and_long_subsets(docs):
    for i, d in enumerate(docs):
        tags = d.get("tags") or []
        assert ("hostile-text" in tags) == (i % 97 == 5)
        assert ("unicode-text" in tags) == (i % 97 == 11)
        assert ("long-text" in tags) == (i % 293 == 17)
    hostile = [d for d in docs if "hostile-text" in (d.get("tags") or [])]
    blob = "".join(d["instruction"] + orjson.dumps(d["metadata"]).decode() for d in hostile)
    for needle in ("[bold red]", "[/]", "[link=", "\x1b[31m", "\x1b]52;c;", "\x1b]8;;"):
        assert needle in blob or needle.encode("unicode_escape").decode() in blob, needle
    assert any(any("\x1b" in k for k in d["metadata"]) or "[" in "".join(d["metadata"]) for d in hostile)
    uni = [d for d in docs if "unicode-text" in (d.get("tags") or [])]
    assert uni and all(any(ord(ch) > 0x2FFF for ch in d["instruction"]) for d in uni)
    longs = [d for d in docs if "long-text" in (d.get("tags") or [])]
    assert longs and all(len(d["instruction"]) > 10_000 for d in longs)


def test_projects_and_batches(seeded_db_template):
    conn = sqlite3.connect(seeded_db_template)
    try:
        projects = [orjson.loads(d) for (d,) in conn.execute("SELECT doc FROM projects")]
        batches = [orjson.loads(d) for (d,) in conn.execute("SELECT doc FROM batches")]
        used = set(conn.execute("SELECT DISTINCT batch FROM tasks").fetchall())
    finally:
        conn.close()
    assert len(projects) >= 5 and any(not p["name"].isascii() for p in projects)
    assert all(p["param_history"][-1]["version"] == 1 and p["instruction"].startswith("#") for p in projects)
    assert len(batches) >= 3 * len(projects)
    assert {(b["name"],) for b in batches} >= used
    assert {b["status"] for b in batches} == {"staging", "in_progress", "completed"}
