"""``tasktui serve``: run the bundled Scale-compatible server in the foreground.

The database defaults to ``server.db`` in the data directory, with the same rules as the
sandbox's (``$TASKTUI_DATA_DIR``, else the user data directory; see :mod:`tasktui.locations`).
"""

from __future__ import annotations

import argparse
import ipaddress
import secrets
import time
from pathlib import Path

from tasktui.cli.common import EXIT_FAILED, EXIT_OK, EXIT_USAGE, fail
from tasktui.locations import serve_db

PROG = "tasktui serve"


def _positive_int(text: str) -> int:
    try:
        v = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if v < 0:
        raise argparse.ArgumentTypeError(f"{text!r} must be 0 or more")
    return v


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
    p.add_argument("--host", default="127.0.0.1",
                   help="address to listen on (default 127.0.0.1; anything not loopback needs --allow-remote)")
    p.add_argument("--port", type=_port, default=8787, help="TCP port (default 8787; 0 picks a free one)")
    p.add_argument("--db", type=Path, default=None,
                   help=f"SQLite database file (default {serve_db()}; $TASKTUI_DATA_DIR moves it)")
    p.add_argument("--seed", type=_positive_int, default=0, metavar="N",
                   help="add N deterministic demo tasks, only if the database is empty")
    p.add_argument("--seed-value", type=int, default=1, metavar="S", help="random seed of the demo data (default 1)")
    p.add_argument("--api-key", action="append", default=[], metavar="KEY",
                   help="accept this API key (repeatable); when none is given a demo key is generated and printed")
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


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def run(args: argparse.Namespace) -> int:
    import uvicorn

    from tasktui.server import db as dbm
    from tasktui.server.runner import bind_socket, create_app, make_options
    from tasktui.server.seed import seed_database

    if not is_loopback(args.host) and not args.allow_remote:
        return fail(PROG, f"refusing to listen on {args.host}: other machines could reach this server, "
                    "which has no TLS. Pass --allow-remote if that is what you want.", EXIT_USAGE)
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
    keys = list(args.api_key)
    if not keys:
        keys = ["test_" + secrets.token_urlsafe(18)]
        print(f"No --api-key given; generated a demo key for this run: {keys[0]}")
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
    state.origin = f"http://{'127.0.0.1' if args.host == '0.0.0.0' else host}:{port}"
    print(f"Serving the Scale-compatible API at {state.origin}/v1 (database {db_path}"
          f"{', simulated workforce on' if args.simulate else ''}). Ctrl+C stops.", flush=True)
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", access_log=False, lifespan="on",
                                          timeout_graceful_shutdown=3, timeout_keep_alive=30))
    server.run(sockets=[sock])
    return EXIT_OK
