"""Pure parts of tasktui.export: record framing, terminal safety, the checkpoint file.
No server: the oracle is the JSON parser and the values put in."""

from __future__ import annotations

import json
from datetime import datetime, timezone

import pytest

from tasktui.domain import AuditStatus, DateField, OperatorStatus, SortOrder, TaskQuery
from tasktui.export import (
    Checkpoint,
    ExportFormat,
    ExportUsageError,
    checkpoint_path,
    fingerprint,
    partial_path,
    query_from_dict,
    query_to_dict,
    read_checkpoint,
    snapshot_query,
    terminal_safe,
)

DOCS = [{"task_id": "a", "n": 1}, {"task_id": "b", "big": 2**70}, {"task_id": "c", "t": "é\u2028"}]


def framed(fmt: ExportFormat, pages: list[list[dict]]) -> bytes:
    """What the exporter writes: opening, each page's records, closing."""
    out, written = [fmt.opening], 0
    for page in pages:
        out.append(fmt.frame(page, after_records=written > 0))
        written += len(page)
    out.append(fmt.closing(empty=written == 0))
    return b"".join(out)


@pytest.mark.parametrize("pages", [[DOCS], [DOCS[:1], [], DOCS[1:]], [[], []], []])
def test_json_pages_make_one_valid_array(pages):
    data = framed(ExportFormat.JSON, pages)
    assert json.loads(data) == [d for p in pages for d in p]
    assert data.endswith(b"]\n")


@pytest.mark.parametrize("pages", [[DOCS], [DOCS[:2], [], DOCS[2:]], []])
def test_ndjson_is_one_parsable_line_per_record(pages):
    data = framed(ExportFormat.NDJSON, pages)
    lines = data.split(b"\n")
    assert lines[-1] == b""
    assert [json.loads(line) for line in lines[:-1]] == [d for p in pages for d in p]


@pytest.mark.parametrize("fmt", list(ExportFormat))
def test_records_are_safe_to_print_and_still_the_same_json(fmt):
    hostile = {"task_id": "x", "t": "a\x9b31m \u202eevil\u202c \u2028 \u061c ok"}
    data = framed(fmt, [[hostile]])
    for ch in ("\x9b", "\u202e", "\u202c", "\u2028", "\u061c"):
        assert ch.encode() not in data
    docs = json.loads(data) if fmt is ExportFormat.JSON else [json.loads(data)]
    assert docs == [hostile]


def test_terminal_safe_leaves_safe_text_alone():
    data = json.dumps({"t": "café ✨ 中文 \u00a0"}, ensure_ascii=False).encode()
    assert terminal_safe(data) is data


QUERY = TaskQuery(
    date_field=DateField.COMPLETED,
    start=datetime(2026, 1, 2, 3, 4, 5, 678000, tzinfo=timezone.utc),
    end=datetime(2026, 2, 1, tzinfo=timezone.utc),
    statuses=frozenset({OperatorStatus.COMPLETED, OperatorStatus.QUEUED}),
    audit_statuses=frozenset({AuditStatus.FIXED}),
    projects=("Receipts OCR", "Café"),
    tags=("t1",),
    search="needle",
    order=SortOrder.OLDEST,
)


def test_a_query_survives_the_round_trip_through_a_dict():
    d = query_to_dict(QUERY)
    assert json.loads(json.dumps(d)) == d  # JSON-able
    back = query_from_dict(d)
    assert query_to_dict(back) == d
    assert back.statuses == QUERY.statuses and back.start == QUERY.start and back.order is SortOrder.OLDEST
    with pytest.raises(ValueError, match="not a stored query"):
        query_from_dict({"status": ["no-such-status"]})


def test_the_snapshot_bounds_the_end_of_the_range():
    snap = datetime(2026, 1, 15, 12, 0, 0, 999999, tzinfo=timezone.utc)
    assert snapshot_query(QUERY, snap).end == snap.replace(microsecond=999000)  # to the ms
    early = datetime(2026, 3, 1, tzinfo=timezone.utc)
    assert snapshot_query(QUERY, early).end == QUERY.end  # the operator's end is earlier


def test_fingerprint_depends_on_content_not_key_order():
    a = {"status": ["completed"], "from": "-7d"}
    assert fingerprint(a) == fingerprint(dict(reversed(a.items())))
    assert fingerprint(a) != fingerprint({**a, "from": "-8d"})


def make_checkpoint(out) -> Checkpoint:
    spec = {"project": ["Receipts OCR"]}
    return Checkpoint(output=str(out), format=ExportFormat.NDJSON, spec=spec, fingerprint=fingerprint(spec),
                      query=query_to_dict(QUERY), snapshot="2026-01-15T12:00:00.000Z", next_token="tok",
                      written=200, offset=12345, total=900, pages=2, server="https://api.example.com/v1")


def test_a_saved_checkpoint_reads_back_equal(tmp_path):
    out = tmp_path / "all.ndjson"
    cp = make_checkpoint(out)
    cp.save(checkpoint_path(out))
    assert read_checkpoint(out) is None  # no partial file: a stale checkpoint means nothing
    partial_path(out).write_bytes(b"x" * cp.offset)
    assert read_checkpoint(out) == cp
    assert sorted(p.name for p in tmp_path.iterdir()) == ["all.ndjson.checkpoint.json", "all.ndjson.partial"]


@pytest.mark.parametrize("damage", [
    b"", b"{not json", b"[]", b'{"kind": "something-else"}',
    lambda b: b.replace(b'"version": 1', b'"version": 99'),
    lambda b: b.replace(b'"written": 200', b'"written": -1'),
    lambda b: b.replace(b'"format": "ndjson"', b'"format": "xml"'),
])
def test_a_damaged_checkpoint_is_refused_with_the_way_out(tmp_path, damage):
    good = make_checkpoint(tmp_path / "o").to_bytes()
    data = damage(good) if callable(damage) else damage
    assert data != good
    with pytest.raises(ExportUsageError, match="--force"):
        Checkpoint.from_bytes(data, "here")


def test_time_left_reads_as_a_clock():
    from tasktui.export import clock

    assert [clock(s) for s in (0, 4.4, 65, 599.6, 3600, 3723)] == ["0:00", "0:04", "1:05", "10:00", "1:00:00",
                                                                   "1:02:03"]
