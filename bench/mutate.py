"""Mutation testing of the modules that carry the promises (``make mutate``).

mutmut 3 (configured in pyproject.toml, ``[tool.mutmut]``) copies the package into
``mutants/``, plants one small bug at a time in the functions of the modules named there
and runs, for each, only the tests among the configured fast ones that call the mutated
function. This script picks the functions in scope (``SCOPE`` below: for the server and the
transport only the parts that server-free tests can reach), runs mutmut over them, then
prints the score per module group and every surviving mutant. A survivor is either a gap
in the tests (write one that kills it) or equivalent to the original: those are listed,
each with why, in ``bench/mutants_equivalent.toml``.

    .venv/bin/python bench/mutate.py            # run, print the scores
    .venv/bin/python bench/mutate.py --write    # also write them to RELIABILITY.md
    .venv/bin/python bench/mutate.py --report   # print the scores of the last run only
    .venv/bin/python bench/mutate.py --groups store export --modules store.store export.exporter \
        --max-children 1 --write                # a part of the scope only

The whole scope takes about an hour on 2 cores: 2,610 mutants took 51.5 min with 2 workers
on a loaded machine before store.store and export.exporter were added, whose 965 took 18.4
min with 1 worker. ``--groups`` (names of ``SCOPE``) and ``--modules`` (modules within
them, ``store.store`` or ``tasktui.store.store``) run a part of it; with ``--write`` the
part's rows replace their own in RELIABILITY.md, and the other rows and survivors stay as
they were, each row with the date and commit it was measured at (column *measured*). The
exit status then judges the groups run over the modules run. ``mutmut run NAME...`` re-runs
single mutants (say after a test was added for them) and ``--report`` reads the results back.

Exit status: 0 when every group reaches ``TARGET`` and every survivor is explained, 1
otherwise.
"""

from __future__ import annotations

import argparse
import fnmatch
import json
import os
import re
import subprocess
import sys
import time
import tomllib
from collections import defaultdict
from datetime import datetime, timezone
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench._report import git_rev, header, update_reliability  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
EQUIVALENT = ROOT / "bench" / "mutants_equivalent.toml"
TARGET = 0.90
RESUMES = 3  # times the mutants left by a mutmut run that ended early are run by name

#: group -> (module, name pattern of the mutated functions in scope). Names are mutmut's:
#: ``pkg.module.x_function`` and ``pkg.module.xǁClassǁmethod``.
SCOPE: dict[str, list[tuple[str, str]]] = {
    "domain": [(f"tasktui.domain.{m}", "*") for m in ("statuses", "query", "timezones", "text", "wire", "filters")],
    "api": [
        ("tasktui.api.retry", "*"),
        # the key scrubbing and the error texts (the request loop needs the whole api suite)
        *[("tasktui.api.transport", p) for p in (
            "x_origin_of", "x_display_url", "x_server_date", "xǁ_Secretǁ*", "xǁTransportǁscrub",
            "xǁTransportǁexcerpt", "xǁTransportǁmalformed", "xǁTransportǁ_server_message",
            "xǁTransportǁ_status_error", "xǁTransportǁ_network_error")],
    ],
    "export": [
        ("tasktui.export.checkpoint", "*"),
        # the resume: deciding it (prepare, _check_resumable), restoring the state (run),
        # reading on from the checkpoint's token (_pages), the JSON separator after the
        # records already written (_encode_page), and the file: cut back to the checkpoint's
        # offset, checkpoints that only count bytes on disk (_run_file)
        *[("tasktui.export.exporter", p) for p in (
            "xǁExporterǁprepare", "xǁExporterǁ_check_resumable", "xǁExporterǁrun",
            "xǁExporterǁ_pages", "xǁExporterǁ_encode_page", "xǁExporterǁ_run_file")],
    ],
    "store": [
        ("tasktui.store.window", "*"),
        # the stale-answer handling: a new generation cancels what is in flight (_bump), a
        # superseded fetch returns quietly (_wait), and every loader drops an answer of an
        # older query or a superseded request (gen != generation, the window's query)
        *[("tasktui.store.store", p) for p in (
            "xǁTaskStoreǁ_bump", "xǁTaskStoreǁ_wait", "xǁTaskStoreǁ_load_from", "xǁTaskStoreǁ_scan",
            "xǁTaskStoreǁ_count_scan", "xǁTaskStoreǁload_more", "xǁTaskStoreǁ_fetch_more",
            "xǁTaskStoreǁload_previous", "xǁTaskStoreǁ_fetch_previous")],
    ],
    # the query-string parsing, the page tokens and the range bounds (the SQL runs on a server)
    "server": [("tasktui.server.queries", p) for p in (
        "x_parse_time", "x_parse_bool", "x_parse_int", "x_parse_list_query", "x_encode_token",
        "x_decode_token", "x__range_terms")],
}

