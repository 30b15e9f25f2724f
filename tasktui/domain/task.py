"""The Task model: a thin, typed view over a wire task document.

The wire document is kept as-is (``raw``) so that nothing the server sent is lost
when a task is shown as JSON, downloaded or exported; accessors parse on demand.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

import orjson

from tasktui.domain.statuses import AuditStatus, OperatorStatus, audit_status_of, operator_status_of
from tasktui.domain.timezones import parse_wire_time


class MalformedTaskError(ValueError):
    """A task document that lacks the fields every task has."""


def parse_json_object(text: Any) -> tuple[dict[str, Any], bool]:
    """A task's JSON text (bytes or a buffer), already checked to be well-formed, as
    objects, and whether they give the same text back when serialized. orjson refuses a
    few well-formed texts (a number beyond a double's range); the stdlib reads those
    (as infinity: not the same)."""
    try:
        doc, same = orjson.loads(memoryview(text)), True
    except orjson.JSONDecodeError:
        doc, same = json.loads(bytes(text).decode("utf-8")), False
    if not isinstance(doc, dict):
        raise MalformedTaskError(f"a task must be a JSON object, got {type(doc).__name__}")
    return doc, same


class Task:
    __slots__ = ("_raw", "_json", "_id")

    def __init__(self, raw: dict[str, Any]):
        self._raw: dict[str, Any] | None = raw
        self._json: Any = None
        self._id: str | None = None

    @classmethod
    def from_json(cls, text: Any, task_id: str) -> "Task":
        """A task kept as its JSON text (bytes or a buffer over them), parsed when first
        read: a bulk reader that only copies tasks (an export) never builds their
        objects. The caller has checked that ``text`` is one well-formed JSON object
        with a non-empty string ``task_id`` (given) and a string ``status``."""
        t = cls.__new__(cls)
        t._raw = None
        t._json = text
        t._id = task_id
        return t

    @property
    def raw(self) -> dict[str, Any]:
        """The wire document (parsed on first use for a task made by ``from_json``)."""
        r = self._raw
        if r is None:
            text = self._json
            if text is None:  # another thread parsed it meanwhile (it sets _raw first)
                return self._raw  # type: ignore[return-value]
            r, same = parse_json_object(text)
            self._raw = r
            if same:
                self._json = None
        return r

    def json_text(self) -> Any:
        """The task's JSON text as the server sent it (a buffer: ``bytes(...)`` copies
        it) while it is unparsed, or when its objects would not give it back (a number
        beyond a double's range); else None: serialize ``raw`` then."""
        return self._json

    @classmethod
    def from_wire(cls, doc: Any) -> "Task":
        if not isinstance(doc, dict):
            raise MalformedTaskError(f"a task must be a JSON object, got {type(doc).__name__}")
        tid = doc.get("task_id")
        if not isinstance(tid, str) or not tid:
            raise MalformedTaskError("a task without a task_id")
        if not isinstance(doc.get("status"), str):
            raise MalformedTaskError(f"task {tid} has no status")
        return cls(doc)

    def __repr__(self) -> str:
        return f"Task({self.task_id!r}, {self.status!r})"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Task) and other.raw == self.raw

    __hash__ = None  # type: ignore[assignment]

    # wire fields -------------------------------------------------------------
    @property
    def task_id(self) -> str:
        tid = self._id
        return tid if tid is not None else self.raw["task_id"]

    @property
    def status(self) -> str:
        return self.raw["status"]

    @property
    def type(self) -> str:
        return self.raw.get("type") or ""

    @property
    def project(self) -> str:
        return self.raw.get("project") or ""

    @property
    def batch(self) -> str:
        return self.raw.get("batch") or ""

    @property
    def unique_id(self) -> str | None:
        return self.raw.get("unique_id")

    @property
    def instruction(self) -> str:
        v = self.raw.get("instruction")
        return v if isinstance(v, str) else ""

    @property
    def params(self) -> dict[str, Any]:
        v = self.raw.get("params")
        return v if isinstance(v, dict) else {}

    @property
    def attachment(self) -> str | None:
        v = self.params.get("attachment")
        return v if isinstance(v, str) else None

    @property
    def attachment_type(self) -> str | None:
        v = self.params.get("attachment_type")
        return v if isinstance(v, str) else None

    @property
    def response(self) -> Any:
        return self.raw.get("response")

    @property
    def prior_responses(self) -> list[Any]:
        v = self.raw.get("prior_responses")
        return v if isinstance(v, list) else []

    @property
    def metadata(self) -> dict[str, Any]:
        v = self.raw.get("metadata")
        return v if isinstance(v, dict) else {}

    @property
    def tags(self) -> list[str]:
        v = self.raw.get("tags")
        return [str(t) for t in v] if isinstance(v, list) else []

    @property
    def audits(self) -> list[dict[str, Any]]:
        v = self.raw.get("audits")
        return [a for a in v if isinstance(a, dict)] if isinstance(v, list) else []

    @property
    def customer_review_status(self) -> str | None:
        return self.raw.get("customer_review_status")

    @property
    def customer_review_comments(self) -> list[str]:
        v = self.raw.get("customer_review_comments")
        return [str(c) for c in v] if isinstance(v, list) else []

    @property
    def work_started(self) -> bool:
        return bool(self.raw.get("work_started"))

    @property
    def error_message(self) -> str | None:
        """Why a task in Error failed: Scale stores the detail in the task's response
        (``response.error``)."""
        if self.status != "error":
            return None
        resp = self.raw.get("response")
        v = resp.get("error") if isinstance(resp, dict) else None
        return v if isinstance(v, str) else None

    @property
    def created_at(self) -> datetime | None:
        return parse_wire_time(self.raw.get("created_at"))

    @property
    def updated_at(self) -> datetime | None:
        return parse_wire_time(self.raw.get("updated_at"))

    @property
    def completed_at(self) -> datetime | None:
        return parse_wire_time(self.raw.get("completed_at"))

    # operator view -----------------------------------------------------------
    @property
    def operator_status(self) -> OperatorStatus | None:
        return operator_status_of(self.raw)

    @property
    def audit_status(self) -> AuditStatus | None:
        return audit_status_of(self.raw)

    @property
    def status_label(self) -> str:
        s = self.operator_status
        return s.label if s else str(self.raw.get("status"))

    @property
    def audit_label(self) -> str:
        a = self.audit_status
        return a.label if a else ""

    def can_cancel(self) -> tuple[bool, str]:
        """Whether the task may be canceled, and the operator-facing reason if not."""
        s = self.operator_status
        if s is OperatorStatus.QUEUED:
            return True, ""
        if s is OperatorStatus.IN_PROGRESS or s is OperatorStatus.REDO:
            return False, (
                f"{self.task_id} is {s.label}: it is being worked on and can no longer be "
                "canceled (forcing it on the service may be charged)"
            )
        if s is OperatorStatus.COMPLETED:
            return False, f"{self.task_id} is Completed: completed tasks cannot be canceled"
        if s is OperatorStatus.CANCELED:
            return False, f"{self.task_id} is already canceled"
        if s is OperatorStatus.ERROR:
            return False, f"{self.task_id} is in Error: only Queued tasks can be canceled"
        return False, f"{self.task_id} has status {self.status!r}: only Queued tasks can be canceled"

    def can_audit(self) -> tuple[bool, str]:
        """Whether the task may be audited (accept / reject / fix), and why not."""
        if self.status == "completed":
            return True, ""
        return False, f"{self.task_id} is {self.status_label}: only completed tasks can be audited"
