"""Command line entry point: ``tasktui [tui|serve|export|get|config] ...``.

Each subcommand lives in its own module exposing ``add_arguments(parser)`` and
``run(args) -> int``; heavy imports (Textual, the server) happen inside ``run`` so
that ``tasktui --help`` and the headless commands start fast.
"""

from __future__ import annotations

import argparse
import importlib
import sys

from tasktui import __version__

#: name -> (module, one-line help)
SUBCOMMANDS: dict[str, tuple[str, str]] = {
    "tui": ("tasktui.ui.launch", "open the console (the default when no subcommand is given)"),
    "serve": ("tasktui.server.main", "run the bundled Scale-compatible task server"),
    "export": ("tasktui.export_cli", "export every task matching filters as JSON or NDJSON"),
    "get": ("tasktui.get_cli", "print one task's JSON"),
    "config": ("tasktui.config_cli", "show where the config file is, or print it"),
}


def build_parser(only: str | None = None) -> argparse.ArgumentParser:
    """The full parser, or (``only``) one whose other subcommands are listed but not
    loaded, so that ``tasktui`` does not import the server or the exporter to start."""
    parser = argparse.ArgumentParser(
        prog="tasktui",
        description="A keyboard-driven terminal console for a Scale-style labeling task queue.",
    )
    parser.add_argument("--version", action="version", version=f"tasktui {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name, (module, help_text) in SUBCOMMANDS.items():
        p = sub.add_parser(name, help=help_text, description=help_text)
        if only is None or name == only:
            mod = importlib.import_module(module)
            mod.add_arguments(p)
            p.set_defaults(_module=mod)
    return parser


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if not argv or (argv[0].startswith("-") and argv[0] not in ("-h", "--help", "--version")):
        argv = ["tui", *argv]
    parser = build_parser(only=argv[0] if argv and argv[0] in SUBCOMMANDS else None)
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help()
        return 2
    try:
        return int(args._module.run(args) or 0)
    except KeyboardInterrupt:
        return 130
