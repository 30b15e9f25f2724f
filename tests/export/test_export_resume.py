"""Resuming an export from its files on disk: what follows the checkpoint's offset is
thrown away. Oracles: the server's database read with SQL, and the JSON parser.
"""

from __future__ import annotations

import json
import pytest

from tasktui.api import TaskClient
from tasktui.domain import TaskQuery
from tasktui.export import (
    ExportFormat,
    ExportIOError,
    Exporter,
    partial_path,
    read_checkpoint,
)

PROJECT = "Receipts OCR"


def parse_ids(data: bytes, fmt: ExportFormat) -> list[str]:
    if fmt is ExportFormat.JSON:
        return [d["task_id"] for d in json.loads(data)]
    lines = data.split(b"\n")
    assert lines[-1] == b"", "an NDJSON file ends with a newline"
    return [json.loads(line)["task_id"] for line in lines[:-1]]


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
    assert parse_ids(out.read_bytes(), fmt) == want
    assert b"torn-record" not in out.read_bytes()
