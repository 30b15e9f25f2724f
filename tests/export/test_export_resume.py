"""Resuming an export from its files on disk: what follows the checkpoint's offset is
thrown away, and a damaged checkpoint is refused as a usage error (exit 2 on the
command line, never the "retry" exit 1) with the way out. Oracles: the server's
database read with SQL, and the JSON parser.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tasktui.api import TaskClient
from tasktui.domain import TaskQuery
from tasktui.export import (
    Checkpoint,
    ExportFormat,
    ExportIOError,
    Exporter,
    ExportUsageError,
    checkpoint_path,
    fingerprint,
    partial_path,
    query_to_dict,
    read_checkpoint,
)

from .exported import records

PROJECT = "Receipts OCR"


@pytest.mark.parametrize("fmt", list(ExportFormat))
async def test_a_torn_tail_after_a_complete_checkpoint_is_cut_off_on_resume(shared_server, sql, tmp_path, fmt):
    """Every page written and checkpointed as complete, then the run dies before the
    closing and the rename, leaving a torn record after the checkpoint's offset (longer
    than the closing, so writing the closing cannot hide it). The resumed file must be
    exactly the tasks SQL lists, valid JSON / NDJSON."""
    want = [r[0] for r in sql(shared_server, "SELECT task_id FROM tasks WHERE project = ? "
                                             "ORDER BY created_at DESC, task_id DESC", PROJECT)]
    assert len(want) > 1
    out = tmp_path / f"receipts{fmt.suffix}"
    query = TaskQuery(projects=(PROJECT,))

    def block_the_rename(p):
        if p.pages == 1 and not out.exists():
            out.mkdir()  # the final rename fails: every page is written, nothing is closed

    async with TaskClient(shared_server.url, shared_server.api_key) as client:
        with pytest.raises(ExportIOError, match="cannot finish"):
            await Exporter(client, query, path=out, format=fmt, on_progress=block_the_rename).run()
    cp = read_checkpoint(out)
    assert cp is not None and cp.complete and cp.written == len(want)
    part = partial_path(out)
    torn = b',\n{"task_id": "torn-record-of-a-crash", "status": "completed", "response": {"annot'
    with open(part, "r+b") as f:  # a crash after the checkpoint: bytes beyond its offset
        f.seek(cp.offset)
        if fmt is ExportFormat.JSON:
            f.write(b"\n]\n" + torn)  # even a closing already written, then more
        else:
            f.write(torn[2:])
    out.rmdir()

    async with TaskClient(shared_server.url, shared_server.api_key) as client:
        result = await Exporter(client, query, path=out, format=fmt, resume=True).run()
    assert result.written == len(want)
    assert records(out.read_bytes(), fmt) == want
    assert b"torn-record" not in out.read_bytes()


# ---------------------------------------------------------------- damaged checkpoints

SPEC = {"project": [PROJECT]}


def write_unfinished_export(out: Path, fmt: ExportFormat) -> dict:
    """A consistent unfinished export (two records, their checkpoint) as a dict to damage."""
    records = [{"task_id": "a"}, {"task_id": "b"}]
    body = fmt.opening + fmt.frame(records, after_records=False)
    partial_path(out).write_bytes(body)
    cp = Checkpoint(output=str(out), format=fmt, spec=SPEC, fingerprint=fingerprint(SPEC),
                    query=query_to_dict(TaskQuery(projects=(PROJECT,))),
                    snapshot="2026-11-20T12:00:00.000Z", next_token="tok", written=2, offset=len(body),
                    total=10, pages=1, server="http://127.0.0.1/v1", started_at="2026-11-20T12:00:00.000Z")
    return json.loads(cp.to_bytes())


def resume(out: Path, fmt: ExportFormat, *, resume: bool = True) -> Exporter:
    return Exporter(None, TaskQuery(projects=(PROJECT,)), path=out, format=fmt, resume=resume, spec=SPEC,
                    server_url="http://127.0.0.1:5000/v1")


DAMAGE = {
    "snapshot not a date": lambda d: d.update(snapshot="not a date"),
    "snapshot a number": lambda d: d.update(snapshot=20261120),
    "snapshot missing": lambda d: d.pop("snapshot"),
    "written negative": lambda d: d.update(written=-1),
    "written a string": lambda d: d.update(written="2"),
    "written with no bytes": lambda d: d.update(written=5, offset=len(ExportFormat(d["format"]).opening)),
    "offset beyond the file": lambda d: d.update(offset=d["offset"] + 1),
    "offset negative": lambda d: d.update(offset=-3),
    "offset a fraction": lambda d: d.update(offset=d["offset"] - 0.5),
    "total a string": lambda d: d.update(total="ten"),
    "pages negative": lambda d: d.update(pages=-1),
    "sessions zero": lambda d: d.update(sessions=0),
    "complete not a boolean": lambda d: d.update(complete="no"),
    "next_token a number": lambda d: d.update(next_token=7),
    "spec not an object": lambda d: d.update(spec=[["project", PROJECT]]),
    "fingerprint not of the spec": lambda d: d.update(fingerprint="0" * 64),
    "query damaged": lambda d: d["query"].update(status=["no-such-status"]),
    "started_at not text": lambda d: d.update(started_at=5),
    "wrong kind": lambda d: d.update(kind="something-else"),
    "wrong version": lambda d: d.update(version=99),
    "format unknown": lambda d: d.update(format="xml"),
}


def refusal(tmp_path: Path, exporter: Exporter) -> str:
    """The usage error prepare() raises, its text with the folder's name taken out (the
    test's folder name must not satisfy a match)."""
    with pytest.raises(ExportUsageError) as e:
        exporter.prepare()
    return str(e.value).replace(str(tmp_path), "<dir>")


@pytest.mark.parametrize("fmt", list(ExportFormat))
@pytest.mark.parametrize("case", list(DAMAGE))
def test_a_broken_checkpoint_is_a_usage_error_with_the_way_out(tmp_path, case, fmt):
    out = tmp_path / f"all{fmt.suffix}"
    d = write_unfinished_export(out, fmt)
    resume(out, fmt).prepare()  # undamaged, it resumes
    DAMAGE[case](d)
    checkpoint_path(out).write_text(json.dumps(d))
    for wants_resume in (True, False):
        text = refusal(tmp_path, resume(out, fmt, resume=wants_resume))
        assert f"the checkpoint <dir>/{checkpoint_path(out).name} is damaged" in text
        assert text.endswith("pass --force to start the export over")
    # --force starts over
    Exporter(None, TaskQuery(projects=(PROJECT,)), path=out, format=fmt, overwrite=True, spec=SPEC).prepare()


@pytest.mark.parametrize("data", [b"", b"{not json", b"\xff\xfe", b"[]", b"null", b'"text"', b"42"],
                         ids=["empty", "not json", "not utf-8", "a list", "null", "a string", "a number"])
def test_a_checkpoint_that_is_not_a_json_object_is_a_usage_error(tmp_path, data):
    out = tmp_path / "all.ndjson"
    write_unfinished_export(out, ExportFormat.NDJSON)
    checkpoint_path(out).write_bytes(data)
    text = refusal(tmp_path, resume(out, ExportFormat.NDJSON))
    assert f"the checkpoint <dir>/{checkpoint_path(out).name} is damaged" in text
    assert text.endswith("pass --force to start the export over")
