"""The exporter core (tasktui.export) against the real bundled server over HTTP.

Expected ids come from the server's SQLite database by SQL written in ``tests/sql_oracle.py``
(not ``TaskQuery.matches`` nor the exporter's ``snapshot_query``); expected contents are the
server's own answers, read page by page with plain httpx (not through tasktui.api).
"""

from __future__ import annotations

import io
import json
import os
from collections import Counter
from datetime import datetime, timedelta, timezone
from pathlib import Path

import httpx
import pytest

from sql_oracle import expected_ids as oracle_ids
from tasktui.api import ApiError, RetryPolicy, TaskClient
from tasktui.domain import (
    AuditStatus,
    DateField,
    OperatorStatus,
    SortOrder,
    TaskQuery,
)
from tasktui.export import (
    ExportFormat,
    ExportIOError,
    Exporter,
    OutputExistsError,
    ResumeMismatchError,
    UnfinishedExportError,
    checkpoint_path,
    partial_path,
    read_checkpoint,
)
from tasktui.testing.faultproxy import Fault, FaultProxy

SEED_NOW = datetime(2026, 11, 20, 12, 0, tzinfo=timezone.utc)


_WIRE: dict[str, list[dict]] = {}


def db_tasks(sql, server) -> list[dict]:
    """Every task as the server sends it, read over plain HTTP (once per server)."""
    if server.url not in _WIRE:
        docs: list[dict] = []
        token = None
        with httpx.Client(base_url=server.url, auth=(server.api_key, ""), timeout=30) as http:
            while True:
                r = http.get("/tasks", params={"limit": 100, **({"next_token": token} if token else {})})
                assert r.status_code == 200, r.text
                docs += r.json()["docs"]
                token = r.json()["next_token"]
                if not token:
                    break
        assert len(docs) == sql(server, "SELECT count(*) FROM tasks")[0][0]
        _WIRE[server.url] = docs
    return _WIRE[server.url]


def read_output(path: Path, fmt: ExportFormat) -> list[dict]:
    data = path.read_bytes()
    if fmt is ExportFormat.JSON:
        docs = json.loads(data)
        assert isinstance(docs, list)
        return docs
    lines = data.split(b"\n")
    assert lines[-1] == b"", "an NDJSON file ends with a newline"
    return [json.loads(line) for line in lines[:-1]]  # every line parses on its own


def no_instruction(d: dict) -> dict:
    return {k: v for k, v in d.items() if k != "instruction"}


QUERIES = {
    "everything": TaskQuery(),
    "completed-ready-to-audit": TaskQuery(statuses=frozenset({OperatorStatus.COMPLETED}),
                                          audit_statuses=frozenset({AuditStatus.READY_TO_AUDIT})),
    "queued-or-in-progress-one-project": TaskQuery(
        statuses=frozenset({OperatorStatus.QUEUED, OperatorStatus.IN_PROGRESS}),
        projects=("Street Scenes",)),
    "two-projects-oldest-first-range": TaskQuery(
        projects=("Café Menü ✨", "Receipts OCR"), order=SortOrder.OLDEST,
        start=SEED_NOW - timedelta(days=40), end=SEED_NOW - timedelta(days=10)),
    "completed-in-range": TaskQuery(date_field=DateField.COMPLETED,
                                    start=SEED_NOW - timedelta(days=20), end=SEED_NOW - timedelta(days=5)),
    "type-and-audit": TaskQuery(types=("imageannotation",),
                                audit_statuses=frozenset({AuditStatus.ACCEPTED, AuditStatus.FIXED})),
}


@pytest.mark.parametrize("fmt", list(ExportFormat))
@pytest.mark.parametrize("name", list(QUERIES))
async def test_filtered_export_matches_the_database(shared_server, sql, tmp_path, name, fmt):
    query = QUERIES[name]
    docs = db_tasks(sql, shared_server)
    want = oracle_ids(shared_server.db_path, query)
    assert want, f"the seed data has tasks for {name}"
    out = tmp_path / f"out{fmt.suffix}"
    async with TaskClient(shared_server.url, shared_server.api_key) as client:
        result = await Exporter(client, query, path=out, format=fmt).run()
    got = read_output(out, fmt)
    ids = [d["task_id"] for d in got]
    assert len(ids) == len(set(ids)), "no task twice"
    assert ids == want
    assert result.written == len(want) == result.total
    by_id = {d["task_id"]: d for d in docs}
    for d in got:
        assert no_instruction(d) == no_instruction(by_id[d["task_id"]])
    assert not partial_path(out).exists() and not checkpoint_path(out).exists()


