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
from typing import Any

from tasktui.domain import (
    DateField,
    DateInputError,
    SortOrder,
    TaskQuery,
    parse_audit_status,
    parse_operator_status,
    parse_range,
    parse_zone,
)

# Exit codes a script can rely on (also in --help and the README).
EXIT_OK = 0
EXIT_FAILED = 1  # API / network / disk error; a file export keeps its partial + checkpoint
EXIT_USAGE = 2  # bad flag or value, unusable output path, resume refused
EXIT_AUTH = 3  # the server refused the API key
EXIT_NOT_FOUND = 4  # (tasktui get) no task with that id
EXIT_INTERRUPTED = 130  # Ctrl-C; a file export keeps its partial + checkpoint
EXIT_BROKEN_PIPE = 141  # the reader of standard output went away (e.g. `| head`)

EXIT_CODES_HELP = """\
exit codes:
  0    the export is complete (the file is in place, or stdout got every task)
  1    API, network or disk error; a file export keeps FILE.partial and
       FILE.checkpoint.json: run the same command with --resume
  2    bad flag or value, unusable output path, or --resume refused
  3    the server refused the API key
  130  interrupted (Ctrl-C); resumable like 1
  141  the reader of standard output went away (e.g. `| head`)
"""

EXAMPLES = """\
examples:
  tasktui export -o tasks.json                        every task, one JSON array
  tasktui export --status completed --audit ready_to_audit --from -7d -o todo.ndjson
  tasktui export --project "Street signs" --format ndjson | jq -r .task_id
  tasktui export --from 2026-11-01 --to 2026-11-30 --tz pacific -o nov.json
  tasktui export -o all.ndjson --resume               continue an interrupted export
  # retry while the failure is one a retry can fix (exit 1), stop on anything else:
  while tasktui export -o all.ndjson --resume; [ $? -eq 1 ]; do sleep 10; done
"""

PROG = "tasktui export"


def one_line_errors(parser: argparse.ArgumentParser, prog: str) -> None:
    """Make argparse report a bad flag as one clear line (and exit 2), not a usage dump.
    Unknown options are reported here too (argparse would leave them to the top-level
    parser, which prints its whole usage)."""

    def error(message: str) -> None:  # type: ignore[override]
        parser.exit(EXIT_USAGE, f"{prog}: {message} (see {prog} --help)\n")

    parse_known = parser.parse_known_args

    def parse_known_args(args=None, namespace=None):  # type: ignore[no-untyped-def]
        ns, extras = parse_known(args, namespace)
        if extras:
            unknown = [a for a in extras if a.startswith("-")]
            what = (f"unknown option {unknown[0]}" if unknown
                    else f"unexpected argument {extras[0]!r}")
            error(what)
        return ns, extras

    parser.error = error  # type: ignore[method-assign]
    parser.parse_known_args = parse_known_args  # type: ignore[method-assign]


def add_filter_arguments(parser: argparse.ArgumentParser) -> None:
    g = parser.add_argument_group("filters (the same as the app's)")
    g.add_argument("--status", action="append", default=[], metavar="STATUS",
                   help="task status: queued, in_progress, redo, completed, error, canceled "
                        "(repeat the flag or use a comma list)")
    g.add_argument("--audit", action="append", default=[], metavar="AUDIT",
                   help="audit status: ready_to_audit, accepted, fixed, rejected (repeat or comma list)")
    g.add_argument("--project", action="append", default=[], metavar="NAME",
                   help="project name (repeat the flag for several)")
    g.add_argument("--batch", action="append", default=[], metavar="NAME",
                   help="batch name (repeat the flag for several)")
    g.add_argument("--type", action="append", default=[], metavar="TYPE",
                   help="task type, e.g. imageannotation (repeat or comma list)")
    g.add_argument("--tag", action="append", default=[], metavar="TAG",
                   help="only tasks carrying this tag (repeat: all of them)")
    g.add_argument("--from", dest="date_from", default="", metavar="WHEN",
                   help="start of the date range (inclusive): YYYY-MM-DD, 'YYYY-MM-DD HH:MM', "
                        "today, yesterday, now, -7d, -12h, -2w, or ISO-8601 with an offset")
    g.add_argument("--to", dest="date_to", default="", metavar="WHEN",
                   help="end of the date range; a bare date includes that whole day")
    g.add_argument("--tz", default=None, metavar="ZONE",
                   help="time zone of --from/--to: utc, pacific or local (default: config, else utc)")
    g.add_argument("--date-field", default="created", metavar="FIELD",
                   help="which date --from/--to apply to: created (default) or completed")
    g.add_argument("--search", default="", metavar="TEXT",
                   help="task id or unique id starting with TEXT")
    g.add_argument("--order", default="newest", metavar="ORDER",
                   help="newest (default) or oldest first")


