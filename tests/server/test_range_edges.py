"""The bounds of every time range, tested on the server at a task's exact timestamp:
``start_time`` / ``completed_after`` / ``updated_after`` include the instant,
``end_time`` / ``completed_before`` / ``updated_before`` exclude it (docs/architecture.md,
"Range semantics"). Oracle: the millisecond timestamps read from the SQLite database
with plain SQL, and the set of task ids the same bounds select there."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import httpx
import pytest

RANGES = [  # (lower parameter, upper parameter, column)
    ("start_time", "end_time", "created_at"),
    ("completed_after", "completed_before", "completed_at"),
    ("updated_after", "updated_before", "updated_at"),
]
WINDOW_MS = 6 * 3600 * 1000  # wide enough to hold several tasks around the probe


def _wire(ms: int) -> str:
    dt = datetime(1970, 1, 1, tzinfo=timezone.utc) + timedelta(milliseconds=ms)
    return dt.strftime("%Y-%m-%dT%H:%M:%S.") + f"{ms % 1000:03d}Z"


def _ids(server, api_key, params: dict) -> set[str]:
    out: set[str] = set()
    token = None
    with httpx.Client(timeout=30) as c:
        for _ in range(100):
            q = dict(params, limit=100, **({"next_token": token} if token else {}))
            r = c.get(f"{server.url}/tasks", params=q, auth=(api_key, ""))
            assert r.status_code == 200, r.text
            body = r.json()
            out |= {d["task_id"] for d in body["docs"]}
            token = body["next_token"]
            if not body["has_more"]:
                return out
    raise AssertionError("more than 100 pages for one window")


@pytest.mark.parametrize("lower,upper,column", RANGES)
def test_lower_bound_includes_and_upper_bound_excludes_an_exact_task_timestamp(
        shared_server, api_key, sql, lower, upper, column):
    rows = sql(shared_server, f"SELECT task_id, {column} FROM tasks WHERE {column} IS NOT NULL "
                              f"ORDER BY {column} LIMIT 1 OFFSET 200")
    assert rows, f"no task has {column}"
    probe_id, t = rows[0]
    # upper bound at the probe's instant: the probe is left out
    below = _ids(shared_server, api_key, {lower: _wire(t - WINDOW_MS), upper: _wire(t)})
    expected_below = {r[0] for r in sql(shared_server, f"SELECT task_id FROM tasks WHERE {column} >= ? "
                                                       f"AND {column} < ?", t - WINDOW_MS, t)}
    assert probe_id not in below
    assert below == expected_below and expected_below, "the window must hold tasks to compare"
    # lower bound at the probe's instant: the probe is in
    above = _ids(shared_server, api_key, {lower: _wire(t), upper: _wire(t + WINDOW_MS)})
    expected_above = {r[0] for r in sql(shared_server, f"SELECT task_id FROM tasks WHERE {column} >= ? "
                                                       f"AND {column} < ?", t, t + WINDOW_MS)}
    assert probe_id in above
    assert above == expected_above
