"""``tasktui serve``: run the bundled Scale-compatible server in the foreground.

The database defaults to ``server.db`` in the data directory, with the same rules as the
sandbox's (``$TASKTUI_DATA_DIR``, else the user data directory; see :mod:`tasktui.locations`).

Keys come from ``--api-key`` (visible in the process list), ``$TASKTUI_SERVE_KEYS``
(comma-separated) and ``--api-key-file`` (one a line; refused when other users can read
it, like the config file's check); all of them are accepted together.
"""

from __future__ import annotations

import argparse
import ipaddress
import os
import secrets
import stat
import sys
import time
from pathlib import Path
from typing import Mapping

from tasktui.cli.common import EXIT_FAILED, EXIT_OK, EXIT_USAGE, fail
from tasktui.locations import serve_db

PROG = "tasktui serve"
ENV_SERVE_KEYS = "TASKTUI_SERVE_KEYS"

KEYS_HELP = f"""\
API keys:
  Every key given is accepted: --api-key KEY (repeatable; visible to other users in the
  process list), ${ENV_SERVE_KEYS} (comma-separated) and --api-key-file PATH (one key a
  line, # comments; refused when other users can read it: chmod 600 PATH). With none, a
  demo key is generated and printed once.

examples:
  tasktui serve --seed 20000                          # prints a demo key
  {ENV_SERVE_KEYS}=test_mykey tasktui serve --simulate
  tasktui serve --api-key-file keys.txt --port 8788   # keys.txt: one key a line, chmod 600
"""


class KeyFileError(Exception):
    """The key file cannot be used; ``str()`` says why (never a key)."""


def _positive_int(text: str) -> int:
    try:
        v = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if v < 0:
        raise argparse.ArgumentTypeError(f"{text!r} must be 0 or more")
    return v


def _public_url(text: str) -> str:
    """An origin (``http://host[:port]``, no path) for ``--public-url``."""
    from urllib.parse import urlsplit

    parts = urlsplit(text.strip())
    if parts.scheme not in ("http", "https") or not parts.hostname or parts.path not in ("", "/") \
            or parts.query or parts.username or parts.password:
        raise argparse.ArgumentTypeError("give an origin such as http://labeling-box:8787 (no path, no user)")
    return f"{parts.scheme}://{parts.netloc}"


def _port(text: str) -> int:
    v = _positive_int(text)
    if v > 65535:
        raise argparse.ArgumentTypeError(f"{text!r} is not a TCP port (0-65535)")
    return v


def _nonneg_float(text: str) -> float:
    try:
        v = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
    if v < 0 or v != v:
        raise argparse.ArgumentTypeError(f"{text!r} must be 0 or more")
    return v


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.formatter_class = argparse.RawDescriptionHelpFormatter
    p.epilog = KEYS_HELP
    p.add_argument("--host", default="127.0.0.1",
                   help="address to listen on (default 127.0.0.1; anything not loopback needs --allow-remote)")
    p.add_argument("--port", type=_port, default=8787, help="TCP port (default 8787; 0 picks a free one)")
    p.add_argument("--db", type=Path, default=None,
                   help=f"SQLite database file (default {serve_db()}; $TASKTUI_DATA_DIR moves it)")
    p.add_argument("--seed", type=_positive_int, default=0, metavar="N",
                   help="add N deterministic demo tasks, only if the database is empty")
    p.add_argument("--seed-value", type=int, default=1, metavar="S", help="random seed of the demo data (default 1)")
    p.add_argument("--api-key", action="append", default=[], metavar="KEY",
                   help="accept this API key (repeatable; visible in the process list: prefer "
                        f"${ENV_SERVE_KEYS} or --api-key-file); with no key at all a demo key is "
                        "generated and printed")
    p.add_argument("--api-key-file", type=Path, default=None, metavar="PATH",
                   help="accept the keys in PATH, one a line (# comments); the file must not be "
                        "readable by other users")
    p.add_argument("--simulate", action="store_true",
                   help="run a simulated workforce that moves tasks along (Queued -> In Progress -> Completed ...)")
    p.add_argument("--simulate-interval", type=_nonneg_float, default=2.0, metavar="SECONDS",
                   help="seconds between workforce steps (default 2)")
    p.add_argument("--simulate-batch", type=_positive_int, default=3, metavar="N",
                   help="tasks moved per step and transition (default 3)")
    p.add_argument("--rate-limit", type=_nonneg_float, default=0.0, metavar="PER_SECOND",
                   help="requests per second allowed per API key; over it answers 429 with Retry-After (default 0 = off)")
    p.add_argument("--max-body", type=_positive_int, default=1_048_576, metavar="BYTES",
                   help="largest request body accepted; bigger ones get 413 (default 1 MiB)")
    p.add_argument("--callback-attempts", type=_positive_int, default=6, metavar="N",
                   help="deliveries tried per callback before giving up (default 6)")
    p.add_argument("--callback-backoff", type=_nonneg_float, default=1.0, metavar="SECONDS",
                   help="first retry delay of a failed callback, doubled each time (default 1)")
    p.add_argument("--callback-auth", default="", metavar="SECRET",
                   help="value of the scale-callback-auth header sent with callbacks (default: random per run)")
    p.add_argument("--allow-remote", action="store_true",
                   help="allow --host to be an address other machines can reach (the API has no TLS)")
    p.add_argument("--public-url", type=_public_url, default=None, metavar="URL",
                   help="the origin other machines reach this server by (http://host:port), used in "
                        "attachment URLs and redirects; default: the address it listens on "
                        "(127.0.0.1 when it listens on every interface)")


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def read_key_file(path: Path) -> list[str]:
    """The keys in ``path``, one a line (blank lines and ``#`` comments skipped). Raises
    KeyFileError when it cannot be read, holds no key, or other users can read it."""
    try:
        mode = path.stat().st_mode
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as e:
        why = e.strerror if isinstance(e, OSError) and e.strerror else "not UTF-8 text"
        raise KeyFileError(f"cannot read the key file {path}: {why}") from None
    if os.name == "posix" and mode & (stat.S_IRGRP | stat.S_IROTH):
        raise KeyFileError(f"other users can read the key file {path} (mode {stat.S_IMODE(mode):o}); "
                           f"run: chmod 600 {path}")
    keys = [ln.strip() for ln in text.splitlines() if ln.strip() and not ln.strip().startswith("#")]
    if not keys:
        raise KeyFileError(f"the key file {path} holds no key (one a line; # starts a comment)")
    return keys


