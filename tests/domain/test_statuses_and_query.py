"""The status mapping of DESIGN.md, the Task view, and TaskQuery's wire parameters and
local predicate."""

from datetime import datetime, timezone

import pytest

from tasktui.domain import (
    EXT_MULTI,
    EXT_OPERATOR_STATUS,
    EXT_ORDER,
    EXT_SEARCH,
    AuditStatus,
    DateField,
    MalformedTaskError,
    OperatorStatus,
    SortOrder,
    Task,
    TaskQuery,
    audit_status,
    operator_status,
    parse_audit_status,
    parse_operator_status,
)

UTC = timezone.utc
ALL_EXT = {EXT_OPERATOR_STATUS, EXT_ORDER, EXT_SEARCH, EXT_MULTI}


# Redo is read from public fields only: a pending task whose customer review is
# ``rejected``. (These rows fed a bundled-only ``redo=True`` before; each such row is now
# its public equivalent, review ``rejected``.)
@pytest.mark.parametrize("status,work_started,review,want", [
    ("pending", False, None, OperatorStatus.QUEUED),
    ("pending", True, None, OperatorStatus.IN_PROGRESS),
    ("pending", True, "rejected", OperatorStatus.REDO),
    ("pending", False, "rejected", OperatorStatus.REDO),
    ("completed", True, "accepted", OperatorStatus.COMPLETED),
    ("error", False, None, OperatorStatus.ERROR),
    ("canceled", False, None, OperatorStatus.CANCELED),
    ("deleted", False, None, None),
])
def test_operator_status(status, work_started, review, want):
    assert operator_status(status, work_started=work_started, review=review) is want


# Every combination for a pending task, written out as the operator reads it (DESIGN.md's
# table): a rejection makes Redo whatever work_started says.
PENDING_TABLE = """
work_started review    -> label
no           -         -> Queued
no           pending   -> Queued
no           accepted  -> Queued
no           rejected  -> Redo
yes          -         -> In Progress
yes          pending   -> In Progress
yes          accepted  -> In Progress
yes          rejected  -> Redo
"""


def _pending_rows():
    for line in PENDING_TABLE.strip().splitlines()[1:]:
        left, label = (part.strip() for part in line.split("->"))
        started, review = left.split()
        yield started == "yes", None if review == "-" else review, label


@pytest.mark.parametrize("work_started,review,label", list(_pending_rows()))
def test_every_pending_combination_maps_as_the_design_table_says(work_started, review, label):
    got = operator_status("pending", work_started=work_started, review=review)
    assert got is not None and got.label == label


@pytest.mark.parametrize("extra,want", [
    ({"redo": True}, OperatorStatus.QUEUED),
    ({"redo": True, "work_started": True}, OperatorStatus.IN_PROGRESS),
    ({"redo": False, "customer_review_status": "rejected"}, OperatorStatus.REDO),
])
def test_a_bundled_only_redo_flag_is_not_read(extra, want):
    assert Task(doc(**extra)).operator_status is want


@pytest.mark.parametrize("kw,want", [
    ({"status": "error", "response": {"error": "Attachment could not be fetched"}}, "Attachment could not be fetched"),
    ({"status": "error", "response": {"error": 3}}, None),
    ({"status": "error"}, None),
    ({"status": "error", "error": "a field Scale does not send"}, None),
    ({"status": "completed", "response": {"error": "a response field named error"}}, None),
])
def test_error_message_is_read_from_the_response(kw, want):
    assert Task(doc(**kw)).error_message == want


@pytest.mark.parametrize("status,review,want", [
    ("completed", None, AuditStatus.READY_TO_AUDIT),
    ("completed", "pending", AuditStatus.READY_TO_AUDIT),
    ("completed", "accepted", AuditStatus.ACCEPTED),
    ("completed", "fixed", AuditStatus.FIXED),
    ("completed", "rejected", AuditStatus.REJECTED),
    ("pending", "rejected", AuditStatus.REJECTED),
    ("pending", None, None),
    ("error", "pending", None),
    ("completed", "commented", None),
])
def test_audit_status(status, review, want):
    assert audit_status(status, review) is want