async def test_local_filtering_against_a_server_without_extensions(shared_server, sql, tmp_path):
    """As against the real Scale API: several statuses cannot be sent, so the client
    filters; the export still holds exactly the matching tasks."""
    query = TaskQuery(statuses=frozenset({OperatorStatus.QUEUED, OperatorStatus.ERROR}),
                      projects=("Street Scenes", "Lidar Highway"))
    want = oracle_ids(shared_server.db_path, query)
    out = tmp_path / "real-api.ndjson"
    async with TaskClient(shared_server.url, shared_server.api_key, ignore_extensions=True) as client:
        result = await Exporter(client, query, path=out, format=ExportFormat.NDJSON).run()
    assert [d["task_id"] for d in read_output(out, ExportFormat.NDJSON)] == want
    assert result.written == len(want)


@pytest.mark.parametrize("fmt", list(ExportFormat))
async def test_empty_result_is_still_valid(shared_server, tmp_path, fmt):
    out = tmp_path / f"none{fmt.suffix}"
    query = TaskQuery(search="zzzz-no-such-task")
    async with TaskClient(shared_server.url, shared_server.api_key) as client:
        result = await Exporter(client, query, path=out, format=fmt).run()
    assert result.written == 0
    assert read_output(out, fmt) == []


async def test_stream_export_to_a_file_object(shared_server, sql):
    query = TaskQuery(projects=("Receipts OCR",))
    want = oracle_ids(shared_server.db_path, query)
    buf = io.BytesIO()
    async with TaskClient(shared_server.url, shared_server.api_key) as client:
        ex = Exporter(client, query, stream=buf, format=ExportFormat.JSON)
        ex.prepare()
        await ex.run()
    assert [d["task_id"] for d in json.loads(buf.getvalue())] == want


@pytest.mark.parametrize("fmt", list(ExportFormat))
async def test_dropped_connection_then_resume_gives_exactly_the_full_set(shared_server, sql, tmp_path, fmt):
    query = TaskQuery(statuses=frozenset({OperatorStatus.COMPLETED}))
    want = oracle_ids(shared_server.db_path, query)
    assert len(want) > 500  # several pages
    out = tmp_path / f"tasks{fmt.suffix}"
    proxy = FaultProxy(shared_server.url)
    seen_pages = []

    def drop_after_three_pages(p):
        seen_pages.append(p.pages)
        if p.pages == 3:
            # the next request reaching the proxy loses its connection half-way through
            proxy.script(Fault.drop("body"), times=3)

    async with proxy:
        async with TaskClient(proxy.url, shared_server.api_key, retry=RetryPolicy.none()) as client:
            ex = Exporter(client, query, path=out, format=fmt, on_progress=drop_after_three_pages,
                          page_size=100)
            with pytest.raises(ApiError):
                await ex.run()
    assert proxy.stats.injected["drop_mid_body"] >= 1
    # a failed export never looks finished; what it wrote is kept with a checkpoint
    assert not out.exists()
    cp = read_checkpoint(out)
    assert cp is not None and 0 < cp.written < len(want)
    assert cp.next_token
    part = partial_path(out)
    assert part.stat().st_size >= cp.offset
    assert shared_server.api_key not in checkpoint_path(out).read_text()
    # a record torn by a crash after the checkpoint must not survive the resume
    with open(part, "ab") as f:
        f.write(b'{"task_id": "torn-rec')

    async with TaskClient(shared_server.url, shared_server.api_key) as client:
        result = await Exporter(client, query, path=out, format=fmt, resume=True).run()
    ids = [d["task_id"] for d in read_output(out, fmt)]
    assert Counter(ids).most_common(1)[0][1] == 1, "no duplicates"
    assert ids == want, "none missing, none extra, in order"
    assert result.resumed_from == cp.written and result.written == len(want)
    assert not part.exists() and not checkpoint_path(out).exists()
    assert shared_server.api_key.encode() not in out.read_bytes()


