"""SIGKILL the bundled server (its own process) in the middle of writes, restart it on
the same file: SQLite's integrity check passes and every write acknowledged with a 200
is in the database. The larger run: ``bench/bench_crash.py``."""

from __future__ import annotations

from pathlib import Path

from tasktui.testing.crash import run_crash
from tasktui.server import seed_database


def test_sigkill_mid_write_keeps_every_acknowledged_write(tmp_path: Path) -> None:
    db = tmp_path / "crash.db"
    # Enough tasks that round 1 (several hundred writes a second on an idle machine)
    # cannot use up every Queued and Ready-to-Audit task before round 2.
    seed_database(db, 8000, seed=5)
    res = run_crash(db, rounds=2, writers=4, kill_window=(0.5, 1.5), seed=11,
                    log_path=tmp_path / "server.log",
                    weights={"accept": 1, "reject": 1, "fix": 1, "cancel": 1})
    assert len(res.rounds) == 2
    for r in res.rounds:
        assert r.acked > 0, "no write was acknowledged before the kill: the test proved nothing"
        assert r.integrity == "ok"
        assert r.errors == []
        assert r.problems == [], r.problems[:5]
    # each kind of write was acknowledged at least once and survived
    assert {a.op for a in res.acks} == {"accept", "reject", "fix", "cancel"}
    assert res.final_integrity == "ok"
    assert res.final_problems == []
