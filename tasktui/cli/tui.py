"""``tasktui`` / ``tasktui tui``: open the console.

Reads the settings (flags > environment > config file > defaults), opens the backend
(the configured API, or the embedded sandbox server when no server is named and no key is
set; a server named without a key is exit 3, before the terminal is touched) and runs the
app. Textual and the server are imported only here, inside :func:`run`, so that
``tasktui --help`` and the headless commands stay fast.
"""

from __future__ import annotations

import argparse
import sys
import threading

from tasktui.cli.common import (
    EXIT_AUTH,
    EXIT_FAILED,
    EXIT_USAGE,
    add_connection_arguments,
    add_console_arguments,
    fail,
    settings_from_args,
    stderr_progress,
)
from tasktui.config import ConfigError

PROG = "tasktui"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_connection_arguments(parser)
    add_console_arguments(parser)
    parser.add_argument("--view", metavar="NAME", help="open with a saved filter view from the config file")
    parser.add_argument("--offline", action="store_true",
                        help="browse the local index (made by `tasktui sync`; --api-url chooses which) "
                             "with no request to the API: every filter and exact totals, no actions")


def run(args: argparse.Namespace) -> int:
    from tasktui.backend import BackendError, MissingKeyError, check_settings, open_backend

    if getattr(args, "offline", False):
        return _run_offline(args)
    try:
        settings = settings_from_args(args)
        check_settings(settings)  # before the terminal check: a script is told too
    except ConfigError as e:
        return fail(PROG, str(e), EXIT_USAGE)
    except MissingKeyError as e:
        return fail(PROG, str(e), EXIT_AUTH)
    view = args.view
    if view and view not in settings.views:
        known = ", ".join(repr(v) for v in settings.views) or "none are defined"
        return fail(PROG, f"--view: no saved view named {view!r} in the config file ({known})", EXIT_USAGE)
    for w in settings.warnings:
        print(f"tasktui: warning: {w}", file=sys.stderr)
    if not sys.stdout.isatty() or not sys.stdin.isatty():
        return fail(PROG, "the console needs a terminal; for scripts use `tasktui export` or `tasktui get`",
                    EXIT_USAGE)

    # The previews need to know what the terminal can draw (Sixel, Kitty graphics), which
    # can only be asked before Textual takes over the terminal. One round trip (see
    # tasktui.ui.graphics): it runs in a thread while the backend opens and the app's
    # modules import, and is joined before App.run.
    probe = threading.Thread(target=_probe_terminal_graphics, name="graphics-probe", daemon=True)
    probe.start()
    try:
        backend = open_backend(settings, progress=stderr_progress)
    except BackendError as e:
        probe.join()
        return fail(PROG, str(e), EXIT_FAILED)
    try:
        from tasktui.ui.app import TaskTuiApp
        from tasktui.ui.last_view import default_path

        app = TaskTuiApp(settings, backend, initial_view=view, last_view_path=default_path(),
                         index=_local_index(settings, backend))
        probe.join()
        app.run()
        return int(app.return_code or 0)
    finally:
        backend.close()


def _local_index(settings, backend):
    """The reader of this API's local index when one exists (``tasktui sync`` made it), so
    the console answers the views it covers from disk; None otherwise."""
    from tasktui.index.db import index_path_for
    from tasktui.index.reader import IndexMissingError, IndexReader

    try:
        return IndexReader.for_index(index_path_for(settings))
    except (IndexMissingError, ValueError, OSError):
        return None


def run_console_on_index(settings, reader, *, kind: str, label: str, view: str | None = None,
                         read_only_why: str) -> int:
    """The console over ``reader`` alone (``--offline``, ``tasktui open``): no API client,
    no backend started, every action refused with ``read_only_why``'s sentence."""
    from tasktui.backend import Backend

    if not sys.stdout.isatty() or not sys.stdin.isatty():
        return fail(PROG, "the console needs a terminal; for scripts use `tasktui export --offline` or "
                          "`tasktui get --offline`", EXIT_USAGE)
    probe = threading.Thread(target=_probe_terminal_graphics, name="graphics-probe", daemon=True)
    probe.start()
    from tasktui.ui.app import TaskTuiApp

    backend = Backend(url=f"{reader.origin}/v1", api_key="", kind=kind, label=label)
    app = TaskTuiApp(settings, backend, initial_view=view, index=reader, offline=True,
                     read_only_why=read_only_why)
    probe.join()
    app.run()
    return int(app.return_code or 0)


def _run_offline(args: argparse.Namespace) -> int:
    """``tasktui --offline``: the console on the local index; no request to the API (no key
    needed: the index holds none)."""
    from tasktui.backend import remote_label
    from tasktui.index.db import SANDBOX_ORIGIN, index_origin, index_path_for
    from tasktui.index.reader import IndexMissingError, IndexReader

    try:
        settings = settings_from_args(args)
    except ConfigError as e:
        return fail(PROG, str(e), EXIT_USAGE)
    if args.view and args.view not in settings.views:
        known = ", ".join(repr(v) for v in settings.views) or "none are defined"
        return fail(PROG, f"--view: no saved view named {args.view!r} in the config file ({known})", EXIT_USAGE)
    origin = index_origin(settings)
    path = index_path_for(settings)
    try:
        reader = IndexReader.for_index(path)
    except IndexMissingError as e:
        return fail(PROG, f"--offline: {e}", EXIT_FAILED)
    except ValueError as e:
        return fail(PROG, f"--offline: {e}; run `tasktui sync` to rebuild it", EXIT_FAILED)
    where = "local sandbox" if origin == SANDBOX_ORIGIN else remote_label(origin)
    return run_console_on_index(settings, reader, kind="offline", label=f"offline · {where}",
                                view=args.view, read_only_why="offline")


def _probe_terminal_graphics() -> None:
    from tasktui.ui.graphics import probe_terminal

    probe_terminal()