async def test_tasks_created_during_an_export_are_not_included_and_resume_agrees(server, tmp_path):
    """The consistency decision: the range ends at the instant the export starts."""
    out = tmp_path / "snap.ndjson"
    proxy = FaultProxy(server.url)
    created: list[str] = []
    query = TaskQuery(projects=("Street Scenes",))

    def create_task() -> str:
        r = httpx.post(f"{server.url}/task/imageannotation", auth=(server.api_key, ""),
                       json={"instruction": "new", "project": "Street Scenes",
                             "params": {"attachment": "https://example.com/x.png"}})
        assert r.status_code == 200, r.text
        return r.json()["task_id"]

    def on_progress(p):
        if p.pages == 1 and not created:
            created.append(create_task())
        if p.pages == 2:
            proxy.script(Fault.drop("before"))

    async with proxy:
        async with TaskClient(proxy.url, server.api_key, retry=RetryPolicy.none()) as client:
            ex = Exporter(client, query, path=out, format=ExportFormat.NDJSON, on_progress=on_progress,
                          page_size=100)
            with pytest.raises(ApiError):
                await ex.run()
            total_at_start = ex.progress.total
    created.append(create_task())  # between the failure and the resume
    async with TaskClient(server.url, server.api_key) as client:
        result = await Exporter(client, query, path=out, format=ExportFormat.NDJSON, resume=True).run()
    ids = [d["task_id"] for d in read_output(out, ExportFormat.NDJSON)]
    assert not set(created) & set(ids)
    assert len(ids) == len(set(ids)) == total_at_start == result.written


async def test_resume_is_refused_when_the_filters_differ(shared_server, tmp_path):
    out = tmp_path / "x.json"
    proxy = FaultProxy(shared_server.url)

    def fail_soon(p):
        if p.pages == 1:
            proxy.script(Fault.error(500), times=3)

    async with proxy:
        async with TaskClient(proxy.url, shared_server.api_key, retry=RetryPolicy.none()) as client:
            with pytest.raises(ApiError):
                await Exporter(client, TaskQuery(), path=out, spec={"status": []}, server_url=proxy.url,
                               on_progress=fail_soon, page_size=100).run()
    other = Exporter(None, TaskQuery(), path=out, resume=True, spec={"status": ["queued"]})
    with pytest.raises(ResumeMismatchError, match="other filters.*status"):
        other.prepare()
    fmt = Exporter(None, TaskQuery(), path=out, resume=True, spec={"status": []},
                   format=ExportFormat.NDJSON)
    with pytest.raises(ResumeMismatchError, match="started as json"):
        fmt.prepare()
    elsewhere = Exporter(None, TaskQuery(), path=out, resume=True, spec={"status": []},
                         server_url="https://api.scale.com/v1")
    with pytest.raises(ResumeMismatchError, match="started against http://127.0.0.1"):
        elsewhere.prepare()
    # the same bundled server on another port (the sandbox picks one each run) is the same
    Exporter(None, TaskQuery(), path=out, resume=True, spec={"status": []},
             server_url="http://127.0.0.1:1/v1").prepare()
    # without --resume: the unfinished export is not silently thrown away
    with pytest.raises(UnfinishedExportError, match="--resume"):
        Exporter(None, TaskQuery(), path=out, spec={"status": []}).prepare()
    # --force starts over
    Exporter(None, TaskQuery(), path=out, spec={"status": ["queued"]}, overwrite=True).prepare()


def test_an_existing_file_is_not_replaced_without_force(tmp_path):
    out = tmp_path / "keep.json"
    out.write_text("precious")
    with pytest.raises(OutputExistsError, match="--force"):
        Exporter(None, TaskQuery(), path=out).prepare()
    assert out.read_text() == "precious"
    Exporter(None, TaskQuery(), path=out, overwrite=True).prepare()


def test_output_path_is_validated(tmp_path):
    from tasktui.export import ExportUsageError

    with pytest.raises(ExportUsageError, match="does not exist"):
        Exporter(None, TaskQuery(), path=tmp_path / "no" / "such" / "dir.json").prepare()
    with pytest.raises(ExportUsageError, match="is a directory"):
        Exporter(None, TaskQuery(), path=tmp_path).prepare()
    with pytest.raises(ExportUsageError, match="standard output cannot be resumed"):
        Exporter(None, TaskQuery(), stream=io.BytesIO(), resume=True).prepare()


