"""An export that runs out of room: a real file-size limit (RLIMIT_FSIZE, with SIGXFSZ
ignored, so ``write`` comes back short and then fails with EFBIG, as on a full disk)
in a child process exporting from the real bundled server. The checkpoint must never
count more than the file holds, and freeing the room and resuming must give the complete,
valid file. The oracle is the server's database, read with SQL.
"""

from __future__ import annotations

import io
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tasktui.api import TaskClient
from tasktui.domain import TaskQuery
from tasktui.export import (
    ExportFormat,
    Exporter,
    checkpoint_path,
    partial_path,
    read_checkpoint,
)

from .exported import records

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="needs RLIMIT_FSIZE and SIGXFSZ")

#: Exports every task under a file-size limit; prints the ExportIOError's text and exits 1.
LIMITED_EXPORT = """
import asyncio, resource, signal, sys
from tasktui.api import TaskClient
from tasktui.domain import TaskQuery
from tasktui.export import ExportFormat, ExportIOError, Exporter

url, key, out, fmt, limit = sys.argv[1:]
signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
resource.setrlimit(resource.RLIMIT_FSIZE, (int(limit), int(limit)))

async def main():
    async with TaskClient(url, key) as client:
        await Exporter(client, TaskQuery(), path=out, format=ExportFormat(fmt), page_size=100).run()

try:
    asyncio.run(main())
except ExportIOError as e:
    print(e)
    sys.exit(1)
"""


def ids_newest_first(sql, server) -> list[str]:
    """Every task id in the order the list is read (newest first), straight from SQL."""
    return [r[0] for r in sql(server, "SELECT task_id FROM tasks ORDER BY created_at DESC, task_id DESC")]


@pytest.mark.timeout(120)
@pytest.mark.parametrize("fmt", list(ExportFormat))
async def test_a_file_size_limit_mid_export_checkpoints_only_what_was_written_and_resumes(
        shared_server, sql, tmp_path: Path, fmt: ExportFormat) -> None:
    want = ids_newest_first(sql, shared_server)
    out = tmp_path / f"all{fmt.suffix}"
    part = partial_path(out)
    limit = 654_321  # a few hundred tasks: the limit falls inside a page, so a write comes back short
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SCALE_", "TASKTUI_"))}
    r = subprocess.run([sys.executable, "-c", LIMITED_EXPORT, shared_server.url, shared_server.api_key,
                        str(out), fmt.value, str(limit)],
                       env=env, capture_output=True, text=True, timeout=90)
    assert r.returncode == 1, (r.stdout, r.stderr[-2000:])
    assert "cannot write the export" in r.stdout and "File too large" in r.stdout, r.stdout

    # what is on disk: the partial file (never more than the limit) and its checkpoint, no temp file
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted([part.name, checkpoint_path(out).name])
    size = part.stat().st_size
    assert size <= limit
    cp = read_checkpoint(out)
    assert cp is not None and not cp.complete
    assert 0 < cp.written < len(want)
    assert cp.offset <= size, "the checkpoint counts bytes the file does not hold"
    assert f"{cp.written:,} tasks are saved" in r.stdout  # what the operator is told is what is kept
    # the checkpointed bytes are exactly the first `written` tasks, whole
    head = part.read_bytes()[:cp.offset]
    assert records(head, fmt, closed=False) == want[:cp.written]  # an open array ends after a record

    # room again (no limit in this process): resume finishes the file, complete and valid
    async with TaskClient(shared_server.url, shared_server.api_key) as client:
        result = await Exporter(client, TaskQuery(), path=out, format=fmt, resume=True, page_size=100).run()
    assert result.resumed_from == cp.written and result.written == len(want)
    assert records(out.read_bytes(), fmt) == want
    assert sorted(p.name for p in tmp_path.iterdir()) == [out.name]


