"""The on-disk state of an unfinished export: ``FILE.partial`` and its checkpoint.

``FILE.checkpoint.json`` records the filters (as given and as resolved, with the
snapshot bound), the token of the next page to fetch, how many tasks were written and
the byte offset of the end of the last complete record — what a resume needs, and never
a credential (the server URL is stored without user-info). This module owns its
encoding, the query <-> dict round trip, the fingerprint a resume is checked against,
the snapshot bound, and whether two server URLs name the same service.
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Mapping
from urllib.parse import urlsplit

import orjson

from tasktui.api.paging import SLICED_CURSOR_PREFIX, decode_slice_cursor
from tasktui.domain import (
    AuditStatus,
    DateField,
    OperatorStatus,
    SortOrder,
    TaskQuery,
    parse_wire_time,
    to_wire_time,
)
from tasktui.export.errors import ExportUsageError
from tasktui.export.format import ExportFormat
from tasktui.config import public_url
from tasktui.files import write_atomic

__all__ = [
    "CHECKPOINT_INTERVAL",
    "CHECKPOINT_KIND",
    "CHECKPOINT_SUFFIX",
    "CHECKPOINT_VERSION",
    "PARTIAL_SUFFIX",
    "Checkpoint",
    "UnfinishedExportError",
    "checkpoint_path",
    "describe_spec_difference",
    "fingerprint",
    "partial_path",
    "public_url",
    "query_from_dict",
    "query_to_dict",
    "read_checkpoint",
    "same_server",
    "snapshot_query",
    "truncate_ms",
]

PARTIAL_SUFFIX = ".partial"
CHECKPOINT_SUFFIX = ".checkpoint.json"
CHECKPOINT_KIND = "tasktui-export-checkpoint"
CHECKPOINT_VERSION = 1
#: The checkpoint is rewritten at most this often while pages stream in (each rewrite is
#: a small file renamed into place), and always when the export stops for any reason; a
#: hard kill (SIGKILL, power loss) loses at most this much work, never correctness.
CHECKPOINT_INTERVAL = 0.5


def partial_path(path: str | os.PathLike[str]) -> Path:
    p = Path(path)
    return p.with_name(p.name + PARTIAL_SUFFIX)


def checkpoint_path(path: str | os.PathLike[str]) -> Path:
    p = Path(path)
    return p.with_name(p.name + CHECKPOINT_SUFFIX)


def same_server(a: str | None, b: str | None) -> bool:
    """Whether two API URLs are the same service. The embedded sandbox picks a new free
    port each run, so on loopback the port is ignored."""
    if not a or not b:
        return True
    pa, pb = urlsplit(a), urlsplit(b)
    if (pa.scheme, pa.hostname, pa.path.rstrip("/")) != (pb.scheme, pb.hostname, pb.path.rstrip("/")):
        return False
    if pa.hostname in ("127.0.0.1", "localhost", "::1"):
        return True
    return pa.port == pb.port


def query_to_dict(q: TaskQuery) -> dict[str, Any]:
    """A canonical, JSON-able description of a resolved query (sorted lists, UTC instants)."""
    return {
        "date_field": q.date_field.value,
        "start": to_wire_time(q.start) if q.start else None,
        "end": to_wire_time(q.end) if q.end else None,
        "status": sorted(s.value for s in q.statuses),
        "audit": sorted(a.value for a in q.audit_statuses),
        "project": sorted(q.projects),
        "batch": sorted(q.batches),
        "type": sorted(q.types),
        "tags": sorted(q.tags),
        "search": q.search,
        "order": q.order.value,
    }


def query_from_dict(d: Mapping[str, Any]) -> TaskQuery:
    """The inverse of :func:`query_to_dict`. Raises ValueError on a malformed dict."""
    try:
        start = parse_wire_time(d.get("start")) if d.get("start") else None
        end = parse_wire_time(d.get("end")) if d.get("end") else None
        if (d.get("start") and start is None) or (d.get("end") and end is None):
            raise ValueError("bad instant")
        return TaskQuery(
            date_field=DateField(d.get("date_field", "created")),
            start=start,
            end=end,
            statuses=frozenset(OperatorStatus(s) for s in d.get("status", [])),
            audit_statuses=frozenset(AuditStatus(a) for a in d.get("audit", [])),
            projects=tuple(str(x) for x in d.get("project", [])),
            batches=tuple(str(x) for x in d.get("batch", [])),
            types=tuple(str(x) for x in d.get("type", [])),
            tags=tuple(str(x) for x in d.get("tags", [])),
            search=str(d.get("search", "")),
            order=SortOrder(d.get("order", "desc")),
        )
    except (TypeError, ValueError, AttributeError) as e:
        raise ValueError(f"not a stored query: {e}") from None


def truncate_ms(dt: datetime) -> datetime:
    """``dt`` in UTC, to the millisecond (what wire time carries)."""
    dt = dt.astimezone(timezone.utc)
    return dt.replace(microsecond=dt.microsecond // 1000 * 1000)


def snapshot_query(query: TaskQuery, snapshot: datetime) -> TaskQuery:
    """The query with its range's upper bound fixed to ``min(end, snapshot)`` (the
    consistency rule of every export; see :mod:`tasktui.export`)."""
    snap = truncate_ms(snapshot)
    end = query.end if query.end is not None and query.end <= snap else snap
    return query.replace(end=end)


def fingerprint(spec: Mapping[str, Any]) -> str:
    canon = json.dumps(spec, sort_keys=True, separators=(",", ":"), ensure_ascii=True, default=str)
    return hashlib.sha256(canon.encode("ascii")).hexdigest()


def describe_spec_difference(old: Mapping[str, Any], new: Mapping[str, Any]) -> str:
    """``status: completed → queued; from: -7d → (none)`` for the keys that differ."""

    def show(v: Any) -> str:
        if v in (None, "", [], ()):
            return "(none)"
        if isinstance(v, (list, tuple)):
            return ",".join(str(x) for x in v)
        return str(v)

    parts = []
    for k in sorted(set(old) | set(new)):
        if old.get(k) != new.get(k):
            parts.append(f"{k}: {show(old.get(k))} → {show(new.get(k))}")
    return "; ".join(parts)

@dataclass
class Checkpoint:
    """What ``FILE.checkpoint.json`` holds. No credentials, ever."""

    output: str  # the final file name (for the operator's eyes)
    format: ExportFormat
    spec: dict[str, Any]  # the filters as given (CLI: as typed; app: resolved)
    fingerprint: str  # sha256 of ``spec``
    query: dict[str, Any]  # the resolved query with the snapshot bound (query_to_dict)
    snapshot: str  # the instant the export started (wire time); the range's upper bound
    next_token: str | None  # token of the next page to fetch (None: from the first page)
    written: int  # tasks in the partial file
    offset: int  # bytes in the partial file up to the end of the last complete record
    total: int | None = None  # what the server reported as matching
    pages: int = 0
    server: str | None = None  # API base URL, without user-info
    started_at: str = ""
    updated_at: str = ""
    sessions: int = 1  # how many runs (1 + resumes) contributed
    complete: bool = False  # every page is written; only the closing and the rename remain

    def to_bytes(self) -> bytes:
        d = {
            "kind": CHECKPOINT_KIND,
            "version": CHECKPOINT_VERSION,
            "output": self.output,
            "format": self.format.value,
            "spec": self.spec,
            "fingerprint": self.fingerprint,
            "query": self.query,
            "snapshot": self.snapshot,
            "next_token": self.next_token,
            "written": self.written,
            "offset": self.offset,
            "total": self.total,
            "pages": self.pages,
            "server": self.server,
            "started_at": self.started_at,
            "updated_at": self.updated_at,
            "sessions": self.sessions,
            "complete": self.complete,
        }
        return orjson.dumps(d, option=orjson.OPT_INDENT_2) + b"\n"

    def save(self, path: str | os.PathLike[str]) -> None:
        """Replace the checkpoint file ``path`` with this one, atomically and durably (a
        resume after a crash must not find a checkpoint ahead of what reached the disk,
        nor an empty one). Raises OSError."""
        write_atomic(path, self.to_bytes(), mode=None)

    @classmethod
    def from_bytes(cls, data: bytes, where: str) -> "Checkpoint":
        """Parse and check a checkpoint file's bytes. Every way it can be damaged (not
        JSON, not an object, another kind or version, a field missing, of the wrong type
        or out of range, a fingerprint not of its spec) raises ExportUsageError saying so
        and how to start over: a damaged checkpoint is the operator's to decide, never
        something a retry fixes."""

        def damaged(why: str) -> ExportUsageError:
            return ExportUsageError(
                f"the checkpoint {where} is damaged ({why}); pass --force to start the export over"
            )

        try:
            d = orjson.loads(data)
        except orjson.JSONDecodeError:
            raise damaged("it is not JSON") from None
        if not isinstance(d, dict):
            raise damaged("it is not a JSON object")
        if d.get("kind") != CHECKPOINT_KIND:
            raise damaged("it is not a tasktui export checkpoint")
        if d.get("version") != CHECKPOINT_VERSION:
            raise damaged("its format version is not this tasktui's: written by another version, or changed")

        # (the values themselves are not echoed: they are not necessarily safe to print)
        missing = object()
        names = {str: "text", dict: "an object", int: "a whole number", bool: "true or false"}

        def field(name: str, kind: type, default: Any = missing) -> Any:
            value = d.get(name, default)
            if value is missing:
                raise damaged(f"{name} is missing")
            if value is None and default is None:
                return None
            # bool is an int in Python, but not a count or an offset
            if not isinstance(value, kind) or (isinstance(value, bool) and kind is not bool):
                raise damaged(f"{name} is not {names[kind]}")
            return value

        def count(name: str, default: Any = missing, minimum: int = 0) -> Any:
            value = field(name, int, default)
            if value is not None and value < minimum:
                raise damaged(f"{name} is less than {minimum}")
            return value

        try:
            fmt = ExportFormat(field("format", str))
        except ValueError:
            raise damaged("format is neither json nor ndjson") from None
        cp = cls(
            output=field("output", str),
            format=fmt,
            spec=field("spec", dict),
            fingerprint=field("fingerprint", str),
            query=field("query", dict),
            snapshot=field("snapshot", str),
            next_token=field("next_token", str, None),
            written=count("written"),
            offset=count("offset"),
            total=count("total", None),
            pages=count("pages", 0),
            server=field("server", str, None),
            started_at=field("started_at", str, ""),
            updated_at=field("updated_at", str, ""),
            sessions=count("sessions", 1, minimum=1),
            complete=field("complete", bool, False),
        )
        if cp.fingerprint != fingerprint(cp.spec):
            raise damaged("its fingerprint is not that of its filters")
        try:
            query_from_dict(cp.query)
        except ValueError:
            raise damaged("its query is not one tasktui wrote") from None
        if parse_wire_time(cp.snapshot) is None:
            raise damaged("snapshot is not a date")
        # the opening is written before the first checkpoint; each record adds bytes
        opening = len(cp.format.opening)
        if cp.offset < opening or (cp.written == 0) != (cp.offset == opening):
            raise damaged(f"{cp.written:,} tasks cannot end at byte {cp.offset:,}")
        if cp.next_token is not None and cp.next_token.startswith(SLICED_CURSOR_PREFIX):
            try:
                decode_slice_cursor(cp.next_token)
            except ValueError:
                raise damaged("its next page cursor cannot be read") from None
        return cp


def read_checkpoint(path: str | os.PathLike[str]) -> Checkpoint | None:
    """The checkpoint of an unfinished export to ``path``, or None if there is none
    (or only a stale one whose partial file is gone). Raises ExportUsageError if it is
    damaged, or if the partial file is shorter than it says (changed since, or cut by a
    crash before its bytes reached the disk): either way it cannot be trusted."""
    cp_path = checkpoint_path(path)
    part = partial_path(path)
    try:
        data = cp_path.read_bytes()
    except FileNotFoundError:
        return None
    except OSError as e:
        raise ExportUsageError(f"cannot read {cp_path}: {e.strerror or e}") from None
    try:
        size = part.stat().st_size
    except FileNotFoundError:
        return None
    except OSError as e:
        raise ExportUsageError(f"cannot read {part}: {e.strerror or e}") from None
    cp = Checkpoint.from_bytes(data, str(cp_path))
    if size < cp.offset:
        raise ExportUsageError(
            f"the checkpoint {cp_path} is damaged (it counts {cp.offset:,} bytes, but {part} holds "
            f"{size:,}: the file was changed, or cut by a crash before it reached the disk); "
            "pass --force to start the export over"
        )
    return cp


class UnfinishedExportError(ExportUsageError):
    """An unfinished export (partial file + checkpoint) exists for this output and
    neither resume nor overwrite was asked for. Kept here, beside the checkpoint it
    carries (errors.py would otherwise import this module and close a circle)."""

    def __init__(self, message: str, checkpoint: Checkpoint | None):
        super().__init__(message)
        self.checkpoint = checkpoint
