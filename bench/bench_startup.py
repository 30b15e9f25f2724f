"""Start-up: process start -> first task rows on screen, tasktui vs a bare Textual app.

Both run as whole processes in a 120x40 tmux terminal, alternating, and the screen is
polled with ``tmux capture-pane`` until a task row (a 24-hex id and a date) shows. The
floor is the least a Textual console can do: a bare app with a Header, a DataTable filled
with 40 such rows (no network) and a Footer. tasktui reads the first page from the
bundled server in its own process (``tasktui serve`` on a small seeded database).

    .venv/bin/python bench/bench_startup.py              # 9 runs each, writes BENCHMARKS.md
    .venv/bin/python bench/bench_startup.py --runs 3 --no-report
    .venv/bin/python bench/bench_startup.py --before /work/main   # also another checkout's tasktui
"""

from __future__ import annotations

import argparse
import os
import re
import shlex
import shutil
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench._report import header, median, write_section  # noqa: E402

OUT = ROOT / "bench" / "out"
KEY = "test_bench_startup_" + uuid.uuid4().hex[:12]
ROW_RE = re.compile(r"\b[0-9a-f]{24}\b \d{4}-\d\d-\d\d \d\d:\d\d")
TASKS = 10_000

BARE_APP = '''
from textual.app import App
from textual.widgets import DataTable, Footer, Header


class Bare(App):
    BINDINGS = [("q", "quit", "Quit")]

    def compose(self):
        yield Header()
        yield DataTable()
        yield Footer()

    def on_mount(self):
        t = self.query_one(DataTable)
        t.add_columns("Task  Created", "Status")
        for i in range(40):
            t.add_row(f"{i:024x} 2026-11-29 17:58", "Completed")


Bare().run()
'''


def ensure_db(n: int) -> Path:
    from tasktui.server import seed_database

    OUT.mkdir(parents=True, exist_ok=True)
    db = OUT / f"startup-{n}.db"
    if not db.exists():
        tmp = db.with_name(db.name + ".partial")
        for p in (tmp, Path(f"{tmp}-wal"), Path(f"{tmp}-shm")):
            p.unlink(missing_ok=True)
        seed_database(tmp, n, seed=1)
        import sqlite3

        c = sqlite3.connect(tmp)
        c.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        c.close()
        os.replace(tmp, db)
    return db


