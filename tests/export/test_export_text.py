"""An export copies each task's JSON text as the server sent it (``api.listing``,
``ExportFormat.frame``) unless that text spans lines: an indenting server still gives
one task per line, and numbers orjson cannot hold are written exactly as sent. Oracles:
the server's answers read with plain httpx, ids by SQL (``tests/sql_oracle.py``), literals."""

from __future__ import annotations

import json

import pytest

from sql_oracle import expected_ids as oracle_ids
from tasktui.api import TaskClient
from tasktui.domain import TaskQuery
from tasktui.export import ExportFormat, Exporter
from tasktui.testing import Fault

from .test_exporter import db_tasks, read_output


@pytest.mark.parametrize("fmt", list(ExportFormat))
async def test_an_indenting_server_still_gives_one_task_per_line(shared_server, sql, proxy_for, tmp_path, fmt):
    query = TaskQuery(projects=("Receipts OCR", "Street Scenes"))
    want = oracle_ids(shared_server.db_path, query)
    docs = {d["task_id"]: d for d in db_tasks(sql, shared_server)}
    proxy = await proxy_for(shared_server)
    proxy.set_rate(1.0, (Fault.indent(),), match="GET /v1/tasks")
    out = tmp_path / f"indented{fmt.suffix}"
    async with TaskClient(proxy.url, shared_server.api_key) as client:
        result = await Exporter(client, query, path=out, format=fmt).run()
    assert proxy.stats.faults >= 2, "the answers were indented"
    data = out.read_bytes()
    lines = data.split(b"\n")
    records = lines[:-1] if fmt is ExportFormat.NDJSON else lines[1:-2]  # JSON: "[", ..., "]", ""
    assert len(records) == len(want) == result.written
    assert b"\r" not in data and b"\t" not in data
    got = read_output(out, fmt)
    assert [d["task_id"] for d in got] == want
    assert all(d == docs[d["task_id"]] for d in got)


BEYOND = (b'{"docs": [{"task_id": "t-big", "status": "completed", '
          b'"metadata": {"score": 1e400, "count": 1180591620717411303424}}], "total": 1, "has_more": false}')


async def test_numbers_orjson_cannot_hold_are_exported_as_sent(shared_server, proxy_for, tmp_path):
    proxy = await proxy_for(shared_server)
    proxy.set_rate(1.0, (Fault.custom(BEYOND),), match="GET /v1/tasks")
    out = tmp_path / "big.ndjson"
    async with TaskClient(proxy.url, shared_server.api_key) as client:
        result = await Exporter(client, TaskQuery(), path=out, format=ExportFormat.NDJSON).run()
    assert result.written == 1
    assert out.read_bytes() == (b'{"task_id": "t-big", "status": "completed", '
                                b'"metadata": {"score": 1e400, "count": 1180591620717411303424}}\n')
    assert json.loads(out.read_bytes())["metadata"]["count"] == 2 ** 70
