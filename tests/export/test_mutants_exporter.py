"""Resuming an export, byte by byte, against the bundled server over real HTTP (the
mutants `make mutate` plants in ``Exporter.prepare``, ``_check_resumable``, ``run``,
``_pages``, ``_encode_page`` and ``_run_file``; see RELIABILITY.md, "Mutation score").

Every export here reads one batch of the seed data (``BATCH``: 37 tasks) in pages of 9
through a :class:`FaultProxy`, which stops it where a test wants: the page requests pass
(``passing``) and the next one fails with a 503 (no retries), or its answer is held at a
:class:`Gate` while the test looks at the files on disk. Oracles, all independent of the
exporter: the task ids read with SQL from the server's database, the files' bytes parsed
with the stdlib ``json`` and their framing spelled out as literals, the checkpoint file
read as JSON, the request lines the proxy saw (the page token a request carried is the
token a resume must send again), and the exact sentences told.
"""

from __future__ import annotations

import asyncio
import json
import os
import time
from datetime import datetime, timezone
from pathlib import Path

import httpx
import pytest

from tasktui.api import ApiError, RetryPolicy, TaskClient
from tasktui.domain import TaskQuery
from tasktui.export import (
    ExportFormat,
    ExportIOError,
    Exporter,
    ExportUsageError,
    OutputExistsError,
    ResumeMismatchError,
    UnfinishedExportError,
    checkpoint_path,
    partial_path,
)
from tasktui.export.errors import ExportBusyError
from tasktui.testing import Fault, FaultProxy, Gate

from .exported import records

JSON, NDJSON = ExportFormat.JSON, ExportFormat.NDJSON
BATCH = "cafe-batch-02"  # 37 tasks of the seed data: pages of 9, 9, 9, 9, 1
PAGE = 9
PAGE_REQUEST = f"&limit={PAGE}"  # the page requests (the head asks for 100, the slicing probe for 1)
SNAP = datetime(2026, 11, 20, 12, 0, 0, 123456, tzinfo=timezone.utc)  # after every seed task
SNAP_WIRE = "2026-11-20T12:00:00.123Z"  # SNAP to the millisecond, as the wire writes it
SNAP_PARAM = "end_time=2026-11-20T12%3A00%3A00.123Z"  # and as a request line carries it
QUERY = TaskQuery(batches=(BATCH,))
SPEC = {"date_field": "created", "start": None, "end": None, "status": [], "audit": [], "project": [],
        "batch": [BATCH], "type": [], "tags": [], "search": "", "order": "desc"}


# -- the oracles --------------------------------------------------------------------------
def batch_ids(sql, server) -> list[str]:
    """The batch's task ids in export order (newest first), straight from SQL."""
    ids = [r[0] for r in sql(server, "SELECT task_id FROM tasks WHERE batch = ? "
                                     "ORDER BY created_at DESC, task_id DESC", BATCH)]
    assert len(ids) == 37
    return ids


def checkpoint(out: Path) -> dict:
    return json.loads(checkpoint_path(out).read_bytes())


def files(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir())


def tokens_sent(proxy: FaultProxy) -> list[str | None]:
    """The page token of each page request the proxy saw, in order (None: the first page)."""
    out = []
    for seen in proxy.log:
        if PAGE_REQUEST not in seen.request_line:
            continue
        target = seen.request_line.split(" ")[1]
        token = [p.split("=", 1)[1] for p in target.split("?", 1)[1].split("&") if p.startswith("next_token=")]
        out.append(token[0] if token else None)
    return out


def batch_requests(proxy: FaultProxy) -> list[str]:
    """The request lines the proxy saw for the batch (not the extension discovery's)."""
    lines = [seen.request_line for seen in proxy.log if f"batch={BATCH}" in seen.request_line]
    assert lines
    return lines


def stamp(path: Path) -> tuple[int, int]:
    """Which file ``path`` is: each checkpoint save writes a new file and renames it over
    the last, so a save changes this."""
    st = path.stat()
    return st.st_ino, st.st_mtime_ns


# -- driving an export ----------------------------------------------------------------------
def passing(n: int) -> list[Fault]:
    """``n`` page requests answered as the server answers (a hold whose gate is open)."""
    gate = Gate()
    gate.release()
    return [Fault.hold(gate, match=PAGE_REQUEST)] * n


def fail_after(proxy: FaultProxy, pages: int, status: int = 503) -> None:
    """The next ``pages`` page requests pass; the one after gets ``status``."""
    proxy.script(*passing(pages), Fault.error(status, match=PAGE_REQUEST))


def hold_after(proxy: FaultProxy, pages: int, *, then: Fault | None = None) -> Gate:
    """The next ``pages`` page requests pass; the answer to the one after waits at the
    gate returned (then is written, or replaced by ``then``)."""
    gate = Gate()
    proxy.script(*passing(pages), Fault.hold(gate, then=then, match=PAGE_REQUEST))
    return gate


def exporter(client, out: Path, fmt: ExportFormat = JSON, **kw) -> Exporter:
    kw.setdefault("now", lambda: SNAP)
    kw.setdefault("server_url", client.base_url)  # as the app passes it
    kw.setdefault("page_size", PAGE)
    return Exporter(client, QUERY, path=out, format=fmt, **kw)


