"""SQLite storage for the bundled server.

Layout (built for listing speed on 1,000,000 rows):

- ``tasks``: one narrow row per task holding only the columns the filters and the
  sort need (integer millisecond timestamps, the *operator* status, the audit status,
  project, batch, type, unique id). Every filter has an index that ends in
  ``(created_at, task_id)`` so that a page is an index range scan in sort order.
- ``docs``: the wire document of each task as an orjson blob, keyed by the same rowid;
  only the 100 rows of a page are ever read from it.
- ``task_tags``: (tag, rowid) for the ``tags`` filter.
- ``counts``: the number of tasks per (UTC day, operator status, audit status, project,
  batch, type), kept exact by triggers on ``tasks``; ``total`` for the common filters is a
  sum over it plus an exact count of the partial days at the edges of a date range.
- ``projects``, ``batches``, ``idempotency``: what their names say.

Task documents are read and written here only (``load_doc``, ``store_doc``,
``insert_doc``), so that the index row, the document and the tags never disagree.

Every connection runs in WAL mode with a busy timeout; writers use ``BEGIN IMMEDIATE``
so that two read-modify-write updates of one task never interleave.
"""

from __future__ import annotations

import sqlite3
import threading
import time
from pathlib import Path
from typing import Any, Iterable

import orjson

from tasktui.server.docs import index_row
from tasktui.server.errors import NotFound

#: The key of the count tables past the day: one row per combination, with its number.
_COUNTED = """ostatus TEXT NOT NULL,
    review TEXT NOT NULL,
    project TEXT NOT NULL,
    batch TEXT NOT NULL,
    type TEXT NOT NULL,
    n INTEGER NOT NULL"""

SCHEMA = f"""
CREATE TABLE IF NOT EXISTS tasks (
    id INTEGER PRIMARY KEY,
    task_id TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL,
    completed_at INTEGER,
    ostatus TEXT NOT NULL,
    review TEXT NOT NULL DEFAULT '',
    project TEXT NOT NULL DEFAULT '',
    batch TEXT NOT NULL DEFAULT '',
    type TEXT NOT NULL DEFAULT '',
    unique_id TEXT
);
CREATE TABLE IF NOT EXISTS docs (
    id INTEGER PRIMARY KEY,
    doc BLOB NOT NULL
);
CREATE TABLE IF NOT EXISTS task_tags (
    tag TEXT NOT NULL,
    id INTEGER NOT NULL,
    PRIMARY KEY (tag, id)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS counts (
    day INTEGER NOT NULL,
    {_COUNTED},
    PRIMARY KEY (day, ostatus, review, project, batch, type)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS tag_counts (
    day INTEGER NOT NULL,
    tag TEXT NOT NULL,
    {_COUNTED},
    PRIMARY KEY (tag, day, ostatus, review, project, batch, type)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS projects (
    name TEXT PRIMARY KEY,
    type TEXT NOT NULL,
    created_at TEXT NOT NULL,
    doc BLOB NOT NULL
);
CREATE TABLE IF NOT EXISTS batches (
    name TEXT PRIMARY KEY,
    project TEXT NOT NULL,
    created_at TEXT NOT NULL,
    doc BLOB NOT NULL
);
CREATE TABLE IF NOT EXISTS idempotency (
    api_key_hash TEXT NOT NULL,
    key TEXT NOT NULL,
    fingerprint TEXT NOT NULL,
    status INTEGER NOT NULL,
    body BLOB NOT NULL,
    created_at INTEGER NOT NULL,
    PRIMARY KEY (api_key_hash, key)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS meta (
    key TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
"""

INDEXES = """
CREATE UNIQUE INDEX IF NOT EXISTS ix_task_id ON tasks (task_id);
CREATE INDEX IF NOT EXISTS ix_created ON tasks (created_at, task_id);
CREATE INDEX IF NOT EXISTS ix_status ON tasks (ostatus, created_at, task_id);
CREATE INDEX IF NOT EXISTS ix_status_review ON tasks (ostatus, review, created_at, task_id);
CREATE INDEX IF NOT EXISTS ix_review ON tasks (review, created_at, task_id);
DROP INDEX IF EXISTS ix_project;
DROP INDEX IF EXISTS ix_batch;
CREATE INDEX IF NOT EXISTS ix_project_c ON tasks (project, created_at, task_id, batch, ostatus, review, type);
CREATE INDEX IF NOT EXISTS ix_batch_c ON tasks (batch, created_at, task_id, project, ostatus, review, type);
CREATE INDEX IF NOT EXISTS ix_type ON tasks (type, created_at, task_id);
DROP INDEX IF EXISTS ix_completed;
DROP INDEX IF EXISTS ix_updated;
DROP INDEX IF EXISTS ix_completed_created;
DROP INDEX IF EXISTS ix_updated_created;
CREATE INDEX IF NOT EXISTS ix_completed_cover ON tasks (completed_at, created_at, ostatus, review, project, batch, type);
CREATE INDEX IF NOT EXISTS ix_updated_cover ON tasks (updated_at, created_at, ostatus, review, project, batch, type);
CREATE UNIQUE INDEX IF NOT EXISTS ix_unique_id ON tasks (unique_id) WHERE unique_id IS NOT NULL;
CREATE INDEX IF NOT EXISTS ix_unique_id_nocase ON tasks (lower(unique_id)) WHERE unique_id IS NOT NULL;
CREATE INDEX IF NOT EXISTS ix_tags_id ON task_tags (id);
"""

