"""Literal expectations that kill the mutants `make mutate` found alive in checkpoint.py
(see RELIABILITY.md, "Mutation score"): the stored URL, which URLs are one service, the
query round trip and its defaults, the fingerprint, the description of a changed spec, the
file's keys, and the exact sentence for every way a checkpoint can be damaged. Pure: no
server."""

from __future__ import annotations

import hashlib
import json
import os
import stat
from datetime import date, datetime, timedelta, timezone

import pytest

from tasktui.api.paging import encode_slice_cursor
from tasktui.domain import AuditStatus, DateField, OperatorStatus, SortOrder, TaskQuery
from tasktui.export.checkpoint import (
    Checkpoint,
    UnfinishedExportError,
    describe_spec_difference,
    fingerprint,
    public_url,
    query_from_dict,
    query_to_dict,
    read_checkpoint,
    same_server,
    truncate_ms,
)
from tasktui.export.errors import ExportUsageError
from tasktui.export.format import ExportFormat

UTC = timezone.utc
IST = timezone(timedelta(hours=5, minutes=30))
SPEC = {"status": ["completed"], "from": "-7d"}
# sha256 of the canonical text of SPEC, written out by hand (sorted keys, no blanks)
SPEC_FP = hashlib.sha256(b'{"from":"-7d","status":["completed"]}').hexdigest()




# -- URLs --------------------------------------------------------------------------------
@pytest.mark.parametrize(("url", "stored"), [
    ("https://user:secret@api.example.com:8443/v1/?key=k#frag", "https://api.example.com:8443/v1"),
    ("https://api.example.com/v1//", "https://api.example.com/v1"),
    ("https://api.example.com/apiX/", "https://api.example.com/apiX"),
    ("http://127.0.0.1/", "http://127.0.0.1"),
    ("file:///v1/", "file:///v1"),
    (None, None),
    ("", None),
])
def test_the_stored_url_has_no_user_info_query_or_fragment(url, stored):
    assert public_url(url) == stored


@pytest.mark.parametrize(("a", "b", "same"), [
    (None, "https://a.example/v1", True),
    ("https://a.example/v1", None, True),
    ("https://a.example/v1", "https://a.example/v1/", True),
    ("https://a.example/v1/", "https://a.example/v1", True),
    ("https://a.example/v1", "https://b.example/v1", False),
    ("https://a.example/v1", "http://a.example/v1", False),
    ("https://a.example/v1", "https://a.example/v2", False),
    ("https://a.example/apiX/", "https://a.example/api", False),
    ("https://a.example/api", "https://a.example/apiX/", False),
    ("https://a.example:1/v1", "https://a.example:2/v1", False),
    ("https://a.example:1/v1", "https://a.example:1/v1", True),
    ("http://127.0.0.1:1/v1", "http://127.0.0.1:2/v1", True),
    ("http://localhost:1/v1", "http://localhost:2/v1", True),
    ("http://[::1]:1/v1", "http://[::1]:2/v1", True),
])
def test_which_urls_are_one_service(a, b, same):
    assert same_server(a, b) is same


# -- the query round trip ------------------------------------------------------------------
def test_a_stored_query_without_keys_is_the_default_query():
    assert query_from_dict({}) == TaskQuery()


def test_every_stored_key_is_read_back():
    d = {"date_field": "completed", "start": "2026-11-01T00:00:00.000Z", "end": "2026-11-02T00:00:00.000Z",
         "status": ["error"], "audit": ["fixed"], "project": ["p"], "batch": ["b", 7], "type": ["t"],
         "tags": ["g"], "search": "s", "order": "asc"}
    assert query_from_dict(d) == TaskQuery(
        date_field=DateField.COMPLETED, start=datetime(2026, 11, 1, tzinfo=UTC),
        end=datetime(2026, 11, 2, tzinfo=UTC), statuses=frozenset({OperatorStatus.ERROR}),
        audit_statuses=frozenset({AuditStatus.FIXED}), projects=("p",), batches=("b", "7"), types=("t",),
        tags=("g",), search="s", order=SortOrder.OLDEST)


