"""Command line entry point: ``tasktui [tui|serve|export|get|sync|config|open] ...``.

Each subcommand is a module of this package with ``add_arguments(parser)`` and
``run(args) -> int``. Only the chosen one is imported (``importlib``, from the table
below), and heavy imports (Textual, the server, httpx) happen inside its ``run``: so
``tasktui --help`` and the headless commands start fast and never load Textual
(``tests/cli/test_import_hygiene.py`` proves it).
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys

from tasktui import __version__

#: name -> (module, one-line help)
SUBCOMMANDS: dict[str, tuple[str, str]] = {
    "tui": ("tasktui.cli.tui", "open the console (the default when no subcommand is given)"),
    "serve": ("tasktui.cli.serve", "run the bundled Scale-compatible task server"),
    "export": ("tasktui.cli.export", "export every task matching filters as JSON or NDJSON"),
    "get": ("tasktui.cli.get", "print one task's JSON"),
    "sync": ("tasktui.cli.sync", "fill the local task index from the API, or show its --status"),
    "config": ("tasktui.cli.config", "show where the config file is, or print it"),
    "open": ("tasktui.cli.open", "browse a previous export read-only in the console"),
}


def build_parser(only: str | None = None) -> argparse.ArgumentParser:
    """The full parser, or (``only``: a name, or "" for none) one whose other subcommands
    are listed but not loaded, so that ``tasktui`` does not import the server or the
    exporter to start."""
    parser = argparse.ArgumentParser(
        prog="tasktui",
        description="A keyboard-driven terminal console for a Scale-style labeling task queue.",
    )
    parser.add_argument("--version", action="version", version=f"tasktui {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name, (module, help_text) in SUBCOMMANDS.items():
        p = sub.add_parser(name, help=help_text, description=help_text)
        if only is None or name == only:
            from tasktui.cli.common import one_line_errors  # loaded with the subcommand, not before

            mod = importlib.import_module(module)
            mod.add_arguments(p)
            one_line_errors(p, f"tasktui {name}")
            p.set_defaults(command_module=mod)
    return parser


def _skip_httpx_cli() -> None:
    """httpx imports its own command-line client (``httpx._main``: click, pygments and a
    Rich console) whenever those are installed — and Textual brings Rich. That is most of
    httpx's import time, in the start-up of every command that talks to an API (the
    console, export, sync, get), for a module none of them uses. A ``None`` entry in
    ``sys.modules`` makes that import fail, and httpx falls back to a stub ``httpx.main``
    (its documented behaviour without the ``cli`` extra)."""
    if "httpx" not in sys.modules:
        sys.modules.setdefault("httpx._main", None)  # type: ignore[arg-type]


#: Commands that close everything they opened before they return: their process ends
#: right after (``entry``), without the interpreter's teardown — which frees every
#: object and module one by one (0.1 s after a sync of 10,000 tasks, interleaved runs).
ENDS_AT_ONCE = frozenset({"export", "sync", "get"})


def entry() -> None:
    """The ``tasktui`` command and ``python -m tasktui``: ``main``, then the end of the
    process. After a command of ``ENDS_AT_ONCE`` the standard streams are flushed and the
    ``atexit`` functions run, and the process ends without tearing the interpreter down;
    an error on the way (a closed pipe) takes the ordinary exit, which reports it."""
    argv = sys.argv[1:]
    code = main(argv)
    if argv and argv[0] in ENDS_AT_ONCE:
        try:
            sys.stdout.flush()
            sys.stderr.flush()
        except (OSError, ValueError):
            raise SystemExit(code) from None
        import atexit

        atexit._run_exitfuncs()
        os._exit(code)
    raise SystemExit(code)


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if not argv or (argv[0].startswith("-") and argv[0] not in ("-h", "--help", "--version")):
        argv = ["tui", *argv]
    # load the chosen subcommand only (none for `tasktui --help` or an unknown command)
    parser = build_parser(only=argv[0] if argv[0] in SUBCOMMANDS else "")
    if argv[0] in SUBCOMMANDS:
        from tasktui.cli.common import join_dash_values

        argv = join_dash_values(argv)
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help()
        return 2
    _skip_httpx_cli()  # before the command's run imports httpx
    try:
        return int(args.command_module.run(args) or 0)
    except KeyboardInterrupt:
        return 130
