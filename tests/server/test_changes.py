"""The document changes behind the write endpoints, and the server's clock helpers,
without a server: plain dicts and an in-memory database."""

from datetime import datetime, timezone

import pytest

from tasktui.server import db as dbm
from tasktui.server.errors import BadRequest, Conflict
from tasktui.server.routes_actions import (
    change_audit,
    change_cancel,
    change_metadata,
    change_tags,
    change_unique_id,
)
from tasktui.server.times import DAY_MS, dt_to_ms, ms_to_wire, wire_to_ms


@pytest.fixture
def conn():
    c = dbm.connect(":memory:")
    dbm.init_schema(c)
    yield c
    c.close()


def doc(**fields):
    return {"task_id": "t1", "created_at": "2026-03-08T10:00:00.000Z", "type": "categorization",
            "status": "pending", **fields}


def test_cancel_a_queued_task_and_clear_its_unique_id(conn):
    d = doc(unique_id="u1")
    assert change_cancel(d, conn, clear_uid=True) is None
    assert (d["status"], d["work_started"], "unique_id" in d) == ("canceled", False, False)


@pytest.mark.parametrize("fields", [{"status": "completed"}, {"work_started": True}])
def test_a_completed_or_started_task_cannot_be_canceled(conn, fields):
    with pytest.raises(BadRequest, match="cannot cancel"):
        change_cancel(doc(**fields), conn, clear_uid=False)


def test_a_fix_keeps_the_old_response_and_fires_completed(conn):
    d = doc(status="completed", response={"v": 1}, customer_review_status="pending")
    assert change_audit(d, conn, result="fixed", response={"v": 2}, comments="tighter") == "completed"
    assert d["response"] == {"v": 2}
    assert d["prior_responses"] == [{"v": 1}]
    assert d["customer_review_status"] == "fixed"
    assert [a["audit_result"] for a in d["audits"]] == ["fixed"]
    assert d["customer_review_comments"] == ["tighter"]


def test_a_rejection_keeps_the_response(conn):
    d = doc(status="completed", response={"v": 1})
    change_audit(d, conn, result="rejected", response=None, comments=None)
    assert d["response"] == {"v": 1} and "prior_responses" not in d
    assert d["customer_review_status"] == "rejected" and "customer_review_comments" not in d


def test_a_unique_id_held_by_another_task_is_a_conflict(conn):
    dbm.insert_doc(conn, doc(task_id="t2", unique_id="taken"))
    with pytest.raises(Conflict, match="already used by task t2"):
        change_unique_id(doc(), conn, uid="taken")
    mine = doc(task_id="t2")
    change_unique_id(mine, conn, uid="taken")  # its own unique id again
    assert mine["unique_id"] == "taken"
    change_unique_id(mine, conn, uid=None)
    assert "unique_id" not in mine


def test_metadata_is_replaced(conn):
    d = doc(metadata={"a": 1})
    change_metadata(d, conn, metadata={"b": 2})
    assert d["metadata"] == {"b": 2}


@pytest.mark.parametrize("method,tags,want", [
    ("POST", ["x", "x", "y"], ["x", "y"]),
    ("PUT", ["c", "a"], ["a", "b", "c"]),
    ("DELETE", ["a"], ["b"]),
    ("DELETE", ["a", "b"], None),  # no tags left: the field goes
])
def test_tags_are_set_added_or_removed(conn, method, tags, want):
    d = doc(tags=["a", "b"])
    change_tags(d, conn, method=method, tags=tags)
    assert d.get("tags") == want


def test_milliseconds_and_wire_instants():
    assert DAY_MS == 24 * 3600 * 1000
    assert ms_to_wire(0) == "1970-01-01T00:00:00.000Z"
    assert ms_to_wire(1_772_964_000_123) == "2026-03-08T10:00:00.123Z"
    assert wire_to_ms("2026-03-08T10:00:00.123Z") == 1_772_964_000_123
    assert wire_to_ms("2026-03-08T10:00:00") == 1_772_964_000_000  # naive means UTC
    assert wire_to_ms(None) is None and wire_to_ms("") is None
    assert dt_to_ms(datetime(2026, 3, 8, 10, tzinfo=timezone.utc)) == 1_772_964_000_000
