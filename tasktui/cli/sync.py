"""``tasktui sync``: fill the local task index from the API, then keep it fresh; or
``--status``: where it is, what it holds, how big, when last synced. No Textual here;
the bar is Rich, on standard error, and only when standard error is a terminal (words
otherwise)."""

from __future__ import annotations

import argparse
import asyncio
import sys
import time
from typing import TYPE_CHECKING

from tasktui.cli import common
from tasktui.cli.common import (
    EXIT_AUTH,
    EXIT_FAILED,
    EXIT_INTERRUPTED,
    EXIT_NOT_FOUND,
    EXIT_OK,
    EXIT_USAGE,
    add_connection_arguments,
    settings_from_args,
)

if TYPE_CHECKING:
    from tasktui.index.sync import SyncProgress

PROG = "tasktui sync"

HELP = """\
The index is one SQLite file per API origin in the data directory
($TASKTUI_DATA_DIR/index/, or the user data directory's): the tasks of the scope as
the API sent them, never the API key. Delete the file to forget it.

Scope: --project / --from / --to when given, else [sync] in the config file, else
every task. A second run reads only what changed since the first (updated_after);
an interrupted first run continues where it stopped. --prune deletes what lies
outside the scope (after narrowing it).

exit codes:
  0    the index is up to date (or --status printed)
  1    API, network or disk error; what was read is kept: run again to continue
  2    bad flag or value
  3    the server refused the API key, or a server is named without one
  4    (--status) there is no index for this API yet
  130  interrupted (Ctrl-C); run again to continue

examples:
  tasktui sync                                       # every task (or the [sync] scope)
  tasktui sync --project "Street Scenes" --from 2026-01-01
  tasktui sync --parallel 4                          # fewer requests at once (default 16)
  tasktui sync --status                              # path, tasks, disk use, last sync
  tasktui sync --project "Street Scenes" --prune      # keep that project only
"""


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.formatter_class = argparse.RawDescriptionHelpFormatter
    parser.description = ("Fill the local task index from the API (parallel, resumable), then keep it "
                          "fresh: a second run reads only what changed.")
    parser.epilog = HELP
    g = parser.add_argument_group("scope (default: [sync] in the config file, else every task)")
    g.add_argument("--project", action="append", default=[], metavar="NAME",
                   help="keep this project's tasks (repeat for several)")
    g.add_argument("--from", dest="date_from", default="", metavar="DATE",
                   help="keep tasks created from DATE (a fixed date such as 2026-01-01, UTC)")
    g.add_argument("--to", dest="date_to", default="", metavar="DATE",
                   help="keep tasks created up to DATE, that day included")
    o = parser.add_argument_group("what to do")
    o.add_argument("--status", action="store_true",
                   help="print the index's path, tasks, disk use, last sync and scope; sync nothing")
    o.add_argument("--prune", action="store_true",
                   help="after syncing, delete the tasks that lie outside the scope")
    o.add_argument("-q", "--quiet", action="store_true", help="no progress and no summary (errors still shown)")
    o.add_argument("--no-progress", action="store_true", help="no progress bar (the summary line stays)")
    add_connection_arguments(parser)


def fail(message: str, code: int) -> int:
    return common.fail(PROG, message, code)


def _size(n: int) -> str:
    for unit, div in (("GB", 1 << 30), ("MB", 1 << 20), ("kB", 1 << 10)):
        if n >= div:
            return f"{n / div:,.1f} {unit}"
    return f"{n} bytes"


def _status(path) -> int:
    from tasktui.index.db import index_status, synced_ago

    st = index_status(path)
    if st is None:
        return fail(f"there is no index at {path} yet: run `tasktui sync` to make one", EXIT_NOT_FOUND)
    per = f" ({_size(round(st.bytes_per_task))} per task)" if st.bytes_per_task else ""
    lines = [("index", str(st.path))]
    if st.problem:
        lines.append(("problem", st.problem))
    else:
        state = "complete" if st.complete else "first sync not finished: run `tasktui sync` to continue"
        lines += [("origin", st.origin or "(unknown)"), ("tasks", f"{st.tasks:,} ({state})"),
                  ("disk", f"{_size(st.bytes)}{per}")]
        when = ""
        if st.synced_at is not None:
            when = time.strftime(" (%Y-%m-%d %H:%M:%S UTC)", time.gmtime(st.synced_at))
        lines += [("last sync", synced_ago(st.synced_at) + when), ("scope", st.scope)]
    for k, v in lines:
        print(f"{k + ':':<11}{v}")
    return EXIT_OK


class _Words:
    """Progress as words on standard error (not a terminal): at most one line every
    ``every`` seconds."""

    def __init__(self, enabled: bool, every: float = 5.0):
        self.enabled = enabled
        self.every = every
        self._last = 0.0

    def update(self, p: "SyncProgress") -> None:
        now = time.monotonic()
        if not self.enabled or p.done or now - self._last < self.every:
            return
        self._last = now
        of = f" of {p.total:,}" if p.total else ""
        print(f"{PROG}: {p.phase} sync: {p.read:,}{of} tasks read", file=sys.stderr, flush=True)