KILLED = {1, 3, 36, 37, -24, 24, 152, 255, -11, -9}  # failed, pytest error, timeout, crash
SURVIVED = {0}
NO_TESTS = {5, 33}


def select(groups: list[str] | None, modules: list[str] | None) -> dict[str, list[tuple[str, str]]]:
    """The part of ``SCOPE`` to run: the groups named (all without), and within them the
    modules named (``store.store`` or ``tasktui.store.store``; all without)."""
    unknown = [g for g in groups or () if g not in SCOPE]
    if unknown:
        raise SystemExit(f"unknown group(s) {', '.join(unknown)}; the groups are {', '.join(SCOPE)}")
    wanted = {m if m.startswith("tasktui.") else f"tasktui.{m}" for m in modules or ()}
    known = {m for group in SCOPE.values() for m, _ in group}
    if wanted - known:
        raise SystemExit(f"unknown module(s) {', '.join(sorted(wanted - known))}; "
                         f"the modules are {', '.join(sorted(m.removeprefix('tasktui.') for m in known))}")
    out: dict[str, list[tuple[str, str]]] = {}
    for gname, group in SCOPE.items():
        if groups and gname not in groups:
            continue
        picked = [(m, p) for m, p in group if not wanted or m in wanted]
        if picked:
            out[gname] = picked
    if not out:
        raise SystemExit("nothing selected: the modules named are in none of the groups named")
    return out


def patterns(scope: dict[str, list[tuple[str, str]]]) -> list[str]:
    return [f"{module}.{pat}__mutmut_*" for group in scope.values() for module, pat in group]


def mutmut_cmd(*args: str) -> list[str]:
    return [str(Path(sys.executable).with_name("mutmut")), *args]


def run_mutmut(scope: dict[str, list[tuple[str, str]]], max_children: int) -> float:
    if (ROOT / "mutants").exists():
        # mutmut reuses mutants/ incrementally; a clean copy keeps the tests' view current
        subprocess.run(["rm", "-rf", str(ROOT / "mutants")], check=True)
    t0 = time.monotonic()
    cmd = mutmut_cmd("run", "--max-children", str(max_children), *patterns(scope))
    print("$", " ".join(cmd[:4]), f"<{len(cmd) - 4} name patterns>", flush=True)
    done = subprocess.run(cmd, cwd=ROOT, check=False)
    resumed = []
    for _ in range(RESUMES):
        # mutmut 3.8's main process can end mid-run without a word (seen twice here, at
        # 601 s and 1002 s: killed by a signal, most likely the SIGXCPU its wall-clock
        # timeout thread sends to the pid of a finished worker once that pid is reused):
        # the mutants it had not run yet are run by name, the results so far kept
        left = [name for codes in results(scope).values() for name, code in codes.items() if code is None]
        if not left:
            break
        print(f"mutmut ended ({done.returncode}) with {len(left)} mutants not run: running them by name", flush=True)
        resumed.append(f"{len(left)} after {(time.monotonic() - t0) / 60:.1f} min (exit {done.returncode})")
        done = subprocess.run(mutmut_cmd("run", "--max-children", str(max_children), *left), cwd=ROOT, check=False)
    elapsed = time.monotonic() - t0
    (ROOT / "mutants" / "elapsed.txt").write_text(f"{elapsed:.0f} {os.getloadavg()[0]:.1f} {max_children}\n")
    (ROOT / "mutants" / "resumed.txt").write_text("; ".join(resumed))
    return elapsed


def results(scope: dict[str, list[tuple[str, str]]]) -> dict[str, dict[str, int | None]]:
    """module -> mutant name -> exit code, for the mutants in scope."""
    out: dict[str, dict[str, int | None]] = {}
    for group in scope.values():
        for module, pat in group:
            meta = ROOT / "mutants" / (module.replace(".", "/") + ".py.meta")
            if not meta.exists():
                continue
            codes = json.loads(meta.read_text())["exit_code_by_key"]
            for name, code in codes.items():
                if fnmatch.fnmatchcase(name, f"{module}.{pat}__mutmut_*"):
                    out.setdefault(module, {})[name] = code
    return out


def diff_of(name: str) -> str:
    """The mutant's change as ``- old`` / ``+ new`` lines (from ``mutmut show``)."""
    shown = subprocess.run(mutmut_cmd("show", name), cwd=ROOT, capture_output=True, text=True).stdout
    lines = [ln for ln in shown.splitlines() if ln[:1] in "+-" and not ln.startswith(("+++", "---"))]
    return " / ".join(ln.strip() for ln in lines)


