"""The local task index: one SQLite file per API origin, with exactly the bundled
server's schema (:mod:`tasktui.server.db`: tasks, docs, tags, counts and their
triggers) plus ``sync_state``, so that the server's query code answers every filter over
it the same way it does over its own database.

- Where: ``<data dir>/index/<origin slug>.sqlite`` (:func:`index_path`); the folder is
  0700 and the file 0600 (SQLite gives its ``-wal``/``-shm`` files the same mode).
- What: the wire documents of the tasks in the sync scope, as the API sent them. Never
  the API key, nor any digest of it.
- ``sync_state``: one row per listing of the scope (see
  :meth:`~tasktui.index.scope.SyncScope.parts`): the slice cursor of an initial sync
  (the slices planned and how far they are read; written in the same transaction as the
  tasks it covers, so a killed sync resumes without loss or duplicates), whether it is
  complete, and the high-water mark the next delta sync reads ``updated_after``.
- ``meta``: the index format, its origin, its scope and when the last sync ended.

A file that is damaged (``PRAGMA quick_check``), not an index (a foreign SQLite file or
none at all) or of another format is moved aside (``NAME.broken-<time>``) and a new one
created, saying so: :class:`IndexConnection` ``.notice``. Nothing of it is ever shown.
"""

from __future__ import annotations

import os
import re
import sqlite3
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Iterable, Mapping
from urllib.parse import urlsplit

import orjson

from tasktui import locations
from tasktui.files import move_aside, sqlite_files
from tasktui.index.scope import ScopeError, SyncScope
from tasktui.server import db as sdb

if TYPE_CHECKING:
    from tasktui.config import Settings

#: Bumped when the layout of an index changes; a file of another format is rebuilt.
FORMAT_VERSION = 1
FORMAT_KEY = "tasktui_index_format"
ORIGIN_KEY = "tasktui_index_origin"
SCOPE_KEY = "tasktui_index_scope"
SYNCED_KEY = "tasktui_index_synced_at"
#: The slug of the embedded sandbox's index (its port changes every run).
SANDBOX_ORIGIN = "sandbox"

SYNC_STATE = """
CREATE TABLE IF NOT EXISTS sync_state (
    part TEXT PRIMARY KEY,
    cursor TEXT,
    complete INTEGER NOT NULL DEFAULT 0,
    started INTEGER,
    high_water INTEGER,
    read INTEGER NOT NULL DEFAULT 0,
    total INTEGER,
    synced_at REAL
);
"""

__all__ = [
    "FORMAT_VERSION", "IndexConnection", "IndexMissing", "IndexStatus", "SyncScope", "index_origin",
    "index_path", "index_path_for", "index_status", "open_index", "put_tasks", "delete_outside",
    "origin_slug", "read_meta", "write_meta",
]


class IndexMissing(FileNotFoundError):
    """There is no usable index at a path (``open_index(create=False)``); ``str()`` says
    so and what to do. ``notice`` is set when a damaged file was moved aside."""

    def __init__(self, message: str, notice: str | None = None):
        super().__init__(message)
        self.notice = notice

    def __str__(self) -> str:
        return self.args[0]


class IndexConnection(sqlite3.Connection):
    """A connection to an index. ``notice``: what was done to the file on opening (a
    damaged one moved aside), in words, or None."""

    notice: str | None = None
    path: Path | None = None


# -- where ----------------------------------------------------------------------------

def origin_slug(origin: str) -> str:
    """A file name for an API origin: ``https://api.scale.com/v1`` -> ``api.scale.com``,
    ``http://127.0.0.1:8080/v1`` -> ``http-127.0.0.1-8080``. User info (which may hold a
    key) is never part of it."""
    if origin == SANDBOX_ORIGIN:
        return SANDBOX_ORIGIN
    parts = urlsplit(origin.strip())
    scheme = (parts.scheme or "https").lower()
    host = (parts.hostname or "").lower()
    if not host:
        raise ValueError("the API URL has no host")
    name = host
    if scheme != "https":
        name = f"{scheme}-{name}"
    if parts.port and parts.port not in (80, 443):
        name = f"{name}-{parts.port}"
    path = parts.path.strip("/")
    if path and path != "v1":
        name = f"{name}-{path.removesuffix('/v1')}"
    return re.sub(r"[^a-z0-9._-]+", "_", name.lower())[:120]