def test_a_query_is_stored_with_every_key():
    q = TaskQuery(date_field=DateField.COMPLETED, start=datetime(2026, 11, 1, tzinfo=UTC),
                  end=datetime(2026, 11, 2, tzinfo=UTC), statuses=frozenset({OperatorStatus.REDO, OperatorStatus.ERROR}),
                  audit_statuses=frozenset({AuditStatus.FIXED}), projects=("p2", "p1"), batches=("b",), types=("t",),
                  tags=("g",), search="s", order=SortOrder.OLDEST)
    assert query_to_dict(q) == {
        "date_field": "completed", "start": "2026-11-01T00:00:00.000Z", "end": "2026-11-02T00:00:00.000Z",
        "status": ["error", "redo"], "audit": ["fixed"], "project": ["p1", "p2"], "batch": ["b"], "type": ["t"],
        "tags": ["g"], "search": "s", "order": "asc"}


@pytest.mark.parametrize("d", [{"start": "soon"}, {"end": "soon"}, {"start": "2026-11-01", "end": "soon"}])
def test_an_unreadable_stored_instant_is_refused(d):
    with pytest.raises(ValueError) as e:
        query_from_dict(d)
    assert str(e.value) == "not a stored query: bad instant"


def test_the_snapshot_is_utc_to_the_millisecond(clock_not_on_utc):
    got = truncate_ms(datetime(2026, 1, 1, 10, 0, 0, 999999, tzinfo=IST))
    assert got == datetime(2026, 1, 1, 4, 30, 0, 999000, tzinfo=UTC)
    assert truncate_ms(datetime(2026, 1, 1, 0, 0, 0, 999000, tzinfo=UTC)).microsecond == 999000
    assert got.utcoffset() == timedelta(0)


# -- the fingerprint and the spec difference ----------------------------------------------
def test_the_fingerprint_is_the_sha256_of_the_canonical_text():
    assert fingerprint(SPEC) == SPEC_FP
    # non-ASCII escaped, other values as their str()
    assert fingerprint({"s": "é", "d": date(2026, 1, 2)}) == hashlib.sha256(
        b'{"d":"2026-01-02","s":"\\u00e9"}').hexdigest()


def test_a_changed_spec_is_described_key_by_key():
    old = {"status": ["completed"], "from": "-7d", "order": "newest"}
    new = {"status": ["queued", "redo"], "from": None, "to": "today", "order": "newest"}
    assert describe_spec_difference(old, new) == (
        "from: -7d → (none); status: completed → queued,redo; to: (none) → today")
    assert describe_spec_difference({"n": 3}, {"n": 4}) == "n: 3 → 4"
    assert describe_spec_difference({"a": ()}, {"a": ""}) == "a: (none) → (none)"


# -- the file ------------------------------------------------------------------------------
def checkpoint(**kw) -> Checkpoint:
    base = dict(output="out.json", format=ExportFormat.JSON, spec=dict(SPEC), fingerprint=SPEC_FP,
                query={"date_field": "created"}, snapshot="2026-11-20T12:00:00.000Z", next_token="tok",
                written=2, offset=40, total=5, pages=1, server="https://api.example.com/v1",
                started_at="2026-11-20T12:00:00Z", updated_at="2026-11-20T12:00:01Z", sessions=2, complete=True)
    base.update(kw)
    return Checkpoint(**base)


def test_the_file_holds_every_field_under_its_name():
    assert json.loads(checkpoint().to_bytes()) == {
        "kind": "tasktui-export-checkpoint", "version": 1, "output": "out.json", "format": "json",
        "spec": SPEC, "fingerprint": SPEC_FP, "query": {"date_field": "created"},
        "snapshot": "2026-11-20T12:00:00.000Z", "next_token": "tok", "written": 2, "offset": 40, "total": 5,
        "pages": 1, "server": "https://api.example.com/v1", "started_at": "2026-11-20T12:00:00Z",
        "updated_at": "2026-11-20T12:00:01Z", "sessions": 2, "complete": True,
    }


def test_a_saved_checkpoint_reads_back_equal(tmp_path):
    cp = checkpoint()
    assert Checkpoint.from_bytes(cp.to_bytes(), "x") == cp


def test_the_checkpoint_file_gets_the_usual_permissions(tmp_path):
    # it holds no credential: created like any file (0666 less the umask), not 0600
    old = os.umask(0o022)
    try:
        checkpoint().save(tmp_path / "c.json")
    finally:
        os.umask(old)
    assert stat.S_IMODE((tmp_path / "c.json").stat().st_mode) == 0o644


def stored(**changes) -> dict:
    d = json.loads(checkpoint().to_bytes())
    for k, v in changes.items():
        if v is KeyError:
            d.pop(k)
        else:
            d[k] = v
    return d


