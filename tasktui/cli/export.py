"""``tasktui export``: every task matching the filters, as JSON or NDJSON, to a file or
standard output. Streams (flat memory), resumable (``--resume``), atomic (the file
appears only when complete). See :mod:`tasktui.export` for the guarantees.

No Textual here; the progress bar is Rich, on standard error, and only when standard
error is a terminal.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
from typing import TYPE_CHECKING

from tasktui.cli import common
from tasktui.cli.common import (
    EXIT_AUTH,
    EXIT_BROKEN_PIPE,
    EXIT_FAILED,
    EXIT_INTERRUPTED,
    EXIT_OK,
    EXIT_USAGE,
    add_connection_arguments,
    add_filter_arguments,
    filters_from_args,
    checked_settings,
    stderr_progress,
)
from tasktui.domain import DateInputError

if TYPE_CHECKING:  # loaded in run(): `tasktui export --help` stays light
    from tasktui.backend import Backend
    from tasktui.export import Exporter, ExportProgress, ExportResult

EXIT_CODES_HELP = """\
exit codes:
  0    the export is complete (the file is in place, or stdout got every task)
  1    API, network or disk error; a file export keeps FILE.partial and
       FILE.checkpoint.json: run the same command with --resume
  2    bad flag or value, unusable output path, or --resume refused
  3    the server refused the API key, or a server is named without one
  130  interrupted (Ctrl-C); resumable like 1
  141  the reader of standard output went away (e.g. `| head`)
"""

EXAMPLES = """\
examples:
  tasktui export -o tasks.json                        # every task, one JSON array
  tasktui export --status completed --audit ready_to_audit --from -7d -o todo.ndjson
  tasktui export --project "Street signs" --format ndjson | jq -r .task_id
  tasktui export --from 2026-11-01 --to 2026-11-30 --tz pacific -o nov.json
  tasktui export -o all.ndjson --resume               # continue an interrupted export
  tasktui export --offline --status queued -o queued.json   # from the local index (tasktui sync)
  # retry while the failure is one a retry can fix (exit 1), stop on anything else:
  while tasktui export -o all.ndjson --resume; [ $? -eq 1 ]; do sleep 10; done
