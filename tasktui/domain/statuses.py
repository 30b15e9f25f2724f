"""Operator statuses and audit statuses, and their mapping to Scale wire values.

This module is the one place where the mapping in DESIGN.md lives.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Any, Mapping


class OperatorStatus(StrEnum):
    """Task status as the operator sees it. Values double as the bundled server's
    status-filter extension (``status=queued,in_progress``)."""

    COMPLETED = "completed"
    IN_PROGRESS = "in_progress"
    QUEUED = "queued"
    ERROR = "error"
    CANCELED = "canceled"
    REDO = "redo"

    @property
    def label(self) -> str:
        return _STATUS_LABELS[self]

    @property
    def wire(self) -> str:
        """The wire ``status`` value this operator status lives under."""
        return _STATUS_WIRE[self]


_STATUS_LABELS = {
    OperatorStatus.COMPLETED: "Completed",
    OperatorStatus.IN_PROGRESS: "In Progress",
    OperatorStatus.QUEUED: "Queued",
    OperatorStatus.ERROR: "Error",
    OperatorStatus.CANCELED: "Canceled",
    OperatorStatus.REDO: "Redo",
}

_STATUS_WIRE = {
    OperatorStatus.COMPLETED: "completed",
    OperatorStatus.IN_PROGRESS: "pending",
    OperatorStatus.QUEUED: "pending",
    OperatorStatus.ERROR: "error",
    OperatorStatus.CANCELED: "canceled",
    OperatorStatus.REDO: "pending",
}

#: Wire task statuses (Scale v1).
WIRE_STATUSES = ("pending", "completed", "error", "canceled")
#: Operator statuses that share the wire value ``pending``.
PENDING_SPLIT = frozenset({OperatorStatus.QUEUED, OperatorStatus.IN_PROGRESS, OperatorStatus.REDO})


class AuditStatus(StrEnum):
    """Audit status as the operator sees it; the value is the wire
    ``customer_review_status`` used to filter on it."""

    READY_TO_AUDIT = "pending"
    ACCEPTED = "accepted"
    FIXED = "fixed"
    REJECTED = "rejected"

    @property
    def label(self) -> str:
        return _AUDIT_LABELS[self]


_AUDIT_LABELS = {
    AuditStatus.READY_TO_AUDIT: "Ready to Audit",
    AuditStatus.ACCEPTED: "Accepted",
    AuditStatus.FIXED: "Fixed",
    AuditStatus.REJECTED: "Rejected",
}

WIRE_REVIEW_STATUSES = ("pending", "accepted", "fixed", "rejected", "commented", "skipped")


def operator_status(
    status: str | None, *, work_started: bool = False, review: str | None = None
) -> OperatorStatus | None:
    """Map wire fields to the operator status. ``None`` for an unknown wire status.

    Only public fields are read. A pending task is Redo when it is being re-done after a
    customer rejection (a ``rejected`` review status on a pending task), In Progress when
    ``work_started`` is true, and Queued otherwise.
    """
    if status == "pending":
        if review == "rejected":
            return OperatorStatus.REDO
        if work_started:
            return OperatorStatus.IN_PROGRESS
        return OperatorStatus.QUEUED
    if status == "completed":
        return OperatorStatus.COMPLETED
    if status == "error":
        return OperatorStatus.ERROR
    if status == "canceled":
        return OperatorStatus.CANCELED
    return None


def audit_status(status: str | None, review: str | None) -> AuditStatus | None:
    """Map wire fields to the audit status. Only completed tasks are Ready to Audit;
    accepted / fixed / rejected show whatever the task's state."""
    if review == "accepted":
        return AuditStatus.ACCEPTED
    if review == "fixed":
        return AuditStatus.FIXED
    if review == "rejected":
        return AuditStatus.REJECTED
    if status == "completed" and review in (None, "", "pending"):
        return AuditStatus.READY_TO_AUDIT
    return None


def operator_status_of(doc: Mapping[str, Any]) -> OperatorStatus | None:
    """Operator status of a wire task document (a dict)."""
    return operator_status(
        doc.get("status"),
        work_started=bool(doc.get("work_started")),
        review=doc.get("customer_review_status"),
    )


def audit_status_of(doc: Mapping[str, Any]) -> AuditStatus | None:
    return audit_status(doc.get("status"), doc.get("customer_review_status"))


def parse_operator_status(text: str) -> OperatorStatus:
    """Parse an operator status from a flag value or label (``in_progress``,
    ``In Progress``, ``in-progress``). Raises ValueError with the valid choices."""
    key = text.strip().lower().replace(" ", "_").replace("-", "_")
    for s in OperatorStatus:
        if key in (s.value, s.label.lower().replace(" ", "_")):
            return s
    if key == "pending":
        raise ValueError("'pending' is split in three here: use queued, in_progress or redo")
    raise ValueError(
        f"unknown task status {text!r}; choose from "
        + ", ".join(s.value for s in OperatorStatus)
    )


def parse_audit_status(text: str) -> AuditStatus:
    key = text.strip().lower().replace(" ", "_").replace("-", "_")
    for s in AuditStatus:
        if key in (s.value, s.name.lower(), s.label.lower().replace(" ", "_")):
            return s
    raise ValueError(
        f"unknown audit status {text!r}; choose from ready_to_audit, accepted, fixed, rejected"
    )
