"""Reading an export's bytes back for the export tests, with the stdlib's json only (never
the exporter's own code), its framing checked as well as its records."""

from __future__ import annotations

import json

from tasktui.export import ExportFormat

JSON, NDJSON = ExportFormat.JSON, ExportFormat.NDJSON


def records(data: bytes, fmt: ExportFormat, *, closed: bool = True) -> list[str]:
    """The task ids of an export's bytes, its framing checked line by line: a JSON array
    is ``[``, one record per line each but the last followed by ``,``, then ``]`` and a
    newline (``closed``: else it stops after a record, with no separator after it);
    NDJSON is one record per line, each ended by a newline."""
    lines = data.split(b"\n")
    if fmt is NDJSON:
        assert lines[-1] == b"", f"each NDJSON record ends with a newline: {data[-40:]!r}"
        body = lines[:-1]
    else:
        assert lines[0] == b"[", data[:40]
        if closed:
            assert lines[-2:] == [b"]", b""], data[-40:]
            body = lines[1:-2]
        else:
            assert lines[-1].endswith(b"}"), f"an open array ends with a record: {data[-40:]!r}"
            body = lines[1:]
        for line in body[:-1]:
            assert line.endswith(b"},"), line[-40:]
        if body:
            assert body[-1].endswith(b"}"), body[-1][-40:]
        body = [line.removesuffix(b",") for line in body]
    ids = [json.loads(line)["task_id"] for line in body]
    if fmt is JSON and closed:
        assert [d["task_id"] for d in json.loads(data)] == ids  # the whole array parses too
    return ids
