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
from urllib.parse import urlsplit, urlunsplit

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


def public_url(url: str | None) -> str | None:
    """``url`` without user-info (``https://user:secret@host`` -> ``https://host``), query
    or fragment: safe to store."""
    if not url:
        return None
    parts = urlsplit(url)
    host = parts.hostname or ""
    if parts.port:
        host = f"{host}:{parts.port}"
    return urlunsplit((parts.scheme, host, parts.path.rstrip("/"), "", ""))


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
        bad = f"the checkpoint {where} is damaged or not a tasktui checkpoint"
        try:
            d = orjson.loads(data)
        except orjson.JSONDecodeError:
            raise ExportUsageError(f"{bad}; pass --force to start the export over") from None
        if not isinstance(d, dict) or d.get("kind") != CHECKPOINT_KIND:
            raise ExportUsageError(f"{bad}; pass --force to start the export over")
        if d.get("version") != CHECKPOINT_VERSION:
            raise ExportUsageError(
                f"the checkpoint {where} was written by another version of tasktui "
                f"(format {d.get('version')!r}); pass --force to start the export over"
            )
        try:
            cp = cls(
                output=str(d["output"]),
                format=ExportFormat(d["format"]),
                spec=dict(d["spec"]),
                fingerprint=str(d["fingerprint"]),
                query=dict(d["query"]),
                snapshot=str(d["snapshot"]),
                next_token=d.get("next_token"),
                written=int(d["written"]),
                offset=int(d["offset"]),
                total=d.get("total"),
                pages=int(d.get("pages", 0)),
                server=d.get("server"),
                started_at=str(d.get("started_at", "")),
                updated_at=str(d.get("updated_at", "")),
                sessions=int(d.get("sessions", 1)),
                complete=bool(d.get("complete", False)),
            )
            query_from_dict(cp.query)
        except (KeyError, TypeError, ValueError):
            raise ExportUsageError(f"{bad}; pass --force to start the export over") from None
        if cp.written < 0 or cp.offset < 0 or (cp.next_token is not None and not isinstance(cp.next_token, str)):
            raise ExportUsageError(f"{bad}; pass --force to start the export over")
        if cp.next_token is not None and cp.next_token.startswith(SLICED_CURSOR_PREFIX):
            try:
                decode_slice_cursor(cp.next_token)
            except ValueError:
                raise ExportUsageError(f"{bad}; pass --force to start the export over") from None
        return cp


def read_checkpoint(path: str | os.PathLike[str]) -> Checkpoint | None:
    """The checkpoint of an unfinished export to ``path``, or None if there is none
    (or only a stale one whose partial file is gone). Raises ExportUsageError if it is
    damaged."""
    cp_path = checkpoint_path(path)
    try:
        data = cp_path.read_bytes()
    except FileNotFoundError:
        return None
    except OSError as e:
        raise ExportUsageError(f"cannot read {cp_path}: {e.strerror or e}") from None
    if not partial_path(path).exists():
        return None
    return Checkpoint.from_bytes(data, str(cp_path))


class UnfinishedExportError(ExportUsageError):
    """An unfinished export (partial file + checkpoint) exists for this output and
    neither resume nor overwrite was asked for. Kept here, beside the checkpoint it
    carries (errors.py would otherwise import this module and close a circle)."""

    def __init__(self, message: str, checkpoint: Checkpoint | None):
        super().__init__(message)
        self.checkpoint = checkpoint
