"""Bundled server: a larger schemathesis run than the test suite's, driven by the
server's own ``/v1/openapi.json`` (every operation, positive and negative examples,
stateful links off), against 20,000 demo tasks.

    .venv/bin/python -m bench.bench_server_fuzz                 # 300 examples per operation
    .venv/bin/python -m bench.bench_server_fuzz --max-examples 1000

Writes the ``server-fuzz`` section of BENCHMARKS.md: operations, test cases generated,
failures (no 5xx, status codes / content types / schemas as documented).
"""

from __future__ import annotations

import argparse
import base64
import json
import os
import re
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timezone
from pathlib import Path

import httpx

from bench._report import header, write_section
from tasktui.server import seed_database, start_server_thread

KEY = "fuzz-bench-key"
NOW = datetime(2026, 11, 20, 12, 0, tzinfo=timezone.utc)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--max-examples", type=int, default=300)
    ap.add_argument("--tasks", type=int, default=20_000)
    ap.add_argument("--no-write", action="store_true")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-fuzz-") as tmp:
        db = Path(tmp) / "fuzz.db"
        seed_database(db, args.tasks, seed=5, now=NOW)
        handle = start_server_thread(db, [KEY])
        try:
            spec = httpx.get(handle.url + "/openapi.json", auth=(KEY, "")).json()
            spec_path = Path(tmp) / "openapi.json"
            spec_path.write_text(json.dumps(spec))
            token = base64.b64encode(f"{KEY}:".encode()).decode()
            junit = Path(tmp) / "junit.xml"
            cmd = [str(Path(sys.executable).with_name("schemathesis")), "run", str(spec_path), "--url", handle.url,
                   "-H", f"Authorization: Basic {token}", "--max-examples", str(args.max_examples),
                   "--exclude-checks", "positive_data_acceptance", "--seed", "1",
                   "--phases", "examples,coverage,fuzzing", "--report", "junit",
                   "--report-junit-path", str(junit), "--no-color"]
            t0 = time.perf_counter()
            r = subprocess.run(cmd, capture_output=True, text=True, env={**os.environ, "NO_COLOR": "1"})
            elapsed = time.perf_counter() - t0
        finally:
            handle.stop()
        out = r.stdout + r.stderr
        junit_text = junit.read_text() if junit.exists() else ""
    m = re.search(r'tests="(\d+)"[^>]*failures="(\d+)"', junit_text) or re.search(
        r'failures="(\d+)"[^>]*tests="(\d+)"', junit_text)
    cases = re.search(r"Test cases:\s*(\S.*)", out)
    summary = [ln.strip() for ln in out.splitlines() if re.search(r"(passed|failed|Test cases|Operations)", ln)]
    failures_block = "\n".join(ln for ln in out.splitlines() if re.search(r"^\s*(-|\d+\.)\s|ST\d{3}", ln))[:3000]
    lines = [header("Bundled server: schemathesis fuzzing (larger run)", ".venv/bin/python -m bench.bench_server_fuzz"),
             f"- {args.tasks:,} demo tasks; up to {args.max_examples} examples per operation; phases examples, "
             "coverage, fuzzing; every check except positive_data_acceptance (business rules answer 400 to "
             "schema-valid requests by contract, e.g. cancel of a completed task).",
             f"- Exit status {r.returncode} ({'no failures' if r.returncode == 0 else 'FAILURES, see below'}), "
             f"{elapsed:.0f} s.",
             f"- Test cases: {cases.group(1).strip() if cases else '?'}",
             ""]
    if summary:
        lines += ["```", *summary[-8:], "```"]
    if r.returncode != 0 and failures_block:
        lines += ["", "Failures:", "```", failures_block, "```"]
    body = "\n".join(lines)
    if args.no_write:
        print(body)
    else:
        write_section("server-fuzz", body)
    return 0 if r.returncode == 0 else 1


if __name__ == "__main__":
    raise SystemExit(main())
