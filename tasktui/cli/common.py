"""What every subcommand shares: exit codes, the argparse error style, and the flags that
become :class:`~tasktui.config.Settings` or :class:`~tasktui.domain.filters.Filters`.

Precedence is defaults < config file < environment < flags. The first three are
:func:`tasktui.config.load_settings`; :func:`settings_from_args` reads them and applies
every flag, so a flag means the same in every command. :func:`filters_from_args` turns the
filter flags into Filters (dates stay as typed).

Imported only once a subcommand is chosen; no Textual.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import sys
from pathlib import Path
from typing import Iterator, Mapping

from tasktui.config import ENV_API_KEY, ConfigError, Settings, check_parallel, check_url, load_settings
from tasktui.domain import Zone, parse_zone
from tasktui.domain.filters import FilterError, Filters

# Exit codes a script can rely on (also in --help and the README).
EXIT_OK = 0
EXIT_FAILED = 1  # API / network / disk error; a file export keeps its partial + checkpoint
EXIT_USAGE = 2  # bad flag or value, unusable output path, resume refused
EXIT_AUTH = 3  # the server refused the API key, or a server is named without one
EXIT_NOT_FOUND = 4  # (tasktui get) no task with that id
EXIT_INTERRUPTED = 130  # Ctrl-C; a file export keeps its partial + checkpoint
EXIT_BROKEN_PIPE = 141  # the reader of standard output went away (e.g. `| head`)


def fail(prog: str, message: str, code: int) -> int:
    """Print ``prog: message`` on standard error and return ``code``."""
    print(f"{prog}: {message}", file=sys.stderr, flush=True)
    return code


@contextlib.contextmanager
def fewer_collections() -> Iterator[None]:
    """Around a command that reads many tasks (export, sync). Each page allocates tens
    of thousands of dicts and lists, freed by reference counting (task documents hold no
    cycles). With the default thresholds the cyclic collector runs every 700 allocations
    and its full passes walk every module object imported so far: a tenth to a sixth of
    an export's CPU, imports included (sync of 10,000 tasks: 2.14 s -> 1.96 s, median
    of 6 interleaved). Freeze what is loaded (never collected) and collect 30 times less
    often: memory stays flat (the little cyclic garbage a page leaves is still
    collected, every 20,000 allocations; an export of 50,000 tasks: 93 MiB peak against
    76 at the default thresholds, 136 at 100,000; thresholds of 100,000 doubled the
    peak). The thresholds are restored afterwards (tests run commands in-process)."""
    import gc

    before = gc.get_threshold()
    gc.freeze()
    gc.set_threshold(20_000, 10, 10)
    try:
        yield
    finally:
        gc.set_threshold(*before)
        gc.unfreeze()


def stderr_progress(message: str) -> None:
    """Progress of a slow start (seeding the sandbox) on standard error."""
    print(f"tasktui: {message}", file=sys.stderr, flush=True)


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


# --------------------------------------------------------------------------- flag values
def _zone(text: str) -> Zone:
    try:
        return parse_zone(text)
    except ValueError as e:
        raise argparse.ArgumentTypeError(str(e)) from None


def _refresh(text: str) -> float:
    try:
        v = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number of seconds") from None
    if v < 0 or 0 < v < 1 or v != v:
        raise argparse.ArgumentTypeError("must be 0 (off) or at least 1 second")
    return v


def _parallel(text: str) -> int:

    try:
        return check_parallel(int(text) if text.strip().isdigit() else text, "--parallel")
    except ConfigError as e:
        raise argparse.ArgumentTypeError(str(e).removeprefix("--parallel ")) from None


# --------------------------------------------------------------------------- flag groups
def add_connection_arguments(parser: argparse.ArgumentParser) -> None:
    """Flags shared by every command that talks to a task service."""
    g = parser.add_argument_group("connection")
    g.add_argument("--api-url", metavar="URL",
                   help="Scale API base URL (default: config file, $TASKTUI_API_URL, "
                        "or https://api.scale.com/v1)")
    g.add_argument("--api-key", metavar="KEY",
                   help=f"API key (prefer ${ENV_API_KEY} or the config file: a flag is visible "
                        "to other users in the process list); with no key and no server named, the "
                        "embedded sandbox is used; a server named without a key is refused (exit 3)")
    add_config_argument(g)
    g.add_argument("--sandbox", action="store_true",
                   help="use the embedded sandbox server even if an API key is configured")
    g.add_argument("--sandbox-db", metavar="PATH", type=Path,
                   help="SQLite database of the embedded sandbox (default: in the user data directory)")
    g.add_argument("--parallel", metavar="N", type=_parallel,
                   help="page chains a long listing is read by at once (default: config file, else 8, "
                        "and 16 for an export; the API's 429 answers lower it on their own)")
    g.add_argument("--no-simulate", dest="simulate", action="store_false", default=None,
                   help="the sandbox leaves tasks as they are (by default it moves them along: "
                        "queued -> in progress -> completed)")


def add_config_argument(parser: argparse.ArgumentParser | argparse._ArgumentGroup) -> None:
    parser.add_argument("--config", metavar="PATH", type=Path,
                        help="config file to read (default: $TASKTUI_CONFIG or `tasktui config path`)")


def add_console_arguments(parser: argparse.ArgumentParser) -> None:
    """Flags of the console (``tasktui tui``)."""
    g = parser.add_argument_group("console")
    g.add_argument("--read-only", action="store_true",
                   help="hide and refuse every action that changes a task")
    g.add_argument("--zone", "--tz", dest="zone", metavar="ZONE", type=_zone,
                   help="time zone for dates: utc, pacific or local (default: config file, else utc)")
    g.add_argument("--refresh", dest="refresh", metavar="SECONDS", type=_refresh,
                   help="live refresh interval in seconds, 0 = off (default: config file, else 15)")


def join_dash_values(argv: list[str]) -> list[str]:
    """``--from -7d`` as ``--from=-7d``: argparse takes a value that starts with a dash for
    an option of its own, so a relative date after ``--from`` / ``--to`` is joined to it."""
    out: list[str] = []
    it = iter(argv)
    for a in it:
        if a in ("--from", "--to"):
            value = next(it, None)
            if value is not None and value.startswith("-") and value[1:2].isdigit():
                out.append(f"{a}={value}")
                continue
            out.append(a)
            if value is not None:
                out.append(value)
            continue
        out.append(a)
    return out


#: filter flag of each Filters key
FILTER_FLAGS = {
    "status": "--status", "audit": "--audit", "project": "--project", "batch": "--batch",
    "type": "--type", "tag": "--tag", "from": "--from", "to": "--to",
    "date_field": "--date-field", "search": "--search", "order": "--order",
}


def add_filter_arguments(parser: argparse.ArgumentParser) -> None:
    """The filters, as in the app's sidebar; ``--tz`` says in which zone dates are typed."""
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
    g.add_argument("--tz", dest="zone", default=None, metavar="ZONE", type=_zone,
                   help="time zone of --from/--to: utc, pacific or local (default: config, else utc)")
    g.add_argument("--date-field", default="", metavar="FIELD",
                   help="which date --from/--to apply to: created (default) or completed")
    g.add_argument("--search", default="", metavar="TEXT",
                   help="task id or unique id starting with TEXT")
    g.add_argument("--order", default="", metavar="ORDER",
                   help="newest (default) or oldest first (also: new/old, desc/asc)")


