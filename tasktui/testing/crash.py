"""SIGKILL the bundled server (its own process) in the middle of writes and restart it on
the same file, round after round; after each restart check SQLite's integrity and that
every write acknowledged with a 200 is in the database.

Used by ``bench/bench_crash.py`` (the long run, which writes the figures) and by
``tests/reliability/test_crash.py`` (two rounds in ``make test``).
"""

from __future__ import annotations

import asyncio
import random
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from tasktui.testing.serverproc import ServerProcess, integrity_check
from tasktui.testing.writes import (
    Ack, Stats, Writer, WriteInterrupted, auth, check_counts, discover_extensions, slices, verify_acks,
)

API_KEY = "crash-test-key-7d21e4"


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