def index_path(origin: str, env: Mapping[str, str] | None = None) -> Path:
    """``<data dir>/index/<origin slug>.sqlite`` (``$TASKTUI_DATA_DIR`` honoured)."""
    return locations.data_dir(env) / "index" / f"{origin_slug(origin)}.sqlite"


def index_origin(settings: "Settings") -> str:
    """Which index settings name: the API URL's, or the sandbox's when no server is named
    (or ``--sandbox``). No key is needed to name an index."""
    if settings.force_sandbox or (not settings.api_key and "api_url" not in settings.sources):
        return SANDBOX_ORIGIN
    return settings.api_url


def index_path_for(settings: "Settings", env: Mapping[str, str] | None = None) -> Path:
    return index_path(index_origin(settings), env)


# -- opening --------------------------------------------------------------------------

def _connect(path: Path) -> IndexConnection:
    conn = sqlite3.connect(str(path), timeout=30.0, isolation_level=None, check_same_thread=False,
                           factory=IndexConnection)
    for pragma in ("journal_mode=WAL", "synchronous=NORMAL", "busy_timeout=30000", "temp_store=MEMORY",
                   "foreign_keys=OFF", "cache_size=-16384", "mmap_size=268435456"):
        conn.execute(f"PRAGMA {pragma}")
    conn.path = path
    return conn


def _problem(path: Path) -> str | None:
    """Why the file at ``path`` is not a usable index, or None (a new empty file is fine)."""
    if path.stat().st_size == 0:
        return None
    try:
        conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=30)
        try:
            rows = conn.execute("PRAGMA quick_check").fetchall()
            if rows != [("ok",)]:
                return "damaged: " + "; ".join(str(r[0]) for r in rows[:3])
            tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")}
            if not tables:
                return None
            if "meta" not in tables or "tasks" not in tables:
                return "not a tasktui index"
            row = conn.execute("SELECT value FROM meta WHERE key=?", (FORMAT_KEY,)).fetchone()
        finally:
            conn.close()
    except sqlite3.DatabaseError as e:
        return f"damaged: {e}"
    if row is None:
        return "not a tasktui index (or one whose first write never finished)"
    if row[0] != str(FORMAT_VERSION):
        return f"of another index format ({str(row[0])[:20]}; this tasktui writes {FORMAT_VERSION})"
    return None


def _secure(path: Path) -> None:
    d = path.parent
    d.mkdir(parents=True, exist_ok=True, mode=0o700)
    os.chmod(d, 0o700)
    fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
    os.close(fd)
    os.chmod(path, 0o600)
    for side in sqlite_files(path)[1:]:
        if side.exists():
            os.chmod(side, 0o600)


def open_index(path: Path, *, create: bool = True) -> IndexConnection:
    """A connection to the index at ``path``, with the schema in place.

    ``create``: make the folder (0700) and file (0600) when missing. A damaged, foreign
    or other-format file is moved aside (``NAME.broken-<time>``, never read again) and
    a new index created; the connection's ``notice`` says so. With ``create=False`` a
    missing or moved-aside file raises :class:`IndexMissing` (its ``notice`` says what
    was moved)."""
    path = Path(path)
    notice = None
    if path.exists():
        problem = _problem(path)
        if problem is not None:
            aside = move_aside(path)
            notice = (f"the index {path} was {problem}; it was moved to {aside.name} and is rebuilt "
                      "by the next sync")
    if not path.exists() and not create:
        raise IndexMissing(f"there is no index at {path} yet: run `tasktui sync` first"
                           if notice is None else notice + ": run `tasktui sync`", notice)
    _secure(path)
    conn = _connect(path)
    try:
        sdb.init_schema(conn)
        conn.executescript(SYNC_STATE)
        if read_meta(conn, FORMAT_KEY) is None:
            write_meta(conn, FORMAT_KEY, str(FORMAT_VERSION))
    except BaseException:
        conn.close()
        raise
    _secure(path)  # the -wal and -shm files SQLite just made
    conn.notice = notice
    return conn


