"""The detail screen speaks an operator's words (issue 14): no wire values beside the
statuses, and an audit row says who audited, how long it took when that is known, and
where the audit came from only when it adds something."""

from __future__ import annotations

from tasktui.domain import Task, Zone
from tasktui.ui.screens.detail_tabs import render_audit, render_summary


def _audit_line(audit: dict) -> str:
    task = Task({"task_id": "t1", "status": "completed", "customer_review_status": "accepted",
                 "audits": [audit]})
    lines = [r.plain for r in render_audit(task, Zone.UTC).renderables if hasattr(r, "plain")]
    return next(line for line in lines if line.startswith("1. "))


def test_an_audit_by_the_customer_says_so_once_and_no_empty_duration():
    line = _audit_line({"audited_by": "customer", "audit_source": "customer", "audit_time_secs": 0,
                        "audit_result": "accepted", "audited_at": "2026-11-20T10:00:00Z"})
    assert line == "1. 2026-11-20 10:00:00 UTC  Accepted  by customer"


def test_durations_read_as_minutes_and_seconds_and_the_source_when_it_differs():
    assert _audit_line({"audited_by": "ann@example.com", "audit_source": "scale", "audit_time_secs": 75,
                        "audit_result": "fixed"}) == "1. Fixed  by ann@example.com  · took 1 min 15 s  · scale audit"
    assert _audit_line({"audited_by": "bo", "audit_time_secs": 12, "audit_result": "rejected"}) == \
        "1. Rejected  by bo  · took 12 s"


def test_the_summary_shows_no_wire_values():
    task = Task({"task_id": "t1", "status": "pending", "work_started": True, "customer_review_status": "pending",
                 "created_at": "2026-11-20T10:00:00Z"})
    text = "\n".join(str(c) for c in render_summary(task, Zone.UTC).columns[1].cells)
    assert "In Progress" in text and "wire" not in text and "work started" not in text