def test_labels_and_wire_values():
    assert [s.label for s in OperatorStatus] == ["Completed", "In Progress", "Queued", "Error", "Canceled", "Redo"]
    assert {s.wire for s in (OperatorStatus.QUEUED, OperatorStatus.IN_PROGRESS, OperatorStatus.REDO)} == {"pending"}
    assert [a.label for a in AuditStatus] == ["Ready to Audit", "Accepted", "Fixed", "Rejected"]


def test_parsing_statuses():
    assert parse_operator_status("In Progress") is OperatorStatus.IN_PROGRESS
    assert parse_operator_status("in-progress") is OperatorStatus.IN_PROGRESS
    assert parse_operator_status(" QUEUED ") is OperatorStatus.QUEUED
    with pytest.raises(ValueError, match="split in three"):
        parse_operator_status("pending")
    with pytest.raises(ValueError, match="choose from completed, in_progress"):
        parse_operator_status("done")
    assert parse_audit_status("Ready to Audit") is AuditStatus.READY_TO_AUDIT
    assert parse_audit_status("ready_to_audit") is AuditStatus.READY_TO_AUDIT
    assert parse_audit_status("fixed") is AuditStatus.FIXED
    with pytest.raises(ValueError, match="ready_to_audit, accepted, fixed, rejected"):
        parse_audit_status("maybe")


def doc(**kw):
    base = {"task_id": "t1", "status": "pending", "created_at": "2026-11-01T08:30:00.000Z", "type": "imageannotation",
            "project": "P", "batch": "B"}
    base.update(kw)
    return base


def test_task_from_wire_validates():
    with pytest.raises(MalformedTaskError, match="JSON object"):
        Task.from_wire([1])
    with pytest.raises(MalformedTaskError, match="without a task_id"):
        Task.from_wire({"status": "pending"})
    with pytest.raises(MalformedTaskError, match="no status"):
        Task.from_wire({"task_id": "x"})
    t = Task.from_wire(doc(tags=["a", 3], metadata="nope", audits=[{"a": 1}, "x"]))
    assert t.tags == ["a", "3"] and t.metadata == {} and t.audits == [{"a": 1}]
    assert t.created_at == datetime(2026, 11, 1, 8, 30, tzinfo=UTC)


@pytest.mark.parametrize("kw,ok,word", [
    ({}, True, ""),
    ({"work_started": True}, False, "being worked on"),
    ({"customer_review_status": "rejected"}, False, "being worked on"),
    ({"status": "completed"}, False, "completed tasks cannot be canceled"),
    ({"status": "canceled"}, False, "already canceled"),
    ({"status": "error"}, False, "only Queued tasks"),
])
def test_can_cancel(kw, ok, word):
    allowed, why = Task(doc(**kw)).can_cancel()
    assert allowed is ok and word in why


def test_can_audit():
    assert Task(doc(status="completed")).can_audit() == (True, "")
    ok, why = Task(doc(work_started=True)).can_audit()
    assert not ok and "In Progress" in why and "only completed tasks" in why


def test_wire_params_against_the_real_api():
    q = TaskQuery(start=datetime(2026, 11, 1, 7, tzinfo=UTC), end=datetime(2026, 11, 2, 8, tzinfo=UTC),
                  statuses=frozenset({OperatorStatus.COMPLETED}),
                  audit_statuses=frozenset({AuditStatus.ACCEPTED, AuditStatus.FIXED}),
                  projects=("P 1",), tags=("a", "b"), search="abc", order=SortOrder.OLDEST)
    p = q.wire_params(limit=50)
    assert p == [("start_time", "2026-11-01T07:00:00.000Z"), ("end_time", "2026-11-02T08:00:00.000Z"),
                 ("status", "completed"), ("customer_review_status", "accepted,fixed"), ("project", "P 1"),
                 ("tags", "a"), ("tags", "b"), ("limit", "50")]
    assert q.needs_local_filter() is True  # search is not sent: filtered locally