# --------------------------------------------------------------------------- flags -> values
def settings_from_args(args: argparse.Namespace, env: Mapping[str, str] | None = None) -> Settings:
    """Settings from defaults < config file < environment < flags: the one place where a
    flag changes a setting. Flags a command does not offer are simply absent from ``args``.
    Raises ConfigError."""
    flags = vars(args)
    env = os.environ if env is None else env
    s = load_settings(flags.get("config"), env)
    if flags.get("api_url"):
        s.api_url = check_url(flags["api_url"], "--api-url")
        s.sources["api_url"] = "flag --api-url"
    key = flags.get("api_key")
    if key is not None:
        if not key.strip():
            raise ConfigError("--api-key is empty")
        s.api_key = key.strip()
        s.sources["api_key"] = "flag --api-key"
    if flags.get("sandbox"):
        s.force_sandbox = True
    if flags.get("sandbox_db") is not None:
        s.sandbox_db = Path(flags["sandbox_db"]).expanduser()
        s.sources["sandbox_db"] = "flag --sandbox-db"
    if flags.get("simulate") is not None:
        s.simulate = bool(flags["simulate"])
        s.sources["simulate"] = "flag --no-simulate"
    if flags.get("read_only"):
        s.read_only = True
        s.sources["read_only"] = "flag --read-only"
    if flags.get("zone") is not None:
        s.zone = flags["zone"]
        s.sources["zone"] = "flag --zone"
    if flags.get("refresh") is not None:
        s.refresh_interval = float(flags["refresh"])
        s.sources["refresh_interval"] = "flag --refresh"
    if flags.get("parallel") is not None:
        s.parallel = flags["parallel"]
        s.sources["parallel"] = "flag --parallel"
    return s


def checked_settings(args: argparse.Namespace, prog: str) -> Settings | int:
    """The settings every flag and file give, checked before anything is opened: a bad
    value is exit 2, a server named without a key exit 3 (the message printed). Returns
    the settings, or the exit code to return."""
    from tasktui.backend import MissingKeyError, check_settings

    try:
        settings = settings_from_args(args)
        check_settings(settings)
    except ConfigError as e:
        return fail(prog, str(e), EXIT_USAGE)
    except MissingKeyError as e:
        return fail(prog, str(e), EXIT_AUTH)
    return settings


def _split(values: list[str], *, commas: bool) -> list[str]:
    out: list[str] = []
    for v in values:
        out.extend(p.strip() for p in (v.split(",") if commas else [v]) if p.strip())
    return out


def filters_from_args(args: argparse.Namespace) -> Filters:
    """The filter flags as Filters (dates as typed). Raises ValueError naming the flag."""
    mapping = {
        "status": _split(args.status, commas=True),
        "audit": _split(args.audit, commas=True),
        "project": _split(args.project, commas=False),
        "batch": _split(args.batch, commas=False),
        "type": _split(args.type, commas=True),
        "tag": _split(args.tag, commas=False),
        "from": args.date_from or "",
        "to": args.date_to or "",
        "date_field": args.date_field or "",
        "search": args.search or "",
        "order": args.order or "",
    }
    try:
        return Filters.parse(mapping)
    except FilterError as e:
        flag = FILTER_FLAGS.get(e.key or "", "filters")
        raise ValueError(f"{flag}: {e.detail}") from None
