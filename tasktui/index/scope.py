"""What a local index holds: the sync scope (all tasks, or some projects, within an
optional creation window), how it is split into the listings a sync reads, and whether a
console query lies inside it. Pure values: no I/O, no network.

The window is fixed (dates or instants, UTC when no offset is given): a relative
window ("-30d") would slide every day, and the index would hold different tasks
depending on when it was last synced.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any, Iterable

import orjson

from tasktui.config import ConfigError, parse_fixed_date
from tasktui.domain import DateField, TaskQuery, to_wire_time

if TYPE_CHECKING:
    from tasktui.config import Settings


class ScopeError(ValueError):
    """A scope value that cannot be used; ``str()`` names the value and what to give."""


def parse_bound(text: str, where: str, *, end: bool = False) -> datetime | None:
    """A fixed date or instant as a UTC instant (:func:`tasktui.config.parse_fixed_date`);
    a bare date as ``end`` includes that day. Empty: None. Raises ScopeError."""
    try:
        return parse_fixed_date(text, where, end=end)
    except ConfigError as e:
        raise ScopeError(str(e)) from None


def _names(values: Iterable[str]) -> tuple[str, ...]:
    out: list[str] = []
    for v in values:
        v = v.strip()
        if v and v not in out:
            out.append(v)
    return tuple(sorted(out))


@dataclass(frozen=True)
class SyncScope:
    """The tasks an index holds: those of ``projects`` (empty: every project) created in
    ``[created_from, created_to)`` (None: open)."""

    projects: tuple[str, ...] = ()
    created_from: datetime | None = None
    created_to: datetime | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "projects", _names(self.projects))
        if (self.created_from is not None and self.created_to is not None
                and self.created_to <= self.created_from):
            raise ScopeError("the sync window is empty: its end is not after its start")

    @classmethod
    def parse(cls, projects: Iterable[str] = (), created_from: str = "", created_to: str = "", *,
              where: str = "sync") -> "SyncScope":
        """From the config's ``[sync]`` or the command line's flags (``where`` names them in
        errors: e.g. "--from" or "[sync] from"). Raises ScopeError."""
        lo = parse_bound(created_from, f"{where} from" if where else "from")
        hi = parse_bound(created_to, f"{where} to" if where else "to", end=True)
        if lo is not None and hi is not None and hi <= lo:
            raise ScopeError(f"{where}: the window from {created_from.strip()} to {created_to.strip()} is empty")
        return cls(tuple(projects), lo, hi)

    @classmethod
    def from_settings(cls, settings: "Settings") -> "SyncScope":
        """The config's ``[sync]`` (already checked by :func:`tasktui.config.load_settings`)."""
        return cls.parse(settings.sync_projects, settings.sync_from, settings.sync_to, where="[sync]")

    @property
    def is_everything(self) -> bool:
        return not self.projects and self.created_from is None and self.created_to is None

    def describe(self) -> str:
        """The scope in words: ``all tasks`` or ``projects A, B; created from ... to ...``."""
        parts = []
        if self.projects:
            word = "project" if len(self.projects) == 1 else "projects"
            parts.append(f"{word} {', '.join(self.projects)}")
        else:
            parts.append("all projects" if not self.is_everything else "all tasks")
        if self.created_from is not None or self.created_to is not None:
            lo = _words(self.created_from) if self.created_from else "the first"
            hi = _words(self.created_to) if self.created_to else "now"
            parts.append(f"created from {lo} to {hi} (end excluded)")
        return "; ".join(parts)

    # -- the listings a sync reads -------------------------------------------------
    def parts(self) -> list[tuple[str, TaskQuery]]:
        """(key, query) of each listing the sync reads: one per project (the public API
        filters one project per request), or one for every project. The key names the
        listing in the index's sync state."""
        projects: tuple[str | None, ...] = self.projects or (None,)
        out = []
        for p in projects:
            q = TaskQuery(start=self.created_from, end=self.created_to, projects=(p,) if p else ())
            key = orjson.dumps({"project": p, "from": _wire(self.created_from), "to": _wire(self.created_to)},
                               option=orjson.OPT_SORT_KEYS).decode()
            out.append((key, q))
        return out

    # -- coverage ------------------------------------------------------------------
    def covers(self, query: TaskQuery) -> bool:
        """Whether every task ``query`` can match lies inside the scope, so that the index
        answers it exactly (given the index is complete)."""
        if self.projects and not (query.projects and set(query.projects) <= set(self.projects)):
            return False
        if self.created_from is None and self.created_to is None:
            return True
        if query.date_field is not DateField.CREATED:
            return False
        if self.created_from is not None and (query.start is None or query.start < self.created_from):
            return False
        if self.created_to is not None and (query.end is None or query.end > self.created_to):
            return False
        return True

    def sql_where(self) -> tuple[str, list[Any]]:
        """A WHERE clause over the index's ``tasks`` table: the rows inside the scope
        (``--prune`` deletes the others). Times are milliseconds, as stored."""
        terms: list[str] = []
        args: list[Any] = []
        if self.projects:
            terms.append(f"project IN ({','.join('?' * len(self.projects))})")
            args.extend(self.projects)
        if self.created_from is not None:
            terms.append("created_at >= ?")
            args.append(_ms(self.created_from))
        if self.created_to is not None:
            terms.append("created_at < ?")
            args.append(_ms(self.created_to))
        return (" AND ".join(terms) or "1"), args

    # -- stored form -----------------------------------------------------------------
    def to_json(self) -> str:
        return orjson.dumps({"projects": list(self.projects), "from": _wire(self.created_from),
                             "to": _wire(self.created_to)}).decode()

    @classmethod
    def from_json(cls, text: str) -> "SyncScope":
        """Inverse of ``to_json``; ScopeError when the text is not a stored scope."""
        try:
            d = orjson.loads(text)
            projects = d["projects"]
            if not isinstance(projects, list) or not all(isinstance(p, str) for p in projects):
                raise TypeError
            lo = datetime.fromisoformat(d["from"].replace("Z", "+00:00")) if d["from"] else None
            hi = datetime.fromisoformat(d["to"].replace("Z", "+00:00")) if d["to"] else None
        except (orjson.JSONDecodeError, KeyError, TypeError, AttributeError, ValueError):
            raise ScopeError("the stored sync scope is damaged") from None
        return cls(tuple(projects), lo, hi)


def _ms(dt: datetime) -> int:
    return round(dt.timestamp() * 1000)


def _wire(dt: datetime | None) -> str | None:
    return to_wire_time(dt) if dt is not None else None


def _words(dt: datetime) -> str:
    dt = dt.astimezone(timezone.utc)
    if dt.hour == dt.minute == dt.second == dt.microsecond == 0:
        return dt.strftime("%Y-%m-%d")
    return dt.strftime("%Y-%m-%d %H:%M:%S UTC")
