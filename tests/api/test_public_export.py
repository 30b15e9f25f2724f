"""The export's path through the public contract: its start instant comes from the
listing's own first page (no request of its own), the sliced reader sizes its slices from
that page, and ``tasktui export`` runs 16 chains by default. Oracles: the server's SQLite
(tests/sql_oracle.py) and what the public-contract proxy saw."""

from __future__ import annotations

import asyncio
import os
import sys
from datetime import datetime, timedelta, timezone
from pathlib import Path

import orjson

from sql_oracle import expected_ids
from tasktui.api import TaskClient
from tasktui.domain import OperatorStatus, TaskQuery

from .conftest import BIG_N

ROOT = Path(__file__).resolve().parents[2]


def _newest_times(sql, handle, n: int) -> list[int]:
    return [r[0] for r in sql(handle, f"SELECT created_at FROM tasks ORDER BY created_at DESC LIMIT {n}")]


def _at(ms: int) -> datetime:
    return datetime(1970, 1, 1, tzinfo=timezone.utc) + timedelta(milliseconds=ms)


async def _read(client: TaskClient, q: TaskQuery, **kw) -> tuple[list[str], set[int]]:
    ids: list[str] = []
    totals: set[int] = set()
    async for page in client.iter_pages_sliced(q, min_tasks=0, **kw):
        ids += [t.task_id for t in page.tasks]
        totals.add(page.total)
    return ids, totals


async def test_a_head_read_before_the_bound_spares_the_first_request(big_server, proxy_for, sql, fast_retry):
    """The head of the unbounded listing, then a read bounded 30 tasks below its top: the
    30 newer tasks are left out, the total is exact, and the read makes one request less
    than the same read without the head (the head itself is never handed out)."""
    proxy = await proxy_for(big_server, public_contract=True)
    times = _newest_times(sql, big_server, 31)
    cut = _at(times[30])
    q = TaskQuery(end=cut)
    want = expected_ids(big_server.db_path, q)
    assert 0 < len(want) <= BIG_N - 30
    async with TaskClient(proxy.url, big_server.api_key, retry=fast_retry) as c:
        await c.discover()
        proxy.reset_stats()
        head = await c.head(TaskQuery())
        assert len(head.page.tasks) == 100 and head.page.total == BIG_N
        ids, totals = await _read(c, q, head=head)
        with_head = proxy.stats.requests
        proxy.reset_stats()
        again, totals2 = await _read(c, q)
        without = proxy.stats.requests
    assert ids == want and again == want
    assert totals == totals2 == {len(want)}
    assert with_head == without, (with_head, without)  # the head replaced the first request
    assert proxy.refused == []


async def test_a_head_that_cannot_tell_the_bounded_size_is_not_used(big_server, proxy_for, sql, fast_retry):
    """Bound 150 tasks below the top: every task of the head (100) lies past the bound, so
    it says nothing about the bounded listing — it is asked for afresh, still exact."""
    proxy = await proxy_for(big_server, public_contract=True)
    cut = _at(_newest_times(sql, big_server, 151)[150])
    q = TaskQuery(end=cut)
    want = expected_ids(big_server.db_path, q)
    async with TaskClient(proxy.url, big_server.api_key, retry=fast_retry) as c:
        head = await c.head(TaskQuery())
        ids, totals = await _read(c, q, head=head)
        # a head of other filters (here: Completed only) is not taken for this listing
        other = await c.head(TaskQuery(statuses=frozenset({OperatorStatus.COMPLETED})))
        ids2, totals2 = await _read(c, TaskQuery(end=_at(_newest_times(sql, big_server, 31)[30])), head=other)
    assert ids == want and totals == {len(want)}
    want2 = expected_ids(big_server.db_path, TaskQuery(end=_at(_newest_times(sql, big_server, 31)[30])))
    assert ids2 == want2 and totals2 == {len(want2)}
    assert proxy.refused == []


async def test_tasktui_export_runs_16_chains_and_asks_nothing_twice(big_server, proxy_for, sql, tmp_path):
    """`tasktui export` through the public contract with 50 ms per request: 16 requests in
    flight at once (the export's default), no request of its own for the start instant
    (none with limit=1), every task once and in order."""
    proxy = await proxy_for(big_server, public_contract=True, latency=0.05)
    out = tmp_path / "all.ndjson"
    env = {k: v for k, v in os.environ.items() if k not in ("SCALE_API_KEY", "TASKTUI_API_URL")}
    env["TASKTUI_CONFIG"] = str(tmp_path / "no-config.toml")
    env["TASKTUI_DATA_DIR"] = str(tmp_path / "data")
    p = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "tasktui", "export", "-q", "-o", str(out), "--api-url", proxy.url,
        "--api-key", big_server.api_key, cwd=ROOT, env=env,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
    _, err = await asyncio.wait_for(p.communicate(), 120)
    assert p.returncode == 0, err
    ids = [orjson.loads(line)["task_id"] for line in out.read_bytes().splitlines()]
    assert ids == expected_ids(big_server.db_path, TaskQuery())
    assert proxy.stats.max_in_flight == 16, proxy.stats.max_in_flight
    lines = [s.request_line for s in proxy.log]
    assert not any("limit=1 " in line or "limit=1&" in line for line in lines), lines[:3]
    assert len(lines) == len(set(lines))  # no page asked for twice
    assert proxy.refused == []
