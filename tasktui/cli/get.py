"""``tasktui get TASK_ID``: print one task's JSON (exactly the document the server sent),
or write it to a file atomically with ``-o FILE``. No Textual here."""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from tasktui.files import write_atomic
from tasktui.cli import common
from tasktui.cli.common import (
    EXIT_AUTH,
    EXIT_BROKEN_PIPE,
    EXIT_FAILED,
    EXIT_INTERRUPTED,
    EXIT_NOT_FOUND,
    EXIT_OK,
    EXIT_USAGE,
    add_connection_arguments,
    checked_settings,
    stderr_progress,
)

if TYPE_CHECKING:  # loaded in run(): `tasktui get --help` stays light
    from tasktui.backend import Backend
    from tasktui.domain import Task

PROG = "tasktui get"

EXIT_CODES_HELP = """\
exit codes:
  0    the task was printed (or written)
  1    API, network or disk error
  2    bad flag or value
  3    the server refused the API key, or a server is named without one
  4    there is no task with that id (--offline: none in the index)
  130  interrupted (Ctrl-C)

examples:
  tasktui get 6430a6f1c0a1b2c3d4e5f607
  tasktui get 6430a6f1c0a1b2c3d4e5f607 | jq .response
  tasktui get 6430a6f1c0a1b2c3d4e5f607 -o task.json
  tasktui get --offline 6430a6f1c0a1b2c3d4e5f607       # from the local index (tasktui sync)
"""


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.formatter_class = argparse.RawDescriptionHelpFormatter
    parser.epilog = EXIT_CODES_HELP
    parser.add_argument("task_id", metavar="TASK_ID", help="the task's id")
    parser.add_argument("-o", "--output", metavar="FILE", default=None,
                        help="write the JSON to FILE (atomically) instead of standard output")
    parser.add_argument("--compact", action="store_true",
                        help="one line instead of indented JSON")
    parser.add_argument("--force", action="store_true", help="replace FILE if it exists")
    parser.add_argument("--offline", action="store_true",
                        help="read the local index (filled by `tasktui sync`) instead of the API: no "
                             "request leaves this machine; --api-url chooses the index, no key needed")
    add_connection_arguments(parser)


def fail(message: str, code: int) -> int:
    return common.fail(PROG, message, code)


def _encode(doc: Any, compact: bool) -> bytes:
    import json

    import orjson

    from tasktui.export import terminal_safe

    try:
        data = orjson.dumps(doc, option=0 if compact else orjson.OPT_INDENT_2) + b"\n"
    except (orjson.JSONEncodeError, TypeError):
        data = (json.dumps(doc, ensure_ascii=False, indent=None if compact else 2) + "\n").encode()
    return terminal_safe(data)  # task text is data: nothing in it may drive the terminal


def run(args: argparse.Namespace) -> int:
    from tasktui.export import ExportUsageError, validate_output_path

    task_id = (args.task_id or "").strip()
    if not task_id:
        return fail("the task id is empty", EXIT_USAGE)
    if any(c.isspace() or ord(c) < 32 or c == "/" for c in task_id):
        return fail(f"{task_id!r} is not a task id (no spaces, slashes or control characters)",
                    EXIT_USAGE)
    target: Path | None = None
    if args.output and args.output != "-":
        try:
            target = validate_output_path(args.output)
        except ExportUsageError as e:
            return fail(str(e), EXIT_USAGE)
        if target.exists() and not args.force:
            return fail(f"{target} already exists; add --force to replace it", EXIT_USAGE)
    if args.offline:
        found = _from_index(args, task_id)
        if isinstance(found, int):
            return found
        doc = found
    else:
        settings = checked_settings(args, PROG)
        if isinstance(settings, int):
            return settings
        fetched = _from_api(settings, task_id)
        if isinstance(fetched, int):
            return fetched
        doc = fetched.raw
    data = _encode(doc, args.compact)
    if target is not None:
        try:
            write_atomic(target, data, mode=None)
        except OSError as e:
            return fail(f"cannot write {target}: {e.strerror or e}", EXIT_FAILED)
        print(f"{PROG}: wrote {target}", file=sys.stderr)
        return EXIT_OK
    try:
        sys.stdout.buffer.write(data)
        sys.stdout.buffer.flush()
    except BrokenPipeError:
        try:
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, sys.stdout.fileno())
        except OSError:
            pass
        return EXIT_BROKEN_PIPE
    return EXIT_OK


def _from_index(args: argparse.Namespace, task_id: str) -> dict[str, Any] | int:
    """The task's document as the local index holds it, or the exit code (the message
    printed)."""
    import sqlite3

    from tasktui.config import ConfigError
    from tasktui.index.db import IndexMissing, index_path_for, index_status, open_index, synced_ago
    from tasktui.server.db import find_doc

    try:
        path = index_path_for(common.settings_from_args(args))
    except ConfigError as e:
        return fail(str(e), EXIT_USAGE)
    try:
        conn = open_index(path, create=False)
    except IndexMissing as e:
        return fail(str(e), EXIT_FAILED)
    except (OSError, sqlite3.Error) as e:
        return fail(f"the index {path} cannot be read ({e}); run `tasktui sync` to rebuild it", EXIT_FAILED)
    try:
        found = find_doc(conn, task_id)
    finally:
        conn.close()
    if found is None:
        st = index_status(path)
        held = f" (it holds {st.scope}, {synced_ago(st.synced_at)})" if st is not None else ""
        return fail(f"no task with id {task_id!r} in the index {path}{held}", EXIT_NOT_FOUND)
    return found[1]


def _from_api(settings, task_id: str) -> Task | int:
    from tasktui.backend import BackendError, open_backend

    try:
        backend = open_backend(settings, progress=stderr_progress)
    except BackendError as e:
        return fail(str(e), EXIT_FAILED)

    from tasktui.api import ApiError, AuthError, InvalidRequestError, NotFoundError

    try:
        with backend:
            return asyncio.run(_fetch(backend, task_id))
    except KeyboardInterrupt:
        return fail("interrupted", EXIT_INTERRUPTED)
    except NotFoundError:
        return fail(f"no task with id {task_id!r}", EXIT_NOT_FOUND)
    except AuthError as e:
        return fail(str(e), EXIT_AUTH)
    except InvalidRequestError as e:
        return fail(str(e), EXIT_USAGE)
    except ApiError as e:
        return fail(str(e), EXIT_FAILED)


async def _fetch(backend: Backend, task_id: str) -> Task:
    from tasktui.api import TaskClient

    async with TaskClient(backend.url, backend.api_key) as client:
        return await client.get_task(task_id)