async def test_bulk_pages_with_the_page_size_extension(shared_server):
    """Against the bundled server the export asks for pages of 1,000 (the page-size
    extension): a bounded number of requests; the standard limit stays 1..100."""
    proxy = FaultProxy(shared_server.url)
    buf = io.BytesIO()
    async with proxy:
        async with TaskClient(proxy.url, shared_server.api_key) as client:
            await Exporter(client, TaskQuery(), stream=buf, format=ExportFormat.NDJSON).run()
            big = proxy.stats.requests
            proxy.reset_stats()
            await Exporter(client, TaskQuery(), stream=io.BytesIO(), format=ExportFormat.NDJSON,
                           page_size=100).run()
            small = proxy.stats.requests
    assert len(buf.getvalue().splitlines()) == 1500
    # the start instant, the probe deciding whether to read in slices, then 2 pages of up to 1,000
    assert big <= 1 + 1 + 2
    assert small == 1 + 1 + 15
    async with httpx.AsyncClient(auth=(shared_server.api_key, "")) as http:
        r = await http.get(f"{shared_server.url}/tasks", params={"page_size": "1000"})
        assert r.status_code == 200 and len(r.json()["docs"]) == 1000
        assert "page-size" in r.headers["x-tasktui-extensions"]
        r = await http.get(f"{shared_server.url}/tasks", params={"page_size": "1001"})
        assert r.status_code == 400 and "page_size=1001 is out of range" in r.json()["error"]
        r = await http.get(f"{shared_server.url}/tasks", params={"limit": "101"})
        assert r.status_code == 400  # the Scale-compatible limit is unchanged


@pytest.mark.parametrize("fmt", list(ExportFormat))
async def test_hostile_text_is_exported_faithfully_and_safe_to_print(shared_server, sql, tmp_path, fmt):
    """Task text is data: the export holds exactly the server's strings, yet no byte of it
    can act on a terminal (C0 and C1 controls, bidi overrides, line separators escaped)."""
    query = TaskQuery(tags=("hostile-text",))
    docs = {d["task_id"]: d for d in db_tasks(sql, shared_server)}
    out = tmp_path / f"hostile{fmt.suffix}"
    async with TaskClient(shared_server.url, shared_server.api_key) as client:
        await Exporter(client, query, path=out, format=fmt).run()
    data = out.read_bytes()
    got = read_output(out, fmt)
    assert got and all(no_instruction(d) == no_instruction(docs[d["task_id"]]) for d in got)
    text = data.decode("utf-8")
    assert "\x1b" not in text
    assert not [c for c in text if 0x80 <= ord(c) <= 0x9F or c in "\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\u2028\u2029"]
    raw = json.dumps([docs[d["task_id"]] for d in got], ensure_ascii=False)
    assert any(0x80 <= ord(c) <= 0x9F or c in "\u202e\u2028" for c in raw), "the seed has such text"


async def test_a_failed_rename_resumes_without_fetching_again(shared_server, sql, tmp_path):
    """Every page written, then the final rename fails (the target became a folder): the
    resume only has to close and rename, and asks the server for no page."""
    out = tmp_path / "blocked.json"
    query = TaskQuery(projects=("Receipts OCR",))
    want = oracle_ids(shared_server.db_path, query)

    def block_target(p):
        if p.pages == 1 and not out.exists():
            out.mkdir()

    async with TaskClient(shared_server.url, shared_server.api_key) as client:
        with pytest.raises(ExportIOError, match="cannot finish"):
            await Exporter(client, query, path=out, on_progress=block_target).run()
    cp = read_checkpoint(out)
    assert cp is not None and cp.complete and cp.written == len(want)
    out.rmdir()
    proxy = FaultProxy(shared_server.url)
    async with proxy:
        async with TaskClient(proxy.url, shared_server.api_key) as client:
            result = await Exporter(client, query, path=out, resume=True).run()
    assert proxy.stats.requests == 0
    assert result.written == len(want) and result.resumed_from == len(want)
    assert [d["task_id"] for d in json.loads(out.read_bytes())] == want


