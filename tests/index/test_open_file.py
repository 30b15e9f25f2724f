"""``tasktui open FILE``: an export (JSON array or NDJSON, as ``tasktui export`` writes it)
loaded into a temporary index answers every filter with the exact totals of the server
the file was exported from; a file that is not an export is refused in words and leaves
nothing behind. Oracles: the source server's SQLite, literal file contents."""

from __future__ import annotations

import os
import stat

import pytest

from tasktui.api import TaskClient
from tasktui.domain import AuditStatus, OperatorStatus, SortOrder, TaskQuery
from tasktui.export import ExportFormat, Exporter
from tasktui.index.load import LoadError, load_export
from tasktui.index.reader import IndexReader

from .con_support import FAST


async def _export(handle, path, fmt):
    async with TaskClient(handle.url, handle.api_key, retry=FAST) as c:
        ex = Exporter(c, TaskQuery(), path=path, format=fmt)
        ex.prepare()
        await ex.run()


@pytest.mark.parametrize("fmt", [ExportFormat.JSON, ExportFormat.NDJSON])
async def test_an_export_opens_with_exact_totals_for_every_filter(shared_server, sql, tmp_path, fmt):
    out = tmp_path / f"all{fmt.suffix}"
    await _export(shared_server, out, fmt)
    loaded = load_export(out, tmp_root=tmp_path)
    (n,), = sql(shared_server, "SELECT COUNT(*) FROM tasks")
    assert loaded.tasks == n
    assert stat.S_IMODE(os.stat(loaded.path.parent).st_mode) == 0o700
    assert stat.S_IMODE(os.stat(loaded.path).st_mode) == 0o600
    reader = IndexReader(loaded.path, label=f"file {out.name}")
    try:
        c = reader.client()
        for s in OperatorStatus:
            (want,), = sql(shared_server, "SELECT COUNT(*) FROM tasks WHERE ostatus = ?", s.value)
            assert await c.count(TaskQuery(statuses=frozenset({s}))) == (want, True), s
        for a in AuditStatus:
            (want,), = sql(shared_server, "SELECT COUNT(*) FROM tasks WHERE review = ?", a.value)
            assert (await c.count(TaskQuery(audit_statuses=frozenset({a}))))[0] == want, a
        oldest = [r[0] for r in sql(shared_server, "SELECT task_id FROM tasks ORDER BY created_at, task_id LIMIT 100")]
        page = await c.list_tasks(TaskQuery(order=SortOrder.OLDEST))
        assert [t.task_id for t in page.tasks] == oldest
        assert reader.covers(TaskQuery(projects=("anything",))) and reader.describe() == f"file {out.name}"
    finally:
        await reader.aclose()
        loaded.remove()
    assert not loaded.path.parent.exists()


@pytest.mark.parametrize("content, words", [
    (b"", "the file is empty"),
    (b"name,status\n1,2\n", "neither a JSON array nor NDJSON"),
    (b'[\n{"task_id": "a", "status": "pending", "created_at": "2026-01-01T00:00:00Z"},\n',
     "starts like a JSON array but is not valid JSON"),
    (b'{"task_id": "a", "status": "pending", "created_at": "2026-01-01T00:00:00Z"}\nnot json\n',
     "line 2 is not JSON"),
    (b'{"task_id": "a", "status": "pending", "created_at": "2026-01-01T00:00:00Z"}\n{"status": "pending"}\n',
     "the record on line 2 is not a task (a task without a task_id)"),
    (b'[{"task_id": "a", "status": "pending"}]', "no valid created_at"),
    (b'{"docs": []}', "a task without a task_id"),
])
def test_a_file_that_is_not_an_export_is_refused_in_words(tmp_path, content, words):
    f = tmp_path / "x.json"
    f.write_bytes(content)
    root = tmp_path / "tmp"
    root.mkdir()
    with pytest.raises(LoadError) as e:
        load_export(f, tmp_root=root)
    assert words in str(e.value) and str(f) in str(e.value)
    assert list(root.iterdir()) == []  # nothing half-made is left


def test_hostile_text_is_stored_as_the_file_has_it(tmp_path):
    evil = "\x1b]52;c;ZXZpbA==\x07[bold]x[/bold] \u202e"
    f = tmp_path / "e.ndjson"
    import orjson

    f.write_bytes(orjson.dumps({"task_id": "t1", "status": "pending", "created_at": "2026-01-01T00:00:00Z",
                                "project": evil, "metadata": {"m": evil}}) + b"\n")
    loaded = load_export(f, tmp_root=tmp_path)
    try:
        import sqlite3

        conn = sqlite3.connect(loaded.path)
        (project,), = conn.execute("SELECT project FROM tasks").fetchall()
        conn.close()
        assert project == evil
    finally:
        loaded.remove()


def test_open_refuses_a_non_export_before_the_terminal(tmp_path, capsys):
    from tasktui.cli.main import main

    f = tmp_path / "notes.txt"
    f.write_text("hello\n")
    assert main(["open", str(f)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("tasktui open: ") and "is not an export written by `tasktui export`" in err
