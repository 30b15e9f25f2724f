"""Exporter: one export of every task matching a query, to a file (resumable) or a
stream — prepare (checks, no network), run, discard. The guarantees it keeps are
listed in :mod:`tasktui.export`."""

from __future__ import annotations

import asyncio
import contextlib
import os
import time
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import IO, Any, Callable, Iterable, Mapping

from tasktui.api import TaskClient
from tasktui.api.throttle import BULK_READ_PARALLEL
from tasktui.domain import (
    EXT_PAGE_SIZE,
    PAGE_LIMIT_MAX,
    PAGE_SIZE_EXT_MAX,
    Task,
    TaskQuery,
    parse_wire_time,
    to_wire_time,
)
from tasktui.export.checkpoint import (
    CHECKPOINT_INTERVAL,
    Checkpoint,
    UnfinishedExportError,
    checkpoint_path,
    describe_spec_difference,
    fingerprint,
    partial_path,
    public_url,
    query_from_dict,
    query_to_dict,
    read_checkpoint,
    same_server,
    snapshot_query,
    truncate_ms,
)
from tasktui.export.errors import (
    ExportBusyError,
    ExportIOError,
    ExportUsageError,
    OutputExistsError,
    ResumeMismatchError,
)
from tasktui.export.format import ExportFormat
from tasktui.export.progress import ExportProgress, ExportResult, ProgressCallback
from tasktui.files import fsync_dir, leftover_temps, write_all

try:  # POSIX advisory locks: two exports must not write the same partial file
    import fcntl
except ImportError:  # pragma: no cover - Windows
    fcntl = None  # type: ignore[assignment]

__all__ = ["EXPORT_PARALLEL", "Exporter", "validate_output_path"]

#: Page chains ``tasktui export`` runs at once unless told otherwise: the bulk-read
#: default shared with ``tasktui sync`` (see ``tasktui.api.throttle.BULK_READ_PARALLEL``).
EXPORT_PARALLEL = BULK_READ_PARALLEL


def validate_output_path(path: str | os.PathLike[str]) -> Path:
    """Check that an export can be written to ``path``: an absolute path whose directory
    exists and is writable, and which is not itself a directory. Returns the absolute
    path; raises ExportUsageError with the reason. Does not look at existing files."""
    raw = str(path).strip()
    if not raw:
        raise ExportUsageError("the output file name is empty")
    p = Path(os.path.expanduser(raw))
    p = Path(os.path.abspath(p))
    if p.name in ("", ".", ".."):
        raise ExportUsageError(f"{raw} is not a file name")
    if p.is_dir():
        raise ExportUsageError(f"{p} is a directory; give a file name inside it")
    parent = p.parent
    if not parent.exists():
        raise ExportUsageError(f"the folder {parent} does not exist")
    if not parent.is_dir():
        raise ExportUsageError(f"{parent} is not a folder")
    if not os.access(parent, os.W_OK | os.X_OK):
        raise ExportUsageError(f"the folder {parent} is not writable")
    if p.exists() and not os.access(p, os.W_OK) and not os.access(parent, os.W_OK):
        raise ExportUsageError(f"{p} is not writable")
    return p


def _write_stream(stream: IO[bytes], data: bytes) -> None:
    """Write all of ``data`` to a file object: a raw (unbuffered) one may take fewer bytes
    than it is given and says so only in its return value."""
    view = memoryview(data)
    while view:
        n = stream.write(view)
        if n is None:  # a non-blocking raw stream that cannot take anything now
            raise BlockingIOError("the output cannot take more data now")
        if n >= len(view):
            return
        if n <= 0:
            raise OSError("the output took no more data")
        view = view[n:]


def _unlink(path: Path) -> None:
    try:
        path.unlink()
    except FileNotFoundError:
        pass


@dataclass
class _State:
    written: int = 0
    offset: int = 0
    total: int | None = None
    pages: int = 0
    next_token: str | None = None
    complete: bool = False
    total_exact: bool = True