# Triggers keep ``counts`` exact on every insert, update and delete of ``tasks``.
TRIGGERS = """
CREATE TRIGGER IF NOT EXISTS tr_tasks_ins AFTER INSERT ON tasks BEGIN
    INSERT INTO counts (day, ostatus, review, project, batch, type, n)
    VALUES (NEW.created_at / 86400000, NEW.ostatus, NEW.review, NEW.project, NEW.batch, NEW.type, 1)
    ON CONFLICT (day, ostatus, review, project, batch, type) DO UPDATE SET n = n + 1;
END;
CREATE TRIGGER IF NOT EXISTS tr_tasks_del AFTER DELETE ON tasks BEGIN
    UPDATE counts SET n = n - 1 WHERE day = OLD.created_at / 86400000 AND ostatus = OLD.ostatus
        AND review = OLD.review AND project = OLD.project AND batch = OLD.batch AND type = OLD.type;
END;
CREATE TRIGGER IF NOT EXISTS tr_tasks_upd AFTER UPDATE OF created_at, ostatus, review, project, batch, type ON tasks
WHEN OLD.created_at / 86400000 IS NOT NEW.created_at / 86400000 OR OLD.ostatus IS NOT NEW.ostatus
  OR OLD.review IS NOT NEW.review OR OLD.project IS NOT NEW.project OR OLD.batch IS NOT NEW.batch
  OR OLD.type IS NOT NEW.type
BEGIN
    UPDATE counts SET n = n - 1 WHERE day = OLD.created_at / 86400000 AND ostatus = OLD.ostatus
        AND review = OLD.review AND project = OLD.project AND batch = OLD.batch AND type = OLD.type;
    INSERT INTO counts (day, ostatus, review, project, batch, type, n)
    VALUES (NEW.created_at / 86400000, NEW.ostatus, NEW.review, NEW.project, NEW.batch, NEW.type, 1)
    ON CONFLICT (day, ostatus, review, project, batch, type) DO UPDATE SET n = n + 1;
    UPDATE tag_counts SET n = n - 1 WHERE tag IN (SELECT tag FROM task_tags WHERE id = OLD.id)
        AND day = OLD.created_at / 86400000 AND ostatus = OLD.ostatus AND review = OLD.review
        AND project = OLD.project AND batch = OLD.batch AND type = OLD.type;
    INSERT INTO tag_counts (day, tag, ostatus, review, project, batch, type, n)
    SELECT NEW.created_at / 86400000, tag, NEW.ostatus, NEW.review, NEW.project, NEW.batch, NEW.type, 1
    FROM task_tags WHERE id = NEW.id AND true
    ON CONFLICT (tag, day, ostatus, review, project, batch, type) DO UPDATE SET n = n + 1;
END;
CREATE TRIGGER IF NOT EXISTS tr_tags_ins AFTER INSERT ON task_tags BEGIN
    INSERT INTO tag_counts (day, tag, ostatus, review, project, batch, type, n)
    SELECT created_at / 86400000, NEW.tag, ostatus, review, project, batch, type, 1
    FROM tasks WHERE id = NEW.id AND true
    ON CONFLICT (tag, day, ostatus, review, project, batch, type) DO UPDATE SET n = n + 1;
END;
CREATE TRIGGER IF NOT EXISTS tr_tags_del AFTER DELETE ON task_tags BEGIN
    UPDATE tag_counts SET n = n - 1 WHERE tag = OLD.tag AND (day, ostatus, review, project, batch, type) IN
        (SELECT created_at / 86400000, ostatus, review, project, batch, type FROM tasks WHERE id = OLD.id);
END;
"""


def connect(path: str | Path, *, readonly: bool = False) -> sqlite3.Connection:
    conn = sqlite3.connect(str(path), timeout=30.0, isolation_level=None, check_same_thread=False)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=NORMAL")
    conn.execute("PRAGMA busy_timeout=30000")
    conn.execute("PRAGMA cache_size=-16384")  # per connection (one per worker thread)
    conn.execute("PRAGMA temp_store=MEMORY")
    conn.execute("PRAGMA mmap_size=268435456")
    conn.execute("PRAGMA foreign_keys=OFF")
    return conn