def test_wire_params_with_extensions():
    q = TaskQuery(statuses=frozenset({OperatorStatus.QUEUED, OperatorStatus.REDO}), projects=("A", "B"),
                  types=("imageannotation",), search="6aff", order=SortOrder.OLDEST, date_field=DateField.COMPLETED,
                  start=datetime(2026, 1, 1, tzinfo=UTC))
    p = q.wire_params(ALL_EXT, limit=500, next_token="tok", updated_after=datetime(2026, 1, 2, tzinfo=UTC))
    assert p == [("completed_after", "2026-01-01T00:00:00.000Z"), ("updated_after", "2026-01-02T00:00:00.000Z"),
                 ("status", "queued,redo"), ("project", "A"), ("project", "B"), ("type", "imageannotation"),
                 ("search", "6aff"), ("order", "asc"), ("limit", "100"), ("next_token", "tok")]
    assert q.needs_local_filter(ALL_EXT) is False


def test_pending_split_without_extensions():
    q = TaskQuery(statuses=frozenset({OperatorStatus.QUEUED}))
    assert ("status", "pending") in q.wire_params()
    assert q.needs_local_filter() is True
    allp = TaskQuery(statuses=frozenset({OperatorStatus.QUEUED, OperatorStatus.IN_PROGRESS, OperatorStatus.REDO}))
    assert ("status", "pending") in allp.wire_params() and allp.needs_local_filter() is False
    two = TaskQuery(statuses=frozenset({OperatorStatus.COMPLETED, OperatorStatus.ERROR}))
    assert not [k for k, _ in two.wire_params() if k == "status"] and two.needs_local_filter() is True
    every = TaskQuery(statuses=frozenset(OperatorStatus))
    assert every.wire_statuses(ALL_EXT) is None


def test_several_projects_without_multi_value_filter_locally():
    q = TaskQuery(projects=("A", "B"))
    assert not [k for k, _ in q.wire_params() if k == "project"]
    assert q.needs_local_filter() is True


def test_matches_is_the_reference_semantics():
    t = Task(doc(status="completed", customer_review_status="fixed", tags=["a", "b"], unique_id="Cam-7",
                 completed_at="2026-11-02T00:00:00.000Z"))
    assert TaskQuery().matches(t)
    assert TaskQuery(statuses=frozenset({OperatorStatus.COMPLETED})).matches(t)
    assert not TaskQuery(statuses=frozenset({OperatorStatus.QUEUED})).matches(t)
    assert TaskQuery(audit_statuses=frozenset({AuditStatus.FIXED})).matches(t)
    assert not TaskQuery(audit_statuses=frozenset({AuditStatus.READY_TO_AUDIT})).matches(t)
    assert TaskQuery(tags=("a",)).matches(t) and not TaskQuery(tags=("a", "c")).matches(t)
    assert TaskQuery(search="cam-").matches(t) and TaskQuery(search="T1").matches(t)
    assert not TaskQuery(search="x").matches(t)
    assert TaskQuery(projects=("Q", "P")).matches(t) and not TaskQuery(batches=("C",)).matches(t)
    created = datetime(2026, 11, 1, 8, 30, tzinfo=UTC)
    assert TaskQuery(start=created).matches(t)  # inclusive start
    assert not TaskQuery(end=created).matches(t)  # exclusive end
    q = TaskQuery(date_field=DateField.COMPLETED, start=datetime(2026, 11, 1, 23, tzinfo=UTC))
    assert q.matches(t)
    assert not q.matches(Task(doc()))  # no completed_at: outside any completion range


def test_active_filters_and_cleared():
    q = TaskQuery(statuses=frozenset({OperatorStatus.REDO, OperatorStatus.QUEUED}), search="x", order=SortOrder.OLDEST)
    assert q.active_filters() == ["Status: Queued, Redo", "Search: x"]
    assert not q.is_unfiltered
    c = q.cleared()
    assert c.is_unfiltered and c.order is SortOrder.OLDEST
