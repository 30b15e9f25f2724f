"""Benchmark: ``tasktui export`` against a plain loop over the official ``scaleapi`` SDK.

One command::

    .venv/bin/python bench/bench_export.py            # 3 rounds (default)
    .venv/bin/python bench/bench_export.py --rounds 5

What it does:

1. Seeds a bundled-server database with 110,000 tasks and puts 100,000 of them in the
   project ``bench-100k`` and 10,000 in ``bench-10k`` (the SDK's ``get_tasks`` needs a
   project or a batch).
2. Starts the bundled server in its own process (no simulation: the data stay still).
3. For each round, for each size (10k, 100k), runs in alternating order (the first
   contender swaps every round):
   - ``python -m tasktui export --project P --format ndjson -o FILE`` (a subprocess), and
   - a subprocess looping over ``scaleapi.ScaleClient.get_tasks(project_name=P)``,
     writing ``json.dumps(task.as_dict())`` per line,
   timing each from spawn to exit and reading its peak RSS (``ru_maxrss`` from
   ``os.wait4``). Every output is checked: the right number of lines, each task once, and
   the same set of task ids from both.

   Linux counts the parent's resident memory at fork time in a child's ``ru_maxrss``, so
   this process stays small: seeding and checking run in subprocesses of their own.
4. Writes the ``export`` section of BENCHMARKS.md via ``bench/_report.py``.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench._report import header, median, write_section  # noqa: E402

API_KEY = "test_bench_export_key_0123456789"
#: label -> (database, project or None for no filter, tasks)
SIZES = {"10k": ("projects", "bench-10k", 10_000), "100k": ("projects", "bench-100k", 100_000),
         "50k, no filter": ("all", None, 50_000)}
#: Tasks of the second database, exported with no filter at all.
ALL_N = 50_000

SERVER = r"""
import sys
from tasktui.server import start_server_thread
h = start_server_thread(sys.argv[1], [sys.argv[2]], host="127.0.0.1", port=0, simulate=False)
print(h.url, flush=True)
sys.stdin.read()
h.stop()
"""



def start_server(db: Path, key: str) -> tuple[subprocess.Popen, str]:
    """The bundled server over ``db`` in a process of its own (``SERVER``) and its URL;
    stop it with ``stop_server``."""
    server = subprocess.Popen([sys.executable, "-c", SERVER, str(db), key], stdin=subprocess.PIPE,
                              stdout=subprocess.PIPE, text=True, cwd=ROOT)
    url = server.stdout.readline().strip()
    if not url.startswith("http"):
        stop_server(server)
        raise SystemExit("the server did not start")
    return server, url


def stop_server(server: subprocess.Popen, timeout: float = 30) -> None:
    """Ask a ``start_server`` server to stop (its standard input closes), killed if it
    does not within ``timeout`` seconds."""
    try:
        server.stdin.close()
        server.wait(timeout=timeout)
    except Exception:
        server.kill()


SDK_LOOP = r"""
import json, sys
import scaleapi
client = scaleapi.ScaleClient(sys.argv[2], api_instance_url=sys.argv[1])
with open(sys.argv[4], "w") as f:
    for task in client.get_tasks(project_name=sys.argv[3], include_attachment_url=False):
        f.write(json.dumps(task.as_dict()) + "\n")
"""


#: The SDK with no filter: ``get_tasks`` needs a project or a batch, so the loop pages with
#: the SDK's own ``tasks(next_token=...)`` (one request of 100 tasks at a time, as get_tasks).
SDK_LOOP_ALL = r"""
import json, sys
import scaleapi
client = scaleapi.ScaleClient(sys.argv[2], api_instance_url=sys.argv[1])
token = None
with open(sys.argv[3], "w") as f:
    while True:
        page = client.tasks(limit=100, next_token=token, include_attachment_url=False)
        for task in page.docs:
            f.write(json.dumps(task.as_dict()) + "\n")
        token = page.next_token
        if not page.has_more or not token:
            break
"""

PREPARE_ALL = r"""
import sys
from pathlib import Path
from tasktui.server import seed_database
seed_database(Path(sys.argv[1]), int(sys.argv[2]), seed=7)
"""

PREPARE = r"""
import sys
from pathlib import Path
sys.path.insert(0, sys.argv[2])
from bench.bench_export import prepare_db
prepare_db(Path(sys.argv[1]))
"""

CHECK = r"""
import hashlib, sys
import orjson
ids = []
with open(sys.argv[1], "rb") as f:
    for line in f:
        ids.append(orjson.loads(line)["task_id"])
