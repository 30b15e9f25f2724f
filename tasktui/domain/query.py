"""TaskQuery: the operator's filters, and their translation to wire parameters."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import datetime
from enum import StrEnum
from typing import Iterable

from tasktui.domain.statuses import AuditStatus, OperatorStatus
from tasktui.domain.task import Task
from tasktui.domain.timezones import to_wire_time
from tasktui.domain.wire import (
    COMPLETED_RANGE,
    CREATED_RANGE,
    EXT_MULTI,
    EXT_ORDER,
    EXT_PAGE_SIZE,
    EXT_SEARCH,
    PAGE_LIMIT_MAX,
    PAGE_SIZE_EXT_MAX,
    UPDATED_RANGE,
    Param,
    encode_review_filter,
    encode_status_filter,
    status_filter_is_exact,
)


class DateField(StrEnum):
    CREATED = "created"
    COMPLETED = "completed"

    @property
    def label(self) -> str:
        return "Created" if self is DateField.CREATED else "Completed"

    @classmethod
    def parse(cls, text: str) -> "DateField":
        """``created`` or ``completed`` (any case). Raises ValueError naming the choices."""
        try:
            return cls(text.strip().lower())
        except ValueError:
            raise ValueError(f"unknown field {text!r}; choose created or completed") from None


class SortOrder(StrEnum):
    NEWEST = "desc"
    OLDEST = "asc"

    @property
    def label(self) -> str:
        return "newest first" if self is SortOrder.NEWEST else "oldest first"

    @property
    def word(self) -> str:
        """How an operator writes it (flags, config): ``newest`` or ``oldest``."""
        return "newest" if self is SortOrder.NEWEST else "oldest"

    @classmethod
    def parse(cls, text: str) -> "SortOrder":
        """The one set of spellings every input accepts (flags, config views): ``newest`` /
        ``oldest``, with the aliases ``new`` / ``old``, ``newest first`` / ``oldest first``
        (also ``newest-first``, ``newest_first``) and the wire's ``desc`` / ``asc``; any
        case. Raises ValueError naming the choices."""
        key = " ".join(text.strip().lower().replace("-", " ").replace("_", " ").split())
        if key in _ORDER_WORDS:
            return _ORDER_WORDS[key]
        raise ValueError(f"unknown order {text!r}; choose newest or oldest")


_ORDER_WORDS = {
    **dict.fromkeys(("newest", "new", "newest first", "desc"), SortOrder.NEWEST),
    **dict.fromkeys(("oldest", "old", "oldest first", "asc"), SortOrder.OLDEST),
}


@dataclass(frozen=True)
class TaskQuery:
    date_field: DateField = DateField.CREATED
    start: datetime | None = None  # inclusive, UTC
    end: datetime | None = None  # exclusive, UTC
    statuses: frozenset[OperatorStatus] = field(default_factory=frozenset)
    audit_statuses: frozenset[AuditStatus] = field(default_factory=frozenset)
    projects: tuple[str, ...] = ()
    batches: tuple[str, ...] = ()
    types: tuple[str, ...] = ()
    tags: tuple[str, ...] = ()
    search: str = ""
    order: SortOrder = SortOrder.NEWEST

    def replace(self, **changes) -> "TaskQuery":
        return replace(self, **changes)

    @property
    def is_unfiltered(self) -> bool:
        return not self.active_filters()

    def cleared(self) -> "TaskQuery":
        """The same view with every filter off (order and date field kept)."""
        return TaskQuery(date_field=self.date_field, order=self.order)

    def active_filters(self) -> list[str]:
        """Human descriptions of the filters that are on."""
        out: list[str] = []
        if self.start or self.end:
            a = to_wire_time(self.start)[:16].replace("T", " ") if self.start else "…"
            b = to_wire_time(self.end)[:16].replace("T", " ") if self.end else "…"
            out.append(f"{self.date_field.label} {a} → {b} UTC")
        if self.statuses:
            out.append("Status: " + ", ".join(s.label for s in OperatorStatus if s in self.statuses))
        if self.audit_statuses:
            out.append("Audit: " + ", ".join(a.label for a in AuditStatus if a in self.audit_statuses))
        if self.projects:
            out.append("Project: " + ", ".join(self.projects))
        if self.batches:
            out.append("Batch: " + ", ".join(self.batches))
        if self.types:
            out.append("Type: " + ", ".join(self.types))
        if self.tags:
            out.append("Tags: " + ", ".join(self.tags))
        if self.search:
            out.append(f"Search: {self.search}")
        return out

    # wire ----------------------------------------------------------------------
    def wire_statuses(self, extensions: Iterable[str] = ()) -> str | None:
        """Value of the ``status`` parameter, or None to send none."""
        return encode_status_filter(self.statuses, extensions)

    def needs_local_filter(self, extensions: Iterable[str] = ()) -> bool:
        """Whether rows from the server must be filtered again on our side, because
        the server cannot express the whole query."""
        ext = set(extensions)
        if not status_filter_is_exact(self.statuses, ext):
            return True
        if EXT_MULTI not in ext and (len(self.projects) > 1 or len(self.batches) > 1 or len(self.types) > 1):
            return True
        if self.search and EXT_SEARCH not in ext:
            return True
        return False

    def wire_params(
        self,
        extensions: Iterable[str] = (),
        *,
        limit: int = PAGE_LIMIT_MAX,
        next_token: str | None = None,
        updated_after: datetime | None = None,
    ) -> list[tuple[str, str]]:
        """Query parameters for ``GET /v1/tasks`` as (key, value) pairs in the form
        the official SDK sends them (lists as repeated keys, review statuses comma-joined)."""
        ext = set(extensions)
        p: list[tuple[str, str]] = []
        start, end = CREATED_RANGE if self.date_field is DateField.CREATED else COMPLETED_RANGE
        if self.start:
            p.append((start, to_wire_time(self.start)))
        if self.end:
            p.append((end, to_wire_time(self.end)))
        if updated_after:
            p.append((UPDATED_RANGE[0], to_wire_time(updated_after)))
        st = self.wire_statuses(ext)
        if st:
            p.append((Param.STATUS, st))
        review = encode_review_filter(self.audit_statuses)
        if review:
            p.append((Param.REVIEW_STATUS, review))
        for key, values in ((Param.PROJECT, self.projects), (Param.BATCH, self.batches), (Param.TYPE, self.types)):
            if len(values) == 1 or (values and EXT_MULTI in ext):
                p.extend((key, v) for v in values)
        for t in self.tags:
            p.append((Param.TAGS, t))
        if self.search and EXT_SEARCH in ext:
            p.append((Param.SEARCH, self.search))
        # Without the extension nothing is sent: the real API's unique_id is an exact
        # match on unique ids only, while search is a prefix of the task id or unique id,
        # so the rows are filtered locally (needs_local_filter) instead.
        if self.order is SortOrder.OLDEST and EXT_ORDER in ext:
            p.append((Param.ORDER, SortOrder.OLDEST.value))
        if limit > PAGE_LIMIT_MAX and EXT_PAGE_SIZE in ext:
            p.append((Param.LIMIT, str(PAGE_LIMIT_MAX)))
            p.append((Param.PAGE_SIZE, str(min(PAGE_SIZE_EXT_MAX, limit))))
        else:
            p.append((Param.LIMIT, str(max(1, min(PAGE_LIMIT_MAX, limit)))))
        if next_token:
            p.append((Param.NEXT_TOKEN, next_token))
        return p

    # local predicate -----------------------------------------------------------
    def matches(self, task: Task) -> bool:
        """Whether a task satisfies the whole query (the reference semantics; used
        for local filtering and in tests)."""
        d = task.created_at if self.date_field is DateField.CREATED else task.completed_at
        if self.start or self.end:
            if d is None:
                return False
            if self.start and d < self.start:
                return False
            if self.end and d >= self.end:
                return False
        if self.statuses and task.operator_status not in self.statuses:
            return False
        if self.audit_statuses and task.audit_status not in self.audit_statuses:
            return False
        if self.projects and task.project not in self.projects:
            return False
        if self.batches and task.batch not in self.batches:
            return False
        if self.types and task.type not in self.types:
            return False
        if self.tags and not set(self.tags) <= set(task.tags):
            return False
        if self.search and not matches_search(task, self.search):
            return False
        return True


def matches_search(task: Task, text: str) -> bool:
    """Search semantics: the task id or unique id starts with the text (case-insensitive)."""
    t = text.strip().lower()
    if not t:
        return True
    return task.task_id.lower().startswith(t) or (task.unique_id or "").lower().startswith(t)
