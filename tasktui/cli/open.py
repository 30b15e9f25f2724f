"""``tasktui open FILE``: browse a previous export (JSON array or NDJSON written by
``tasktui export``) read-only in the console, every filter working with exact totals.

The file is loaded into a temporary index (``tasktui.index.load``; removed on exit) and
the console reads it through the same in-process reader as ``--offline``: no API, no key,
no request leaves the process. A file that is not an export is refused in words (exit 2)
before the terminal is touched.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from tasktui.cli.common import EXIT_FAILED, EXIT_USAGE, _zone, add_config_argument, fail, settings_from_args
from tasktui.config import ConfigError

PROG = "tasktui open"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("file", metavar="FILE", type=Path,
                        help="an export written by `tasktui export` (JSON array or NDJSON)")
    add_config_argument(parser)
    parser.add_argument("--zone", "--tz", dest="zone", metavar="ZONE", type=_zone,
                        help="time zone for dates: utc, pacific or local (default: config file, else utc)")


def run(args: argparse.Namespace) -> int:
    import asyncio
    import dataclasses
    import sys

    from tasktui.cli.tui import run_console_on_index
    from tasktui.domain.text import clean_for_error
    from tasktui.index.load import LoadError, load_export
    from tasktui.index.reader import IndexReader

    try:
        settings = settings_from_args(args)
    except ConfigError as e:
        return fail(PROG, str(e), EXIT_USAGE)
    # a file does not change while it is open: no live refresh ("● live 15s" would promise one)
    settings = dataclasses.replace(settings, refresh_interval=0)
    try:
        loaded = load_export(args.file)
    except LoadError as e:
        return fail(PROG, str(e), EXIT_USAGE)
    except OSError as e:
        return fail(PROG, f"cannot load {args.file}: {e.strerror or e}", EXIT_FAILED)
    try:
        if not sys.stdout.isatty() or not sys.stdin.isatty():
            return fail(PROG, f"{args.file} holds {loaded.tasks:,} tasks, but the console needs a terminal; "
                              "an export is JSON already: read it with jq or a script", EXIT_USAGE)
        # the header reads "⊘ opened export · NAME │ … │ Showing 100 of N" (the count is there)
        reader = IndexReader(loaded.path, label=clean_for_error(args.file.name, 60))
        try:
            return run_console_on_index(settings, reader, kind="file",
                                        label="opened export",
                                        read_only_why="file")
        finally:
            asyncio.run(reader.aclose())
    finally:
        loaded.remove()