def init_schema(conn: sqlite3.Connection) -> None:
    new_tag_counts = conn.execute(
        "SELECT 1 FROM sqlite_master WHERE name = 'tag_counts'").fetchone() is None
    conn.executescript(SCHEMA)
    create_indexes(conn)
    # triggers of older versions are replaced by the current ones
    if new_tag_counts:
        conn.execute("DROP TRIGGER IF EXISTS tr_tasks_upd")
    conn.executescript(TRIGGERS)
    if new_tag_counts and conn.execute("SELECT 1 FROM task_tags LIMIT 1").fetchone():
        conn.execute("BEGIN IMMEDIATE")
        rebuild_tag_counts(conn)
        conn.execute("COMMIT")


def drop_for_bulk(conn: sqlite3.Connection) -> None:
    """Drop secondary indexes and triggers before a bulk insert (rebuilt after)."""
    for (name,) in conn.execute(
        "SELECT name FROM sqlite_master WHERE type IN ('index') AND name LIKE 'ix_%'"
    ).fetchall():
        conn.execute(f"DROP INDEX IF EXISTS {name}")
    for (name,) in conn.execute(
        "SELECT name FROM sqlite_master WHERE type = 'trigger' AND name LIKE 'tr_%'"
    ).fetchall():
        conn.execute(f"DROP TRIGGER IF EXISTS {name}")


#: Indexes that writes themselves need (the upsert's lookups by task id and unique id,
#: the unique-id constraint, a task's tags); every other index only answers queries.
WRITE_INDEXES = frozenset({"ix_task_id", "ix_unique_id", "ix_tags_id"})


def drop_query_indexes(conn: sqlite3.Connection) -> list[str]:
    """Drop the indexes that only answer queries, before a bulk upsert (a B-tree insert
    into each of ten indexes per row costs more than building them once after):
    :func:`create_indexes` puts them back, and so does :func:`init_schema` on the next
    opening if the process dies before. Triggers stay, so the count tables stay exact
    and every query stays right meanwhile (only slower). Returns the names dropped."""
    names = [n for (n,) in conn.execute(
        "SELECT name FROM sqlite_master WHERE type = 'index' AND name LIKE 'ix_%'").fetchall()
        if n not in WRITE_INDEXES]
    for name in names:
        conn.execute(f"DROP INDEX IF EXISTS {name}")
    return names


def create_indexes(conn: sqlite3.Connection) -> None:
    """Create every index that is missing (outside a transaction: it commits)."""
    conn.executescript(INDEXES)


def rebuild_counts(conn: sqlite3.Connection) -> None:
    conn.execute("DELETE FROM counts")
    conn.execute(
        "INSERT INTO counts (day, ostatus, review, project, batch, type, n) "
        "SELECT created_at / 86400000, ostatus, review, project, batch, type, COUNT(*) "
        "FROM tasks GROUP BY 1, 2, 3, 4, 5, 6"
    )


def rebuild_tag_counts(conn: sqlite3.Connection) -> None:
    conn.execute("DELETE FROM tag_counts")
    conn.execute(
        "INSERT INTO tag_counts (day, tag, ostatus, review, project, batch, type, n) "
        "SELECT t.created_at / 86400000, g.tag, t.ostatus, t.review, t.project, t.batch, t.type, COUNT(*) "
        "FROM task_tags g JOIN tasks t ON t.id = g.id GROUP BY 1, 2, 3, 4, 5, 6, 7"
    )


def task_count(conn: sqlite3.Connection) -> int:
    return conn.execute("SELECT COUNT(*) FROM tasks").fetchone()[0]


class ConnectionPool:
    """One connection per thread (SQLite connections are cheap; WAL lets readers run
    beside one writer). Blocking work runs in worker threads, never on the event loop."""

    def __init__(self, path: str | Path):
        self.path = str(path)
        self._local = threading.local()
        self._all: list[tuple[threading.Thread, sqlite3.Connection]] = []
        self._lock = threading.Lock()
        self._closed = False
        conn = connect(self.path)
        init_schema(conn)
        conn.close()

    def get(self) -> sqlite3.Connection:
        conn = getattr(self._local, "conn", None)
        if conn is None:
            if self._closed:
                raise sqlite3.ProgrammingError("the server is shutting down")
            conn = connect(self.path)
            self._local.conn = conn
            with self._lock:
                self._all.append((threading.current_thread(), conn))
        return conn

    def close(self) -> None:
        """Close the connections of this thread and of finished threads. A connection of
        a thread still running is never closed from here (that thread may be inside a
        statement); it is released when its thread ends."""
        me = threading.current_thread()
        with self._lock:
            self._closed = True
            for thread, c in self._all:
                if thread is me or not thread.is_alive():
                    try:
                        c.close()
                    except sqlite3.Error:
                        pass
            self._all.clear()


