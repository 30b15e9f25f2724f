"""Streaming, resumable export of every task matching a query, as JSON or NDJSON.

No Textual here: ``tasktui export`` and the app's export dialog both drive
:class:`Exporter`.

Guarantees
----------
* **Each matching task exactly once.** Pages are read with the server's keyset
  cursor (``next_token``) and written whole; the checkpoint only ever points at the
  end of a page that was written completely.
* **A half-written export never looks finished.** Tasks go to ``FILE.partial`` in the
  same directory; only when the last page is written is it flushed to disk and
  renamed over ``FILE`` (``os.replace``, atomic on one file system).
* **Resumable.** After every page, ``FILE.checkpoint.json`` records the filters (as
  given and as resolved), the ``next_token`` of the next page to fetch, how many
  tasks were written and the byte offset of the end of the last complete record.
  Resuming truncates the partial file to that offset (a torn record never survives)
  and continues from the token. The JSON array format stays valid because the
  separator is written *before* each record and the closing bracket only at the end.
* **Consistency.** At the start of an export the upper bound of the date range is
  fixed to ``min(user's end, the start instant)`` (the *snapshot*, stored in the
  checkpoint). The list is newest first with keyset paging, so tasks created while the
  export runs are outside the range: they neither shift pages nor appear half-way,
  and a resume fetches exactly the same set. (With ``--date-field completed`` the bound
  is on ``completed_at``, so tasks completed during the export are left out too.)
  Tasks whose *status* changes during the export are exported as they are when their
  page is read; if the change moves them out of the filter, they are left out.
* **Flat memory.** One page (≤ 100 tasks) is held at a time, plus the ids of the
  previous page (to drop a duplicate at a page boundary should a server repeat one).
* **The API key never appears** in the output or the checkpoint (the checkpoint holds
  the server URL without any user-info part, never credentials).
* **Safe to print.** Task text is data: JSON escapes C0 controls, and the output also
  escapes C1 controls (which some terminals obey as escape sequences), bidirectional
  overrides and U+2028/U+2029 as ``\\uXXXX`` — the same JSON, but ``cat`` of an export or
  an export to a terminal cannot drive the terminal, reorder text or split a line.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import json
import os
import time
from dataclasses import dataclass
from datetime import datetime, timezone
from enum import StrEnum
from pathlib import Path
from typing import IO, Any, Callable, Iterable, Mapping
from urllib.parse import urlsplit, urlunsplit

import orjson

from tasktui.api.paging import SLICED_CURSOR_PREFIX, decode_slice_cursor
from tasktui.domain import (
    EXT_PAGE_SIZE,
    PAGE_LIMIT_MAX,
    PAGE_SIZE_EXT_MAX,
    AuditStatus,
    DateField,
    OperatorStatus,
    SortOrder,
    Task,
    TaskQuery,
    parse_wire_time,
    to_wire_time,
)

try:  # POSIX advisory locks: two exports must not write the same partial file
    import fcntl
except ImportError:  # pragma: no cover - Windows
    fcntl = None  # type: ignore[assignment]

__all__ = [
    "CHECKPOINT_SUFFIX",
    "PARTIAL_SUFFIX",
    "Checkpoint",
    "ExportBusyError",
    "ExportError",
    "ExportFormat",
    "ExportIOError",
    "ExportProgress",
    "ExportResult",
    "ExportUsageError",
    "Exporter",
    "OutputExistsError",
    "ResumeMismatchError",
    "UnfinishedExportError",
    "checkpoint_path",
    "partial_path",
    "query_from_dict",
    "query_to_dict",
    "read_checkpoint",
    "snapshot_query",
    "validate_output_path",
]

PARTIAL_SUFFIX = ".partial"
CHECKPOINT_SUFFIX = ".checkpoint.json"
CHECKPOINT_KIND = "tasktui-export-checkpoint"
CHECKPOINT_VERSION = 1
#: The checkpoint is rewritten at most this often while pages stream in (each rewrite is
#: a small file renamed into place), and always when the export stops for any reason; a
#: hard kill (SIGKILL, power loss) loses at most this much work, never correctness.
CHECKPOINT_INTERVAL = 0.5


# --------------------------------------------------------------------------- errors
class ExportError(Exception):
    """The export could not be done; ``str()`` is a sentence an operator understands."""


class ExportUsageError(ExportError):
    """Bad input: the output path, the resume request or the format is not usable.
    Nothing was written."""


class OutputExistsError(ExportUsageError):
    """The output file exists and overwriting was not asked for."""


class UnfinishedExportError(ExportUsageError):
    """An unfinished export (partial file + checkpoint) exists for this output and
    neither resume nor overwrite was asked for."""

    def __init__(self, message: str, checkpoint: "Checkpoint | None"):
        super().__init__(message)
        self.checkpoint = checkpoint


class ResumeMismatchError(ExportUsageError):
    """``--resume`` with filters (or format, or server) other than the checkpoint's."""


