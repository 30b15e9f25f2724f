"""Helpers of the console-side index tests (part B of issue 12): an index made the way an
operator makes one — ``tasktui.index.sync.sync_index`` reading the bundled server through
the public-contract proxy — and the answers of the bundled server itself, the oracle."""

from __future__ import annotations

from pathlib import Path

from tasktui.api import RetryPolicy, TaskClient
from tasktui.domain import AuditStatus, OperatorStatus, SortOrder, TaskQuery
from tasktui.index.db import open_index
from tasktui.index.scope import SyncScope
from tasktui.index.sync import sync_index
from tasktui.testing import FaultProxy

FAST = RetryPolicy(max_attempts=4, base_delay=0.002, max_delay=0.02, total_time=20, seed=3)


async def make_index(handle, path: Path, scope: SyncScope | None = None) -> Path:
    """Sync ``handle``'s tasks into a new index at ``path`` through the public-contract
    proxy (only standard parameters reach the server: a refused request fails here)."""
    proxy = FaultProxy(handle.url, public_contract=True)
    await proxy.start()
    try:
        conn = open_index(path)
        try:
            async with TaskClient(proxy.url, handle.api_key, retry=FAST) as c:
                await sync_index(c, conn, scope or SyncScope(), origin=handle.url)
        finally:
            conn.close()
        assert proxy.refused == [], proxy.refused
    finally:
        await proxy.stop()
    return path


def sidebar_queries(project: str, other_project: str, tag: str, search: str) -> dict[str, TaskQuery]:
    """Every filter of the sidebar (and the ones the real API cannot answer), by name."""
    qs: dict[str, TaskQuery] = {"all": TaskQuery(), "oldest first": TaskQuery(order=SortOrder.OLDEST)}
    for s in OperatorStatus:
        qs[f"status {s.value}"] = TaskQuery(statuses=frozenset({s}))
    for a in AuditStatus:
        qs[f"audit {a.value}"] = TaskQuery(audit_statuses=frozenset({a}))
    qs["queued+redo"] = TaskQuery(statuses=frozenset({OperatorStatus.QUEUED, OperatorStatus.REDO}))
    qs["project"] = TaskQuery(projects=(project,))
    qs["two projects"] = TaskQuery(projects=(project, other_project))
    qs["tag"] = TaskQuery(tags=(tag,))
    qs["search prefix"] = TaskQuery(search=search)
    qs["queued oldest in a project"] = TaskQuery(statuses=frozenset({OperatorStatus.QUEUED}), projects=(project,),
                                                 order=SortOrder.OLDEST)
    return qs
