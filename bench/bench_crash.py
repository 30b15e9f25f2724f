"""Crash: SIGKILL the bundled server in the middle of writes, restart it on the same
database, and check that SQLite's integrity check passes and that every write it had
acknowledged with a 200 is there.

    .venv/bin/python bench/bench_crash.py                    # 10 rounds on 100,000 tasks
    .venv/bin/python bench/bench_crash.py --rounds 2 --tasks 2000

Each round: the server (``python -m tasktui serve`` in its own process) takes writes
from several concurrent writers (accept / reject / fix / cancel, each task once, each
writer in its own date window), is killed with SIGKILL at a random moment while
requests are in flight, and is restarted on the same file. After every restart:
``PRAGMA integrity_check`` is ``ok``, every acknowledged write of every round so far is
in the database (read with sqlite3 directly: status, review status, audits, comments,
fixed response and ``prior_responses`` count), the server answers again, and the
``counts`` table behind ``total`` equals a fresh count.

The rounds themselves are ``tasktui.testing.crash.run_crash``; the fast version (small
database, two rounds) runs in ``make test``: ``tests/reliability/test_crash.py``.
"""

from __future__ import annotations

import argparse
import shutil
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench._report import update_reliability  # noqa: E402
from tasktui.testing.crash import run_crash  # noqa: E402
from tasktui.testing.serverproc import checkpoint  # noqa: E402
from tasktui.testing.writes import OPS  # noqa: E402

OUT = Path(__file__).resolve().parent / "out"


def prepare_db(n: int) -> Path:
    OUT.mkdir(parents=True, exist_ok=True)
    seeded = OUT / f"crash-seed-{n}.db"
    if not seeded.exists():
        from tasktui.server import seed_database

        tmp = OUT / f"crash-seed-{n}.tmp.db"
        for p in (tmp, Path(f"{tmp}-wal"), Path(f"{tmp}-shm")):
            p.unlink(missing_ok=True)
        print(f"seeding {n:,} tasks (once) ...", flush=True)
        seed_database(tmp, n, seed=1)
        checkpoint(tmp)
        for p in (Path(f"{tmp}-wal"), Path(f"{tmp}-shm")):
            p.unlink(missing_ok=True)
        tmp.rename(seeded)
    run = OUT / f"crash-run-{n}.db"
    for p in (run, Path(f"{run}-wal"), Path(f"{run}-shm")):
        p.unlink(missing_ok=True)
    shutil.copyfile(seeded, run)
    return run


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--tasks", type=int, default=100_000)
    ap.add_argument("--rounds", type=int, default=10)
    ap.add_argument("--writers", type=int, default=5)
    ap.add_argument("--seed", type=int, default=3)
    ap.add_argument("--no-report", action="store_true")
    args = ap.parse_args()
    from bench._report import header

    db = prepare_db(args.tasks)
    t0 = time.perf_counter()
    res = run_crash(db, rounds=args.rounds, writers=args.writers, seed=args.seed,
                    log_path=OUT / "crash-server.log")
    took = time.perf_counter() - t0
    lines = ["| round | killed after s | writes acknowledged | writes in flight at the kill | WAL bytes left | integrity_check | acknowledged writes missing (all rounds so far) |",
             "|---:|---:|---:|---:|---:|---|---:|"]
    for i, r in enumerate(res.rounds, 1):
        lines.append(f"| {i} | {r.killed_after:.2f} | {r.acked} | {r.in_flight} | {r.wal_bytes:,} | {r.integrity} | {len(r.problems)} |")
    cmd = "make setup && .venv/bin/python bench/bench_crash.py" + (
        f" --tasks {args.tasks}" if args.tasks != 100_000 else "") + (
        f" --rounds {args.rounds}" if args.rounds != 10 else "")
    body = header(f"Crash: SIGKILL mid-write, {args.rounds} rounds on {args.tasks:,} tasks (bench_crash.py)", cmd)
    errs = [e for r in res.rounds for e in r.errors]
    body += (
        f"- {args.writers} concurrent writers (accept / reject / fix / cancel) against `python -m tasktui serve` "
        f"in its own process; SIGKILL at a random moment, restart on the same file; {took:.0f} s in all\n\n"
        + "\n".join(lines) + "\n\n"
        f"- Acknowledged writes in all: {len(res.acks):,} ({', '.join(f'{res.stats.ok[o]:,} {o}' for o in OPS)}); "
        f"after the last restart and a clean stop: integrity_check `{res.final_integrity}`, missing or wrong: "
        f"**{len(res.final_problems)}**" + (f" (first: {res.final_problems[0]})" if res.final_problems else "")
        + f"; unexpected errors: {len(errs)}" + (f" (first: {errs[0]})" if errs else "") + "\n"
    )
    if args.no_report:
        print(body)
    else:
        from bench._report import write_section

        write_section("crash", body)
        update_reliability("crash", body)
    print("CRASH OK" if res.ok else "CRASH FAILED", flush=True)
    return 0 if res.ok else 1


if __name__ == "__main__":
    sys.exit(main())