def _split(values: list[str], *, commas: bool = True) -> list[str]:
    out: list[str] = []
    for v in values:
        parts = v.split(",") if commas else [v]
        out.extend(p.strip() for p in parts if p.strip())
    return out


def _dedupe(values: list[str]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(values))


def filters_from_args(args: argparse.Namespace, default_zone: Any) -> tuple[TaskQuery, dict[str, Any]]:
    """The query the filter flags describe, and the filters *as given* (the spec a resume
    is compared against: relative dates stay relative). Raises ValueError with a message
    naming the flag at fault."""
    statuses = set()
    for s in _split(args.status):
        try:
            statuses.add(parse_operator_status(s))
        except ValueError as e:
            raise ValueError(f"--status: {e}") from None
    audits = set()
    for a in _split(args.audit):
        try:
            audits.add(parse_audit_status(a))
        except ValueError as e:
            raise ValueError(f"--audit: {e}") from None
    try:
        zone = parse_zone(args.tz) if args.tz else default_zone
    except ValueError as e:
        raise ValueError(f"--tz: {e}") from None
    field_text = (args.date_field or "created").strip().lower()
    try:
        date_field = DateField(field_text)
    except ValueError:
        raise ValueError(f"--date-field: unknown field {args.date_field!r}; choose created or completed") from None
    order_text = (args.order or "newest").strip().lower()
    if order_text in ("newest", "desc", "new"):
        order = SortOrder.NEWEST
    elif order_text in ("oldest", "asc", "old"):
        order = SortOrder.OLDEST
    else:
        raise ValueError(f"--order: unknown order {args.order!r}; choose newest or oldest")
    try:
        rng = parse_range(args.date_from or "", args.date_to or "", zone)
    except DateInputError as e:
        msg = str(e).replace("From: ", "--from: ", 1).replace("To: ", "--to: ", 1)
        raise ValueError(msg) from None
    projects = _dedupe(_split(args.project, commas=False))
    batches = _dedupe(_split(args.batch, commas=False))
    types = _dedupe(_split(args.type))
    tags = _dedupe(_split(args.tag, commas=False))
    search = (args.search or "").strip()
    query = TaskQuery(
        date_field=date_field, start=rng.start, end=rng.end,
        statuses=frozenset(statuses), audit_statuses=frozenset(audits),
        projects=projects, batches=batches, types=types, tags=tags,
        search=search, order=order,
    )
    spec: dict[str, Any] = {
        "status": sorted(s.value for s in statuses),
        "audit": sorted(a.name.lower() for a in audits),
        "project": sorted(projects),
        "batch": sorted(batches),
        "type": sorted(types),
        "tag": sorted(tags),
        "search": search,
        "order": order.value,
        "date_field": date_field.value,
        "from": (args.date_from or "").strip(),
        "to": (args.date_to or "").strip(),
    }
    if spec["from"] or spec["to"]:
        spec["tz"] = zone.value
    return query, spec