class ExportBusyError(ExportUsageError):
    """Another export is writing the same partial file right now."""


class ExportIOError(ExportError):
    """Writing the output failed (disk full, permissions changed, ...). What was written
    up to the last complete page is kept, with its checkpoint."""


# --------------------------------------------------------------------------- format
class ExportFormat(StrEnum):
    JSON = "json"  # one JSON array, one task per line inside it
    NDJSON = "ndjson"  # one task per line, nothing else

    @property
    def suffix(self) -> str:
        return ".json" if self is ExportFormat.JSON else ".ndjson"

    @property
    def label(self) -> str:
        return "JSON array" if self is ExportFormat.JSON else "NDJSON (one task per line)"

    @classmethod
    def parse(cls, text: str) -> "ExportFormat":
        key = text.strip().lower()
        if key in ("json", "array"):
            return cls.JSON
        if key in ("ndjson", "jsonl", "jsonlines", "json-lines"):
            return cls.NDJSON
        raise ValueError(f"unknown format {text!r}; choose json or ndjson")

    @classmethod
    def for_path(cls, path: str | os.PathLike[str] | None) -> "ExportFormat | None":
        """The format a file name suggests (``.ndjson`` / ``.jsonl`` / ``.json``), if any."""
        if path is None:
            return None
        name = str(path).lower()
        if name.endswith((".ndjson", ".jsonl")):
            return cls.NDJSON
        if name.endswith(".json"):
            return cls.JSON
        return None


_JSON_OPEN = b"[\n"
_JSON_SEP = b",\n"
_JSON_CLOSE = b"\n]\n"
_JSON_CLOSE_EMPTY = b"]\n"


#: C1 controls, bidi marks / overrides / isolates, and the line / paragraph separators,
#: as UTF-8. Each starts with a lead byte (never a continuation byte), and in JSON text
#: such a character can only sit inside a string.
_UNSAFE_CHARS = frozenset(
    chr(cp).encode("utf-8")
    for cp in [*range(0x80, 0xA0), 0x061C, 0x200E, 0x200F, *range(0x2028, 0x202F), *range(0x2066, 0x206A)]
)
_LEADS = ((b"\xc2", 2), (b"\xd8", 2), (b"\xe2", 3))


def terminal_safe(data: bytes) -> bytes:
    """JSON text with the characters a terminal may act on written as ``\\uXXXX``
    escapes (an equivalent JSON document). Scans with ``bytes.find`` (memchr): a page
    without such lead bytes costs next to nothing."""
    hits: list[tuple[int, int, bytes]] = []
    find = data.find
    for lead, width in _LEADS:
        i = find(lead)
        while i != -1:
            ch = data[i:i + width]
            if ch in _UNSAFE_CHARS:
                hits.append((i, width, ch))
            i = find(lead, i + 1)
    if not hits:
        return data
    hits.sort()
    parts: list[bytes] = []
    pos = 0
    for i, width, ch in hits:
        parts.append(data[pos:i])
        parts.append(b"\\u%04x" % ord(ch.decode("utf-8")))
        pos = i + width
    parts.append(data[pos:])
    return b"".join(parts)