def run(args: argparse.Namespace) -> int:
    from tasktui.config import ConfigError
    from tasktui.index.db import index_path_for
    from tasktui.index.scope import ScopeError, SyncScope

    try:
        settings = settings_from_args(args)
        path = index_path_for(settings)
    except ConfigError as e:
        return fail(str(e), EXIT_USAGE)
    except ValueError as e:
        return fail(f"--api-url: {e}", EXIT_USAGE)
    if args.status:
        return _status(path)
    try:
        if args.project or args.date_from or args.date_to:
            scope = SyncScope.parse([p for p in args.project if p.strip()], args.date_from, args.date_to, where="--")
        else:
            scope = SyncScope.from_settings(settings)
    except ScopeError as e:
        return fail(str(e).replace("-- from", "--from").replace("-- to", "--to"), EXIT_USAGE)

    checked = common.checked_settings(args, PROG)
    if isinstance(checked, int):
        return checked
    from tasktui.backend import BackendError, open_backend
    from tasktui.index.db import IndexMissing, open_index
    from tasktui.index.sync import SyncBusy, sync_lock

    quiet = args.quiet
    try:
        conn = open_index(path)
    except (OSError, IndexMissing) as e:
        return fail(f"cannot open the index {path}: {getattr(e, 'strerror', None) or e}", EXIT_FAILED)
    except Exception as e:  # sqlite3.Error
        return fail(f"cannot open the index {path}: {e}", EXIT_FAILED)
    if conn.notice:
        print(f"{PROG}: {conn.notice}", file=sys.stderr)
    try:
        backend = open_backend(checked, progress=None if quiet else common.stderr_progress)
    except BackendError as e:
        conn.close()
        return fail(str(e), EXIT_FAILED)
    show_bar = not quiet and not args.no_progress and sys.stderr.isatty()
    from tasktui.cli.export import ProgressBar

    bar = ProgressBar(show_bar, "syncing")
    words = _Words(not quiet and not args.no_progress and not show_bar)
    t0 = time.monotonic()

    def progress(p: "SyncProgress") -> None:
        dt = time.monotonic() - t0
        rate = p.read / dt if dt > 0 else 0.0
        left = (p.total - p.read) / rate if p.total and rate > 0 else None
        bar.show(p.read, p.total, rate, left)
        words.update(p)

    try:
        with backend, sync_lock(path):
            with bar:
                with common.fewer_collections():
                    result = asyncio.run(_sync(backend, conn, scope, checked.parallel, args.prune, progress))
    except SyncBusy as e:
        return fail(str(e), EXIT_FAILED)
    except KeyboardInterrupt:
        return fail(f"interrupted; what was read is kept in {path}: run `tasktui sync` again to continue",
                    EXIT_INTERRUPTED)
    except Exception as e:
        from tasktui.cli.export import _api_exit_code

        code = _api_exit_code(e)
        if code is None:
            raise
        text = str(e).rstrip()
        return fail(f"{text if text.endswith('.') else text + '.'} What was read is kept in {path}: "
                    "run `tasktui sync` again to continue.", code if code != EXIT_AUTH else EXIT_AUTH)
    finally:
        conn.close()
    if not quiet:
        from tasktui.index.db import disk_use

        parts = []
        if result.first:
            extra = f", continuing from {result.resumed:,}" if result.resumed else ""
            parts.append(f"{result.initial:,} tasks read{extra}")
        if result.delta or not result.first:
            parts.append(f"{result.delta:,} changed since the last sync")
        if result.pruned:
            parts.append(f"{result.pruned:,} outside the scope deleted")
        print(f"{PROG}: {'; '.join(parts)}. The index holds {result.tasks:,} tasks ({scope.describe()}; "
              f"{_size(disk_use(path))}) in {path}; {result.elapsed:.1f} s.", file=sys.stderr)
    return EXIT_OK


async def _sync(backend, conn, scope, parallel, prune, progress):
    from tasktui.api import TaskClient
    from tasktui.api.throttle import BULK_READ_PARALLEL
    from tasktui.config import public_url
    from tasktui.index.sync import sync_index

    # a bulk read, as an export's: 16 chains unless told otherwise (they pay with pages of
    # 100, each a round trip; pages of 1,000 from the bundled server take two at most)
    chains = parallel or BULK_READ_PARALLEL
    origin = "local sandbox" if backend.is_sandbox else (public_url(backend.url) or "")
    async with TaskClient(backend.url, backend.api_key, parallel=chains, max_connections=max(16, chains)) as client:
        return await sync_index(client, conn, scope, origin=origin, prune=prune, on_progress=progress)