def add_arguments(parser: argparse.ArgumentParser) -> None:
    from tasktui.connect import add_connection_arguments

    parser.formatter_class = argparse.RawDescriptionHelpFormatter
    parser.description = (
        "Export every task matching the filters as JSON (one array) or NDJSON (one task per\n"
        "line), to a file or standard output. A file is written as FILE.partial and renamed\n"
        "when complete; an interrupted or failed export keeps FILE.partial and\n"
        "FILE.checkpoint.json and continues with --resume. The date range ends at the moment\n"
        "the export starts, so tasks created meanwhile neither shift it nor join it."
    )
    parser.epilog = EXAMPLES + "\n" + EXIT_CODES_HELP
    one_line_errors(parser, PROG)
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
    add_filter_arguments(parser)
    add_connection_arguments(parser)


def fail(message: str, code: int) -> int:
    print(f"{PROG}: {message}", file=sys.stderr, flush=True)
    return code


def _fmt_seconds(s: float | None) -> str:
    if s is None:
        return "-:--"
    s = int(s + 0.5)
    h, rem = divmod(s, 3600)
    m, sec = divmod(rem, 60)
    return f"{h}:{m:02d}:{sec:02d}" if h else f"{m}:{sec:02d}"


class _Bar:
    """A Rich progress bar on standard error: written of total, rate, time left."""

    def __init__(self, enabled: bool):
        self.enabled = enabled
        self._progress = None
        self._task = None

    def __enter__(self) -> "_Bar":
        if self.enabled:
            from rich.console import Console
            from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

            self._progress = Progress(
                TextColumn("exporting"),
                BarColumn(),
                MofNCompleteColumn(),
                TextColumn("tasks  {task.fields[rate]}  {task.fields[left]}"),
                console=Console(file=sys.stderr),
                transient=True,
                refresh_per_second=8,
            )
            self._progress.__enter__()
            self._task = self._progress.add_task("export", total=None, rate="", left="")
        return self

    def update(self, p: Any) -> None:
        if self._progress is None:
            return
        rate = f"{p.rate:,.0f}/s" if p.rate else ""
        left = f"{_fmt_seconds(p.remaining)} left" if p.remaining is not None else ""
        self._progress.update(self._task, completed=p.written, total=p.total, rate=rate, left=left)

    def __exit__(self, *exc: object) -> None:
        if self._progress is not None:
            self._progress.__exit__(None, None, None)


def run(args: argparse.Namespace) -> int:
    from tasktui.config import ConfigError
    from tasktui.connect import BackendError, open_backend, settings_from_args, stderr_progress
    from tasktui.export import (
        ExportError,
        Exporter,
        ExportFormat,
        ExportIOError,
        ExportUsageError,
    )

    try:
        settings = settings_from_args(args)
    except ConfigError as e:
        return fail(str(e), EXIT_USAGE)
    try:
        query, spec = filters_from_args(args, settings.zone)
    except ValueError as e:
        return fail(str(e), EXIT_USAGE)

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
    bar = _Bar(show_bar)
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
        server_url="http://127.0.0.1/v1" if settings.uses_sandbox else settings.api_url,
    )
    try:
        exporter.prepare()  # bad paths and refused resumes fail before any network
    except ExportUsageError as e:
        return fail(str(e), EXIT_USAGE)
    if exporter.notice and not quiet:
        print(f"{PROG}: {exporter.notice}", file=sys.stderr)

    try:
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
                result = asyncio.run(_export(exporter, backend, bar, args.retries))
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
        print(f"{PROG}: {result.written:,} tasks written to {where} ({fmt.value}{extra}) "
              f"in {result.elapsed:.1f} s, {rate:,.0f} tasks/s", file=sys.stderr)
    return EXIT_OK


def _public(url: str) -> str | None:
    from tasktui.export import public_url

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


async def _export(exporter: Any, backend: Any, bar: _Bar, retries: int) -> Any:
    from tasktui.api import RetryPolicy, TaskClient

    async with TaskClient(backend.url, backend.api_key,
                          retry=RetryPolicy(max_attempts=retries + 1)) as client:
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
