"""The index file: where it lives, its modes, damaged / foreign / half-written files moved
aside and rebuilt (never read), and upserts that keep rows, documents, tags and counts
in step. Oracles: literals, the file system, and SQL read from the file."""

from __future__ import annotations

import os
import sqlite3
import stat

import orjson
import pytest

from tasktui.index.db import (
    IndexMissing,
    index_path,
    index_status,
    open_index,
    origin_slug,
    put_tasks,
    synced_ago,
)

from .conftest import COUNTS, read_sql, recounted


def doc(tid: str, *, created="2026-01-02T03:04:05.000Z", status="pending", project="P", tags=(), **kw):
    d = {"task_id": tid, "created_at": created, "updated_at": created, "status": status, "type": "categorization",
         "project": project, **kw}
    if tags:
        d["tags"] = list(tags)
    return d


@pytest.mark.parametrize("origin, slug", [
    ("https://api.scale.com/v1", "api.scale.com"),
    ("https://API.scale.com/v1/", "api.scale.com"),
    ("http://127.0.0.1:8080/v1", "http-127.0.0.1-8080"),
    ("https://user:live_secret@api.scale.com/v1", "api.scale.com"),
    ("https://host.example/prefix/v1", "host.example-prefix"),
])
def test_one_file_per_origin_named_without_user_info(origin, slug, tmp_path):
    assert origin_slug(origin) == slug
    assert index_path(origin, {"TASKTUI_DATA_DIR": str(tmp_path)}) == tmp_path / "index" / f"{slug}.sqlite"


def test_folder_0700_and_file_0600_whatever_the_umask(tmp_path):
    path = tmp_path / "data" / "index" / "x.sqlite"
    old = os.umask(0o022)
    try:
        conn = open_index(path)
        put_tasks(conn, [doc("a" * 24)])
    finally:
        os.umask(old)
    modes = {p.name: stat.S_IMODE(p.stat().st_mode) for p in path.parent.iterdir()}
    conn.close()
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
    assert modes["x.sqlite"] == 0o600
    assert all(m == 0o600 for m in modes.values()), modes  # -wal and -shm too


def test_upserts_keep_rows_docs_tags_and_counts_in_step(tmp_path):
    path = tmp_path / "i.sqlite"
    conn = open_index(path)
    assert put_tasks(conn, [doc("a" * 24, tags=["x", "y"]), doc("b" * 24, status="completed",
                                                               completed_at="2026-01-03T00:00:00.000Z")]) == 2
    # the same task again, changed: replaced, not added
    assert put_tasks(conn, [doc("a" * 24, status="canceled", tags=["y"], _lazy=["response"], _seed=3)]) == 1
    conn.close()
    assert read_sql(path, "SELECT task_id, ostatus FROM tasks ORDER BY 1") == [("a" * 24, "canceled"),
                                                                               ("b" * 24, "completed")]
    assert read_sql(path, "SELECT tag FROM task_tags") == [("y",)]
    assert read_sql(path, "SELECT day, tag, ostatus, n FROM tag_counts WHERE n != 0") == [(20455, "y", "canceled", 1)]
    assert read_sql(path, COUNTS) == recounted(path)
    stored = orjson.loads(read_sql(path, "SELECT doc FROM docs d JOIN tasks t ON t.id = d.id "
                                         "WHERE t.task_id = ?", "a" * 24)[0][0])
    assert "_lazy" not in stored and "_seed" not in stored  # the server's own keys never come in


def test_a_unique_id_moves_to_its_newest_holder(tmp_path):
    path = tmp_path / "i.sqlite"
    conn = open_index(path)
    put_tasks(conn, [doc("a" * 24, unique_id="u-1")])
    put_tasks(conn, [doc("b" * 24, unique_id="u-1")])  # a was cancelled with clear_unique_id
    conn.close()
    assert read_sql(path, "SELECT task_id, unique_id FROM tasks ORDER BY 1") == [("a" * 24, None), ("b" * 24, "u-1")]


def test_a_document_without_id_is_refused_and_nothing_is_written(tmp_path):
    path = tmp_path / "i.sqlite"
    conn = open_index(path)
    with pytest.raises(ValueError, match="task_id"):
        put_tasks(conn, [doc("a" * 24), {"status": "pending"}])
    conn.close()
    assert read_sql(path, "SELECT COUNT(*) FROM tasks") == [(0,)]


def _foreign(path):
    c = sqlite3.connect(path)
    c.execute("CREATE TABLE notes (x TEXT)")
    c.execute("INSERT INTO notes VALUES ('secret notes')")
    c.commit()
    c.close()


def _half_written(path):
    """The server's schema without the index's format mark (a first open that died)."""
    c = sqlite3.connect(path)
    c.execute("CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)")
    c.execute("CREATE TABLE tasks (id INTEGER PRIMARY KEY, task_id TEXT)")
    c.commit()
    c.close()


def _truncated(path):
    conn = open_index(path)
    put_tasks(conn, [doc(f"{i:024x}") for i in range(300)])
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    conn.close()
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])


@pytest.mark.parametrize("spoil, why", [
    (lambda p: p.write_bytes(b"not a database at all " * 100), "damaged"),
    (_truncated, "damaged"),
    (_foreign, "not a tasktui index"),
    (_half_written, "not a tasktui index"),
])
def test_a_bad_file_is_moved_aside_and_rebuilt_never_read(tmp_path, spoil, why):
    path = tmp_path / "index" / "i.sqlite"
    path.parent.mkdir()
    spoil(path)
    before = path.read_bytes()
    st = index_status(path)
    assert st is not None and st.problem  # --status names it, reads nothing from it
    with pytest.raises(IndexMissing, match=why) as e:  # a reader: nothing shown
        open_index(path, create=False)
    assert "moved to" in str(e.value)
    aside = [p for p in path.parent.iterdir() if ".broken-" in p.name and not p.name.endswith(("-wal", "-shm"))]
    assert len(aside) == 1 and aside[0].read_bytes() == before  # kept aside, untouched
    conn = open_index(path)  # a sync: rebuilt empty
    assert conn.notice is None  # nothing left to move
    conn.close()
    assert read_sql(path, "SELECT COUNT(*) FROM tasks") == [(0,)]


def test_a_sync_opening_a_damaged_file_says_so(tmp_path):
    path = tmp_path / "i.sqlite"
    path.write_bytes(b"garbage" * 500)
    conn = open_index(path)
    assert "damaged" in conn.notice and "moved to i.sqlite.broken-" in conn.notice
    conn.close()


def test_no_index_is_named_for_readers(tmp_path):
    with pytest.raises(IndexMissing, match="run `tasktui sync` first"):
        open_index(tmp_path / "none.sqlite", create=False)
    assert not (tmp_path / "none.sqlite").exists()
    assert index_status(tmp_path / "none.sqlite") is None


@pytest.mark.parametrize("ago, words", [(None, "never synced"), (4, "synced 4 s ago"), (240, "synced 4 min ago"),
                                         (3 * 3600 + 5, "synced 3 h ago"), (5 * 86400, "synced 5 days ago")])
def test_synced_ago(ago, words):
    assert synced_ago(None if ago is None else 1000.0 - ago, now=1000.0) == words