def test_optional_fields_take_their_defaults():
    d = stored(next_token=KeyError, total=KeyError, pages=KeyError, server=KeyError, started_at=KeyError,
               updated_at=KeyError, sessions=KeyError, complete=KeyError)
    cp = Checkpoint.from_bytes(json.dumps(d).encode(), "x")
    assert (cp.next_token, cp.total, cp.pages, cp.server, cp.started_at, cp.updated_at, cp.sessions,
            cp.complete) == (None, None, 0, None, "", "", 1, False)


def test_an_empty_export_ends_right_after_the_opening():
    cp = Checkpoint.from_bytes(json.dumps(stored(written=0, offset=2)).encode(), "x")
    assert (cp.written, cp.offset) == (0, 2)
    cp = Checkpoint.from_bytes(json.dumps(stored(format="ndjson", written=0, offset=0)).encode(), "x")
    assert (cp.written, cp.offset) == (0, 0)
    cp = Checkpoint.from_bytes(json.dumps(stored(written=1, offset=3)).encode(), "x")
    assert (cp.written, cp.offset) == (1, 3)


def raw_checkpoint(raw: bytes) -> bytes:
    """What to_bytes writes for the stored dict ``raw`` (orjson, 2-space indent)."""
    import orjson
    return orjson.dumps(json.loads(raw), option=orjson.OPT_INDENT_2) + b"\n"


@pytest.mark.parametrize(("data", "why"), [
    (b"nope", "it is not JSON"),
    (b"[]", "it is not a JSON object"),
    (stored(kind="other"), "it is not a tasktui export checkpoint"),
    (stored(version=2), "its format version is not this tasktui's: written by another version, or changed"),
    (stored(format="csv"), "format is neither json nor ndjson"),
    (stored(output=KeyError), "output is missing"),
    (stored(output=5), "output is not text"),
    (stored(spec=[]), "spec is not an object"),
    (stored(written="2"), "written is not a whole number"),
    (stored(written=True), "written is not a whole number"),
    (stored(complete="yes"), "complete is not true or false"),
    (stored(written=-1), "written is less than 0"),
    (stored(total=-1), "total is less than 0"),
    (stored(sessions=0), "sessions is less than 1"),
    (stored(fingerprint="0" * 64), "its fingerprint is not that of its filters"),
    (stored(query={"order": "sideways"}), "its query is not one tasktui wrote"),
    (stored(snapshot="soon"), "snapshot is not a date"),
    (stored(written=0, offset=40), "0 tasks cannot end at byte 40"),
    (stored(written=1, offset=2), "1 tasks cannot end at byte 2"),
    (stored(written=1, offset=1), "1 tasks cannot end at byte 1"),
    (stored(written=1500, offset=1234), None),  # fine: only the first record's place is known
    (stored(next_token="tasktui-slices.!!"), "its next page cursor cannot be read"),
    (stored(next_token=encode_slice_cursor([(None, None)], 0, None, 5)), None),
])
def test_every_damage_is_named(data, why):
    raw = data if isinstance(data, bytes) else json.dumps(data).encode()
    if why is None:
        assert Checkpoint.from_bytes(raw, "x").to_bytes() == raw_checkpoint(raw)
        return
    with pytest.raises(ExportUsageError) as e:
        Checkpoint.from_bytes(raw, "/tmp/o.json.checkpoint.json")
    assert str(e.value) == (f"the checkpoint /tmp/o.json.checkpoint.json is damaged ({why}); "
                            "pass --force to start the export over")


def test_an_unreadable_checkpoint_names_the_file_and_the_reason(tmp_path):
    (tmp_path / "o.json.checkpoint.json").mkdir()
    with pytest.raises(ExportUsageError) as e:
        read_checkpoint(tmp_path / "o.json")
    assert str(e.value) == f"cannot read {tmp_path / 'o.json.checkpoint.json'}: Is a directory"


def test_an_unreadable_partial_file_names_the_file_and_the_reason(tmp_path):
    (tmp_path / "o.json.checkpoint.json").write_bytes(checkpoint().to_bytes())
    part = tmp_path / "o.json.partial"
    part.symlink_to(part)  # a link to itself: stat fails with ELOOP
    with pytest.raises(ExportUsageError) as e:
        read_checkpoint(tmp_path / "o.json")
    assert str(e.value) == f"cannot read {part}: Too many levels of symbolic links"


def test_an_unfinished_export_error_carries_its_message_and_checkpoint():
    cp = checkpoint()
    err = UnfinishedExportError("an unfinished export exists", cp)
    assert str(err) == "an unfinished export exists" and err.checkpoint is cp
