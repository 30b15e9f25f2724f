"""Fixtures of the index tests: syncing an index from a bundled server through the
public-contract proxy, and reading index files by SQL (the oracle is always SQL read
from a database file or the bundled server's answer, never the index code)."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from tasktui.api import RetryPolicy, TaskClient
from tasktui.index.db import open_index
from tasktui.index.scope import SyncScope
from tasktui.index.sync import sync_index
from tasktui.testing import FaultProxy

FAST_RETRY = dict(max_attempts=8, base_delay=0.002, max_delay=0.02, total_time=20, seed=3)

#: The index rows, documents and tags of every task, in task id order.
ROWS = ("SELECT t.task_id, t.created_at, t.updated_at, t.completed_at, t.ostatus, t.review, t.project, t.batch, "
        "t.type, t.unique_id, d.doc FROM tasks t JOIN docs d ON d.id = t.id ORDER BY t.task_id")
TAGS = "SELECT t.task_id, g.tag FROM task_tags g JOIN tasks t ON t.id = g.id ORDER BY 1, 2"
COUNTS = "SELECT day, ostatus, review, project, batch, type, n FROM counts WHERE n != 0 ORDER BY 1, 2, 3, 4, 5, 6"
TAG_COUNTS = ("SELECT day, tag, ostatus, review, project, batch, type, n FROM tag_counts WHERE n != 0 "
              "ORDER BY 1, 2, 3, 4, 5, 6, 7")


def read_sql(path: Path, query: str, *args) -> list[tuple]:
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=30)
    try:
        return conn.execute(query, args).fetchall()
    finally:
        conn.close()


def dump(path: Path) -> dict[str, list[tuple]]:
    """Everything an index answers from: rows, documents, tags and the non-zero counts."""
    return {name: read_sql(path, q) for name, q in
            (("rows", ROWS), ("tags", TAGS), ("counts", COUNTS), ("tag_counts", TAG_COUNTS))}


#: Every index of the schema (tasktui.server.db.INDEXES), written out: a sync of many
#: tasks drops the ten that only answer queries while it writes and builds them after.
ALL_INDEXES = {"ix_task_id", "ix_created", "ix_status", "ix_status_review", "ix_review", "ix_project_c",
               "ix_batch_c", "ix_type", "ix_completed_cover", "ix_updated_cover", "ix_unique_id",
               "ix_unique_id_nocase", "ix_tags_id"}


def indexes_of(path: Path) -> set[str]:
    return {r[0] for r in read_sql(path, "SELECT name FROM sqlite_master WHERE type = 'index' AND name LIKE 'ix_%'")}


def recounted(path: Path) -> list[tuple]:
    """The counts table as it should be, counted from the tasks rows."""
    return read_sql(path, "SELECT created_at / 86400000, ostatus, review, project, batch, type, COUNT(*) "
                          "FROM tasks GROUP BY 1, 2, 3, 4, 5, 6 ORDER BY 1, 2, 3, 4, 5, 6")


async def sync_into(path: Path, url: str, key: str, scope: SyncScope = SyncScope(), **kw):
    """One sync of the index at ``path`` from the API at ``url``."""
    conn = open_index(path)
    try:
        async with TaskClient(url, key, retry=RetryPolicy(**FAST_RETRY)) as client:
            return await sync_index(client, conn, scope, origin=url, **kw)
    finally:
        conn.close()


@pytest.fixture
def public_proxy(proxy_for):
    """``await public_proxy(handle, **kw)``: a started public-contract FaultProxy in front
    of a server, stopped at teardown (the suite's ``proxy_for`` in its public mode)."""

    async def make(handle, **kw) -> FaultProxy:
        return await proxy_for(handle, public_contract=True, **kw)

    return make
