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
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench._report import header, update_reliability  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
EQUIVALENT = ROOT / "bench" / "mutants_equivalent.toml"
TARGET = 0.90

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
    "export": [("tasktui.export.checkpoint", "*")],
    "store": [("tasktui.store.window", "*")],
    # the query-string parsing, the page tokens and the range bounds (the SQL runs on a server)
    "server": [("tasktui.server.queries", p) for p in (
        "x_parse_time", "x_parse_bool", "x_parse_int", "x_parse_list_query", "x_encode_token",
        "x_decode_token", "x__range_terms")],
}

KILLED = {1, 3, 36, 37, -24, 24, 152, 255, -11, -9}  # failed, pytest error, timeout, crash
SURVIVED = {0}
NO_TESTS = {5, 33}


def patterns() -> list[str]:
    return [f"{module}.{pat}__mutmut_*" for group in SCOPE.values() for module, pat in group]


def run_mutmut(max_children: int) -> float:
    if (ROOT / "mutants").exists():
        # mutmut reuses mutants/ incrementally; a clean copy keeps the tests' view current
        subprocess.run(["rm", "-rf", str(ROOT / "mutants")], check=True)
    t0 = time.monotonic()
    cmd = [str(Path(sys.executable).with_name("mutmut")), "run", "--max-children", str(max_children), *patterns()]
    print("$", " ".join(cmd[:4]), f"<{len(cmd) - 4} name patterns>", flush=True)
    subprocess.run(cmd, cwd=ROOT, check=False)
    elapsed = time.monotonic() - t0
    (ROOT / "mutants" / "elapsed.txt").write_text(f"{elapsed:.0f} {os.getloadavg()[0]:.1f}\n")
    return elapsed


def results() -> dict[str, dict[str, int | None]]:
    """module -> mutant name -> exit code, for the mutants in scope."""
    out: dict[str, dict[str, int | None]] = {}
    for group in SCOPE.values():
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
    shown = subprocess.run([str(Path(sys.executable).with_name("mutmut")), "show", name], cwd=ROOT,
                           capture_output=True, text=True).stdout
    lines = [ln for ln in shown.splitlines() if ln[:1] in "+-" and not ln.startswith(("+++", "---"))]
    return " / ".join(ln.strip() for ln in lines)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--max-children", type=int, default=os.cpu_count() or 2)
    ap.add_argument("--report", action="store_true", help="only report the last run's results")
    ap.add_argument("--write", action="store_true", help="write the scores to RELIABILITY.md")
    args = ap.parse_args()

    elapsed = None if args.report else run_mutmut(args.max_children)
    if elapsed is None and (ROOT / "mutants" / "elapsed.txt").exists():
        elapsed = float((ROOT / "mutants" / "elapsed.txt").read_text().split()[0])
    res = results()
    equivalent: dict[str, str] = tomllib.loads(EQUIVALENT.read_text()) if EQUIVALENT.exists() else {}
    equivalent = {k: v["why"] for k, v in equivalent.get("mutant", {}).items()}

    rows = []
    survivors: list[tuple[str, str]] = []
    unexplained: list[str] = []
    ok = True
    for gname, group in SCOPE.items():
        mods = sorted({m for m, _ in group})
        g = defaultdict(int)
        for module in mods:
            c = defaultdict(int)
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
            rows.append((gname, module, c))
        score = g["killed"] / g["total"] if g["total"] else 0.0
        ok &= score >= TARGET
        rows.append((gname, "all", g))

    lines = ["| group | module | killed / total | score | survived | no test reaches it |",
             "|---|---|---:|---:|---:|---:|"]
    for gname, module, c in rows:
        total = c["total"]
        pct = f"{100 * c['killed'] / total:.1f} %" if total else "-"
        bold = "**" if module == "all" else ""
        lines.append(f"| {gname} | {bold}{module.removeprefix('tasktui.')}{bold} | {bold}{c['killed']} / {total}{bold} "
                     f"| {bold}{pct}{bold} | {c['survived']} | {c['no tests']} |")
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

    if args.write:
        took = f", {elapsed / 60:.1f} min with {args.max_children} workers" if elapsed else ""
        cfg = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["mutmut"]
        tests = ", ".join(f"`{t}`" for t in cfg["pytest_add_cli_args_test_selection"])
        body = (header("Mutation score of the modules that carry the promises (bench/mutate.py)",
                       "make mutate  (= .venv/bin/python bench/mutate.py --write)")
                + f"- mutmut 3{took}; each mutant runs only the tests among {tests} that call the mutated function\n"
                + "- In scope: every function of the modules below, except in `api.transport` (only `scrub`, "
                  "`excerpt`, `malformed`, the error texts and the URL helpers: the request loop is tested by "
                  "the whole api suite) and `server.queries` (only the query-string parsing, the page tokens and "
                  "`_range_terms`: the SQL runs on a server); `text._char_class` and `text._utf8_leads` run only "
                  "at import and are not mutated\n"
                + f"- Target: at least {TARGET:.0%} killed per group\n\n"
                + table + "\n\n"
                + ("Surviving mutants, each equivalent to the original (why after the dash):\n\n"
                   + "\n".join(surv_lines) if surv_lines else "No surviving mutant.") + "\n")
        update_reliability("mutation", body)
    print("OK" if ok else f"NOT OK: a group under {TARGET:.0%} or {len(unexplained)} survivor(s) unexplained")
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