print(len(ids), len(set(ids)), hashlib.sha256("\n".join(sorted(ids)).encode()).hexdigest())
"""


def prepare_db(path: Path) -> None:
    import orjson

    from tasktui.server import seed_database
    from tasktui.server.db import connect

    seed_database(path, 110_000, seed=7)
    conn = connect(path)
    try:
        ids = [r[0] for r in conn.execute("SELECT id FROM tasks ORDER BY created_at DESC, task_id DESC")]
        big = set(ids[::11])  # spread the 10k over the whole time range
        names = {i: ("bench-10k" if i in big else "bench-100k") for i in ids}
        extra = len(names) - 110_000
        assert extra == 0, extra
        conn.execute("BEGIN")
        conn.executemany("UPDATE tasks SET project = ? WHERE id = ?", [(n, i) for i, n in names.items()])
        rows = conn.execute("SELECT id, doc FROM docs").fetchall()
        upd = []
        for i, doc in rows:
            d = orjson.loads(doc)
            d["project"] = names[i]
            upd.append((orjson.dumps(d), i))
        conn.executemany("UPDATE docs SET doc = ? WHERE id = ?", upd)
        conn.execute("COMMIT")
        counts = dict(conn.execute("SELECT project, count(*) FROM tasks GROUP BY project").fetchall())
        assert counts == {"bench-10k": 10_000, "bench-100k": 100_000}, counts
    finally:
        conn.close()


def cpu_seconds(pid: int) -> float:
    """User + system CPU time a running process has used (from /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def bytecode_env(tmp: Path) -> dict[str, str]:
    """The environment for the contenders: bytecode cached as in a normal install (this
    machine sets PYTHONDONTWRITEBYTECODE, which would compile every module from source
    at every start), in a private prefix so that no checkout gets __pycache__ folders."""
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    env["PYTHONPYCACHEPREFIX"] = str(tmp / "pyc")
    return env


#: Imports both contenders need, run once untimed so that their bytecode is cached.
WARM_UP = ("import json, scaleapi, orjson, httpx, tasktui.cli.main, tasktui.cli.export, "
           "tasktui.export, tasktui.api, tasktui.backend")


def warm_up(env: dict[str, str]) -> None:
    subprocess.run([sys.executable, "-c", WARM_UP], check=True, cwd=ROOT, env=env)


def run_child(argv: list[str], server_pid: int,
              env: dict[str, str] | None = None) -> tuple[float, float, float, float]:
    """Run a subprocess; return (seconds, peak RSS in MiB, its CPU seconds, the server's
    CPU seconds meanwhile)."""
    with tempfile.TemporaryFile() as err:
        s0 = cpu_seconds(server_pid)
        t0 = time.perf_counter()
        p = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=err, cwd=ROOT,
                             env=env)
        _, status, usage = os.wait4(p.pid, 0)
        elapsed = time.perf_counter() - t0
        server_cpu = cpu_seconds(server_pid) - s0
        code = os.waitstatus_to_exitcode(status)
        if code != 0:
            err.seek(0)
            raise SystemExit(f"{argv[:4]} failed ({code}): {err.read().decode(errors='replace')[-2000:]}")
    return elapsed, usage.ru_maxrss / 1024, usage.ru_utime + usage.ru_stime, server_cpu