@pytest.mark.parametrize("fmt", list(ExportFormat))
def test_when_not_even_the_first_page_fits_nothing_is_left_and_the_message_says_so(shared_server, tmp_path,
                                                                                   fmt):
    out = tmp_path / f"all{fmt.suffix}"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SCALE_", "TASKTUI_"))}
    r = subprocess.run([sys.executable, "-c", LIMITED_EXPORT, shared_server.url, shared_server.api_key,
                        str(out), fmt.value, "5000"],  # the checkpoint fits, a page of 100 tasks does not
                       env=env, capture_output=True, text=True, timeout=90)
    assert r.returncode == 1, (r.stdout, r.stderr[-2000:])
    assert "File too large" in r.stdout and "nothing was kept" in r.stdout, r.stdout
    assert "--resume" not in r.stdout
    assert list(tmp_path.iterdir()) == []


async def test_the_partial_file_is_fsynced_before_every_checkpoint_that_counts_it(shared_server, sql, tmp_path,
                                                                                   monkeypatch):
    """A checkpoint on disk that counts bytes still in the page cache can outlive them (a
    power loss): the partial file is fsynced after its last write and before each
    checkpoint is renamed into place."""
    if not os.path.exists("/proc/self/fd"):
        pytest.skip("needs /proc to name a file descriptor")
    folder = Path(os.path.realpath(tmp_path))  # as /proc names the descriptors
    out = folder / "synced.ndjson"
    part, cp_file = str(partial_path(out)), str(checkpoint_path(out))
    want = [r[0] for r in sql(shared_server, "SELECT task_id FROM tasks WHERE project = 'Receipts OCR'")]
    events: list[tuple[str, str]] = []
    real_write, real_fsync, real_replace = os.write, os.fsync, os.replace

    def write(fd, data):
        events.append(("write", os.readlink(f"/proc/self/fd/{fd}")))
        return real_write(fd, data)

    def fsync(fd):
        events.append(("fsync", os.readlink(f"/proc/self/fd/{fd}")))
        return real_fsync(fd)

    def replace(src, dst):
        events.append(("replace", os.path.realpath(dst)))
        return real_replace(src, dst)

    monkeypatch.setattr(os, "write", write)
    monkeypatch.setattr(os, "fsync", fsync)
    monkeypatch.setattr(os, "replace", replace)
    async with TaskClient(shared_server.url, shared_server.api_key) as client:
        ex = Exporter(client, TaskQuery(projects=("Receipts OCR",)), path=out, format=ExportFormat.NDJSON,
                      page_size=10)
        ex.checkpoint_interval = 0.0  # a checkpoint after every page
        result = await ex.run()
    monkeypatch.undo()
    assert result.written == len(want) > 20
    saves = [i for i, e in enumerate(events) if e == ("replace", cp_file)]
    assert len(saves) > len(want) // 10, "a checkpoint after every page"
    for i in saves:
        writes = [j for j in range(i) if events[j] == ("write", part)]
        if not writes:
            continue  # the first checkpoint of an NDJSON export: nothing written yet
        last_write = writes[-1]
        assert ("fsync", part) in events[last_write:i], f"checkpoint {i} counts bytes not yet on disk"


class Trickle(io.RawIOBase):
    """A raw (unbuffered) output, like a pipe or a socket, that takes at most 4,096 bytes
    per write and says so only in write's return value."""

    def __init__(self) -> None:
        self.data = bytearray()

    def writable(self) -> bool:
        return True

    def write(self, b) -> int:
        n = min(len(b), 4096)
        self.data += bytes(b[:n])
        return n


@pytest.mark.parametrize("fmt", list(ExportFormat))
async def test_a_stream_export_to_a_raw_output_that_takes_part_of_each_write_loses_nothing(
        shared_server, sql, fmt):
    want = [r[0] for r in sql(shared_server, "SELECT task_id FROM tasks WHERE project = 'Receipts OCR' "
                                             "ORDER BY created_at DESC, task_id DESC")]
    assert want
    out = Trickle()
    async with TaskClient(shared_server.url, shared_server.api_key) as client:
        result = await Exporter(client, TaskQuery(projects=("Receipts OCR",)), stream=out, format=fmt).run()
    assert result.written == len(want)
    assert records(bytes(out.data), fmt) == want