@pytest.mark.parametrize("fmt", [ExportFormat.NDJSON, ExportFormat.JSON])
async def test_sliced_export_dropped_then_resumed_reads_the_same_slices(shared_server, sql, tmp_path, fmt):
    """A long export is read by several page chains over creation-time slices; its
    checkpoint keeps a cursor naming the slices, so a resume after a dropped connection
    reads the same slices and ends with exactly the full set, in order."""
    query = TaskQuery()
    want = oracle_ids(shared_server.db_path, query)
    out = tmp_path / f"tasks{fmt.suffix}"
    proxy = FaultProxy(shared_server.url)

    def drop_after_five_pages(p):
        if p.pages == 5:
            proxy.script(Fault.drop("body"), times=4)

    async with proxy:
        async with TaskClient(proxy.url, shared_server.api_key, retry=RetryPolicy.none()) as client:
            ex = Exporter(client, query, path=out, format=fmt, on_progress=drop_after_five_pages,
                          page_size=100)
            ex.parallel_min_tasks = 1_000  # the 1,500 tasks here count as long
            with pytest.raises(ApiError):
                await ex.run()
    cp = read_checkpoint(out)
    assert cp is not None and 0 < cp.written < len(want)
    assert cp.next_token.startswith("tasktui-slices.")  # the slices are remembered
    with open(partial_path(out), "ab") as f:
        f.write(b'{"task_id": "torn-rec')

    proxy = FaultProxy(shared_server.url)
    async with proxy:
        async with TaskClient(proxy.url, shared_server.api_key) as client:
            ex = Exporter(client, query, path=out, format=fmt, resume=True, page_size=100)
            ex.parallel_min_tasks = 1_000
            result = await ex.run()
    ids = [d["task_id"] for d in read_output(out, fmt)]
    assert Counter(ids).most_common(1)[0][1] == 1, "no duplicates"
    assert ids == want, "none missing, none extra, in order"
    assert result.resumed_from == cp.written and result.written == len(want)


async def test_every_checkpoint_reaches_the_disk_before_it_replaces_the_last(shared_server, sql, tmp_path,
                                                                             monkeypatch):
    """A checkpoint renamed into place before its bytes are on disk can survive a power
    loss as an empty or torn file (the resume then refuses it, and the work is lost). Each
    checkpoint's temporary file is fsynced before the rename, and the folder after it."""
    if not os.path.exists("/proc/self/fd"):
        pytest.skip("needs /proc to name a file descriptor")
    folder = Path(os.path.realpath(tmp_path))  # as /proc names the descriptors
    out = folder / "synced.json"
    cp_file = checkpoint_path(out)
    query = TaskQuery(projects=("Receipts OCR",))
    want = oracle_ids(shared_server.db_path, query)
    events: list[tuple[str, str, str]] = []
    real_fsync, real_replace = os.fsync, os.replace

    def fsync(fd):
        events.append(("fsync", os.readlink(f"/proc/self/fd/{fd}"), ""))
        return real_fsync(fd)

    def replace(src, dst):
        events.append(("replace", os.path.realpath(src), os.path.realpath(dst)))
        return real_replace(src, dst)

    monkeypatch.setattr(os, "fsync", fsync)
    monkeypatch.setattr(os, "replace", replace)
    async with TaskClient(shared_server.url, shared_server.api_key) as client:
        result = await Exporter(client, query, path=out, page_size=10).run()
    monkeypatch.undo()
    assert result.written == len(want) > 10
    saves = [i for i, (kind, _, dst) in enumerate(events) if kind == "replace" and dst == str(cp_file)]
    assert len(saves) >= 2, "the first checkpoint and the one marking every page written"
    for i in saves:
        tmp = events[i][1]
        assert Path(tmp).parent == folder and tmp != str(cp_file)
        assert ("fsync", tmp, "") in events[:i], f"checkpoint save {i} renamed without an fsync"
        assert events[i + 1] == ("fsync", str(folder), ""), "the rename itself is flushed"


async def test_a_checkpoint_half_written_by_a_killed_run_is_cleaned_up(shared_server, tmp_path):
    out = tmp_path / "after-kill.ndjson"
    killed = tmp_path / f".{checkpoint_path(out).name}.5eed5eed5eed.tmp"  # SIGKILL mid-save
    killed.write_bytes(b'{"kind": "tasktui-exp')
    async with TaskClient(shared_server.url, shared_server.api_key) as client:
        await Exporter(client, TaskQuery(projects=("Receipts OCR",)), path=out,
                       format=ExportFormat.NDJSON).run()
    assert sorted(p.name for p in tmp_path.iterdir()) == [out.name]