class Tx:
    """``with Tx(conn, write=True):`` — BEGIN IMMEDIATE / BEGIN ... COMMIT or ROLLBACK."""

    def __init__(self, conn: sqlite3.Connection, *, write: bool = False):
        self.conn = conn
        self.write = write

    def __enter__(self) -> sqlite3.Connection:
        self.conn.execute("BEGIN IMMEDIATE" if self.write else "BEGIN")
        return self.conn

    def __exit__(self, exc_type, exc, tb) -> None:
        if exc_type is None:
            self.conn.execute("COMMIT")
        else:
            try:
                self.conn.execute("ROLLBACK")
            except sqlite3.Error:
                pass


def placeholders(values: Iterable[Any]) -> str:
    return ",".join("?" for _ in values)


# -- task documents -------------------------------------------------------------

def find_doc(conn: sqlite3.Connection, task_id: str) -> tuple[int, dict[str, Any]] | None:
    """(rowid, stored document) of a task, or None."""
    row = conn.execute(
        "SELECT t.id, d.doc FROM tasks t JOIN docs d ON d.id = t.id WHERE t.task_id = ?", (task_id,)
    ).fetchone()
    return None if row is None else (row[0], orjson.loads(row[1]))


def load_doc(conn: sqlite3.Connection, task_id: str) -> tuple[int, dict[str, Any]]:
    """(rowid, stored document) of a task; NotFound when there is none."""
    found = find_doc(conn, task_id)
    if found is None:
        raise NotFound(f"no task with id {task_id!r}")
    return found


def docs_by_ids(conn: sqlite3.Connection, ids: list[int]) -> list[dict[str, Any]]:
    """The stored documents of these rowids, in their order."""
    return [orjson.loads(t) for t in doc_texts_by_ids(conn, ids)]


def doc_texts_by_ids(conn: sqlite3.Connection, ids: list[int]) -> list[bytes]:
    """The stored documents of these rowids as JSON bytes, in their order."""
    if not ids:
        return []
    got = dict(conn.execute(f"SELECT id, doc FROM docs WHERE id IN ({placeholders(ids)})", ids).fetchall())
    return [got[i] for i in ids]


def write_doc(conn: sqlite3.Connection, rid: int, doc: dict[str, Any]) -> None:
    """Replace the stored document only (for fields no index or filter reads)."""
    conn.execute("UPDATE docs SET doc=? WHERE id=?", (orjson.dumps(doc), rid))


def store_doc(conn: sqlite3.Connection, rid: int, doc: dict[str, Any]) -> None:
    """Replace a task's document, its index row and its tags."""
    cols = index_row(doc)
    conn.execute(
        "UPDATE tasks SET created_at=?, updated_at=?, completed_at=?, ostatus=?, review=?, project=?, batch=?, "
        "type=?, unique_id=? WHERE id=?", (*cols[1:], rid))
    write_doc(conn, rid, doc)
    conn.execute("DELETE FROM task_tags WHERE id=?", (rid,))
    tags = doc.get("tags") or []
    if tags:
        conn.executemany("INSERT OR IGNORE INTO task_tags VALUES (?,?)", [(t, rid) for t in tags])


def insert_doc(conn: sqlite3.Connection, doc: dict[str, Any]) -> int:
    """Add a task: its index row, document and tags. Returns its rowid."""
    cols = index_row(doc)
    cur = conn.execute(
        "INSERT INTO tasks (task_id, created_at, updated_at, completed_at, ostatus, review, project, batch, "
        "type, unique_id) VALUES (?,?,?,?,?,?,?,?,?,?)", cols)
    rid = cur.lastrowid
    conn.execute("INSERT INTO docs VALUES (?, ?)", (rid, orjson.dumps(doc)))
    for t in doc.get("tags") or []:
        conn.execute("INSERT OR IGNORE INTO task_tags VALUES (?,?)", (t, rid))
    return rid


class InstructionCache:
    """The projects' instructions by project name (served on tasks that have none),
    read from the database at most every ``ttl`` seconds."""

    def __init__(self, ttl: float = 5.0):
        self.ttl = ttl
        self._instructions: dict[str, str] = {}
        self._loaded = 0.0
        self._lock = threading.Lock()

    def get(self, conn: sqlite3.Connection) -> dict[str, str]:
        if time.monotonic() - self._loaded > self.ttl:
            with self._lock:
                out = {}
                for name, doc in conn.execute("SELECT name, doc FROM projects"):
                    d = orjson.loads(doc)
                    if d.get("instruction"):
                        out[name] = d["instruction"]
                self._instructions = out
                self._loaded = time.monotonic()
        return self._instructions