@pytest.fixture
async def proxy(shared_server, proxy_for) -> FaultProxy:
    return await proxy_for(shared_server)


@pytest.fixture
async def client(proxy, shared_server):
    async with TaskClient(proxy.url, shared_server.api_key, retry=RetryPolicy.none()) as c:
        yield c


# -- run, _run_file: the partial file and its checkpoint ------------------------------------
@pytest.mark.parametrize("fmt", [JSON, NDJSON])
async def test_a_failed_run_leaves_the_pages_written_and_a_checkpoint_that_counts_them(
        shared_server, sql, proxy, client, tmp_path, fmt):
    want = batch_ids(sql, shared_server)
    out = tmp_path / f"out{fmt.suffix}"
    fail_after(proxy, 2)
    with pytest.raises(ApiError):
        await exporter(client, out, fmt).run()
    assert files(tmp_path) == sorted([partial_path(out).name, checkpoint_path(out).name])
    data = partial_path(out).read_bytes()
    assert records(data, fmt, closed=False) == want[:18]
    sent = tokens_sent(proxy)
    assert len(sent) == 3 and sent[0] is None and sent[1] and sent[2]
    cp = checkpoint(out)
    assert {k: cp[k] for k in ("written", "offset", "pages", "next_token", "complete", "total", "sessions",
                               "started_at", "snapshot", "server", "format", "output", "spec")} == {
        "written": 18, "offset": len(data), "pages": 2, "next_token": sent[2], "complete": False, "total": 37,
        "sessions": 1, "started_at": SNAP_WIRE, "snapshot": SNAP_WIRE, "server": proxy.url,
        "format": fmt.value, "output": str(out), "spec": SPEC}
    assert cp["query"] == {**SPEC, "end": SNAP_WIRE}
    assert all(SNAP_PARAM in line for line in batch_requests(proxy))  # the bound: the start instant
    when = datetime.strptime(cp["updated_at"], "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=timezone.utc)
    assert abs((datetime.now(timezone.utc) - when).total_seconds()) < 60  # when it was written: now


@pytest.mark.parametrize("fmt", [JSON, NDJSON])
async def test_each_resume_goes_on_from_the_checkpoint_and_counts_its_session(
        shared_server, sql, proxy, client, tmp_path, fmt):
    want = batch_ids(sql, shared_server)
    out = tmp_path / f"out{fmt.suffix}"
    fail_after(proxy, 1)
    with pytest.raises(ApiError):
        await exporter(client, out, fmt).run()
    first = tokens_sent(proxy)
    fail_after(proxy, 2)
    later = datetime(2026, 11, 21, tzinfo=timezone.utc)  # a resume keeps the first start instant
    second = exporter(client, out, fmt, resume=True, now=lambda: later)
    with pytest.raises(ApiError):
        await second.run()
    assert second.resumed_from == 9
    sent = tokens_sent(proxy)
    assert sent[:2] == first and sent[2] == first[1]  # the resume asks again for the page that failed
    cp = checkpoint(out)
    assert (cp["written"], cp["pages"], cp["next_token"], cp["sessions"], cp["started_at"], cp["snapshot"],
            cp["query"]["end"]) == (27, 2, sent[4], 2, SNAP_WIRE, SNAP_WIRE, SNAP_WIRE)
    assert records(partial_path(out).read_bytes(), fmt, closed=False) == want[:27]
    seen = []
    began = time.monotonic()
    result = await exporter(client, out, fmt, resume=True, on_progress=seen.append).run()
    took = time.monotonic() - began
    assert result.format is fmt and 0 < result.elapsed <= took  # this run's time, not the first's
    assert tokens_sent(proxy)[5] == sent[4]
    assert all(SNAP_PARAM in line for line in batch_requests(proxy))
    assert records(out.read_bytes(), fmt, closed=True) == want
    assert (result.written, result.total, result.resumed_from, result.path, result.snapshot) == (
        37, 37, 27, out, datetime(2026, 11, 20, 12, 0, 0, 123000, tzinfo=timezone.utc))
    assert [(p.written, p.total, p.pages, p.resumed_from, p.done) for p in seen] == [
        (27, 37, 0, 27, False), (36, 37, 1, 27, False), (37, 37, 2, 27, False), (37, 37, 2, 27, True)]
    assert files(tmp_path) == [out.name]


@pytest.mark.parametrize("fmt", [JSON, NDJSON])
async def test_a_complete_checkpoint_only_closes_the_file(shared_server, sql, proxy, client, tmp_path, fmt):
    want = batch_ids(sql, shared_server)
    out = tmp_path / f"out{fmt.suffix}"

    def block_the_rename(p):
        if p.pages == 5 and not out.exists():
            out.mkdir()  # the rename fails: every page written, the checkpoint says complete

    ex = exporter(client, out, fmt, on_progress=block_the_rename)
    ex.checkpoint_interval = 0  # the last page is checkpointed too: and then again as complete
    with pytest.raises(ExportIOError) as e:
        await ex.run()
    assert str(e.value) == (f"cannot finish {out} (Is a directory). 37 tasks are saved in "
                            f"{partial_path(out)}: fix the cause and run the same command with --resume")
    cp = checkpoint(out)
    assert (cp["complete"], cp["written"], cp["pages"], cp["next_token"]) == (True, 37, 5, None)
    out.rmdir()
    proxy.reset_stats()
    result = await exporter(client, out, fmt, resume=True).run()
    assert proxy.stats.requests == 0  # nothing left to read
    assert (result.written, result.resumed_from, result.total) == (37, 37, 37)
    assert records(out.read_bytes(), fmt, closed=True) == want
    assert files(tmp_path) == [out.name]


@pytest.mark.parametrize(("fmt", "empty"), [(JSON, b"[\n]\n"), (NDJSON, b"")])
async def test_an_export_of_nothing_is_a_valid_empty_file(client, tmp_path, fmt, empty):
    out = tmp_path / f"none{fmt.suffix}"
    result = await Exporter(client, TaskQuery(batches=("no-such-batch",)), path=out, format=fmt,
                            now=lambda: SNAP).run()
    assert out.read_bytes() == empty and result.written == 0 and result.total == 0
    assert files(tmp_path) == [out.name]


async def test_a_cancelled_run_checkpoints_the_last_complete_page(shared_server, sql, proxy, client, tmp_path):
    want = batch_ids(sql, shared_server)
    out = tmp_path / "out.ndjson"
    gate = hold_after(proxy, 2)
    ex = exporter(client, out, NDJSON)
    ex.checkpoint_interval = 3600  # no checkpoint while the pages stream in: the one on cancel counts
    run = asyncio.ensure_future(ex.run())
    await gate.until_held(1)
    assert checkpoint(out)["written"] == 0
    run.cancel()
    with pytest.raises(asyncio.CancelledError):
        await run
    gate.release()
    cp = checkpoint(out)
    assert (cp["written"], cp["pages"], cp["next_token"], cp["complete"]) == (18, 2, tokens_sent(proxy)[2], False)
    assert records(partial_path(out).read_bytes(), NDJSON, closed=False) == want[:18]
    assert cp["offset"] == partial_path(out).stat().st_size


@pytest.mark.parametrize("fmt", [JSON, NDJSON])
async def test_a_run_that_fails_before_any_page_leaves_nothing(proxy, client, tmp_path, fmt):
    out = tmp_path / f"out{fmt.suffix}"
    fail_after(proxy, 0)
    with pytest.raises(ApiError):
        await exporter(client, out, fmt).run()
    assert files(tmp_path) == []


async def test_a_resume_that_fails_at_once_keeps_what_was_saved_and_saves_nothing_more(
        shared_server, sql, proxy, client, tmp_path):
    want = batch_ids(sql, shared_server)
    out = tmp_path / "out.json"
    fail_after(proxy, 2)
    with pytest.raises(ApiError):
        await exporter(client, out).run()
    saved = partial_path(out).read_bytes()
    gate = hold_after(proxy, 0, then=Fault.error(503))
    ex = exporter(client, out, resume=True)
    ex.checkpoint_interval = 0
    run = asyncio.ensure_future(ex.run())
    await gate.until_held(1)
    assert checkpoint(out)["sessions"] == 2  # the resume's own first checkpoint
    before = stamp(checkpoint_path(out))
    gate.release()
    with pytest.raises(ApiError):
        await run
    assert stamp(checkpoint_path(out)) == before  # nothing new was written: no checkpoint either
    assert partial_path(out).read_bytes() == saved
    cp = checkpoint(out)
    assert (cp["written"], cp["offset"], cp["pages"], cp["sessions"]) == (18, len(saved), 0, 2)
    assert records(saved, JSON, closed=False) == want[:18]


@pytest.mark.parametrize("fmt", [JSON, NDJSON])
async def test_a_resume_while_the_export_still_runs_is_refused_and_touches_nothing(
        shared_server, sql, proxy, client, tmp_path, fmt):
    want = batch_ids(sql, shared_server)
    out = tmp_path / f"out{fmt.suffix}"
    gate = hold_after(proxy, 1)
    ex = exporter(client, out, fmt)
    ex.checkpoint_interval = 0
    run = asyncio.ensure_future(ex.run())
    await gate.until_held(1)
    data, cp = partial_path(out).read_bytes(), checkpoint_path(out).read_bytes()
    assert json.loads(cp)["written"] == 9
    with pytest.raises(ExportBusyError) as e:
        await exporter(client, out, fmt, resume=True).run()
    assert str(e.value) == f"another export is writing {partial_path(out)} right now; wait for it to finish"
    with pytest.raises(ExportBusyError):  # --force neither: and the running export's files stay
        await exporter(client, out, fmt, overwrite=True).run()
    assert partial_path(out).read_bytes() == data and checkpoint_path(out).read_bytes() == cp
    gate.release()
    result = await run
    assert result.written == 37 and records(out.read_bytes(), fmt, closed=True) == want
    assert files(tmp_path) == [out.name]


async def test_a_partial_file_that_cannot_be_opened_is_said_so(client, tmp_path):
    out = tmp_path / "out.json"
    partial_path(out).mkdir()
    with pytest.raises(ExportIOError) as e:
        await exporter(client, out, overwrite=True).run()
    assert str(e.value) == f"cannot create {partial_path(out)}: Is a directory"


@pytest.mark.parametrize("interval", [0, 3600])
async def test_checkpoints_while_pages_stream_in_follow_the_interval(
        shared_server, sql, proxy, client, tmp_path, interval):
    want = batch_ids(sql, shared_server)
    out = tmp_path / "out.json"
    gate = hold_after(proxy, 3)
    ex = exporter(client, out)
    ex.checkpoint_interval = interval
    run = asyncio.ensure_future(ex.run())
    await gate.until_held(1)
    cp = checkpoint(out)
    if interval:  # only the first one, at the start
        assert (cp["written"], cp["offset"], cp["pages"], cp["next_token"]) == (0, len(b"[\n"), 0, None)
    else:  # one after every page, counting exactly what the file holds
        data = partial_path(out).read_bytes()
        assert records(data, JSON, closed=False) == want[:27]
        assert (cp["written"], cp["offset"], cp["pages"], cp["next_token"]) == (27, len(data), 3, tokens_sent(proxy)[3])
    gate.release()
    assert (await run).written == 37


async def test_the_default_interval_counts_from_the_last_checkpoint(shared_server, sql, proxy, client, tmp_path):
    """CHECKPOINT_INTERVAL (0.5 s): the first page arrives once 0.5 s have passed since
    the checkpoint at the start, and is checkpointed; the next comes at once (its answer
    is let through as soon as the first is written) and is not."""
    out = tmp_path / "out.json"
    first, second = Gate(), Gate()
    proxy.script(Fault.hold(first, match=PAGE_REQUEST), Fault.hold(second, match=PAGE_REQUEST))
    seen = []

    def on_progress(p):
        if not p.done:
            seen.append((p.pages, stamp(checkpoint_path(out))))
        if p.pages == 1:
            second.release()

    ex = exporter(client, out, on_progress=on_progress)
    assert ex.checkpoint_interval == 0.5
    run = asyncio.ensure_future(ex.run())
    await first.until_held(1)
    assert checkpoint_path(out).exists()  # the checkpoint at the start is written: wait 0.5 s from now
    t = asyncio.get_running_loop().time()
    while asyncio.get_running_loop().time() - t < 0.55:
        await asyncio.sleep(0.05)
    first.release()
    assert (await run).written == 37
    assert [pages for pages, _ in seen[:3]] == [0, 1, 2]
    assert seen[1][1] != seen[0][1], "the first page, 0.5 s after the start, is checkpointed"
    assert seen[2][1] == seen[1][1], "the second, right after it, is not"


async def test_a_checkpoint_that_cannot_be_written_at_the_start_stops_the_export_and_leaves_nothing(
        proxy, client, tmp_path):
    out = tmp_path / "out.json"
    checkpoint_path(out).symlink_to(tmp_path / "gone" / "cp.json")  # its folder does not exist
    with pytest.raises(ExportIOError) as e:
        await exporter(client, out).run()
    assert str(e.value) == f"cannot write {checkpoint_path(out)}: No such file or directory"
    assert files(tmp_path) == []
    assert tokens_sent(proxy) == []  # not a page was asked for


async def test_a_failure_whose_checkpoint_cannot_be_written_either_is_still_the_failure(
        shared_server, sql, proxy, client, tmp_path):
    out = tmp_path / "out.json"
    gate = hold_after(proxy, 2, then=Fault.error(503))
    ex = exporter(client, out)
    ex.checkpoint_interval = 3600  # the pages written since the start are not checkpointed yet
    run = asyncio.ensure_future(ex.run())
    await gate.until_held(1)
    checkpoint_path(out).unlink()
    checkpoint_path(out).symlink_to(tmp_path / "gone" / "cp.json")
    gate.release()
    with pytest.raises(ApiError) as e:  # what stopped the export, not the checkpoint's own trouble
        await run
    assert e.value.status_code == 503
    assert records(partial_path(out).read_bytes(), JSON, closed=False) == batch_ids(sql, shared_server)[:18]


@pytest.mark.parametrize("fmt", [JSON, NDJSON])
async def test_a_checkpoint_that_cannot_be_written_mid_way_says_what_the_last_one_holds(
        shared_server, sql, proxy, client, tmp_path, fmt):
    want = batch_ids(sql, shared_server)
    out = tmp_path / f"out{fmt.suffix}"
    gate = hold_after(proxy, 2)
    ex = exporter(client, out, fmt)
    ex.checkpoint_interval = 0
    run = asyncio.ensure_future(ex.run())
    await gate.until_held(1)
    assert checkpoint(out)["written"] == 18
    checkpoint_path(out).unlink()
    checkpoint_path(out).symlink_to(tmp_path / "gone" / "cp.json")
    gate.release()
    with pytest.raises(ExportIOError) as e:
        await run
    assert str(e.value) == (f"cannot write the export (No such file or directory). 18 tasks are saved in "
                            f"{partial_path(out)}: fix the cause and run the same command with --resume")
    assert records(partial_path(out).read_bytes(), fmt, closed=False) == want[:27]


async def test_a_json_array_resumed_after_one_task_goes_on_after_a_separator(shared_server, sql, proxy, client,
                                                                             tmp_path):
    want = batch_ids(sql, shared_server)
    out = tmp_path / "out.json"
    proxy.script(Fault.error(503, match="&limit=1&"))  # pages of one task: the second fails
    ex = exporter(client, out, page_size=1)
    ex.parallel_min_tasks = 1_000_000  # one chain (pages of one task would make 37 tasks a long export)
    with pytest.raises(ApiError):
        await ex.run()
    assert partial_path(out).read_bytes().startswith(b"[\n{") and checkpoint(out)["written"] == 1
    await exporter(client, out, resume=True).run()
    assert records(out.read_bytes(), JSON, closed=True) == want


# -- _pages: where the pages come from ----------------------------------------------------
async def test_a_resume_learns_the_servers_extensions_before_it_sizes_its_pages(shared_server, sql, proxy,
                                                                               client, tmp_path):
    """A fresh run learns them from the listing's first page; a resume asks for no such
    page, so it asks first: against the bundled server its pages are of 1,000 (the
    page-size extension), not the wire contract's 100."""
    out = tmp_path / "out.json"
    await unfinished(proxy, client, out)
    token = checkpoint(out)["next_token"]
    proxy.reset_stats()
    async with TaskClient(proxy.url, shared_server.api_key) as fresh:  # as a new process would
        ex = Exporter(fresh, QUERY, path=out, resume=True, server_url=fresh.base_url)
        result = await ex.run()
    lines = batch_requests(proxy)
    assert len(lines) == 1 and "&page_size=1000&" in lines[0] and f"&next_token={token} " in lines[0], lines
    assert result.written == 37 and records(out.read_bytes(), JSON, closed=True) == batch_ids(sql, shared_server)


async def test_the_listings_first_page_read_for_the_start_instant_sizes_the_slices(
        shared_server, sql, proxy_for, tmp_path):
    """Against a server that lists newest first only (the public contract), a long export
    is read in creation-time slices sized from the listing's first page: the one read
    for the start instant (the server's Date), not asked for a second time."""
    proxy = await proxy_for(shared_server, public_contract=True)
    out = tmp_path / "out.ndjson"
    async with TaskClient(proxy.url, shared_server.api_key) as client:
        ex = Exporter(client, QUERY, path=out, format=NDJSON, page_size=PAGE)  # the start instant: the server's
        ex.parallel_min_tasks = 1_000  # of pages of 1,000: with pages of 9, 9 tasks make a long export
        result = await ex.run()
    assert records(out.read_bytes(), NDJSON, closed=True) == batch_ids(sql, shared_server)
    snap = result.snapshot
    assert snap is not None and snap.microsecond == 0  # the Date header: whole seconds
    bound = "end_time=" + f"{snap:%Y-%m-%dT%H:%M:%S}.000Z".replace(":", "%3A")
    lines = batch_requests(proxy)
    assert "end_time=" not in lines[0] and "&limit=100" in lines[0]  # the first page, read for the start instant
    assert any("start_time=" in line for line in lines[1:]), "read in slices"
    whole = [line for line in lines[1:] if bound in line and "start_time=" not in line]
    assert whole == [], "the listing's first page was asked for again"
    assert proxy.refused == []


# -- prepare, _check_resumable: which run it will be ------------------------------------------
async def unfinished(proxy: FaultProxy, client, out: Path, fmt: ExportFormat = JSON) -> None:
    """An export to ``out`` stopped by a 503 after its first two pages (18 of 37 tasks)."""
    fail_after(proxy, 2)
    with pytest.raises(ApiError):
        await exporter(client, out, fmt).run()
    assert checkpoint(out)["written"] == 18


def test_a_stream_cannot_be_resumed():
    import io

    with pytest.raises(ExportUsageError) as e:
        Exporter(None, QUERY, stream=io.BytesIO(), resume=True).prepare()
    assert str(e.value) == ("--resume needs an output file (-o FILE): an export to standard output "
                            "cannot be resumed")


async def test_an_unfinished_export_is_refused_without_resume_or_force(proxy, client, tmp_path):
    out = tmp_path / "out.json"
    await unfinished(proxy, client, out)
    with pytest.raises(UnfinishedExportError) as e:
        exporter(client, out).prepare()
    assert str(e.value) == (f"an unfinished export to {out} exists (18 of 37 tasks written); add --resume "
                            "to continue it, or --force to start over")
    assert e.value.checkpoint.written == 18
    ex = exporter(client, out, resume=True)
    ex.prepare()
    assert ex.resumed_from == 18 and ex.notice is None


async def test_an_unfinished_export_of_an_unknown_total_says_only_what_was_written(proxy, client, tmp_path):
    out = tmp_path / "out.json"
    await unfinished(proxy, client, out)
    d = checkpoint(out)
    d["total"] = None  # a server that sent no total
    checkpoint_path(out).write_text(json.dumps(d))
    with pytest.raises(UnfinishedExportError) as e:
        exporter(client, out).prepare()
    assert str(e.value) == (f"an unfinished export to {out} exists (18 tasks written); add --resume "
                            "to continue it, or --force to start over")


async def test_a_partial_file_without_a_checkpoint_is_refused_without_force(client, tmp_path):
    out = tmp_path / "out.json"
    partial_path(out).write_bytes(b"[\n")  # a run killed before its first checkpoint
    with pytest.raises(UnfinishedExportError) as e:
        exporter(client, out).prepare()
    assert str(e.value) == (f"{partial_path(out)} exists (an unfinished export without a checkpoint); "
                            "add --force to start over")
    assert e.value.checkpoint is None


@pytest.mark.parametrize("how", ["force", "resume"])
async def test_a_partial_file_without_a_checkpoint_is_started_over(shared_server, sql, client, tmp_path, how):
    out = tmp_path / "out.json"
    partial_path(out).write_bytes(b'[\n{"task_id": "left by a killed run"}')
    ex = exporter(client, out, **{"overwrite" if how == "force" else "resume": True})
    ex.prepare()
    assert ex.resumed_from == 0
    assert ex.notice == (f"nothing to resume for {out}; starting a new export" if how == "resume" else None)
    await ex.run()
    assert records(out.read_bytes(), JSON, closed=True) == batch_ids(sql, shared_server)


async def test_force_starts_an_unfinished_export_over(shared_server, sql, proxy, client, tmp_path):
    out = tmp_path / "out.ndjson"
    await unfinished(proxy, client, out, NDJSON)
    ex = exporter(client, out, NDJSON, overwrite=True)
    ex.prepare()
    assert ex.resumed_from == 0 and ex.notice is None
    proxy.reset_stats()
    result = await ex.run()
    assert tokens_sent(proxy)[0] is None  # from the first page
    assert (result.written, result.resumed_from) == (37, 0)
    assert records(out.read_bytes(), NDJSON, closed=True) == batch_ids(sql, shared_server)
    assert files(tmp_path) == [out.name]


async def test_resume_with_nothing_to_resume_starts_and_says_so(shared_server, sql, client, tmp_path):
    out = tmp_path / "out.json"
    ex = exporter(client, out, resume=True)
    ex.prepare()
    assert ex.notice == f"nothing to resume for {out}; starting a new export" and ex.resumed_from == 0
    await ex.run()
    assert records(out.read_bytes(), JSON, closed=True) == batch_ids(sql, shared_server)


async def test_a_checkpoint_left_without_its_partial_file_is_removed(proxy, client, tmp_path):
    out = tmp_path / "out.json"
    await unfinished(proxy, client, out)
    partial_path(out).unlink()
    ex = exporter(client, out)
    ex.prepare()
    assert files(tmp_path) == [] and ex.notice is None


async def test_a_damaged_checkpoint_is_refused_unless_forced(shared_server, sql, proxy, client, tmp_path):
    out = tmp_path / "out.json"
    await unfinished(proxy, client, out)
    checkpoint_path(out).write_text("{")
    for resume in (True, False):
        with pytest.raises(ExportUsageError) as e:
            exporter(client, out, resume=resume).prepare()
        assert str(e.value).startswith(f"the checkpoint {checkpoint_path(out)} is damaged")
    ex = exporter(client, out, overwrite=True)
    ex.prepare()
    assert ex.resumed_from == 0
    await ex.run()
    assert records(out.read_bytes(), JSON, closed=True) == batch_ids(sql, shared_server)


async def test_resume_and_force_with_a_damaged_checkpoint_start_over(shared_server, sql, proxy, client, tmp_path):
    out = tmp_path / "out.json"
    await unfinished(proxy, client, out)
    checkpoint_path(out).write_text("{")
    ex = exporter(client, out, resume=True, overwrite=True)
    ex.prepare()
    assert ex.notice == f"nothing to resume for {out}; starting a new export" and ex.resumed_from == 0
    assert checkpoint_path(out).read_text() == "{"  # prepare only decides: the run replaces it
    proxy.reset_stats()
    await ex.run()
    assert tokens_sent(proxy)[0] is None
    assert records(out.read_bytes(), JSON, closed=True) == batch_ids(sql, shared_server)


async def test_an_existing_file_is_kept_without_force(shared_server, sql, client, tmp_path):
    out = tmp_path / "out.json"
    out.write_bytes(b"keep")
    for resume in (False, True):  # nothing to resume: a new export, which would replace it
        with pytest.raises(OutputExistsError) as e:
            exporter(client, out, resume=resume).prepare()
        assert str(e.value) == f"{out} already exists; add --force to replace it"
    assert out.read_bytes() == b"keep"
    await exporter(client, out, overwrite=True).run()
    assert records(out.read_bytes(), JSON, closed=True) == batch_ids(sql, shared_server)


async def test_a_resume_with_other_filters_format_or_server_is_refused(shared_server, proxy, client, tmp_path):
    out = tmp_path / "out.json"
    await unfinished(proxy, client, out)
    other = Exporter(client, TaskQuery(batches=(BATCH,), search="6a"), path=out, resume=True,
                     server_url=client.base_url)
    with pytest.raises(ResumeMismatchError) as e:
        other.prepare()
    assert str(e.value) == (f"cannot resume {out}: it was started with other filters (search: (none) → 6a); "
                            "run it with the same filters, or pass --force to start over")
    with pytest.raises(ResumeMismatchError) as e:
        exporter(client, out, NDJSON, resume=True).prepare()
    assert str(e.value) == (f"cannot resume {out}: it was started as json, not ndjson; "
                            "pass --format json, or --force to start over")
    with pytest.raises(ResumeMismatchError) as e:
        exporter(client, out, resume=True, server_url="http://elsewhere:5000/v1").prepare()
    assert str(e.value) == (f"cannot resume {out}: it was started against {client.base_url}, not "
                            "http://elsewhere:5000/v1; the next page token only makes sense on the same server")
    # the same server straight (not through the proxy: another port of 127.0.0.1) is the same
    async with TaskClient(shared_server.url, shared_server.api_key) as direct:
        ex = exporter(direct, out, resume=True)
        ex.prepare()
        assert ex.resumed_from == 18
        result = await ex.run()
    assert result.written == 37


# -- _run_file: the files themselves ---------------------------------------------------------
async def test_the_finished_file_has_the_usual_permissions(client, tmp_path):
    old = os.umask(0o022)
    try:
        out = tmp_path / "out.json"
        await exporter(client, out).run()
    finally:
        os.umask(old)
    assert out.stat().st_mode & 0o777 == 0o644  # what creating a file gives: 0o666 less the umask


async def test_a_partial_file_that_cannot_be_cut_back_is_said_so_and_removed(proxy, client, tmp_path):
    out = tmp_path / "out.json"
    os.mkfifo(partial_path(out))  # opens, but cannot be truncated
    ex = exporter(client, out, resume=True)
    with pytest.raises(ExportIOError) as e:
        await ex.run()
    assert str(e.value) == f"cannot write {partial_path(out)}: Invalid argument"
    assert files(tmp_path) == [] and tokens_sent(proxy) == []


async def test_tasks_the_server_sends_again_are_written_once_and_a_page_of_repeats_saves_nothing(
        shared_server, sql, proxy, client, tmp_path):
    """A server sending tasks again (the proxy answers for it, with the server's own
    documents and tokens): after the first page, a page holding only one of its tasks
    again, then its last task again at the start of the next page, which also holds a
    task twice, and that task once more at the start of the page after; then a page
    holding one of its own tasks twice. Each task is written once, in order, and the page
    that adds nothing writes no checkpoint.

    (The exporter compared each page with the tasks the page before had added: after a
    page of repeats with none of them, so the last task's third copy was written; and
    not with the repeated ones, so its fourth copy was too.)"""
    want = batch_ids(sql, shared_server)
    async with httpx.AsyncClient(base_url=shared_server.url, auth=(shared_server.api_key, "")) as http:
        async def page(limit: int, token: str | None = None) -> dict:
            r = await http.get("/tasks", params={"batch": BATCH, "limit": limit, "end_time": SNAP_WIRE,
                                                 **({"next_token": token} if token else {})})
            assert r.status_code == 200, r.text
            return r.json()

        first, after_8 = await page(9), await page(8)
        second = await page(9, first["next_token"])
        third = await page(9, second["next_token"])
        fourth = await page(9, third["next_token"])
    assert [d["task_id"] for d in first["docs"] + second["docs"] + third["docs"] + fourth["docs"]] == want[:36]

    t8, t9 = after_8["next_token"], first["next_token"]
    last = first["docs"][8]
    proxy.script(
        # the first page, whose token points one task back
        Fault.custom(json.dumps({**first, "next_token": t8}), match=f"{PAGE_REQUEST} HTTP"),
        # a page holding only the task before it again
        Fault.custom(json.dumps({**first, "docs": [first["docs"][7]], "next_token": t9}), match=f"next_token={t8}"),
        # the next page with it once more and a task twice, and the page after with it again
        Fault.custom(json.dumps({**second, "docs": [last, second["docs"][0], *second["docs"]]}),
                     match=f"next_token={t9}"),
        Fault.custom(json.dumps({**third, "docs": [last, *third["docs"]]}), match=f"next_token={second['next_token']}"),
        # and a page holding a task twice, none of the page before
        Fault.custom(json.dumps({**fourth, "docs": [fourth["docs"][0], *fourth["docs"]]}),
                     match=f"next_token={third['next_token']}"))
    out = tmp_path / "out.json"
    seen = []

    def on_progress(p):
        if not p.done:  # (once done the checkpoint is gone)
            seen.append((p.pages, p.written, stamp(checkpoint_path(out))))

    ex = exporter(client, out, on_progress=on_progress)
    ex.checkpoint_interval = 0
    result = await ex.run()
    assert proxy.stats.injected["custom"] == 5
    assert records(out.read_bytes(), JSON, closed=True) == want and result.written == 37
    assert [(pages, written) for pages, written, _ in seen[:4]] == [(0, 0), (1, 9), (2, 9), (3, 18)]
    stamps = [s for _, _, s in seen[:4]]
    assert stamps[1] != stamps[0] and stamps[2] == stamps[1] and stamps[3] != stamps[2]


# -- a disk that takes no more: a real file-size limit in a child process -----------------
#: Exports the batch under a file-size limit (RLIMIT_FSIZE, SIGXFSZ ignored: a write past
#: it comes back short, then fails with EFBIG, as on a full disk). Prints the
#: ExportIOError's text, then whether the checkpoint file is still the one written at the
#: start of the run (its inode and mtime), and exits 1.
LIMITED_EXPORT = """
import asyncio, os, resource, signal, sys
from datetime import datetime
from tasktui.api import TaskClient
from tasktui.domain import TaskQuery
from tasktui.export import ExportFormat, ExportIOError, Exporter

url, key, out, fmt, limit, resume, batch, page, now = sys.argv[1:]
signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
resource.setrlimit(resource.RLIMIT_FSIZE, (int(limit), int(limit)))
cp = out + ".checkpoint.json"
stamps = []

def stamp():
    try:
        st = os.stat(cp)
    except FileNotFoundError:
        return None
    return st.st_ino, st.st_mtime_ns

def on_progress(p):
    if p.pages == 0 and not stamps:
        stamps.append(stamp())  # right after the checkpoint at the start

async def main():
    async with TaskClient(url, key) as client:
        await Exporter(client, TaskQuery(batches=(batch,)), path=out, format=ExportFormat(fmt),
                       resume=resume == "resume", page_size=int(page), server_url=url, on_progress=on_progress,
                       now=lambda: datetime.fromisoformat(now)).run()

try:
    asyncio.run(main())
except ExportIOError as e:
    print(e)
    last = stamp()
    print("checkpoint gone" if last is None else "checkpoint kept" if last == stamps[0] else "checkpoint rewritten")
    sys.exit(1)
"""


def export_with_a_size_limit(server, out: Path, fmt: ExportFormat, limit: int, *,
                             resume: bool = False) -> tuple[str, str]:
    """What the export in a child process, under ``limit`` bytes a file, told, and what
    became of the checkpoint written at its start; the child runs the tasktui this test
    imported."""
    import subprocess
    import sys

    import tasktui

    env = {k: v for k, v in os.environ.items() if not k.startswith(("SCALE_", "TASKTUI_"))}
    env["PYTHONPATH"] = os.pathsep.join([str(Path(tasktui.__file__).parent.parent), env.get("PYTHONPATH", "")])
    r = subprocess.run([sys.executable, "-c", LIMITED_EXPORT, server.url, server.api_key, str(out), fmt.value,
                        str(limit), "resume" if resume else "new", BATCH, str(PAGE), SNAP.isoformat()],
                       env=env, capture_output=True, text=True, timeout=60)
    assert r.returncode == 1, (r.stdout, r.stderr[-2000:])
    told, checkpoint = r.stdout.strip().split("\n")
    return told, checkpoint


@pytest.mark.parametrize("fmt", [JSON, NDJSON])
async def test_when_not_even_the_first_page_fits_nothing_is_kept_and_the_same_command_then_works(
        shared_server, sql, tmp_path, fmt):
    out = tmp_path / f"out{fmt.suffix}"
    told = export_with_a_size_limit(shared_server, out, fmt, 4000)  # a checkpoint fits, 9 tasks do not
    assert told == ("cannot write the export (File too large); nothing was kept: "
                    "fix the cause and run the same command again", "checkpoint gone")
    assert files(tmp_path) == []
    async with TaskClient(shared_server.url, shared_server.api_key) as client:  # room again
        result = await Exporter(client, QUERY, path=out, format=fmt, page_size=PAGE).run()
    assert result.written == 37 and records(out.read_bytes(), fmt, closed=True) == batch_ids(sql, shared_server)


@pytest.mark.parametrize("fmt", [JSON, NDJSON])
async def test_a_resume_whose_first_page_does_not_fit_says_what_is_saved(shared_server, sql, proxy, client,
                                                                         tmp_path, fmt):
    want = batch_ids(sql, shared_server)
    out = tmp_path / f"out{fmt.suffix}"
    await unfinished(proxy, client, out, fmt)
    saved = partial_path(out).read_bytes()
    told = export_with_a_size_limit(shared_server, out, fmt, len(saved) + 100, resume=True)
    assert told == (f"cannot write the export (File too large). 18 tasks are saved in {partial_path(out)}: "
                    "fix the cause and run the same command with --resume",
                    "checkpoint kept")  # it already says what the file holds: not written again
    cp = checkpoint(out)
    assert (cp["written"], cp["offset"], cp["sessions"]) == (18, len(saved), 2)
    assert partial_path(out).read_bytes()[:len(saved)] == saved
    result = await exporter(client, out, fmt, resume=True).run()  # room again
    assert (result.written, result.resumed_from) == (37, 18)
    assert records(out.read_bytes(), fmt, closed=True) == want
