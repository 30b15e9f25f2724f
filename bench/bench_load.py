"""Load: 50 concurrent readers and 5 writers against the bundled server on
1,000,000 tasks, over real HTTP on 127.0.0.1, for 60 s.

    .venv/bin/python bench/bench_load.py                 # the full run (~1 min + seeding once)
    .venv/bin/python bench/bench_load.py --duration 10 --tasks 20000   # a quick look

- The server runs in its own process (``python -m tasktui serve``) on a copy of a
  database seeded once and cached in ``bench/out/`` (reused when present).
- Readers list with random filters (operator statuses, audit statuses, project, batch,
  created or completed date ranges, oldest first) built with ``TaskQuery`` as the app
  builds them; some follow ``next_token`` many pages deep, some open a task.
- Writers accept, reject, fix and cancel, each in its own creation-date window so that
  no two writers ever pick the same task; a 400 for a refused transition is counted
  apart from errors (none is expected by design).
- Afterwards the server is stopped and every write acknowledged with a 200 is looked
  up in SQLite directly (review status, audits, comments, fixed response and
  ``prior_responses`` count, canceled status), and the ``counts`` table behind
  ``total`` is compared with a fresh count.

Figures go to the ``load`` section of BENCHMARKS.md and RELIABILITY.md.
Loopback only; every loop is bounded by the deadline.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import resource
import shutil
import sys
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import httpx  # noqa: E402
import orjson  # noqa: E402

from bench._report import header, percentile, update_reliability, write_section  # noqa: E402
from tasktui.testing.serverproc import ServerProcess, checkpoint, integrity_check  # noqa: E402
from tasktui.testing.writes import (  # noqa: E402
    OPS, Stats, Writer, WriteInterrupted, auth, check_counts, discover_extensions, slices, verify_acks,
)
from tasktui.domain import AuditStatus, DateField, OperatorStatus, SortOrder, TaskQuery  # noqa: E402

OUT = Path(__file__).resolve().parent / "out"
API_KEY = "bench-load-key-0f3c9a"
KEEPALIVE_EXPIRY = 4.0


def prepare_db(n: int) -> tuple[Path, float | None]:
    """A fresh copy of the cached seeded database. Returns (path, seconds spent
    seeding or None when the cache was reused)."""
    OUT.mkdir(parents=True, exist_ok=True)
    seeded = OUT / f"load-seed-{n}.db"
    took = None
    if not seeded.exists():
        from tasktui.server import seed_database

        tmp = OUT / f"load-seed-{n}.tmp.db"
        for p in (tmp, Path(f"{tmp}-wal"), Path(f"{tmp}-shm")):
            p.unlink(missing_ok=True)
        print(f"seeding {n:,} tasks into {seeded} (once) ...", flush=True)
        t0 = time.perf_counter()
        seed_database(tmp, n, seed=1)
        took = time.perf_counter() - t0
        checkpoint(tmp)
        for p in (Path(f"{tmp}-wal"), Path(f"{tmp}-shm")):
            p.unlink(missing_ok=True)
        tmp.rename(seeded)
        print(f"seeded in {took:.1f} s", flush=True)
    run = OUT / f"load-run-{n}.db"
    for p in (run, Path(f"{run}-wal"), Path(f"{run}-shm")):
        p.unlink(missing_ok=True)
    shutil.copyfile(seeded, run)
    return run, took


class Reader:
    """Lists with random filters; follows tokens deep; opens tasks."""

    def __init__(self, client: httpx.AsyncClient, url: str, api_key: str, rng: random.Random,
                 ext: frozenset[str], projects: list[str], batches: list[str], stats: Stats):
        self.client, self.url, self.auth = client, url, auth(api_key)
        self.rng, self.ext, self.projects, self.batches, self.stats = rng, ext, projects, batches, stats
        self.pages = 0

    def random_query(self) -> TaskQuery:
        r = self.rng
        q: dict = {}
        if r.random() < 0.5:
            q["statuses"] = frozenset(r.sample(list(OperatorStatus), r.randint(1, 3)))
        if r.random() < 0.3:
            q["audit_statuses"] = frozenset(r.sample(list(AuditStatus), r.randint(1, 2)))
        if self.projects and r.random() < 0.3:
            q["projects"] = (r.choice(self.projects),)
        if self.batches and r.random() < 0.2:
            q["batches"] = (r.choice(self.batches),)
        if r.random() < 0.4:
            q["date_field"] = DateField.COMPLETED if r.random() < 0.3 else DateField.CREATED
            now = datetime.now(timezone.utc)
            start = now - timedelta(days=r.uniform(1, 95))
            q["start"] = start
            q["end"] = start + timedelta(days=r.uniform(0.5, 30))
        if r.random() < 0.15:
            q["order"] = SortOrder.OLDEST
        return TaskQuery(**q)

    async def _get(self, kind: str, url: str, params=None) -> dict | None:
        t0 = time.perf_counter()
        try:
            resp = await self.client.get(url, params=params, auth=self.auth)
        except httpx.HTTPError as e:
            self.stats.errors.append(f"{kind}: {type(e).__name__}: {e!r} after {time.perf_counter() - t0:.2f} s")
            return None
        self.stats.latency[kind].append(time.perf_counter() - t0)
        if resp.status_code != 200:
            self.stats.errors.append(f"{kind} {params}: HTTP {resp.status_code} {resp.text[:200]}")
            return None
        self.stats.ok[kind] += 1
        try:
            return orjson.loads(resp.content)
        except orjson.JSONDecodeError:
            self.stats.errors.append(f"{kind}: body is not JSON")
            return None

    async def step(self, deadline: float) -> None:
        q = self.random_query()
        params = q.wire_params(self.ext, limit=100)
        t0 = time.perf_counter()
        body = await self._get("list_first", f"{self.url}/tasks", params)
        shape = "+".join(sorted({k for k, _ in params if k != "limit"})) or "(no filter)"
        self.stats.latency["shape:" + shape].append(time.perf_counter() - t0)
        if body is None:
            return
        self._check_page(body)
        if body["docs"] and self.rng.random() < 0.3:
            tid = self.rng.choice(body["docs"])["task_id"]
            doc = await self._get("get", f"{self.url}/task/{tid}")
            if doc is not None and doc.get("task_id") != tid:
                self.stats.errors.append(f"get {tid}: answered {doc.get('task_id')}")
        # a third of the lists are followed deep: up to 60 pages
        depth = self.rng.randint(5, 60) if self.rng.random() < 0.33 else 0
        token = body.get("next_token")
        seen = {d["task_id"] for d in body["docs"]}
        for _ in range(depth):
            if not token or time.monotonic() > deadline:
                break
            page = await self._get("list_next", f"{self.url}/tasks",
                                   q.wire_params(self.ext, limit=100, next_token=token))
            if page is None:
                return
            self._check_page(page)
            ids = {d["task_id"] for d in page["docs"]}
            if ids & seen:
                self.stats.errors.append(f"list_next: {len(ids & seen)} task(s) repeated across pages of one walk")
            seen |= ids
            token = page.get("next_token")
            self.pages += 1

    def _check_page(self, body: dict) -> None:
        for key in ("docs", "total", "limit", "offset", "has_more", "next_token"):
            if key not in body:
                self.stats.errors.append(f"list answer lacks {key!r}")
        if body.get("has_more") and not body.get("next_token"):
            self.stats.errors.append("has_more without next_token")


async def run_load(url: str, *, readers: int, writers: int, duration: float, seed: int) -> tuple[Stats, list, dict]:
    # Idle connections are dropped after 4 s, before uvicorn's 5 s keep-alive timeout closes
    # them from its side: reusing a connection the server is closing at that very moment
    # fails with a ReadError (a keep-alive race, not a server fault; see RELIABILITY.md).
    limits = httpx.Limits(max_connections=readers + writers + 8, max_keepalive_connections=readers + writers + 8,
                          keepalive_expiry=KEEPALIVE_EXPIRY)
    stats = Stats()
    acks: list = []
    info: dict = {}
    async with httpx.AsyncClient(limits=limits, timeout=httpx.Timeout(60.0)) as client:
        ext = await discover_extensions(client, url, API_KEY)
        projects = [p["name"] for p in (await client.get(f"{url}/projects", auth=auth(API_KEY))).json()]
        bj = (await client.get(f"{url}/batches", params={"limit": "100"}, auth=auth(API_KEY))).json()
        batches = [b["name"] for b in bj.get("docs", [])]
        info.update(extensions=sorted(ext), projects=len(projects), batches=len(batches))
        deadline = time.monotonic() + duration
        rng = random.Random(seed)

        reader_objs = [Reader(client, url, API_KEY, random.Random(rng.random()), ext, projects, batches, Stats())
                       for _ in range(readers)]
        writer_objs = [Writer(client, url, API_KEY, w, rng=random.Random(rng.random()), extensions=ext,
                              stats=Stats(), acks=acks)
                       for w in slices(writers)]

        async def read_loop(rd: Reader) -> None:
            while time.monotonic() < deadline:
                await rd.step(deadline)

        async def write_loop(wr: Writer) -> None:
            while time.monotonic() < deadline:
                try:
                    if not await wr.step():
                        break
                except WriteInterrupted as e:
                    wr.stats.errors.append(str(e))

        t0 = time.perf_counter()
        await asyncio.gather(*(read_loop(r) for r in reader_objs), *(write_loop(w) for w in writer_objs))
        info["elapsed"] = time.perf_counter() - t0
        for o in (*reader_objs, *writer_objs):
            stats.merge(o.stats)
        info["deep_pages"] = sum(r.pages for r in reader_objs)
    return stats, acks, info


def ms(x: float) -> str:
    return f"{x * 1000:.1f}"


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--tasks", type=int, default=1_000_000)
    ap.add_argument("--duration", type=float, default=60.0, help="seconds of load (default 60)")
    ap.add_argument("--readers", type=int, default=50)
    ap.add_argument("--writers", type=int, default=5)
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--keepalive-expiry", type=float, default=4.0,
                    help="seconds an idle client connection is kept (default 4, below the server's 5)")
    ap.add_argument("--no-report", action="store_true", help="print only; do not write BENCHMARKS.md")
    args = ap.parse_args()

    global KEEPALIVE_EXPIRY
    KEEPALIVE_EXPIRY = args.keepalive_expiry
    load_before = os.getloadavg()
    db, seeded_in = prepare_db(args.tasks)
    server = ServerProcess(db, API_KEY, log_path=OUT / "load-server.log")
    (OUT / "load-server.log").unlink(missing_ok=True)
    server.start(timeout=180)
    print(f"server pid {server.pid} on {server.url}, db {db}", flush=True)
    try:
        srv_cpu0, cli0 = server.cpu_seconds(), resource.getrusage(resource.RUSAGE_SELF)
        stats, acks, info = asyncio.run(run_load(server.url, readers=args.readers, writers=args.writers,
                                                 duration=args.duration, seed=args.seed))
        srv_cpu1, cli1 = server.cpu_seconds(), resource.getrusage(resource.RUSAGE_SELF)
        rss = server.rss_mb()
    finally:
        rc = server.stop()
    integrity = integrity_check(db)
    problems = verify_acks(db, acks)
    problems += check_counts(db)

    def cpu(a, b) -> str:
        return "?" if a is None or b is None else f"{(b - a) / info['elapsed'] * 100:.0f}%"

    kinds = ["list_first", "list_next", "get", "writer_list", *OPS]
    total_req = sum(len(v) for k, v in stats.latency.items() if not k.startswith("shape:"))
    lines = ["| operation | requests | p50 ms | p99 ms | max ms |", "|---|---:|---:|---:|---:|"]
    for k in kinds:
        xs = stats.latency.get(k, [])
        if xs:
            lines.append(f"| {k} | {len(xs):,} | {ms(percentile(xs, 50))} | {ms(percentile(xs, 99))} | {ms(max(xs))} |")
    shapes = sorted(((k[6:], v) for k, v in stats.latency.items() if k.startswith("shape:")),
                    key=lambda kv: -percentile(kv[1], 50))
    shape_lines = ["| first page, by filter shape | requests | p50 ms | p99 ms |", "|---|---:|---:|---:|"]
    for k, xs in shapes[:10]:
        shape_lines.append(f"| {k} | {len(xs)} | {ms(percentile(xs, 50))} | {ms(percentile(xs, 99))} |")
    acked = len(acks)
    refused = sum(stats.refused.values())
    body = header("Load: 50 readers + 5 writers on 1,000,000 tasks (bench_load.py)",
                  "make setup && .venv/bin/python bench/bench_load.py"
                  + (f" --tasks {args.tasks}" if args.tasks != 1_000_000 else "")
                  + (f" --duration {args.duration:g}" if args.duration != 60 else ""))
    body += (
        f"- Server: `python -m tasktui serve` in its own process, {args.tasks:,} seeded tasks"
        f"{f' (seeded in {seeded_in:.0f} s)' if seeded_in else ' (cached seed reused)'}"
        + (f", server RSS at the end {rss:.0f} MB" if rss else "") + "\n")
    body += (
        f"- Load: {args.readers} readers (random filters; a third follow next_token 5-60 pages deep; "
        f"30% open a task) and {args.writers} writers (accept / reject / fix / cancel), "
        f"{info['elapsed']:.1f} s, {total_req:,} requests ({total_req / info['elapsed']:.0f} req/s), "
        f"{info['deep_pages']:,} deep pages; httpx client, idle connections kept {KEEPALIVE_EXPIRY:g} s; "
        f"client and server share this 2-core machine\n"
        f"- CPU during the load: server {cpu(srv_cpu0, srv_cpu1)} of one core"
        + (f" ({(srv_cpu1 - srv_cpu0) / total_req * 1000:.0f} ms of server CPU per request: latency beyond that is "
           f"queueing behind the other {args.readers + args.writers - 1} clients)" if srv_cpu0 is not None and srv_cpu1 is not None else "")
        + ", load client "
        f"{cpu(cli0.ru_utime + cli0.ru_stime, cli1.ru_utime + cli1.ru_stime)} of one core; "
        f"load average before: {load_before[0]:.2f}, after: {os.getloadavg()[0]:.2f} "
        + ("(the client shares the 2 cores with the server)" if load_before[0] < 1.5 else "(other work shared this machine)")
        + "\n\n"
        + "\n".join(lines) + "\n\n"
        + "Slowest filter shapes (the ten with the highest p50):\n\n" + "\n".join(shape_lines) + "\n\n"
        f"- Errors: **{len(stats.errors)}**"
        + (" (" + "; ".join(sorted(set(stats.errors))[:5]) + ")" if stats.errors else "") + "\n"
        f"- Writes acknowledged with 200: {acked:,} "
        f"({', '.join(f'{stats.ok[o]:,} {o}' for o in OPS)}); refused with 400 (legitimate): {refused}\n"
        f"- After the run, SQLite read directly: integrity_check `{integrity}`; acknowledged writes "
        f"missing or wrong: **{len(problems)}**" + (f" (first: {problems[0]})" if problems else "")
        + "; counts table behind `total` matches a fresh count: "
        + ("yes" if not any(p.startswith("counts") for p in problems) else "NO") + "\n"
        f"- Server exit status after SIGTERM: {rc}\n"
    )
    if args.no_report:
        print(body)
    else:
        write_section("load", body)
        update_reliability("load", body)
    ok = not stats.errors and not problems and integrity == "ok"
    print("LOAD OK" if ok else "LOAD FAILED", flush=True)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
