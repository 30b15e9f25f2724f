"""The sandbox database is demo data that tasktui makes itself, so it must never be left
half-made or broken: a first run that cannot write it (full disk, file-size limit) fails in
words and leaves nothing; a damaged one found at start is moved aside and seeded anew,
saying so; two first runs at once do not trip over each other (one seeds, the other
waits). Each runs the real CLI in a subprocess; the failures are made for real
(RLIMIT_FSIZE, bytes overwritten, two processes started together)."""

from __future__ import annotations

import json
import os
import resource
import signal
import sqlite3
import subprocess
import time
from pathlib import Path

import pytest

pytestmark = pytest.mark.skipif(os.name != "posix", reason="rlimits, flock and signals are POSIX")

SEED = 3000  # sandbox_seed for these tests: big enough that seeding takes a moment


def quick_check(db: Path) -> str:
    conn = sqlite3.connect(db)
    try:
        return conn.execute("PRAGMA quick_check").fetchone()[0]
    finally:
        conn.close()


def task_count(db: Path) -> int:
    conn = sqlite3.connect(db)
    try:
        return conn.execute("SELECT COUNT(*) FROM tasks").fetchone()[0]
    finally:
        conn.close()


def file_size_limit(limit: int):
    def pre() -> None:
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # writes past the limit fail with EFBIG
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))
    return pre


def export_all(cli, out: Path, **kw) -> subprocess.CompletedProcess:
    return cli.run("export", "--no-simulate", "--no-progress", "-o", str(out), **kw)


def exported_count(out: Path) -> int:
    return len(json.loads(out.read_text()))


@pytest.fixture
def small_sandbox(cli):
    cli.data.mkdir(parents=True)
    cli.write_config(f"sandbox_seed = {SEED}\n")
    return cli


def test_a_first_run_that_cannot_write_fails_in_words_and_the_next_run_rebuilds(small_sandbox, tmp_path):
    cli = small_sandbox
    db = cli.data / "sandbox.db"
    out = tmp_path / "out.json"
    r = export_all(cli, out, preexec_fn=file_size_limit(1_000_000))
    assert r.returncode == 1, r.stderr
    assert "Sandbox ready" not in r.stderr
    assert "file-size limit" in r.stderr and "could not create the sandbox database" in r.stderr, r.stderr
    assert "cannot rollback" not in r.stderr.replace("(cannot rollback", "")  # not the only words
    leftovers = sorted(p.name for p in cli.data.iterdir() if p.name.startswith("sandbox.db"))
    assert leftovers in ([], ["sandbox.db.lock"]), leftovers  # nothing half-made
    assert not out.exists()
    # space is back: a normal run makes a sound sandbox and exports every demo task
    r = export_all(cli, out)
    assert r.returncode == 0, r.stderr
    assert quick_check(db) == "ok" and exported_count(out) == SEED == task_count(db)


def test_a_damaged_sandbox_is_moved_aside_and_seeded_again(small_sandbox, tmp_path):
    cli = small_sandbox
    db = cli.data / "sandbox.db"
    out = tmp_path / "out.json"
    assert export_all(cli, out).returncode == 0
    size = db.stat().st_size
    with open(db, "r+b") as f:  # overwrite pages in the middle (the header stays valid)
        for off in range(size // 3, size // 3 + 64 * 4096, 4096):
            f.seek(off)
            f.write(os.urandom(512))
    assert quick_check(db) != "ok"
    out.unlink()
    r = export_all(cli, out)
    assert r.returncode == 0, r.stderr
    assert "damaged" in r.stderr and "sandbox.db.broken-" in r.stderr, r.stderr
    aside = [p for p in cli.data.iterdir() if p.name.startswith("sandbox.db.broken-")]
    assert len(aside) == 1 and aside[0].stat().st_size == size
    assert quick_check(db) == "ok" and exported_count(out) == SEED


def test_a_sandbox_file_that_is_not_a_database_is_rebuilt(small_sandbox, tmp_path):
    cli = small_sandbox
    db = cli.data / "sandbox.db"
    db.write_bytes(b"this is not SQLite" * 1000)
    r = cli.run("get", "nope", "--no-simulate")
    assert r.returncode == 4, r.stderr  # the rebuilt sandbox answered: no such task
    assert "damaged" in r.stderr and "not a database" in r.stderr, r.stderr
    assert quick_check(db) == "ok" and task_count(db) == SEED


def test_two_first_runs_at_once_one_seeds_the_other_waits(small_sandbox, tmp_path):
    cli = small_sandbox
    outs = [tmp_path / "a.json", tmp_path / "b.json"]
    procs = [cli.popen("export", "--no-simulate", "-o", str(o)) for o in outs]
    results = []
    for p in procs:
        stdout, stderr = p.communicate(timeout=120)
        results.append((p.returncode, stderr))
    for code, err in results:
        assert code == 0, err
        assert "readonly" not in err and "rollback" not in err, err
    assert sum("First run" in err for _, err in results) == 1, results
    assert [exported_count(o) for o in outs] == [SEED, SEED]
    names = sorted(p.name for p in cli.data.iterdir())
    assert not [n for n in names if "partial" in n], names
    assert quick_check(cli.data / "sandbox.db") == "ok"


def test_an_export_from_the_sandbox_says_its_attachment_urls_end_with_the_run(small_sandbox, tmp_path):
    out = tmp_path / "all.json"
    r = export_all(small_sandbox, out)
    assert r.returncode == 0, r.stderr
    urls = {t["params"]["attachment"] for t in json.loads(out.read_text()) if "attachment" in t.get("params", {})}
    origins = {u.split("/v1/media/")[0] for u in urls if "/v1/media/" in u}
    (origin,) = origins  # one server, on a port of this run
    assert origin.startswith("http://127.0.0.1:")
    assert (f"note: Its attachment URLs point at this run's local sandbox ({origin}) and stop working "
            "when tasktui exits") in r.stderr
    assert "tasktui serve --db " in r.stderr