def read_meta(conn: sqlite3.Connection, key: str) -> str | None:
    row = conn.execute("SELECT value FROM meta WHERE key=?", (key,)).fetchone()
    return None if row is None else row[0]


def write_meta(conn: sqlite3.Connection, key: str, value: str) -> None:
    conn.execute("INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value=excluded.value",
                 (key, value))


# -- writing --------------------------------------------------------------------------

#: Keys the bundled server reserves for its own use in a stored document (a served task
#: never has them; one sent by a server must not drive the index's reader).
_INTERNAL = ("_lazy", "_seed")


def upsert(conn: sqlite3.Connection, docs: Iterable[dict[str, Any]]) -> int:
    """Insert or replace these wire documents (inside the caller's transaction): index
    row, document and tags together (:func:`tasktui.server.db.store_doc` /
    ``insert_doc``), the count tables kept by the triggers. Returns how many."""
    batch = []
    for raw in docs:
        if not isinstance(raw, dict) or not isinstance(raw.get("task_id"), str) or not raw.get("created_at"):
            raise ValueError("a task document without task_id or created_at cannot be indexed")
        if any(k in raw for k in _INTERNAL):
            raw = {k: v for k, v in raw.items() if k not in _INTERNAL}
        batch.append(raw)
    if not batch:
        return 0
    ids = list({d["task_id"] for d in batch})
    found: dict[str, int] = {}
    for i in range(0, len(ids), 500):
        part = ids[i:i + 500]
        found.update(conn.execute(f"SELECT task_id, id FROM tasks WHERE task_id IN ({sdb.placeholders(part)})",
                                  part).fetchall())
    uids = list({d["unique_id"] for d in batch if d.get("unique_id") is not None})
    for i in range(0, len(uids), 500):
        part = uids[i:i + 500]
        holders = conn.execute(f"SELECT t.id, t.task_id, t.unique_id, d.doc FROM tasks t JOIN docs d ON d.id = t.id "
                               f"WHERE t.unique_id IN ({sdb.placeholders(part)})", part).fetchall()
        newest = {d["unique_id"]: d["task_id"] for d in batch if d.get("unique_id") is not None}
        for rid, tid, uid, blob in holders:
            if newest.get(uid) != tid:
                # a unique id moves to its newest holder (the older one was cancelled with
                # clear_unique_id); the older one's own update comes in this or a later read
                other = orjson.loads(blob)
                other.pop("unique_id", None)
                sdb.store_doc(conn, rid, other)
    for doc in batch:
        rid = found.get(doc["task_id"])
        if rid is None:
            found[doc["task_id"]] = sdb.insert_doc(conn, doc)
        else:
            sdb.store_doc(conn, rid, doc)
    return len(batch)


def put_tasks(conn: sqlite3.Connection, docs: Iterable[dict[str, Any]]) -> int:
    """Upsert wire task documents in one transaction (the store's write-through after an
    action calls this with the task as re-read). Returns how many were written."""
    with sdb.Tx(conn, write=True):
        return upsert(conn, docs)


def delete_outside(conn: sqlite3.Connection, scope: SyncScope) -> int:
    """Delete the tasks outside ``scope`` (inside the caller's transaction); tags first,
    so the triggers keep the count tables exact. Returns how many were deleted."""
    where, args = scope.sql_where()
    doomed = f"SELECT id FROM tasks WHERE NOT ({where})"
    conn.execute(f"DELETE FROM task_tags WHERE id IN ({doomed})", args)
    conn.execute(f"DELETE FROM docs WHERE id IN ({doomed})", args)
    return conn.execute(f"DELETE FROM tasks WHERE NOT ({where})", args).rowcount


# -- status ---------------------------------------------------------------------------

