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

The fast version (small database, two rounds) runs in ``make test``:
``tests/reliability/test_crash.py``.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import shutil
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import httpx  # noqa: E402

from bench._reliability import (  # noqa: E402
    OPS, Ack, Stats, Writer, WriteInterrupted, auth, check_counts, discover_extensions, slices,
    update_reliability, verify_acks,
)
from bench._serverproc import ServerProcess, checkpoint, integrity_check  # noqa: E402

OUT = Path(__file__).resolve().parent / "out"
API_KEY = "bench-crash-key-7d21e4"


@dataclass
class RoundResult:
    acked: int
    in_flight: int
    killed_after: float
    integrity: str
    problems: list[str]
    wal_bytes: int
    errors: list[str] = field(default_factory=list)


@dataclass
class CrashResult:
    rounds: list[RoundResult] = field(default_factory=list)
    acks: list[Ack] = field(default_factory=list)
    stats: Stats = field(default_factory=Stats)
    final_integrity: str = ""
    final_problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return (self.final_integrity == "ok" and not self.final_problems
                and all(r.integrity == "ok" and not r.problems and not r.errors for r in self.rounds))


async def _one_round(server: ServerProcess, acks: list[Ack], used: set[str], *, writers: int,
                     kill_after: float, rng: random.Random, stats: Stats,
                     weights: dict[str, int] | None = None) -> tuple[int, int, list[str]]:
    """Writes until SIGKILL. Returns (acknowledged this round, writes in flight at the
    kill, unexpected errors, seconds from the round's start to the kill)."""
    before = len(acks)
    errors: list[str] = []
    limits = httpx.Limits(max_connections=writers + 4)
    async with httpx.AsyncClient(limits=limits, timeout=httpx.Timeout(30.0)) as client:
        ext = await discover_extensions(client, server.url, API_KEY)
        ws = [Writer(client, server.url, API_KEY, w, rng=random.Random(rng.random()), extensions=ext,
                     stats=Stats(), acks=acks, weights=weights) for w in slices(writers)]
        for w in ws:
            w.used = used  # a task written in an earlier round is never picked again
        killed = asyncio.Event()
        in_flight = 0
        finished = 0

        async def loop(w: Writer) -> None:
            nonlocal finished
            try:
                await write(w)
            finally:
                finished += 1

        async def write(w: Writer) -> None:
            nonlocal in_flight
            while not killed.is_set():
                try:
                    if not await w.step():
                        return
                except WriteInterrupted:
                    if killed.is_set():
                        in_flight += 1
                    else:
                        errors.append(f"write failed before the kill: {w.stats.unknown[-1]}")
                    return
                except httpx.HTTPError:  # a list request cut by the kill
                    if not killed.is_set():
                        raise
                    return

        killed_at = kill_after

        async def killer() -> None:
            # At the chosen moment, or later if no write has been acknowledged yet (a slow
            # start on a busy machine) while writers still have work: a round that
            # acknowledged nothing would prove nothing.
            nonlocal killed_at
            t0 = time.monotonic()
            await asyncio.sleep(kill_after)
            while len(acks) == before and finished < len(ws) and time.monotonic() - t0 < 60:
                await asyncio.sleep(0.05)
            killed_at = time.monotonic() - t0
            killed.set()
            server.kill()

        await asyncio.gather(killer(), *(loop(w) for w in ws))
        for w in ws:
            stats.merge(w.stats)
            errors.extend(e for e in w.stats.errors)
    return len(acks) - before, in_flight, errors, killed_at


def run_crash(db: Path, *, rounds: int, writers: int = 5, kill_window: tuple[float, float] = (1.0, 3.0),
              seed: int = 3, log_path: Path | None = None, weights: dict[str, int] | None = None) -> CrashResult:
    """Kill / restart ``rounds`` times on ``db`` (an existing seeded database)."""
    rng = random.Random(seed)
    res = CrashResult()
    used: set[str] = set()
    server = ServerProcess(db, API_KEY, log_path=log_path)
    server.start(timeout=120)
    try:
        for _ in range(rounds):
            kill_after = rng.uniform(*kill_window)
            acked, in_flight, errors, kill_after = asyncio.run(_one_round(
                server, res.acks, used, writers=writers, kill_after=kill_after, rng=rng, stats=res.stats,
                weights=weights))
            wal = Path(f"{db}-wal")
            wal_bytes = wal.stat().st_size if wal.exists() else 0
            server.start(timeout=120)  # restart on the same file
            with httpx.Client(timeout=30) as c:  # it answers, and serves an acknowledged task
                if res.acks:
                    a = res.acks[-1]
                    r = c.get(f"{server.url}/task/{a.task_id}", auth=auth(API_KEY))
                    if r.status_code != 200:
                        errors.append(f"after restart GET {a.task_id}: HTTP {r.status_code}")
            integrity = integrity_check(db)
            problems = verify_acks(db, res.acks) + check_counts(db)
            res.rounds.append(RoundResult(acked, in_flight, kill_after, integrity, problems, wal_bytes, errors))
    finally:
        server.stop()
    res.final_integrity = integrity_check(db)
    res.final_problems = verify_acks(db, res.acks) + check_counts(db)
    return res


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
