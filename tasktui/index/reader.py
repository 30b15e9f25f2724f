"""IndexReader: the console's reads answered from a local index file, in-process.

An index file IS a bundled-server database (plus a ``sync_state`` table), so the console
reads it by running the bundled server's own listing code over it: a read-only
``ServerContext`` over the file, the server's Starlette app, and a ``TaskClient`` whose
httpx transport is ``httpx.ASGITransport(app)`` — no socket, no port, no request leaves
the process. Every extension is there (operator statuses, ``order``, ``search``,
multi-value keys, exact ``total``), so the store never scans: one SQL layer
(``tasktui.server.queries``) answers both the bundled server and the index.

Read-only, twice over: every SQLite connection of the reader runs ``PRAGMA
query_only``, and any request but GET / HEAD is refused before it reaches the app with
a Scale-style 405 naming why (actions go to the API; the store writes the task it re-reads
back with ``put``).

What the server adds to a task on the way out (``tasktui.server.docs.present``), and
what was decided about it:

- an attachment stored as a path (``/v1/media/...``) is made absolute with the index's
  origin; absolute URLs — every task read from the real API — pass unchanged;
- a completed task with no ``customer_review_status`` is served with ``pending``
  (Scale sends it so; the index keeps what the API sent, only the answer says it);
- a task without ``instruction`` gets its project's from the ``projects`` table (empty in
  an index made by ``tasktui sync``, so nothing is added);
- older bundled-server fields (``redo``, a top-level ``error``) are brought to the
  public form.
These are the same normalisations the bundled server makes and the console already
reads; a real-API task round-trips unchanged (``tests/index/test_reader_roundtrip.py``).
"""

from __future__ import annotations

import asyncio
import secrets
import sqlite3
import threading
import time
from pathlib import Path
from typing import Any, Iterable

import httpx

from tasktui.api import TaskClient
from tasktui.domain import Task, TaskQuery
from tasktui.index.db import IndexStatus, index_status, open_index, put_tasks, stored_scope, synced_ago
from tasktui.index.scope import SyncScope
from tasktui.index.sync import ProgressCallback, SyncResult, sync_index, sync_lock
from tasktui.server import db as dbm
from tasktui.server.errors import error_response
from tasktui.server.runner import create_app

__all__ = ["IndexReader", "IndexMissingError", "NOT_AN_INDEX", "READ_ONLY_SENTENCE", "FILE_ORIGIN"]

#: The index answers reads only: what a write to it says.
READ_ONLY_SENTENCE = ("the local index is read-only: actions go to the API "
                      "(not offered offline or on an opened file)")
#: Base of the in-process URLs of an opened file (it belongs to no API origin).
FILE_ORIGIN = "http://opened-file.tasktui.invalid"
NOT_AN_INDEX = "is not a tasktui index"


class IndexMissingError(FileNotFoundError):
    """No index at the path (``str()`` says how to make one)."""


class _ReadOnlyPool(dbm.ConnectionPool):
    """The server's connection pool over the index, every connection ``query_only``.
    (Opening runs the server's ``init_schema``: on a file that has the schema, as every
    index has, its ``IF NOT EXISTS`` statements write nothing and take no write lock.)"""

    def get(self) -> sqlite3.Connection:
        conn = getattr(self._local, "conn", None)
        if conn is None:
            conn = super().get()
            conn.execute("PRAGMA query_only=ON")
        return conn


class _ReadOnlyApp:
    """ASGI wrapper: GET / HEAD go to the server app; anything else is a 405 in words."""

    def __init__(self, app: Any):
        self.app = app

    async def __call__(self, scope, receive, send):
        if scope["type"] == "http" and scope.get("method") not in ("GET", "HEAD"):
            return await error_response(405, READ_ONLY_SENTENCE, {"allow": "GET, HEAD"})(scope, receive, send)
        return await self.app(scope, receive, send)