def gather_keys(args: argparse.Namespace, env: Mapping[str, str]) -> tuple[list[str], list[str]]:
    """The keys to accept and, for the start-up line, where they came from (counts, never
    keys). Raises KeyFileError."""
    keys: list[str] = []
    origins: list[str] = []

    def add(found: list[str], where: str) -> None:
        if found:
            keys.extend(k for k in found if k not in keys)
            origins.append(f"{len(found)} API key{'s' if len(found) != 1 else ''} from {where}")

    add([k for k in args.api_key if k.strip()], "--api-key")
    add([k.strip() for k in env.get(ENV_SERVE_KEYS, "").split(",") if k.strip()], f"${ENV_SERVE_KEYS}")
    if args.api_key_file is not None:
        add(read_key_file(Path(args.api_key_file).expanduser()), str(args.api_key_file))
    return keys, origins


def run(args: argparse.Namespace) -> int:
    from tasktui.server import db as dbm
    from tasktui.server.runner import bind_socket, create_app, make_options, uvicorn_config
    from tasktui.server.seed import seed_database

    if not is_loopback(args.host) and not args.allow_remote:
        return fail(PROG, f"refusing to listen on {args.host}: other machines could reach this server, "
                    "which has no TLS. Pass --allow-remote if that is what you want.", EXIT_USAGE)
    try:
        keys, key_origins = gather_keys(args, os.environ)
    except KeyFileError as e:
        return fail(PROG, str(e), EXIT_USAGE)
    db_path: Path = args.db or serve_db()
    try:
        db_path.parent.mkdir(parents=True, exist_ok=True)
        conn = dbm.connect(db_path)
        dbm.init_schema(conn)
        existing = dbm.task_count(conn)
        conn.close()
    except Exception as e:  # sqlite3.DatabaseError, OSError
        return fail(PROG, f"cannot open the database {db_path}: {e}", EXIT_FAILED)
    if args.seed:
        if existing:
            print(f"Not seeding: {db_path} already holds {existing:,} tasks (--seed only fills an empty database).")
        else:
            print(f"Seeding {args.seed:,} demo tasks into {db_path} ...", flush=True)
            t = time.perf_counter()
            n = seed_database(db_path, args.seed, seed=args.seed_value)
            print(f"Seeded {n:,} demo tasks into {db_path} in {time.perf_counter() - t:.1f} s.")
    if not keys:
        keys = ["test_" + secrets.token_urlsafe(18)]
        print(f"No API key given; generated a demo key for this run: {keys[0]}")
    else:
        print(f"Accepting {', '.join(key_origins)}.")
    try:
        options = make_options(
            args.simulate, simulate_interval=args.simulate_interval, simulate_batch=args.simulate_batch,
            rate_limit=args.rate_limit, max_body=args.max_body, callback_attempts=max(1, args.callback_attempts),
            callback_backoff=args.callback_backoff, callback_auth=args.callback_auth)
        app, state = create_app(db_path, keys, options)
        sock = bind_socket(args.host, args.port)
    except OSError as e:
        return fail(PROG, f"cannot listen on {args.host}:{args.port}: {e.strerror or e}", EXIT_FAILED)
    port = sock.getsockname()[1]
    host = args.host if ":" not in args.host else f"[{args.host}]"
    bound = f"http://{host}:{port}"
    everywhere = args.host in ("0.0.0.0", "::")
    local = f"http://{'[::1]' if args.host == '::' else '127.0.0.1'}:{port}"
    state.origin = args.public_url or (local if everywhere else bound)
    if not is_loopback(args.host):
        print(f"{PROG}: warning: listening on {host}"
              f"{' (every network interface)' if everywhere else ''}: other machines can reach this "
              "server, and it has no TLS: API keys and task data cross the network in clear text.",
              file=sys.stderr, flush=True)
    where = f"{bound}/v1 (from this machine: {local}/v1; " if everywhere else f"{bound}/v1 ("
    print(f"Serving the Scale-compatible API at {where}database {db_path}"
          f"{', simulated workforce on' if args.simulate else ''}). Ctrl+C stops.", flush=True)
    import uvicorn

    server = uvicorn.Server(uvicorn_config(app))  # the same settings as every other server run
    server.run(sockets=[sock])
    return EXIT_OK