def _dumps(doc: Any) -> bytes:
    try:
        return orjson.dumps(doc)
    except (orjson.JSONEncodeError, TypeError):
        # integers beyond 64 bits and other things orjson refuses: the stdlib copes
        return json.dumps(doc, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


# --------------------------------------------------------------------------- paths
def partial_path(path: str | os.PathLike[str]) -> Path:
    p = Path(path)
    return p.with_name(p.name + PARTIAL_SUFFIX)


def checkpoint_path(path: str | os.PathLike[str]) -> Path:
    p = Path(path)
    return p.with_name(p.name + CHECKPOINT_SUFFIX)


def validate_output_path(path: str | os.PathLike[str]) -> Path:
    """Check that an export can be written to ``path``: an absolute path whose directory
    exists and is writable, and which is not itself a directory. Returns the absolute
    path; raises ExportUsageError with the reason. Does not look at existing files."""
    raw = str(path).strip()
    if not raw:
        raise ExportUsageError("the output file name is empty")
    p = Path(os.path.expanduser(raw))
    p = Path(os.path.abspath(p))
    if p.name in ("", ".", ".."):
        raise ExportUsageError(f"{raw} is not a file name")
    if p.is_dir():
        raise ExportUsageError(f"{p} is a directory; give a file name inside it")
    parent = p.parent
    if not parent.exists():
        raise ExportUsageError(f"the folder {parent} does not exist")
    if not parent.is_dir():
        raise ExportUsageError(f"{parent} is not a folder")
    if not os.access(parent, os.W_OK | os.X_OK):
        raise ExportUsageError(f"the folder {parent} is not writable")
    if p.exists() and not os.access(p, os.W_OK) and not os.access(parent, os.W_OK):
        raise ExportUsageError(f"{p} is not writable")
    return p


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


def _same_server(a: str | None, b: str | None) -> bool:
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


# --------------------------------------------------------------------------- query <-> dict
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


def _truncate_ms(dt: datetime) -> datetime:
    dt = dt.astimezone(timezone.utc)
    return dt.replace(microsecond=dt.microsecond // 1000 * 1000)


def snapshot_query(query: TaskQuery, snapshot: datetime) -> TaskQuery:
    """The query with its range's upper bound fixed to ``min(end, snapshot)`` (the
    consistency rule of every export; see the module docstring)."""
    snap = _truncate_ms(snapshot)
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


# --------------------------------------------------------------------------- checkpoint
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


def _write_atomic(path: Path, data: bytes) -> None:
    tmp = path.with_name(path.name + ".tmp")
    with open(tmp, "wb") as f:
        f.write(data)
    os.replace(tmp, path)


def _unlink(path: Path) -> None:
    try:
        path.unlink()
    except FileNotFoundError:
        pass


# --------------------------------------------------------------------------- progress
@dataclass(frozen=True)
class ExportProgress:
    written: int  # tasks in the output so far (including those of earlier runs)
    total: int | None  # tasks the server says match (None until the first page)
    pages: int  # pages written in this run
    elapsed: float  # seconds since this run started
    resumed_from: int = 0  # tasks already written by earlier runs
    done: bool = False
    total_exact: bool = True  # False when the server counts a wider set (local filtering)

    @property
    def rate(self) -> float:
        """Tasks per second in this run."""
        n = self.written - self.resumed_from
        return n / self.elapsed if self.elapsed > 0 and n > 0 else 0.0

    @property
    def remaining(self) -> float | None:
        """Estimated seconds left (None when unknown)."""
        if self.total is None or self.rate <= 0:
            return None
        return max(0.0, (self.total - self.written) / self.rate)

    @property
    def fraction(self) -> float | None:
        if not self.total:
            return None
        return min(1.0, self.written / self.total)


@dataclass(frozen=True)
class ExportResult:
    path: Path | None  # the finished file (None when streaming to a file object)
    format: ExportFormat
    written: int
    total: int | None
    elapsed: float
    resumed_from: int = 0
    snapshot: datetime | None = None


# --------------------------------------------------------------------------- the exporter
ProgressCallback = Callable[[ExportProgress], None]


@dataclass
class _State:
    written: int = 0
    offset: int = 0
    total: int | None = None
    pages: int = 0
    next_token: str | None = None
    complete: bool = False
    total_exact: bool = True


class Exporter:
    """Export every task of ``query`` through ``client`` (a :class:`tasktui.api.TaskClient`
    or anything with ``iter_pages(query, start_token=...)`` and ``extensions``).

    Either ``path`` (a file: temporary name, checkpoint, atomic rename, resumable) or
    ``stream`` (a binary file object such as ``sys.stdout.buffer``: written as it comes,
    not resumable). Call :meth:`prepare` (synchronous, no network: checks the path and any
    checkpoint, raising :class:`ExportUsageError`) and then ``await run()``.

    ``spec`` describes the filters as the operator gave them; a resume is refused when it
    differs from the checkpoint's. It defaults to the resolved query. With ``resume`` and
    a matching checkpoint the export continues with the checkpoint's resolved query (so
    relative dates such as ``-7d`` mean what they meant when the export began); with
    ``resume`` and no checkpoint it simply starts. ``overwrite`` replaces an existing file
    and discards an unfinished export.
    """

    def __init__(
        self,
        client: Any,
        query: TaskQuery,
        *,
        path: str | os.PathLike[str] | None = None,
        stream: IO[bytes] | None = None,
        format: ExportFormat = ExportFormat.JSON,
        resume: bool = False,
        overwrite: bool = False,
        spec: Mapping[str, Any] | None = None,
        server_url: str | None = None,
        on_progress: ProgressCallback | None = None,
        now: Callable[[], datetime] | None = None,
        page_size: int | None = None,
    ):
        if (path is None) == (stream is None):
            raise ValueError("give exactly one of path and stream")
        self.client = client
        self.user_query = query
        self.path: Path | None = Path(path) if path is not None else None
        self.stream = stream
        self.format = ExportFormat(format)
        self.resume = resume
        self.overwrite = overwrite
        self.spec = dict(spec) if spec is not None else query_to_dict(query)
        self.server_url = public_url(server_url)
        self.on_progress = on_progress
        self._fixed_now = now
        if page_size is not None and not 1 <= page_size <= PAGE_SIZE_EXT_MAX:
            raise ValueError(f"page_size must be 1 to {PAGE_SIZE_EXT_MAX}")
        self.page_size = page_size  # None: the largest the server allows
        self._prepared = False
        self._checkpoint: Checkpoint | None = None  # set when resuming
        self.resumed_from = 0
        self.query: TaskQuery | None = None  # the resolved query with the snapshot bound
        self.snapshot: datetime | None = None
        self.progress: ExportProgress | None = None
        self.notice: str | None = None  # something worth telling the operator (not an error)

    # ------------------------------------------------------------------ files
    @property
    def partial(self) -> Path:
        assert self.path is not None
        return partial_path(self.path)

    @property
    def checkpoint_file(self) -> Path:
        assert self.path is not None
        return checkpoint_path(self.path)

    def prepare(self) -> None:
        """Check the output and any unfinished export; decide between a fresh start and a
        resume. Raises ExportUsageError (nothing is written)."""
        if self.stream is not None:
            if self.resume:
                raise ExportUsageError(
                    "--resume needs an output file (-o FILE): an export to standard output "
                    "cannot be resumed"
                )
            self._prepared = True
            return
        assert self.path is not None
        self.path = validate_output_path(self.path)
        cp_file = self.checkpoint_file
        cp = None
        try:
            cp = read_checkpoint(self.path)
        except ExportUsageError:
            if not self.overwrite:
                raise
        if cp is None and cp_file.exists() and not self.partial.exists():
            _unlink(cp_file)  # stale: the export finished (or its partial was removed)
        if self.resume and cp is not None:
            self._check_resumable(cp)
            self._checkpoint = cp
            self.resumed_from = cp.written
        else:
            if self.resume:
                self.notice = f"nothing to resume for {self.path}; starting a new export"
            # a partial file without a checkpoint holds nothing that can be trusted: with
            # --resume it is simply started over (the lock in run() guards a live writer)
            unfinished = cp is not None or (self.partial.exists() and not self.resume)
            if unfinished and not self.overwrite:
                if cp is not None:
                    of = f" of {cp.total:,}" if cp.total is not None else ""
                    raise UnfinishedExportError(
                        f"an unfinished export to {self.path} exists ({cp.written:,}{of} tasks "
                        f"written); add --resume to continue it, or --force to start over",
                        cp,
                    )
                raise UnfinishedExportError(
                    f"{self.partial} exists (an unfinished export without a checkpoint); "
                    "add --force to start over",
                    None,
                )
            if self.path.exists() and not self.overwrite:
                raise OutputExistsError(f"{self.path} already exists; add --force to replace it")
        self._prepared = True

    def _check_resumable(self, cp: Checkpoint) -> None:
        assert self.path is not None
        if cp.fingerprint != fingerprint(self.spec):
            diff = describe_spec_difference(cp.spec, self.spec)
            raise ResumeMismatchError(
                f"cannot resume {self.path}: it was started with other filters ({diff}); "
                "run it with the same filters, or pass --force to start over"
            )
        if cp.format is not self.format:
            raise ResumeMismatchError(
                f"cannot resume {self.path}: it was started as {cp.format.value}, not "
                f"{self.format.value}; pass --format {cp.format.value}, or --force to start over"
            )
        if not _same_server(cp.server, self.server_url):
            raise ResumeMismatchError(
                f"cannot resume {self.path}: it was started against {cp.server}, not "
                f"{self.server_url}; the next page token only makes sense on the same server"
            )
        try:
            size = self.partial.stat().st_size
        except OSError:
            size = -1
        if size < cp.offset:
            raise ExportUsageError(
                f"cannot resume {self.path}: {self.partial} is shorter than its checkpoint says "
                "(it was changed or the machine crashed before it reached the disk); "
                "pass --force to start over"
            )

    def discard(self) -> None:
        """Remove the partial file and the checkpoint (an export canceled on purpose)."""
        if self.path is None:
            return
        _unlink(self.partial)
        _unlink(self.checkpoint_file)
        _unlink(self.checkpoint_file.with_name(self.checkpoint_file.name + ".tmp"))

    # ------------------------------------------------------------------ run
    def _progress(self, st: _State, t0: float, done: bool = False) -> None:
        self.progress = ExportProgress(
            written=st.written, total=st.total, pages=st.pages,
            elapsed=time.monotonic() - t0, resumed_from=self.resumed_from, done=done,
            total_exact=st.total_exact,
        )
        if self.on_progress is not None:
            self.on_progress(self.progress)

    async def run(self) -> ExportResult:
        """Export. Raises ApiError (from the client), ExportIOError, or CancelledError /
        KeyboardInterrupt; in every case a file export keeps its partial file and a
        checkpoint that points at the last complete page."""
        if not self._prepared:
            self.prepare()
        t0 = time.monotonic()
        cp = self._checkpoint
        if cp is not None:
            self.query = query_from_dict(cp.query)
            self.snapshot = parse_wire_time(cp.snapshot)
            st = _State(written=cp.written, offset=cp.offset, total=cp.total,
                        pages=0, next_token=cp.next_token, complete=cp.complete)
            started_at = cp.started_at
            sessions = cp.sessions + 1
        else:
            self.snapshot = _truncate_ms(await self._start_instant())
            self.query = snapshot_query(self.user_query, self.snapshot)
            st = _State()
            started_at = to_wire_time(self.snapshot)
            sessions = 1
        if self.stream is not None:
            return await self._run_stream(st, t0)
        return await self._run_file(st, t0, started_at, sessions)

    #: Exports of at least this many tasks are read by several page chains over
    #: creation-time slices (the server's work on one page overlaps the next); the
    #: checkpoint's cursor then remembers the slices, so a resume reads the same ones.
    parallel_min_tasks = 20_000

    def _page_size(self) -> int:
        """Pages of 1,000 from a server with the page-size extension (ten times fewer
        requests: the bundled server spends most of a small page on the request itself),
        else the standard 100. The keyset token does not depend on the page size, so a
        resume may use either."""
        exts = getattr(self.client, "extensions", frozenset())
        cap = PAGE_SIZE_EXT_MAX if EXT_PAGE_SIZE in exts else PAGE_LIMIT_MAX
        return min(cap, self.page_size or cap)

    async def _start_instant(self) -> datetime:
        """The instant the export starts, by the server's clock when it tells it (the
        ``Date`` header, whole seconds, rounded down) so that a skewed local clock cannot
        move the bound; else by ours."""
        if self._fixed_now is not None:
            return self._fixed_now()
        list_tasks = getattr(self.client, "list_tasks", None)
        if list_tasks is not None:  # one cheap request for a fresh Date header
            await list_tasks(TaskQuery(), limit=1)
        server = getattr(self.client, "server_time", None)
        if isinstance(server, datetime):
            return server.astimezone(timezone.utc).replace(microsecond=0)
        return datetime.now(timezone.utc)

    async def _pages(self, st: _State):
        """The pages still to write. The client filters locally when the server cannot
        express the whole query, so every task it yields matches."""
        if st.complete:
            return
        discover = getattr(self.client, "discover", None)
        if discover is not None:  # learn the extensions first (a resume has not asked yet)
            await discover()
        sliced = getattr(self.client, "iter_pages_sliced", None)
        if sliced is not None:  # several page chains over creation-time slices where it helps
            pages = sliced(self.query, start_cursor=st.next_token, limit=self._page_size(),
                           min_tasks=self.parallel_min_tasks)
        else:
            pages = self.client.iter_pages(self.query, start_token=st.next_token, limit=self._page_size())
        try:
            async for page in pages:
                yield page
        finally:
            await pages.aclose()

    def _encode_page(self, tasks: Iterable[Task], st: _State,
                     seen: set[str]) -> tuple[bytes, int, set[str]]:
        raws = [t.raw for t in tasks]
        ids_list = [r["task_id"] for r in raws]
        ids = set(ids_list)
        if len(ids) != len(ids_list) or not ids.isdisjoint(seen):
            # a page (or a page boundary) repeated by the server: each task once
            keep, ids = [], set()
            for r, tid in zip(raws, ids_list):
                if tid not in seen and tid not in ids:
                    ids.add(tid)
                    keep.append(r)
            raws = keep
        if self.format is ExportFormat.NDJSON:
            blob = b"\n".join(map(_dumps, raws)) + b"\n" if raws else b""
        else:
            blob = _JSON_SEP.join(map(_dumps, raws))
            if raws and st.written:
                blob = _JSON_SEP + blob
        return terminal_safe(blob), len(raws), ids

    def _take_page(self, page: Any, st: _State, seen: set[str]) -> tuple[bytes, int, set[str]]:
        if st.total is None:
            st.total = getattr(page, "total", None)
            st.total_exact = bool(getattr(page, "total_exact", True))
        return self._encode_page(page.tasks, st, seen)

    async def _run_stream(self, st: _State, t0: float) -> ExportResult:
        f = self.stream
        assert f is not None
        seen: set[str] = set()
        if self.format is ExportFormat.JSON:
            f.write(_JSON_OPEN)
        async with contextlib.aclosing(self._pages(st)) as pages:
            async for page in pages:
                blob, n, seen = self._take_page(page, st, seen)
                if blob:
                    f.write(blob)
                    f.flush()
                st.written += n
                st.pages += 1
                st.next_token = page.next_token
                self._progress(st, t0)
        if self.format is ExportFormat.JSON:
            f.write(_JSON_CLOSE if st.written else _JSON_CLOSE_EMPTY)
        f.flush()
        self._progress(st, t0, done=True)
        return ExportResult(path=None, format=self.format, written=st.written, total=st.total,
                            elapsed=time.monotonic() - t0, snapshot=self.snapshot)

    async def _run_file(self, st: _State, t0: float, started_at: str, sessions: int) -> ExportResult:
        assert self.path is not None and self.query is not None
        part = self.partial
        cp_file = self.checkpoint_file
        try:
            fd = os.open(part, os.O_RDWR | os.O_CREAT, 0o666)
        except OSError as e:
            raise ExportIOError(f"cannot create {part}: {e.strerror or e}") from None
        f = os.fdopen(fd, "r+b", buffering=0)
        fresh = self._checkpoint is None
        locked = False
        finished = False
        try:
            if fcntl is not None:
                try:
                    fcntl.flock(f.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
                except OSError:
                    raise ExportBusyError(
                        f"another export is writing {part} right now; wait for it to finish"
                    ) from None
            locked = True
            try:
                f.truncate(st.offset)  # a torn record after the checkpoint never survives
                f.seek(st.offset)
                if st.offset == 0 and self.format is ExportFormat.JSON:
                    f.write(_JSON_OPEN)
                    st.offset = len(_JSON_OPEN)
            except OSError as e:
                raise ExportIOError(f"cannot write {part}: {e.strerror or e}") from None

            saved = [time.monotonic(), -1]  # when, and at which offset, it was last written

            def save_checkpoint(force: bool = True) -> None:
                now = time.monotonic()
                if not force and now - saved[0] < CHECKPOINT_INTERVAL:
                    return
                if saved[1] == st.offset and not force:
                    return
                cp = Checkpoint(
                    output=str(self.path), format=self.format, spec=self.spec,
                    fingerprint=fingerprint(self.spec), query=query_to_dict(self.query),
                    snapshot=to_wire_time(self.snapshot), next_token=st.next_token,
                    written=st.written, offset=st.offset, total=st.total, pages=st.pages,
                    server=self.server_url, started_at=started_at,
                    updated_at=to_wire_time(datetime.now(timezone.utc)), sessions=sessions,
                    complete=st.complete,
                )
                _write_atomic(cp_file, cp.to_bytes())
                saved[0], saved[1] = now, st.offset

            try:
                save_checkpoint()
            except OSError as e:
                raise ExportIOError(f"cannot write {cp_file}: {e.strerror or e}") from None
            self._progress(st, t0)

            seen: set[str] = set()
            try:
                async with contextlib.aclosing(self._pages(st)) as pages:
                    async for page in pages:
                        blob, n, seen = self._take_page(page, st, seen)
                        try:
                            if blob:
                                f.write(blob)  # unbuffered: in the OS's hands once write returns
                            # the state moves only once the whole page is written
                            st.offset += len(blob)
                            st.written += n
                            st.pages += 1
                            st.next_token = page.next_token
                            st.complete = not getattr(page, "has_more", bool(page.next_token))
                            save_checkpoint(force=False)
                        except OSError as e:
                            raise ExportIOError(
                                f"cannot write the export ({e.strerror or e}). {st.written:,} tasks "
                                f"are saved in {part}: fix the cause and run the same command with "
                                "--resume"
                            ) from None
                        self._progress(st, t0)
            except BaseException:
                # failed, canceled or interrupted: record the last complete page
                with contextlib.suppress(OSError):
                    if saved[1] != st.offset:
                        save_checkpoint()
                raise

            st.complete = True
            try:
                save_checkpoint()  # every page is written: a resume only has to finish
                if self.format is ExportFormat.JSON:
                    f.write(_JSON_CLOSE if st.written else _JSON_CLOSE_EMPTY)
                await asyncio.to_thread(os.fsync, f.fileno())  # off the loop: the app stays responsive
                os.replace(part, self.path)  # the finished file appears whole, at once
            except OSError as e:
                raise ExportIOError(
                    f"cannot finish {self.path} ({e.strerror or e}). {st.written:,} tasks are saved "
                    f"in {part}: fix the cause and run the same command with --resume"
                ) from None
            finished = True
        finally:
            f.close()
            if not finished and locked and fresh and st.written == 0 and st.pages == 0:
                # nothing of value was written: leave nothing behind to trip the next run
                self.discard()
        _unlink(cp_file)
        _fsync_dir(self.path.parent)
        self._progress(st, t0, done=True)
        return ExportResult(path=self.path, format=self.format, written=st.written, total=st.total,
                            elapsed=time.monotonic() - t0, resumed_from=self.resumed_from,
                            snapshot=self.snapshot)


def _fsync_dir(path: Path) -> None:
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)