def check(path: Path, n: int) -> str:
    """Lines and distinct task ids in an NDJSON file (in a subprocess); returns a digest
    of the sorted ids to compare the two contenders' sets."""
    out = subprocess.run([sys.executable, "-c", CHECK, str(path)], capture_output=True, text=True,
                         check=True).stdout.split()
    lines, distinct, digest = int(out[0]), int(out[1]), out[2]
    if lines != n or distinct != n:
        raise SystemExit(f"{path}: {lines} lines, {distinct} distinct; expected {n}")
    return digest


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--rounds", type=int, default=3)
    args = ap.parse_args()
    py = sys.executable
    with tempfile.TemporaryDirectory(prefix="bench-export-") as tmp:
        tmpd = Path(tmp)
        dbs = {"projects": tmpd / "bench.db", "all": tmpd / "all.db"}
        t0 = time.perf_counter()
        subprocess.run([py, "-c", PREPARE, str(dbs["projects"]), str(ROOT)], check=True, cwd=ROOT)
        subprocess.run([py, "-c", PREPARE_ALL, str(dbs["all"]), str(ALL_N)], check=True, cwd=ROOT)
        print(f"seeded 110,000 + {ALL_N:,} tasks in {time.perf_counter() - t0:.1f} s", file=sys.stderr)
        servers: dict[str, subprocess.Popen] = {}
        urls: dict[str, str] = {}
        try:
            for name, db in dbs.items():
                servers[name], urls[name] = start_server(db, API_KEY)
            env = bytecode_env(tmpd)
            warm_up(env)
            results: dict[tuple[str, str], list[tuple[float, float, float, float]]] = {}
            loads: list[float] = []
            for r in range(args.rounds):
                for size, (dbname, project, n) in SIZES.items():
                    url, server = urls[dbname], servers[dbname]
                    order = ["tasktui", "sdk"] if r % 2 == 0 else ["sdk", "tasktui"]
                    ids: dict[str, str] = {}
                    for who in order:
                        out = tmpd / f"{who}-{size.split(',')[0]}.ndjson"
                        if who == "tasktui":
                            argv = [py, "-m", "tasktui", "export", *(["--project", project] if project else []),
                                    "--format", "ndjson",
                                    "-o", str(out), "--force", "-q", "--api-url", url, "--api-key", API_KEY]
                        elif project:
                            argv = [py, "-c", SDK_LOOP, url, API_KEY, project, str(out)]
                        else:
                            argv = [py, "-c", SDK_LOOP_ALL, url, API_KEY, str(out)]  # no project
                        loads.append(os.getloadavg()[0])
                        secs, rss, cpu, scpu = run_child(argv, server.pid, env)
                        ids[who] = check(out, n)
                        out.unlink()
                        results.setdefault((who, size), []).append((secs, rss, cpu, scpu))
                        print(f"round {r + 1} {size:>4} {who:8} {secs:6.2f} s  {n / secs:8,.0f} tasks/s  "
                              f"peak RSS {rss:6.1f} MiB  CPU {cpu:5.2f} s + server {scpu:5.2f} s",
                              file=sys.stderr)
                    if ids["tasktui"] != ids["sdk"]:
                        raise SystemExit(f"{size}: tasktui and the SDK exported different task sets")
        finally:
            for server in servers.values():
                stop_server(server, timeout=15)

    cmd = f".venv/bin/python bench/bench_export.py --rounds {args.rounds}"
    lines = [header("Export: `tasktui export` vs a loop over the scaleapi SDK", cmd)]
    lines.append(
        "- Setup: bundled servers in their own processes (SQLite, no simulation): one with 110,000 "
        "seeded tasks, project `bench-100k` (100,000) and `bench-10k` (10,000); one with "
        f"{ALL_N:,} seeded tasks exported with no filter at all. Each contender is a subprocess "
        "timed from spawn to exit (interpreter start-up included) writing NDJSON to a file; "
        "peak memory is the child's `ru_maxrss`. Order alternates every round. Every output "
        "was checked: N lines, each task once, identical task-id sets from both. Bytecode is "
        "cached for both (`PYTHONPYCACHEPREFIX` in a temporary folder, one untimed warm-up "
        "import), as in a normal install.\n"
        "- tasktui: `python -m tasktui export --project P --format ndjson -o FILE` (httpx; keyset "
        "pages of 1,000 through the bundled server's `page-size` extension — 100 against the real "
        "API — with the next page prefetched while the current one is written; exports of 20,000 tasks "
        "or more are read by 4 page chains over creation-time slices, written in order; each page is read "
        "with msgspec into its envelope and each task's JSON text, which is copied into the file "
        "unparsed (`tasktui.api.listing`); the cyclic garbage collector runs less often during an "
        "export). With no filter: the same command without `--project`.\n"
        "- SDK: `for t in ScaleClient(key, api_instance_url=URL).get_tasks(project_name=P, "
        "include_attachment_url=False): f.write(json.dumps(t.as_dict()) + \"\\n\")`; with no "
        "filter (`get_tasks` needs a project or a batch) the SDK's own paging, "
        "`client.tasks(limit=100, next_token=...)`, in the same loop.\n"
        f"- Rounds: {args.rounds}; figures are medians. Load average (1 min) while measuring: "
        f"median {median(loads):.2f}, max {max(loads):.2f}"
        + (" — the machine was busy with other work (2 cores shared by several engineers)."
           if max(loads) > 1.5 else ".") + "\n"
    )
    lines.append("| tasks | tasktui s | tasktui tasks/s | SDK s | SDK tasks/s | throughput ratio | "
                 "tasktui peak RSS | SDK peak RSS |")
    lines.append("|---:|---:|---:|---:|---:|---:|---:|---:|")
    summary = {}
    for size, (_db, _project, n) in SIZES.items():
        t = results[("tasktui", size)]
        s = results[("sdk", size)]
        ts, ss = median([x[0] for x in t]), median([x[0] for x in s])
        tr, sr = median([x[1] for x in t]), median([x[1] for x in s])
        summary[size] = (ts, ss, tr, sr)
        label = f"{n:,}" + (" (no filter)" if "no filter" in size else "")
        lines.append(f"| {label} | {ts:.2f} | {n / ts:,.0f} | {ss:.2f} | {n / ss:,.0f} | "
                     f"**{ss / ts:.2f}x** | {tr:.0f} MiB | {sr:.0f} MiB |")
    ts10, _, tr10, sr10 = summary["10k"]
    ts100, ss100, tr100, sr100 = summary["100k"]
    tsa, ssa, _, _ = summary["50k, no filter"]
    t100, s100 = results[("tasktui", "100k")], results[("sdk", "100k")]
    tc, tsc = median([x[2] for x in t100]), median([x[3] for x in t100])
    sc, ssc = median([x[2] for x in s100]), median([x[3] for x in s100])
    lines.append("")
    lines.append("CPU seconds (medians; client = the contender's process, server = the bundled server's "
                 "process meanwhile) and per task:\n")
    lines.append("| export | who | client CPU | server CPU | client µs/task | server µs/task |")
    lines.append("|---|---|---:|---:|---:|---:|")
    for size in ("100k", "50k, no filter"):
        n = SIZES[size][2]
        for who, name in (("tasktui", "tasktui"), ("sdk", "SDK loop")):
            c = median([x[2] for x in results[(who, size)]])
            sv = median([x[3] for x in results[(who, size)]])
            lines.append(f"| {n:,}{' (no filter)' if 'no filter' in size else ''} | {name} | {c:.2f} | "
                         f"{sv:.2f} | {c / n * 1e6:.0f} | {sv / n * 1e6:.0f} |")
    lines.append("")
    lines.append(
        f"- tasktui spends **{(sc + ssc) / (tc + tsc):.2f}x** less CPU (client + server) per task. "
        f"With two idle cores the SDK loop (one request at a time) needs client + server time, "
        f"{sc + ssc:.1f} s, while tasktui overlaps them (prefetch) and needs about the larger of the "
        f"two, {max(tc, tsc):.1f} s: a projected **{(sc + ssc) / max(tc, tsc):.1f}x**. On a saturated "
        "machine the wall-clock ratio is lower and noisy: the scheduler shares the cores among every "
        "runnable process, the pipelined exporter keeps two of them busy at fair share, while the "
        "sequential loop sleeps between requests and is favoured on wake-up.")
    na = SIZES["50k, no filter"][2]
    ac, asv = (median([x[i] for x in results[("tasktui", "50k, no filter")]]) for i in (2, 3))
    bc, bsv = (median([x[i] for x in results[("sdk", "50k, no filter")]]) for i in (2, 3))
    lines.append(
        f"- With no filter ({na:,} tasks) the same projection gives **{(bc + bsv) / max(ac, asv):.1f}x**: "
        f"the bound is {'the server' if asv >= ac else 'tasktui'}'s CPU (tasktui's own: {ac / na * 1e6:.0f} µs a "
        f"task; the server's: {asv / na * 1e6:.0f} µs a task for tasktui's requests and "
        f"{bsv / na * 1e6:.0f} for the SDK's, against {tsc / 100_000 * 1e6:.0f} with a project on the other "
        "server). The measured ratio stays below the projection by the processes' start-up (about "
        "0.3 s of each contender's time) and the part of the export not overlapped (the first page, the "
        "last slice). What made the unfiltered pages dearer (73 µs a task before, 24 with a project): the "
        "demo projects' responses were generated from their seeds at every read (the `_lazy` form; "
        "the bench's projects are renamed, so nothing was generated there); the seeder now stores "
        "them as served, once (wire bytes unchanged, tests/server/test_stored_responses.py). "
        "Since 2026-12-02 (2.43 s and 2.66x before, 73/83 MiB at 50k/100k): the client copies each "
        "task's text as the server sent it instead of parsing and serializing it again, the server "
        "builds a page from its stored JSON re-encoding only what it changes (`server.docs.present_all`), "
        "and an answer's body no longer waits for the GC on the httpx response. "
        "tasktui's own CPU is "
        f"{bc / ac:.1f}x lower than the SDK loop's.")
    lines.append(
        f"- Target (issue 11): at least 3x the SDK loop with no filter at {ALL_N:,} tasks — measured "
        f"**{ssa / tsa:.2f}x** ({'met' if ssa / tsa >= 3 else 'NOT met'}); one project of 100,000: "
        f"{ss100 / ts100:.2f}x.\n"
        f"- Memory: tasktui's peak RSS goes from {tr10:.0f} MiB (10k) to {tr100:.0f} MiB (100k), "
        f"{tr100 - tr10:+.0f} MiB for 10x the tasks "
        f"({'flat' if tr100 - tr10 < 15 else 'NOT flat'}); the SDK loop: {sr10:.0f} → {sr100:.0f} MiB.\n"
        "- Every run per round: " + "; ".join(
            f"{who} {size}: " + ", ".join(f"{x[0]:.2f} s/{x[1]:.0f} MiB" for x in results[(who, size)])
            for size in SIZES for who in ("tasktui", "sdk"))
    )
    write_section("export", "\n".join(lines))


if __name__ == "__main__":
    main()
