"""``tasktui`` / ``tasktui tui``: open the console.

Reads the settings (flags > environment > config file > defaults), opens the backend
(the configured API, or the embedded sandbox server when no API key is set) and runs the
app. Textual and the server are imported only here, inside :func:`run`, so that
``tasktui --help`` and the headless commands stay fast.
"""

from __future__ import annotations

import argparse
import sys

from tasktui.config import ConfigError
from tasktui.connect import BackendError, add_connection_arguments, settings_from_args, stderr_progress


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_connection_arguments(parser)
    g = parser.add_argument_group("console")
    g.add_argument("--read-only", action="store_true",
                   help="hide and refuse every action that changes a task")
    g.add_argument("--zone", "--tz", dest="zone", metavar="ZONE",
                   help="time zone for dates: utc, pacific or local (default: config file, else utc)")
    g.add_argument("--refresh", dest="refresh", metavar="SECONDS", type=float,
                   help="live refresh interval in seconds, 0 = off (default: config file, else 15)")
    g.add_argument("--view", metavar="NAME", help="open with a saved filter view from the config file")


def run(args: argparse.Namespace) -> int:
    try:
        settings = settings_from_args(args)
        if getattr(args, "zone", None):
            from tasktui.domain import parse_zone

            try:
                settings.zone = parse_zone(args.zone)
            except ValueError as e:
                raise ConfigError(f"--zone: {e}") from None
        if getattr(args, "refresh", None) is not None:
            if args.refresh < 0 or 0 < args.refresh < 1:
                raise ConfigError("--refresh must be 0 (off) or at least 1 second")
            settings.refresh_interval = float(args.refresh)
        view = getattr(args, "view", None)
        if view and view not in settings.views:
            known = ", ".join(repr(v) for v in settings.views) or "none are defined"
            raise ConfigError(f"--view: no saved view named {view!r} in the config file ({known})")
    except ConfigError as e:
        print(f"tasktui: {e}", file=sys.stderr)
        return 2
    for w in settings.warnings:
        print(f"tasktui: warning: {w}", file=sys.stderr)
    if not sys.stdout.isatty() or not sys.stdin.isatty():
        print("tasktui: the console needs a terminal; for scripts use `tasktui export` or `tasktui get`",
              file=sys.stderr)
        return 2
    try:
        backend = _open_backend(settings)
    except BackendError as e:
        print(f"tasktui: {e}", file=sys.stderr)
        return 1
    try:
        from tasktui.ui.app import TaskTuiApp

        app = TaskTuiApp(settings, backend, initial_view=view)
        app.run()
        return int(app.return_code or 0)
    finally:
        backend.close()


def _open_backend(settings):
    from tasktui.connect import open_backend

    return open_backend(settings, progress=stderr_progress)