def previous_section() -> tuple[dict[str, tuple[dict[str, int], str]], list[str], str | None]:
    """From RELIABILITY.md's mutation section: the module rows (module -> counts, and when
    and at which commit they were measured), the survivor lines and the "Last full run" line."""
    path = ROOT / "RELIABILITY.md"
    text = path.read_text() if path.exists() else ""
    start, end = "<!-- rel:mutation -->", "<!-- /rel:mutation -->"
    if start not in text or end not in text:
        return {}, [], None
    block = text[text.index(start):text.index(end)]
    dated = re.search(r"^- Date: (\d{4}-\d\d-\d\d)[^,]*, commit (\w+)", block, re.M)
    default_when = f"{dated.group(1)}, {dated.group(2)}" if dated else "?"
    rows: dict[str, tuple[dict[str, int], str]] = {}
    for line in block.splitlines():
        cells = [c.strip().strip("*") for c in line.strip().strip("|").split("|")]
        if not line.startswith("| ") or len(cells) < 6 or cells[1] in ("module", "all") or "/" not in cells[2]:
            continue
        killed, total = (int(x) for x in cells[2].split("/"))
        counts = {"killed": killed, "total": total, "survived": int(cells[4]), "no tests": int(cells[5])}
        rows["tasktui." + cells[1]] = (counts, cells[6] if len(cells) > 6 and cells[6] else default_when)
    survivors = [ln for ln in block.splitlines() if ln.startswith("- `tasktui.")]
    full = next((ln for ln in block.splitlines() if ln.startswith("- Last full run")), None)
    return rows, survivors, full


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--max-children", type=int, default=os.cpu_count() or 2)
    ap.add_argument("--report", action="store_true", help="only report the last run's results")
    ap.add_argument("--write", action="store_true", help="write the scores to RELIABILITY.md")
    ap.add_argument("--groups", nargs="+", metavar="GROUP",
                    help=f"run (or report) only these groups of SCOPE ({', '.join(SCOPE)})")
    ap.add_argument("--modules", nargs="+", metavar="MODULE",
                    help="and within them only these modules (e.g. store.store export.exporter)")
    args = ap.parse_args()
    scope = select(args.groups, args.modules)
    partial = scope != SCOPE

    elapsed = None if args.report else run_mutmut(scope, args.max_children)
    workers = args.max_children
    if elapsed is None and (ROOT / "mutants" / "elapsed.txt").exists():
        fields = (ROOT / "mutants" / "elapsed.txt").read_text().split()
        elapsed = float(fields[0])
        workers = int(fields[2]) if len(fields) > 2 else workers
    res = results(scope)
    equivalent: dict[str, str] = tomllib.loads(EQUIVALENT.read_text()) if EQUIVALENT.exists() else {}
    equivalent = {k: v["why"] for k, v in equivalent.get("mutant", {}).items()}
    now = datetime.now(timezone.utc)
    when = f"{now:%Y-%m-%d}, {git_rev()}"

    # module -> (counts, measured): this run's modules, and (for --write of a part of the
    # scope) the other modules' rows as RELIABILITY.md has them, with their own date
    measured: dict[str, tuple[dict[str, int], str]] = {}
    survivors: list[tuple[str, str]] = []
    unexplained: list[str] = []
    ok = True
    for gname, group in scope.items():
        g: dict[str, int] = defaultdict(int)
        for module in sorted({m for m, _ in group}):
            c: dict[str, int] = defaultdict(int)
            for name, code in res.get(module, {}).items():
                kind = "killed" if code in KILLED else "survived" if code in SURVIVED else \
                    "no tests" if code in NO_TESTS else "not run"
                c[kind] += 1
                c["total"] += 1
                if kind != "killed":
                    survivors.append((name, kind))
                    if name not in equivalent:
                        unexplained.append(name)
            for k, v in c.items():
                g[k] += v
            measured[module] = (c, when)
        score = g["killed"] / g["total"] if g["total"] else 0.0
        print(f"{gname}: {g['killed']} / {g['total']} killed ({100 * score:.1f} %) in this run")
        ok &= score >= TARGET
    old_rows, old_survivors, old_full = previous_section() if partial else ({}, [], None)
    ran = set(measured)
    for module, row in old_rows.items():
        measured.setdefault(module, row)

    lines = ["| group | module | killed / total | score | survived | no test reaches it | measured |",
             "|---|---|---:|---:|---:|---:|---|"]
    for gname, group in SCOPE.items():
        mods = [m for m in sorted({m for m, _ in group}) if m in measured]
        if not mods:
            continue
        g = defaultdict(int)
        for module in mods:
            c, at = measured[module]
            for k in ("killed", "total", "survived", "no tests"):
                g[k] += c.get(k, 0)
            lines.append(_row(gname, module, c, at, bold=False))
        ats = sorted({measured[m][1] for m in mods})
        lines.append(_row(gname, "all", g, ats[0] if len(ats) == 1 else "rows above", bold=True))
    table = "\n".join(lines)
    print()
    print(table)
    print()
    if survivors:
        print("Survivors (equivalent unless marked UNEXPLAINED):")
    surv_lines = []
    for name, kind in sorted(survivors):
        why = equivalent.get(name)
        change = diff_of(name) if kind != "not run" else "?"
        print(f"  {name} [{kind}] {change}\n      {why or 'UNEXPLAINED'}")
        surv_lines.append(f"- `{name}` ({kind}): `{change}` — {why or '**not explained yet**'}")
    if unexplained:
        ok = False
    # the survivors of the modules not run this time, as RELIABILITY.md lists them
    surv_lines += [ln for ln in old_survivors if not any(ln.startswith(f"- `{m}.") for m in ran)]
    surv_lines.sort()

    if args.write:
        took = f"{elapsed / 60:.1f} min with {workers} worker{'s' if workers != 1 else ''}" if elapsed else "time not recorded"
        total = sum(c["total"] for c, _ in (measured[m] for m in ran))
        cfg = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["mutmut"]
        tests = ", ".join(f"`{t}`" for t in cfg["pytest_add_cli_args_test_selection"])
        this_run = ", ".join(sorted(m.removeprefix("tasktui.") for m in ran))
        resumed_file = ROOT / "mutants" / "resumed.txt"
        resumed = resumed_file.read_text() if resumed_file.exists() else ""
        if resumed:
            took += f"; mutmut ended early and the mutants it had not run were run by name: {resumed}"
        if partial:
            sel = " ".join(filter(None, (
                f"--groups {' '.join(args.groups)}" if args.groups else "",
                f"--modules {' '.join(args.modules)}" if args.modules else "")))
            full = old_full or "- Last full run: not recorded"
            run_line = (f"- This run: {this_run} ({total} mutants, {took}; `bench/mutate.py {sel}`); "
                        "the other rows keep the date and commit they were measured at (column *measured*)\n")
        else:
            full = f"- Last full run: {now:%Y-%m-%d}, commit {git_rev()}, {total} mutants, {took}"
            run_line = ""
        body = (header("Mutation score of the modules that carry the promises (bench/mutate.py)",
                       "make mutate  (= .venv/bin/python bench/mutate.py --write)")
                + run_line + full.rstrip() + "\n"
                + f"- mutmut 3; each mutant runs only the tests among {tests} that call the mutated function\n"
                + "- In scope: every function of the modules below, except in `api.transport` (only `scrub`, "
                  "`excerpt`, `malformed`, the error texts and the URL helpers: the request loop is tested by "
                  "the whole api suite), `server.queries` (only the query-string parsing, the page tokens and "
                  "`_range_terms`: the SQL runs on a server), `store.store` (only the stale-answer handling: "
                  "`_bump`, `_wait`, `_load_from`, `_scan`, `_count_scan`, `load_more`, `_fetch_more`, "
                  "`load_previous`, `_fetch_previous`) and `export.exporter` (only the resume: `prepare`, "
                  "`_check_resumable`, `run`, `_pages`, `_encode_page`, `_run_file`); `text._char_class` and "
                  "`text._utf8_leads` run only at import and are not mutated\n"
                + f"- Target: at least {TARGET:.0%} killed per group\n\n"
                + table + "\n\n"
                + ("Surviving mutants, each equivalent to the original (why after the dash), except any marked "
                   "NOT equivalent: no test with real parts can reach them (bench/mutants_equivalent.toml says why):\n\n"
                   + "\n".join(surv_lines) if surv_lines else "No surviving mutant.") + "\n")
        update_reliability("mutation", body)
    print("OK" if ok else f"NOT OK: a group under {TARGET:.0%} or {len(unexplained)} survivor(s) unexplained")
    return 0 if ok else 1


def _row(gname: str, module: str, c: dict[str, int], at: str, *, bold: bool) -> str:
    total = c.get("total", 0)
    pct = f"{100 * c.get('killed', 0) / total:.1f} %" if total else "-"
    b = "**" if bold else ""
    return (f"| {gname} | {b}{module.removeprefix('tasktui.')}{b} | {b}{c.get('killed', 0)} / {total}{b} "
            f"| {b}{pct}{b} | {c.get('survived', 0)} | {c.get('no tests', 0)} | {at} |")


if __name__ == "__main__":
    raise SystemExit(main())
