"""Filters as an operator types them: the one model behind the export and get flags, the
config file's ``[views]`` and (to come) the sidebar.

A :class:`Filters` keeps dates as typed (``-7d``, ``today``, ``2026-11-01``) so that a saved
view or an export checkpoint still means "the last seven days" tomorrow; :meth:`Filters.resolve`
turns it into a :class:`~tasktui.domain.query.TaskQuery` for one zone and one instant.

The mapping form (:meth:`Filters.parse` / :meth:`Filters.to_mapping`) uses these keys::

    date_field  "created" | "completed"
    from, to    a date as typed (see tasktui.domain.timezones)
    status      operator statuses: queued, in_progress, redo, completed, error, canceled
    audit       ready_to_audit, accepted, fixed, rejected
    project, batch, type, tag   names (a string or a list)
    search      task id or unique id prefix
    order       newest | oldest (aliases: see SortOrder.parse)

Pure: no I/O. Errors are :class:`FilterError` (a ValueError) naming the key at fault, so
that each caller can name it its own way (``--status``, ``views.mine.status``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Callable, Mapping, TypeVar

from tasktui.domain.query import DateField, SortOrder, TaskQuery
from tasktui.domain.statuses import AuditStatus, OperatorStatus, parse_audit_status, parse_operator_status
from tasktui.domain.timezones import DateInputError, Zone, parse_instant, parse_range

T = TypeVar("T")

#: every key of the mapping form, in the order they are written
KEYS = ("date_field", "from", "to", "status", "audit", "project", "batch", "type", "tag", "search", "order")


class FilterError(ValueError):
    """A filter value we cannot use. ``key`` names the mapping key at fault (None when the
    problem is the mapping itself); ``detail`` says what is wrong, without the key."""

    def __init__(self, key: str | None, detail: str):
        super().__init__(f"{key}: {detail}" if key else detail)
        self.key = key
        self.detail = detail


@dataclass(frozen=True, kw_only=True)
class Filters:
    """The filters as typed. Names are kept sorted and without repeats, so that two
    Filters that mean the same are equal and write the same mapping."""

    date_field: DateField = DateField.CREATED
    from_text: str = ""
    to_text: str = ""
    statuses: frozenset[OperatorStatus] = field(default_factory=frozenset)
    audit_statuses: frozenset[AuditStatus] = field(default_factory=frozenset)
    projects: tuple[str, ...] = ()
    batches: tuple[str, ...] = ()
    types: tuple[str, ...] = ()
    tags: tuple[str, ...] = ()
    search: str = ""
    order: SortOrder = SortOrder.NEWEST

    # ------------------------------------------------------------------ parsing
    @classmethod
    def parse(cls, mapping: Mapping[str, Any]) -> "Filters":
        """Filters from the mapping form (see the module docstring). Missing keys are off.
        Raises FilterError."""
        if not isinstance(mapping, Mapping):
            raise FilterError(None, f"must be a table of filters, not {mapping!r}")
        unknown = sorted(str(k) for k in set(mapping) - set(KEYS))
        if unknown:
            raise FilterError(None, f"unknown key(s) {', '.join(unknown)}; known keys: {', '.join(KEYS)}")
        from_text = _text(mapping, "from")
        to_text = _text(mapping, "to")
        _check_dates(from_text, to_text)
        return cls(
            date_field=_parse_one(mapping, "date_field", DateField.parse, DateField.CREATED),
            from_text=from_text,
            to_text=to_text,
            statuses=frozenset(_parse_each(mapping, "status", parse_operator_status)),
            audit_statuses=frozenset(_parse_each(mapping, "audit", parse_audit_status)),
            projects=_names(mapping, "project"),
            batches=_names(mapping, "batch"),
            types=_names(mapping, "type"),
            tags=_names(mapping, "tag"),
            search=_text(mapping, "search"),
            order=_parse_one(mapping, "order", SortOrder.parse, SortOrder.NEWEST),
        )

    def to_mapping(self, *, compact: bool = False) -> dict[str, Any]:
        """The mapping form: every key, lists sorted (a canonical form, e.g. for a
        fingerprint); ``compact`` leaves out the keys that hold their default (a config file).
        ``Filters.parse(f.to_mapping()) == f``."""
        out: dict[str, Any] = {
            "date_field": self.date_field.value,
            "from": self.from_text,
            "to": self.to_text,
            "status": sorted(s.value for s in self.statuses),
            "audit": sorted(a.name.lower() for a in self.audit_statuses),
            "project": sorted(self.projects),
            "batch": sorted(self.batches),
            "type": sorted(self.types),
            "tag": sorted(self.tags),
            "search": self.search,
            "order": self.order.word,
        }
        if compact:
            default = Filters().to_mapping()
            out = {k: v for k, v in out.items() if v != default[k]}
        return out

    # ------------------------------------------------------------------ meaning
    def resolve(self, zone: Zone, now: datetime | None = None) -> TaskQuery:
        """The query these filters mean at ``now`` (default: the clock) with dates typed in
        ``zone``. Raises DateInputError (e.g. a wall time that does not exist in that zone)."""
        rng = parse_range(self.from_text, self.to_text, zone, now=now)
        return TaskQuery(
            date_field=self.date_field, start=rng.start, end=rng.end,
            statuses=self.statuses, audit_statuses=self.audit_statuses,
            projects=self.projects, batches=self.batches, types=self.types, tags=self.tags,
            search=self.search, order=self.order,
        )

    @property
    def has_dates(self) -> bool:
        return bool(self.from_text or self.to_text)


# ---------------------------------------------------------------------- helpers
def _text(mapping: Mapping[str, Any], key: str) -> str:
    value = mapping.get(key, "")
    if value is None:
        return ""
    if not isinstance(value, str):
        raise FilterError(key, f"must be a string, not {value!r}")
    return value.strip()


def _strings(mapping: Mapping[str, Any], key: str) -> list[str]:
    value = mapping.get(key, ())
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, (list, tuple)) or not all(isinstance(v, str) for v in value):
        raise FilterError(key, f"must be a string or a list of strings, not {value!r}")
    return [v.strip() for v in value if v.strip()]


def _names(mapping: Mapping[str, Any], key: str) -> tuple[str, ...]:
    return tuple(sorted(set(_strings(mapping, key))))


def _parse_each(mapping: Mapping[str, Any], key: str, parse: Callable[[str], T]) -> list[T]:
    out: list[T] = []
    for text in _strings(mapping, key):
        try:
            out.append(parse(text))
        except ValueError as e:
            raise FilterError(key, str(e)) from None
    return out


def _parse_one(mapping: Mapping[str, Any], key: str, parse: Callable[[str], T], default: T) -> T:
    text = _text(mapping, key)
    if not text:
        return default
    try:
        return parse(text)
    except ValueError as e:
        raise FilterError(key, str(e)) from None


def _check_dates(from_text: str, to_text: str) -> None:
    """Each bound must be a date we understand, and the end must come after the start
    (checked in UTC; relative dates against the clock)."""
    for key, text in (("from", from_text), ("to", to_text)):
        if text:
            try:
                parse_instant(text, Zone.UTC, end=key == "to")
            except DateInputError as e:
                raise FilterError(key, str(e)) from None
    try:
        parse_range(from_text, to_text, Zone.UTC)
    except DateInputError as e:
        raise FilterError("to", str(e)) from None