def _cpu_seconds(pid: int) -> float:
    """user + system CPU time of a process so far (less sensitive to a busy machine)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return sum(int(x) for x in fields[11:15]) / os.sysconf("SC_CLK_TCK")


def time_to_rows(command: str) -> tuple[float, float]:
    """Seconds from starting ``command`` in a fresh 120x40 tmux server to a task row on
    screen, and the CPU seconds the process had used by then."""
    sock = f"bench-start-{uuid.uuid4().hex[:8]}"
    t0 = time.perf_counter()
    subprocess.run(["tmux", "-L", sock, "new-session", "-d", "-s", "b", "-x", "120", "-y", "40", command],
                   check=True, cwd=ROOT)
    try:
        pid = int(subprocess.run(["tmux", "-L", sock, "display", "-p", "-t", "b", "#{pane_pid}"],
                                 capture_output=True, text=True).stdout.strip())
        deadline = t0 + 60
        while True:
            screen = subprocess.run(["tmux", "-L", sock, "capture-pane", "-p", "-t", "b"],
                                    capture_output=True, text=True).stdout
            if ROW_RE.search(screen):
                return time.perf_counter() - t0, _cpu_seconds(pid)
            if time.perf_counter() > deadline:
                raise RuntimeError("no rows on screen within 60 s:\n" + screen)
            time.sleep(0.005)
    finally:
        subprocess.run(["tmux", "-L", sock, "kill-server"], capture_output=True)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--runs", type=int, default=9)
    ap.add_argument("--no-report", action="store_true", help="print, do not write BENCHMARKS.md")
    ap.add_argument("--before", metavar="CHECKOUT", help="also time the tasktui of another checkout "
                    "(run with this venv, its code first on PYTHONPATH), e.g. the main branch")
    args = ap.parse_args()
    if shutil.which("tmux") is None:
        print("tmux is needed", file=sys.stderr)
        return 2
    from tasktui.testing.serverproc import ServerProcess

    db = ensure_db(TASKS)
    py = shlex.quote(sys.executable)
    load_before = os.getloadavg()[0]
    bare_t: list[float] = []
    ours_t: list[float] = []
    bare_c: list[float] = []
    ours_c: list[float] = []
    before_t: list[float] = []
    before_c: list[float] = []
    with tempfile.TemporaryDirectory() as tmp, \
            ServerProcess(db, KEY, log_path=OUT / "startup-server.log") as server:
        bare = Path(tmp) / "bare_app.py"
        bare.write_text(BARE_APP)
        cfg = Path(tmp) / "config.toml"
        cfg.write_text("refresh_interval = 0\n")
        # bytecode is cached as in a normal install (PYTHONDONTWRITEBYTECODE would compile every
        # module of the app from source at every start), in a private prefix so that no
        # checkout gets __pycache__ directories
        pyc = f"-u PYTHONDONTWRITEBYTECODE PYTHONPYCACHEPREFIX={shlex.quote(str(Path(tmp) / 'pyc'))}"
        env = (f"{pyc} TASKTUI_CONFIG={shlex.quote(str(cfg))} TASKTUI_DATA_DIR={shlex.quote(tmp)} "
               f"SCALE_API_KEY={KEY} TASKTUI_API_URL={shlex.quote(server.url)} TERM=xterm-256color")
        bare_cmd = f"exec env -u COLUMNS -u LINES {pyc} TERM=xterm-256color {py} {shlex.quote(str(bare))}"
        ours_cmd = f"exec env -u COLUMNS -u LINES {env} {py} -m tasktui"
        before_cmd = (f"cd {shlex.quote(args.before)} && exec env -u COLUMNS -u LINES {env} "
                      f"PYTHONPATH={shlex.quote(args.before)} {py} -m tasktui") if args.before else None
        for cmd_ in (bare_cmd, ours_cmd, before_cmd):  # warm the file and bytecode caches
            if cmd_:
                time_to_rows(cmd_)
        for i in range(args.runs):
            runs = [(bare_cmd, bare_t, bare_c), (ours_cmd, ours_t, ours_c)]
            if before_cmd:
                runs.append((before_cmd, before_t, before_c))
            for cmd_, wall, cpu in runs:
                w, c = time_to_rows(cmd_)
                wall.append(w)
                cpu.append(c)
            print(f"run {i + 1}: bare {bare_t[-1]:.2f} s ({bare_c[-1]:.2f} s CPU), "
                  f"tasktui {ours_t[-1]:.2f} s ({ours_c[-1]:.2f} s CPU)", flush=True)
    load_after = os.getloadavg()[0]
    b, o = median(bare_t), median(ours_t)
    bc, oc = median(bare_c), median(ours_c)
    cmd = "python bench/bench_startup.py" + (f" --runs {args.runs}" if args.runs != 9 else "") \
        + (f" --before {args.before}" if args.before else "")
    lines = [header("Start-up: process start → first rows (bench_startup.py)", cmd),
             f"- Data: {TASKS:,} tasks in the bundled server in its own process; both apps in a "
             "120x40 tmux terminal, alternating; the screen polled with `tmux capture-pane` every 5 ms.",
             f"- Load average 1 min: {load_before:.2f} before, {load_after:.2f} after"
             + (" (other work shared the cores: figures are pessimistic)."
                if max(load_before, load_after) > 1.5 else " (machine otherwise idle)."),
             "",
             f"| app | first rows on screen (median of {len(bare_t)}) | min | max | CPU used by then (median) |",
             "|---|---|---|---|---|",
             f"| bare Textual app (Header, DataTable with 40 rows, Footer; no network) | {b:.2f} s | "
             f"{min(bare_t):.2f} s | {max(bare_t):.2f} s | {bc:.2f} s |",
             f"| tasktui (first page from the server) | {o:.2f} s | {min(ours_t):.2f} s | "
             f"{max(ours_t):.2f} s | {oc:.2f} s |",
             f"| ratio tasktui / bare (target ≤ 2×) | {o / b:.2f}× | | | {oc / bc:.2f}× |",
             *([f"| tasktui before (`{args.before}`, same venv) | {median(before_t):.2f} s | "
                f"{min(before_t):.2f} s | {max(before_t):.2f} s | {median(before_c):.2f} s |",
                f"| ratio before / bare | {median(before_t) / b:.2f}× | | | {median(before_c) / bc:.2f}× |"]
               if before_t else []),
             "",
             "Bytecode is cached (one warm-up run each; `PYTHONDONTWRITEBYTECODE` unset, "
             "`PYTHONPYCACHEPREFIX` in a temporary directory): with it set, as in this machine's "
             "environment, every start compiles tasktui's ~50 modules from source (≈0.1 s of CPU).",
             "",
             "What the first screen does not use is imported when first needed: the detail screen "
             "(Markdown, TextArea), the export screen, the fix editor, the previews (Pillow, "
             "textual-image, textual-plot, numpy) and pendulum (dates in UTC need none of it). "
             "The terminal is asked what it can draw in one round trip (`tasktui.ui.graphics`) "
             "while the app's modules import; a plain-http API gets no TLS context (the CA bundle "
             "loads when an https URL is first fetched); the first page is the first request "
             "(no extension discovery before it) and is asked for before the list's widgets mount."]
    body = "\n".join(lines)
    if args.no_report:
        print(body)
    else:
        write_section("startup", body)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
