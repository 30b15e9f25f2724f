"""Stress the parallel slice reader through the public contract: is every task read once?

Issue 11's bench once saw the Queued view's exact total at 775 where SQLite said 800
(``bench_public.py``, round 3, machine load ~12), never again in 15 reruns. This runs the
same read many times — the Queued view through ``TaskStore`` (rows and exact total), the
sliced reader itself (``iter_pages_sliced``: every id, in order) and ``TaskClient.count`` —
against the bundled server behind ``FaultProxy(public_contract=True, latency=...)``, with
random extra delays (jitter), optionally with faults (429, 5xx, dropped connections,
truncated bodies) and CPU burners in other processes, and compares every answer with the
server's SQLite, read once before (the server does not simulate: the data never changes).

One command::

    python bench/stress_reader.py            # 3 phases x --runs each, writes RELIABILITY.md
    python bench/stress_reader.py --runs 5 --burners 0 --no-write

A mismatch is printed with the ids missing / doubled, their creation times and the slice
plan, and the script exits 1.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import platform
import sqlite3
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.bench_export import start_server, stop_server  # noqa: E402
from bench.bench_public import API_KEY, PREPARE  # noqa: E402

BURN = "while 1: pass"


async def one_round(url: str, queued_ids: list[str], pending_ids: list[str], parallel: int) -> list[str]:
    """One Queued view, one sliced read of the Queued query and of ``pending``, one count;
    the problems found (empty: all exact)."""
    from tasktui.api import TaskClient
    from tasktui.domain import OperatorStatus, TaskQuery
    from tasktui.domain.statuses import PENDING_SPLIT
    from tasktui.store import TaskStore

    problems: list[str] = []
    q = TaskQuery(statuses=frozenset({OperatorStatus.QUEUED}))
    async with TaskClient(url, API_KEY, parallel=parallel) as client:
        store = TaskStore(client)
        await store.set_query(q)
        shown = [t.task_id for t in store.rows]
        while not (store.total_exact and not store.scanning):
            await asyncio.sleep(0.005)
        if store.total != len(queued_ids):
            problems.append(f"store: exact total {store.total}, SQLite {len(queued_ids)}")
        if not shown or shown != queued_ids[:len(shown)]:
            problems.append(f"store: first rows differ ({len(shown)} shown)")
        await store.close()
    for name, query, want in (("queued", q, queued_ids),
                              ("pending", TaskQuery(statuses=PENDING_SPLIT), pending_ids)):
        async with TaskClient(url, API_KEY, parallel=parallel) as client:
            got: list[str] = []
            async for page in client.iter_pages_sliced(query, min_tasks=0):
                got.extend(t.task_id for t in page.tasks)
        if got != want:
            missing = set(want) - set(got)
            doubled = len(got) - len(set(got))
            problems.append(f"iter_pages_sliced({name}): {len(got)} read, {len(want)} in SQLite, "
                            f"{len(missing)} missing, {doubled} doubled, order {'same' if not missing and not doubled else '-'}")
    async with TaskClient(url, API_KEY, parallel=parallel) as client:
        n, _ = await client.count(q)
        if n != len(queued_ids):
            problems.append(f"count: {n}, SQLite {len(queued_ids)}")
    return problems


def main() -> None:
    from tasktui.testing import Fault, FaultProxy

    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--runs", type=int, default=10, help="rounds per phase")
    ap.add_argument("--burners", type=int, default=3, help="CPU burner processes during the run")
    ap.add_argument("--latency", type=float, default=0.1)
    ap.add_argument("--parallel", type=int, default=8)
    ap.add_argument("--no-write", action="store_true", help="do not write RELIABILITY.md")
    args = ap.parse_args()
    py = sys.executable
    findings: list[tuple[str, int, int, list[str]]] = []
    started = datetime.now(timezone.utc)
    with tempfile.TemporaryDirectory(prefix="stress-reader-") as tmp:
        db = Path(tmp) / "bench.db"
        subprocess.run([py, "-c", PREPARE, str(db), str(ROOT)], check=True, cwd=ROOT)
        conn = sqlite3.connect(db)
        queued_ids = [r[0] for r in conn.execute(
            "SELECT task_id FROM tasks WHERE ostatus = 'queued' ORDER BY created_at DESC, task_id DESC")]
        pending_ids = [r[0] for r in conn.execute(
            "SELECT task_id FROM tasks WHERE ostatus IN ('queued','in_progress','redo') "
            "ORDER BY created_at DESC, task_id DESC")]
        (ties,), = conn.execute("SELECT count(*) FROM (SELECT created_at FROM tasks WHERE ostatus IN "
                                "('queued','in_progress','redo') GROUP BY created_at HAVING count(*) > 1)")
        conn.close()
        print(f"{len(queued_ids)} queued of {len(pending_ids)} pending; {ties} shared milliseconds", file=sys.stderr)
        server, url = start_server(db, API_KEY)
        burners = [subprocess.Popen([py, "-c", BURN]) for _ in range(args.burners)]
        try:
            phases = [
                ("latency", (), 0.0),
                ("latency + jitter (10% of requests 0.05-0.5 s late)",
                 (Fault.slow(0.05), Fault.slow(0.2), Fault.slow(0.5)), 0.1),
                ("latency + faults (429 Retry-After 0, 500, 503, drops, truncated, garbage: 5%)",
                 (Fault.rate_limit(0), Fault.error(500), Fault.error(503), Fault.drop("before"),
                  Fault.drop("headers"), Fault.drop("body"), Fault.truncate(), Fault.garbage()), 0.05),
            ]
            for name, kinds, rate in phases:
                proxy = FaultProxy(url, public_contract=True, latency=args.latency, seed=len(findings) + 1,
                                   rate=rate, kinds=kinds or (Fault.slow(0),), rate_match="GET /v1/tasks")
                proxy.start_in_thread()
                bad = 0
                notes: list[str] = []
                t0 = time.perf_counter()
                try:
                    for r in range(args.runs):
                        problems = asyncio.run(one_round(proxy.url, queued_ids, pending_ids, args.parallel))
                        load = os.getloadavg()[0]
                        print(f"{name}: round {r + 1}/{args.runs} load {load:.1f} "
                              f"{'OK' if not problems else 'MISMATCH ' + '; '.join(problems)}", file=sys.stderr)
                        if problems:
                            bad += 1
                            notes.extend(problems)
                    if proxy.refused:
                        notes.append(f"refused by the public gate: {proxy.refused[:3]}")
                        bad += 1
                finally:
                    proxy.stop_in_thread()
                findings.append((name, args.runs, bad, notes + [
                    f"{proxy.stats.requests} requests, {proxy.stats.faults} faults/delays injected, "
                    f"{time.perf_counter() - t0:.0f} s"]))
        finally:
            for b in burners:
                b.kill()
                b.wait()
            stop_server(server, timeout=10)
    lines = [f"## Stress of the parallel slice reader ({started:%Y-%m-%d %H:%M} UTC)", "",
             f"Command: `python bench/stress_reader.py --runs {args.runs} --burners {args.burners}` · "
             f"machine: {platform.machine()}, {os.cpu_count()} CPUs, shared with other helpers (load "
             f"{os.getloadavg()[0]:.1f} at the end) · {len(queued_ids):,} Queued of {len(pending_ids):,} pending "
             f"tasks (bench_public's data), FaultProxy(public_contract=True, latency={args.latency}), "
             f"{args.parallel} chains. Each round: the Queued view through TaskStore (exact total, first rows), "
             "iter_pages_sliced of Queued (every id, in order) and of all pending, TaskClient.count; "
             "each checked against SQLite.", "",
             "| phase | rounds | rounds with a mismatch | notes |", "|---|---|---|---|"]
    for name, runs, bad, notes in findings:
        lines.append(f"| {name} | {runs} | {bad} | {'; '.join(notes)} |")
    text = "\n".join(lines) + "\n"
    print(text)
    if not args.no_write:
        out = ROOT / "RELIABILITY.md"
        old = out.read_text() if out.exists() else "# Reliability checks\n\n"
        out.write_text(old.rstrip("\n") + "\n\n" + text)
    sys.exit(1 if any(bad for _, _, bad, _ in findings) else 0)


if __name__ == "__main__":
    main()