"""

PROG = "tasktui export"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.formatter_class = argparse.RawDescriptionHelpFormatter
    parser.description = (
        "Export every task matching the filters as JSON (one array) or NDJSON (one task per\n"
        "line), to a file or standard output. A file is written as FILE.partial and renamed\n"
        "when complete; an interrupted or failed export keeps FILE.partial and\n"
        "FILE.checkpoint.json and continues with --resume. The date range ends at the moment\n"
        "the export starts, so tasks created meanwhile neither shift it nor join it."
    )
    parser.epilog = EXAMPLES + "\n" + EXIT_CODES_HELP
    out = parser.add_argument_group("output")
    out.add_argument("-o", "--output", metavar="FILE", default=None,
                     help="write to FILE (default, or '-': standard output, e.g. for jq)")
    out.add_argument("--format", default=None, metavar="FORMAT",
                     help="json (one array) or ndjson (one task per line); default: from the "
                          "file name (.ndjson/.jsonl), else json")
    out.add_argument("--resume", action="store_true",
                     help="continue the unfinished export to FILE (same filters); starts it if "
                          "there is none")
    out.add_argument("--force", action="store_true",
                     help="replace FILE if it exists and discard an unfinished export to it")
    out.add_argument("--page-size", type=int, default=None, metavar="N",
                     help="tasks per request, 1-1000 (default: 1000 where the server offers it, "
                          "else 100; lower it for very large tasks)")
    out.add_argument("--retries", type=int, default=4, metavar="N",
                     help="retry a failed request up to N times, with backoff (default 4; 0: fail at once)")
    out.add_argument("-q", "--quiet", action="store_true",
                     help="no progress bar and no summary on standard error (errors still shown)")
    out.add_argument("--no-progress", action="store_true",
                     help="no progress bar (the summary line stays)")
    out.add_argument("--offline", action="store_true",
                     help="read the local index (filled by `tasktui sync`) instead of the API: no "
                          "request leaves this machine; --api-url chooses the index, no key needed")
    add_filter_arguments(parser)
    add_connection_arguments(parser)


def fail(message: str, code: int) -> int:
    return common.fail(PROG, message, code)


class ProgressBar:
    """A Rich progress bar on standard error: done of total, rate, time left (also
    ``tasktui sync``'s, with its own ``label``)."""

    def __init__(self, enabled: bool, label: str = "exporting"):
        self.enabled = enabled
        self.label = label
        self._progress = None
        self._task = None

    def __enter__(self) -> "ProgressBar":
        if self.enabled:
            from rich.console import Console
            from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

            self._progress = Progress(
                TextColumn(self.label),
                BarColumn(),
                MofNCompleteColumn(),
                TextColumn("tasks  {task.fields[rate]}  {task.fields[left]}"),
                console=Console(file=sys.stderr),
                transient=True,
                refresh_per_second=8,
            )
            self._progress.__enter__()
            self._task = self._progress.add_task(self.label, total=None, rate="", left="")
        return self

    def show(self, done: int, total: int | None, rate: float, remaining: float | None) -> None:
        if self._progress is None:
            return
        from tasktui.export.progress import clock

        self._progress.update(self._task, completed=done, total=total, rate=f"{rate:,.0f}/s" if rate else "",
                              left=f"{clock(remaining)} left" if remaining is not None else "")

    def update(self, p: ExportProgress) -> None:
        self.show(p.written, p.total, p.rate, p.remaining)

    def __exit__(self, *exc: object) -> None:
        if self._progress is not None:
            self._progress.__exit__(None, None, None)


def run(args: argparse.Namespace) -> int:
    with common.fewer_collections():  # from the start: the imports below allocate a lot too
        return _run(args)


def _run(args: argparse.Namespace) -> int:
    from tasktui.backend import BackendError, open_backend
    from tasktui.export import (
        ExportError,
        Exporter,
        ExportFormat,
        ExportIOError,
        ExportUsageError,
    )

    settings = _offline_settings(args) if args.offline else checked_settings(args, PROG)
    if isinstance(settings, int):
        return settings
    try:
        filters = filters_from_args(args)
    except ValueError as e:
        return fail(str(e), EXIT_USAGE)
    try:
        query = filters.resolve(settings.zone)
    except DateInputError as e:  # e.g. a wall time that does not exist in --tz
        return fail(str(e).replace("From: ", "--from: ", 1).replace("To: ", "--to: ", 1), EXIT_USAGE)
    # the filters as given, which a resume must repeat: relative dates stay relative
    spec = filters.to_mapping()
    if filters.has_dates:
        spec["tz"] = settings.zone.value

    if args.retries < 0 or args.retries > 20:
        return fail("--retries must be between 0 and 20", EXIT_USAGE)
    if args.page_size is not None and not 1 <= args.page_size <= 1000:
        return fail("--page-size must be between 1 and 1000", EXIT_USAGE)
    to_stdout = args.output in (None, "-")
    fmt = None
    if args.format:
        try:
            fmt = ExportFormat.parse(args.format)
        except ValueError as e:
            return fail(f"--format: {e}", EXIT_USAGE)
    if fmt is None:
        fmt = (None if to_stdout else ExportFormat.for_path(args.output)) or ExportFormat.JSON

    quiet = args.quiet
    show_bar = not quiet and not args.no_progress and sys.stderr.isatty()
    bar = ProgressBar(show_bar)
    out_stream = None
    if to_stdout:
        out_stream = sys.stdout.buffer
    exporter = Exporter(
        None, query,
        path=None if to_stdout else args.output,
        stream=out_stream,
        format=fmt, resume=args.resume, overwrite=args.force, spec=spec,
        on_progress=bar.update, page_size=args.page_size,
        # which service a resume must continue on (the sandbox's port changes every run;
        # on loopback the port is not compared); the exact URL is set once it is open
        server_url="http://127.0.0.1/v1" if settings.uses_sandbox or args.offline else settings.api_url,
    )
    try:
        exporter.prepare()  # bad paths and refused resumes fail before any network
    except ExportUsageError as e:
        return fail(str(e), EXIT_USAGE)
    if exporter.notice and not quiet:
        print(f"{PROG}: {exporter.notice}", file=sys.stderr)

    try:
        if args.offline:
            backend = _open_index(settings, query, quiet)
        else:
            backend = open_backend(settings, progress=None if quiet else stderr_progress)
    except BackendError as e:
        return fail(str(e), EXIT_FAILED)

    def saved_hint() -> str:
        if to_stdout or exporter.path is None or not exporter.checkpoint_file.exists():
            return ""
        p = exporter.progress
        n = p.written if p else exporter.resumed_from
        total = f" of {p.total:,}" if p and p.total is not None else ""
        return (f" {n:,}{total} tasks are saved in {exporter.partial}: run the same command "
                "with --resume to continue.")

    def sentence(e: BaseException) -> str:
        text = str(e).rstrip()
        return text if text.endswith((".", "!", "?")) else text + "."

    try:
        with backend:
            exporter.server_url = _public(backend.url)
            try:
                result = asyncio.run(_export(exporter, backend, bar, args.retries, settings.parallel))
            except KeyboardInterrupt:
                return fail("interrupted." + saved_hint(), EXIT_INTERRUPTED)
            except BrokenPipeError:
                _silence_stdout()
                return EXIT_BROKEN_PIPE
    except ExportUsageError as e:
        return fail(str(e), EXIT_USAGE)
    except ExportIOError as e:
        return fail(str(e), EXIT_FAILED)
    except ExportError as e:
        return fail(sentence(e) + saved_hint(), EXIT_FAILED)
    except Exception as e:
        code = _api_exit_code(e)
        if code is None:
            raise
        return fail(sentence(e) + saved_hint(), code)

    if not quiet:
        where = "standard output" if result.path is None else str(result.path)
        extra = f", continuing from {result.resumed_from:,}" if result.resumed_from else ""
        rate = (result.written - result.resumed_from) / result.elapsed if result.elapsed > 0 else 0
        print(f"{PROG}: {result.written_words} to {where} ({fmt.value}{extra}) "
              f"in {result.elapsed:.1f} s, {rate:,.0f} tasks/s", file=sys.stderr)
        note = backend.attachment_note() if result.written else None
        if note:
            print(f"{PROG}: note: {note}", file=sys.stderr)
    return EXIT_OK


def _offline_settings(args: argparse.Namespace):
    """The settings for ``--offline``: no key needed (nothing is sent to the API); a bad
    value is exit 2."""
    from tasktui.config import ConfigError

    try:
        return common.settings_from_args(args)
    except ConfigError as e:
        return fail(str(e), EXIT_USAGE)


def _open_index(settings, query, quiet: bool) -> Backend:
    """The bundled server over the local index the settings name, as the export's
    backend; notes on standard error when the index does not hold the whole answer
    (its scope does not cover the filters, or its first sync has not finished)."""
    from tasktui.backend import SANDBOX_INDEX_LABEL, Backend, BackendError
    from tasktui.index.db import SANDBOX_ORIGIN, IndexMissing, index_origin, index_path_for, index_status, serve_index, stored_scope

    path = index_path_for(settings)
    try:
        handle = serve_index(path)
    except IndexMissing as e:
        raise BackendError(str(e)) from None
    except Exception as e:  # sqlite3.Error, OSError: the index cannot be read
        raise BackendError(f"the index {path} cannot be read ({e}); run `tasktui sync` to rebuild it") from None
    if not quiet:
        import sqlite3

        st = index_status(path)
        conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
        try:
            scope = stored_scope(conn)
        finally:
            conn.close()
        if st is not None and not st.complete:
            print(f"{PROG}: note: the index's first sync has not finished ({st.tasks:,} tasks so far): "
                  "run `tasktui sync` to complete it", file=sys.stderr)
        if scope is not None and not scope.covers(query):
            print(f"{PROG}: note: the index holds {scope.describe()}: tasks outside it are not exported",
                  file=sys.stderr)
    return Backend(url=handle.url.rstrip("/"), api_key=handle.api_key, kind="index",
                   label=SANDBOX_INDEX_LABEL if index_origin(settings) == SANDBOX_ORIGIN else "local index", db_path=path,
                   _handle=handle)


def _public(url: str) -> str | None:
    from tasktui.config import public_url

    return public_url(url)


def _api_exit_code(e: BaseException) -> int | None:
    from tasktui.api import ApiError, AuthError, InvalidRequestError

    if isinstance(e, AuthError):
        return EXIT_AUTH
    if isinstance(e, InvalidRequestError):
        return EXIT_USAGE
    if isinstance(e, ApiError):
        return EXIT_FAILED
    return None


async def _export(exporter: Exporter, backend: Backend, bar: ProgressBar, retries: int,
                  parallel: int | None) -> ExportResult:
    from tasktui.api import RetryPolicy, TaskClient
    from tasktui.export import EXPORT_PARALLEL


    chains = parallel or EXPORT_PARALLEL
    async with TaskClient(backend.url, backend.api_key, retry=RetryPolicy(max_attempts=retries + 1),
                          parallel=chains, max_connections=max(16, chains)) as client:
        exporter.client = client
        with bar:
            return await exporter.run()


def _silence_stdout() -> None:
    """After a broken pipe, point stdout at /dev/null so the interpreter's final flush
    does not print another error."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except OSError:
        pass