def check_index_file(path: Path) -> None:
    """Raise ``IndexMissingError`` when ``path`` is absent, ``ValueError`` (in words) when it
    is not a SQLite file holding the bundled server's task tables."""
    if not path.exists():
        raise IndexMissingError(
            f"there is no local index at {path}: make one with `tasktui sync` (while the API can be "
            "reached), then run this again")
    try:
        conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=30)
        try:
            names = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")}
        finally:
            conn.close()
    except sqlite3.DatabaseError as e:
        raise ValueError(f"{path} {NOT_AN_INDEX} (SQLite says: {e})") from None
    missing = {"tasks", "docs", "counts"} - names
    if missing:
        raise ValueError(f"{path} {NOT_AN_INDEX} (no {', '.join(sorted(missing))} table)")


class IndexReader:
    """Reads of one index file, answered in-process by the bundled server's code.

    ``origin``: the API origin the index mirrors (the base of the client's URLs; a
    stored media path is made absolute with it). ``label``: what the header calls the
    source ("index", or "file export.ndjson"). ``synced``: True for an index that
    ``tasktui sync`` fills (its status, scope and completeness are read from the file,
    at most once a second, and the store's write-through puts tasks into it); False for a
    file that is never synced (an opened export: complete, covers every query, read-only).

    ``IndexReader.for_index(path)`` opens a synced index (IndexMissingError when there is
    none, in words).
    """

    def __init__(self, path: str | Path, *, origin: str | None = None, label: str = "index",
                 synced: bool = False):
        self.path = Path(path)
        check_index_file(self.path)
        self.origin = _origin_of(origin)
        self.label = label
        self.synced = synced
        self._status: IndexStatus | None = None
        self._scope: SyncScope | None = None
        self._status_read = -1e9
        self._wconn: sqlite3.Connection | None = None
        self._wlock = threading.Lock()
        self._key = "index_" + secrets.token_urlsafe(18)  # in-process only; never the API key
        app, ctx = create_app(self.path, [self._key])
        ctx.pool.close()
        ctx.pool = _ReadOnlyPool(self.path)
        ctx.origin = self.origin
        self._ctx = ctx
        self.app = _ReadOnlyApp(app)
        self._client: TaskClient | None = None

    @classmethod
    def for_index(cls, path: str | Path) -> "IndexReader":
        """The reader of the index ``tasktui sync`` keeps at ``path``."""
        path = Path(path)
        st = index_status(path)
        if st is None:
            raise IndexMissingError(
                f"there is no local index at {path}: make one with `tasktui sync` (while the API can "
                "be reached), then run this again")
        if st.problem is not None:
            raise IndexMissingError(f"the local index at {path} is {st.problem}: run `tasktui sync`")
        return cls(path, origin=st.origin or None, label="index", synced=True)

    # the client -------------------------------------------------------------------------
    def client(self) -> TaskClient:
        """The ``TaskClient`` over the index (one per reader; closed by ``aclose``)."""
        if self._client is None:
            self._client = TaskClient(f"{self.origin}/v1", self._key,
                                      http_transport=httpx.ASGITransport(app=self.app),
                                      max_scan_pages=None, parallel=1)
        return self._client

    async def aclose(self) -> None:
        if self._client is not None:
            await self._client.aclose()
            self._client = None
        self._ctx.pool.close()
        with self._wlock:
            if self._wconn is not None:
                self._wconn.close()
                self._wconn = None

    # what it holds ----------------------------------------------------------------------
    def status(self, *, max_age: float = 1.0) -> IndexStatus | None:
        """The index's sync status (re-read at most every ``max_age`` seconds: a sync
        running beside the console changes it), or None for an opened file."""
        if not self.synced:
            return None
        now = time.monotonic()
        if now - self._status_read >= max_age:
            self._status = index_status(self.path)
            try:
                conn = sqlite3.connect(f"file:{self.path}?mode=ro", uri=True, timeout=30)
                try:
                    self._scope = stored_scope(conn)
                finally:
                    conn.close()
            except sqlite3.DatabaseError:
                self._scope = None
            self._status_read = now
        return self._status

    @property
    def synced_at(self) -> float | None:
        """When the index was last synced (epoch seconds), or None (never / a file)."""
        st = self.status()
        return None if st is None else st.synced_at

    @property
    def changes_before(self) -> float | None:
        """The API's clock (epoch seconds) up to which the index holds every change: a
        console reading from it polls the API for what changed since (None: a file, or
        never synced whole)."""
        st = self.status()
        return None if st is None else st.changes_before

    @property
    def scope(self) -> SyncScope | None:
        """What the index holds (None: never synced, or an opened file holding all it has)."""
        self.status()
        return self._scope

    @property
    def complete(self) -> bool:
        """The index holds its whole scope (an initial sync finished); a file always."""
        if not self.synced:
            return True
        st = self.status()
        return bool(st is not None and st.complete and st.problem is None)

    def covers(self, query: TaskQuery) -> bool:
        """The index can answer ``query`` exactly: complete, and the query inside its scope."""
        if not self.complete:
            return False
        if not self.synced:
            return True
        scope = self.scope
        return scope is not None and scope.covers(query)

    @property
    def writable(self) -> bool:
        """Tasks re-read from the API are put into it (a synced index, not a file)."""
        return self.synced

    def _write(self, docs: list[dict[str, Any]]) -> int:
        with self._wlock:
            if self._wconn is None:
                self._wconn = open_index(self.path, create=False)
            return put_tasks(self._wconn, docs)

    async def put(self, tasks: Iterable[Task]) -> int:
        """Write-through: put tasks re-read from the API into the index (in a worker
        thread; one transaction). Returns how many were written (0 for a file)."""
        if not self.synced:
            return 0
        docs = [t.raw for t in tasks]
        if not docs:
            return 0
        return await asyncio.to_thread(self._write, docs)

    async def sync(self, client: TaskClient, scope: SyncScope | None = None, *, origin: str = "",
                   on_progress: ProgressCallback | None = None) -> SyncResult:
        """Bring the index up to date from the API through ``client`` (the console's "Sync
        index"): ``tasktui.index.sync.sync_index`` under the index's sync lock (a second
        sync of the same index is refused with ``SyncBusy``), with ``scope`` (default: the
        stored one, else everything); ``origin`` is recorded for ``tasktui sync --status``
        (the API URL without user info, or "local sandbox"). Cancelling it keeps what was written; the next
        sync continues from there. Raises ApiError, SyncBusy."""
        if not self.synced:
            raise ValueError("an opened file is not synced")
        scope = scope or self.scope or SyncScope()
        with sync_lock(self.path):
            conn = open_index(self.path)
            try:
                return await sync_index(client, conn, scope, origin=origin, on_progress=on_progress)
            finally:
                conn.close()
                self._status_read = -1e9  # read the new status at once

    def describe(self, now: float | None = None) -> str:
        """What the header says: "index · synced 4 s ago", "index · never synced",
        "file export.ndjson"."""
        if not self.synced:
            return self.label
        return f"{self.label} · {synced_ago(self.synced_at, now)}"

    def __repr__(self) -> str:
        return f"IndexReader({str(self.path)!r}, label={self.label!r})"


def _origin_of(url: str | None) -> str:
    """``scheme://host[:port]`` of an API URL (the index records the API URL it mirrors);
    ``FILE_ORIGIN`` when there is none (an opened file, the sandbox's index)."""
    if not url:
        return FILE_ORIGIN
    u = httpx.URL(url)
    if u.scheme not in ("http", "https") or not u.host:
        return FILE_ORIGIN
    port = f":{u.port}" if u.port else ""
    return f"{u.scheme}://{u.host}{port}"