@dataclass(frozen=True)
class IndexStatus:
    """What ``tasktui sync --status`` shows and the console's header reads."""

    path: Path
    origin: str
    tasks: int
    bytes: int
    synced_at: float | None  # epoch seconds of the end of the last complete sync
    scope: str  # the scope in words
    complete: bool  # every listing of the scope read whole at least once
    problem: str | None = None  # set when the file cannot be read (it is rebuilt by the next sync)
    #: the API's clock (epoch seconds) before which every change is in the index: the
    #: earliest high-water mark of the listings read whole (None: none is)
    changes_before: float | None = None

    @property
    def bytes_per_task(self) -> float | None:
        return self.bytes / self.tasks if self.tasks else None


def disk_use(path: Path) -> int:
    total = 0
    for p in sqlite_files(Path(path)):
        try:
            total += p.stat().st_size
        except FileNotFoundError:
            pass
    return total


def stored_scope(conn: sqlite3.Connection) -> SyncScope | None:
    text = read_meta(conn, SCOPE_KEY)
    if text is None:
        return None
    try:
        return SyncScope.from_json(text)
    except ScopeError:
        return None


def is_complete(conn: sqlite3.Connection, scope: SyncScope) -> bool:
    """Whether every listing of ``scope`` has been read whole."""
    keys = [k for k, _ in scope.parts()]
    done = {r[0] for r in conn.execute("SELECT part FROM sync_state WHERE complete = 1")}
    return all(k in done for k in keys)


def index_status(path: Path) -> IndexStatus | None:
    """The status of the index at ``path`` (read only; nothing is changed), or None when
    there is none."""
    path = Path(path)
    if not path.exists():
        return None
    size = disk_use(path)
    try:
        conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=30)
    except sqlite3.DatabaseError as e:
        return IndexStatus(path, "", 0, size, None, "", False, problem=f"cannot be read ({e})")
    try:
        fmt = read_meta(conn, FORMAT_KEY)
        if fmt != str(FORMAT_VERSION):
            return IndexStatus(path, "", 0, size, None, "", False,
                               problem="not an index this tasktui reads (rebuilt by the next sync)")
        tasks = sdb.task_count(conn)
        origin = read_meta(conn, ORIGIN_KEY) or ""
        scope = stored_scope(conn)
        synced = read_meta(conn, SYNCED_KEY)
        complete = scope is not None and is_complete(conn, scope)
        (high_water,), = conn.execute("SELECT MIN(high_water) FROM sync_state WHERE complete = 1").fetchall()
        return IndexStatus(path, origin, tasks, size, float(synced) if synced else None,
                           scope.describe() if scope else "(never synced)", complete,
                           changes_before=None if high_water is None else high_water / 1000)
    except sqlite3.DatabaseError as e:
        return IndexStatus(path, "", 0, size, None, "", False, problem=f"damaged ({e}); rebuilt by the next sync")
    finally:
        conn.close()


def synced_ago(synced_at: float | None, now: float | None = None) -> str:
    """When an index was last synced, as a header says it: ``synced 4 s ago``,
    ``synced 4 min ago``, ``synced 3 h ago``, ``synced 2 days ago``; ``never synced``."""
    if synced_at is None:
        return "never synced"
    s = max(0, int((time.time() if now is None else now) - synced_at))
    if s < 60:
        return f"synced {s} s ago"
    if s < 3600:
        return f"synced {s // 60} min ago"
    if s < 86400 * 2:
        return f"synced {s // 3600} h ago"
    return f"synced {s // 86400} days ago"


def serve_index(path: Path):
    """The bundled server over the index at ``path``, in a background thread on a free
    loopback port, with a key made for this run only (``tasktui export --offline``):
    every filter of the export answered by the server's own query code. The caller
    stops the returned handle. Raises IndexMissing when there is no sound index."""
    import secrets

    from tasktui.server import start_server_thread

    open_index(path, create=False).close()
    return start_server_thread(path, ["offline_" + secrets.token_hex(16)], host="127.0.0.1", port=0)