class Exporter:
    """Export every task of ``query`` through ``client`` (a :class:`tasktui.api.TaskClient`:
    its sliced page reader, its listing head and the server's clock).

    Either ``path`` (a file: temporary name, checkpoint, atomic rename, resumable) or
    ``stream`` (a binary file object such as ``sys.stdout.buffer``: written as it comes,
    not resumable). Call :meth:`prepare` (synchronous, no network: checks the path and any
    checkpoint, raising :class:`ExportUsageError`) and then ``await run()``.

    ``spec`` describes the filters as the operator gave them; a resume is refused when it
    differs from the checkpoint's. It defaults to the resolved query. With ``resume`` and
    a matching checkpoint the export continues with the checkpoint's resolved query (so
    relative dates such as ``-7d`` mean what they meant when the export began); with
    ``resume`` and no checkpoint it simply starts. ``overwrite`` replaces an existing file
    and discards an unfinished export.
    """

    def __init__(
        self,
        client: TaskClient,
        query: TaskQuery,
        *,
        path: str | os.PathLike[str] | None = None,
        stream: IO[bytes] | None = None,
        format: ExportFormat = ExportFormat.JSON,
        resume: bool = False,
        overwrite: bool = False,
        spec: Mapping[str, Any] | None = None,
        server_url: str | None = None,
        on_progress: ProgressCallback | None = None,
        now: Callable[[], datetime] | None = None,
        page_size: int | None = None,
    ):
        if (path is None) == (stream is None):
            raise ValueError("give exactly one of path and stream")
        self.client = client
        self.user_query = query
        self.path: Path | None = Path(path) if path is not None else None
        self.stream = stream
        self.format = ExportFormat(format)
        self.resume = resume
        self.overwrite = overwrite
        self.spec = dict(spec) if spec is not None else query_to_dict(query)
        self.server_url = public_url(server_url)
        self.on_progress = on_progress
        self._fixed_now = now
        if page_size is not None and not 1 <= page_size <= PAGE_SIZE_EXT_MAX:
            raise ValueError(f"page_size must be 1 to {PAGE_SIZE_EXT_MAX}")
        self.page_size = page_size  # None: the largest the server allows
        self._prepared = False
        self._checkpoint: Checkpoint | None = None  # set when resuming
        self.resumed_from = 0
        self.query: TaskQuery | None = None  # the resolved query with the snapshot bound
        self.snapshot: datetime | None = None
        self.progress: ExportProgress | None = None
        self.notice: str | None = None  # something worth telling the operator (not an error)
        self._head: Any = None  # the listing's first page, read for the start instant

    # ------------------------------------------------------------------ files
    @property
    def partial(self) -> Path:
        assert self.path is not None
        return partial_path(self.path)

    @property
    def checkpoint_file(self) -> Path:
        assert self.path is not None
        return checkpoint_path(self.path)

    def prepare(self) -> None:
        """Check the output and any unfinished export; decide between a fresh start and a
        resume. Raises ExportUsageError (nothing is written)."""
        if self.stream is not None:
            if self.resume:
                raise ExportUsageError(
                    "--resume needs an output file (-o FILE): an export to standard output "
                    "cannot be resumed"
                )
            self._prepared = True
            return
        assert self.path is not None
        self.path = validate_output_path(self.path)
        cp_file = self.checkpoint_file
        cp = None
        try:
            cp = read_checkpoint(self.path)
        except ExportUsageError:
            if not self.overwrite:
                raise
        if cp is None and cp_file.exists() and not self.partial.exists():
            _unlink(cp_file)  # stale: the export finished (or its partial was removed)
        if self.resume and cp is not None:
            self._check_resumable(cp)
            self._checkpoint = cp
            self.resumed_from = cp.written
        else:
            if self.resume:
                self.notice = f"nothing to resume for {self.path}; starting a new export"
            # a partial file without a checkpoint holds nothing that can be trusted: with
            # --resume it is simply started over (the lock in run() guards a live writer)
            unfinished = cp is not None or (self.partial.exists() and not self.resume)
            if unfinished and not self.overwrite:
                if cp is not None:
                    of = f" of {cp.total:,}" if cp.total is not None else ""
                    raise UnfinishedExportError(
                        f"an unfinished export to {self.path} exists ({cp.written:,}{of} tasks "
                        f"written); add --resume to continue it, or --force to start over",
                        cp,
                    )
                raise UnfinishedExportError(
                    f"{self.partial} exists (an unfinished export without a checkpoint); "
                    "add --force to start over",
                    None,
                )
            if self.path.exists() and not self.overwrite:
                raise OutputExistsError(f"{self.path} already exists; add --force to replace it")
        self._prepared = True

    def _check_resumable(self, cp: Checkpoint) -> None:
        assert self.path is not None
        if cp.fingerprint != fingerprint(self.spec):
            diff = describe_spec_difference(cp.spec, self.spec)
            raise ResumeMismatchError(
                f"cannot resume {self.path}: it was started with other filters ({diff}); "
                "run it with the same filters, or pass --force to start over"
            )
        if cp.format is not self.format:
            raise ResumeMismatchError(
                f"cannot resume {self.path}: it was started as {cp.format.value}, not "
                f"{self.format.value}; pass --format {cp.format.value}, or --force to start over"
            )
        if not same_server(cp.server, self.server_url):
            raise ResumeMismatchError(
                f"cannot resume {self.path}: it was started against {cp.server}, not "
                f"{self.server_url}; the next page token only makes sense on the same server"
            )

    def discard(self) -> None:
        """Remove the partial file and the checkpoint (an export canceled on purpose)."""
        if self.path is None:
            return
        _unlink(self.partial)
        self._remove_checkpoint()

    def _remove_checkpoint(self) -> None:
        """The checkpoint, and any half-written one a killed run left beside it."""
        for p in (self.checkpoint_file, *leftover_temps(self.checkpoint_file)):
            _unlink(p)

    # ------------------------------------------------------------------ run
    def _progress(self, st: _State, t0: float, done: bool = False) -> None:
        self.progress = ExportProgress(
            written=st.written, total=st.total, pages=st.pages,
            elapsed=time.monotonic() - t0, resumed_from=self.resumed_from, done=done,
            total_exact=st.total_exact,
        )
        if self.on_progress is not None:
            self.on_progress(self.progress)

    async def run(self) -> ExportResult:
        """Export. Raises ApiError (from the client), ExportIOError, or CancelledError /
        KeyboardInterrupt; in every case a file export keeps its partial file and a
        checkpoint that points at the last complete page."""
        if not self._prepared:
            self.prepare()
        t0 = time.monotonic()
        cp = self._checkpoint
        if cp is not None:
            self.query = query_from_dict(cp.query)
            self.snapshot = parse_wire_time(cp.snapshot)
            st = _State(written=cp.written, offset=cp.offset, total=cp.total,
                        pages=0, next_token=cp.next_token, complete=cp.complete)
            started_at = cp.started_at
            sessions = cp.sessions + 1
        else:
            self.snapshot = truncate_ms(await self._start_instant())
            self.query = snapshot_query(self.user_query, self.snapshot)
            st = _State()
            started_at = to_wire_time(self.snapshot)
            sessions = 1
        if self.stream is not None:
            return await self._run_stream(st, t0)
        return await self._run_file(st, t0, started_at, sessions)

    #: Seconds between checkpoints while pages stream in (see CHECKPOINT_INTERVAL).
    checkpoint_interval = CHECKPOINT_INTERVAL

    #: Exports of at least this many tasks are read by several page chains over
    #: creation-time slices (the server's work on one page overlaps the next); the
    #: checkpoint's cursor then remembers the slices, so a resume reads the same ones.
    parallel_min_tasks = 20_000

    def _page_size(self) -> int:
        """Pages of 1,000 from a server with the page-size extension (ten times fewer
        requests: the bundled server spends most of a small page on the request itself),
        else the standard 100. The keyset token does not depend on the page size, so a
        resume may use either."""
        cap = PAGE_SIZE_EXT_MAX if EXT_PAGE_SIZE in self.client.extensions else PAGE_LIMIT_MAX
        return min(cap, self.page_size or cap)

    async def _start_instant(self) -> datetime:
        """The instant the export starts, by the server's clock when it tells it (the
        ``Date`` header, whole seconds, rounded down) so that a skewed local clock cannot
        move the bound; else by ours. The request that asks is the listing's own first
        page (``client.head``): the sliced reader sizes its slices from it, so the start
        instant costs no round trip of its own."""
        if self._fixed_now is not None:
            return self._fixed_now()
        self._head = await self.client.head(self.user_query)
        server = self.client.server_time
        if isinstance(server, datetime):
            return server.astimezone(timezone.utc).replace(microsecond=0)
        return datetime.now(timezone.utc)

    async def _pages(self, st: _State):
        """The pages still to write. The client filters locally when the server cannot
        express the whole query, so every task it yields matches."""
        if st.complete:
            return
        await self.client.discover()  # learn the extensions first (a resume has not asked yet)
        # several page chains over creation-time slices where it helps
        extra = {"head": self._head} if self._head is not None else {}
        pages = self.client.iter_pages_sliced(self.query, start_cursor=st.next_token, limit=self._page_size(),
                                              min_tasks=self.parallel_min_tasks, **extra)
        try:
            async for page in pages:
                yield page
        finally:
            await pages.aclose()

    def _encode_page(self, tasks: Iterable[Task], st: _State,
                     seen: set[str]) -> tuple[bytes, int, set[str]]:
        records = list(tasks)
        ids_list = [t.task_id for t in records]
        ids = set(ids_list)
        if len(ids) != len(ids_list) or not ids.isdisjoint(seen):
            # a page (or a page boundary) repeated by the server: each task once
            keep, kept = [], set()
            for t, tid in zip(records, ids_list):
                if tid not in seen and tid not in kept:
                    kept.add(tid)
                    keep.append(t)
            records = keep
        # the next page is compared with this one's tasks as the server sent them; a page
        # that adds none (only repeats, or no task) leaves the comparison as it was
        return self.format.frame(records, after_records=st.written > 0), len(records), ids if records else seen

    def _take_page(self, page: Any, st: _State, seen: set[str]) -> tuple[bytes, int, set[str]]:
        if st.total is None:
            st.total = page.total
            st.total_exact = page.total_exact
        return self._encode_page(page.tasks, st, seen)

    async def _run_stream(self, st: _State, t0: float) -> ExportResult:
        f = self.stream
        assert f is not None
        seen: set[str] = set()
        _write_stream(f, self.format.opening)
        async with contextlib.aclosing(self._pages(st)) as pages:
            async for page in pages:
                blob, n, seen = self._take_page(page, st, seen)
                if blob:
                    _write_stream(f, blob)
                    f.flush()
                st.written += n
                st.pages += 1
                st.next_token = page.next_token
                self._progress(st, t0)
        _write_stream(f, self.format.closing(empty=not st.written))
        f.flush()
        self._progress(st, t0, done=True)
        return ExportResult(path=None, format=self.format, written=st.written, total=st.total,
                            elapsed=time.monotonic() - t0, snapshot=self.snapshot)

    async def _run_file(self, st: _State, t0: float, started_at: str, sessions: int) -> ExportResult:
        assert self.path is not None and self.query is not None
        part = self.partial
        cp_file = self.checkpoint_file
        try:
            fd = os.open(part, os.O_RDWR | os.O_CREAT, 0o666)
        except OSError as e:
            raise ExportIOError(f"cannot create {part}: {e.strerror or e}") from None
        f = os.fdopen(fd, "r+b", buffering=0)
        fresh = self._checkpoint is None
        locked = False
        finished = False
        try:
            if fcntl is not None:
                try:
                    fcntl.flock(f.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
                except OSError:
                    raise ExportBusyError(
                        f"another export is writing {part} right now; wait for it to finish"
                    ) from None
            locked = True
            try:
                f.truncate(st.offset)  # a torn record after the checkpoint never survives
                f.seek(st.offset)
                if st.offset == 0:
                    write_all(f.fileno(), self.format.opening)
                    st.offset = len(self.format.opening)
            except OSError as e:
                raise ExportIOError(f"cannot write {part}: {e.strerror or e}") from None

            def nothing_kept() -> bool:
                """Whether a failure now leaves nothing behind (see ``finally``)."""
                return fresh and st.written == 0 and st.pages == 0

            # when, at which offset and with how many tasks the checkpoint was last written
            saved = [time.monotonic(), -1, st.written]
            sync_failed: list[OSError] = []  # once fsync fails, later ones prove nothing

            def save_checkpoint(force: bool = True) -> None:
                """Record the state. The partial file's bytes reach the disk first: a
                checkpoint never counts bytes a crash could still take away."""
                now = time.monotonic()
                if not force and now - saved[0] < self.checkpoint_interval:
                    return
                if saved[1] == st.offset and not force:
                    return
                if sync_failed:
                    raise sync_failed[0]
                try:
                    os.fsync(f.fileno())
                except OSError as e:
                    sync_failed.append(e)
                    raise
                cp = Checkpoint(
                    output=str(self.path), format=self.format, spec=self.spec,
                    fingerprint=fingerprint(self.spec), query=query_to_dict(self.query),
                    snapshot=to_wire_time(self.snapshot), next_token=st.next_token,
                    written=st.written, offset=st.offset, total=st.total, pages=st.pages,
                    server=self.server_url, started_at=started_at,
                    updated_at=to_wire_time(datetime.now(timezone.utc)), sessions=sessions,
                    complete=st.complete,
                )
                cp.save(cp_file)
                saved[0], saved[1], saved[2] = now, st.offset, st.written

            try:
                save_checkpoint()
            except OSError as e:
                raise ExportIOError(f"cannot write {cp_file}: {e.strerror or e}") from None
            self._progress(st, t0)

            seen: set[str] = set()
            try:
                async with contextlib.aclosing(self._pages(st)) as pages:
                    async for page in pages:
                        blob, n, seen = self._take_page(page, st, seen)
                        try:
                            if blob:
                                write_all(f.fileno(), blob)  # every byte, or OSError
                            # the state moves only once the whole page is written
                            st.offset += len(blob)
                            st.written += n
                            st.pages += 1
                            st.next_token = page.next_token
                            st.complete = not page.has_more
                            save_checkpoint(force=False)
                        except OSError as e:
                            # the last complete page is recorded if the disk still allows it;
                            # the operator is told what the checkpoint on disk holds
                            with contextlib.suppress(OSError):
                                if saved[1] != st.offset:
                                    save_checkpoint()
                            if nothing_kept():
                                raise ExportIOError(
                                    f"cannot write the export ({e.strerror or e}); nothing was kept: "
                                    "fix the cause and run the same command again"
                                ) from None
                            raise ExportIOError(
                                f"cannot write the export ({e.strerror or e}). {saved[2]:,} tasks "
                                f"are saved in {part}: fix the cause and run the same command with "
                                "--resume"
                            ) from None
                        self._progress(st, t0)
            except BaseException:
                # failed, canceled or interrupted: record the last complete page
                with contextlib.suppress(OSError):
                    if saved[1] != st.offset:
                        save_checkpoint()
                raise

            st.complete = True
            try:
                save_checkpoint()  # every page is written: a resume only has to finish
                write_all(f.fileno(), self.format.closing(empty=not st.written))
                await asyncio.to_thread(os.fsync, f.fileno())  # off the loop: the app stays responsive
                os.replace(part, self.path)  # the finished file appears whole, at once
            except OSError as e:
                raise ExportIOError(
                    f"cannot finish {self.path} ({e.strerror or e}). {saved[2]:,} tasks are saved "
                    f"in {part}: fix the cause and run the same command with --resume"
                ) from None
            finished = True
        finally:
            f.close()
            if not finished and locked and fresh and st.written == 0 and st.pages == 0:
                # nothing of value was written: leave nothing behind to trip the next run
                self.discard()
        self._remove_checkpoint()
        fsync_dir(self.path.parent)
        self._progress(st, t0, done=True)
        return ExportResult(path=self.path, format=self.format, written=st.written, total=st.total,
                            elapsed=time.monotonic() - t0, resumed_from=self.resumed_from,
                            snapshot=self.snapshot)
