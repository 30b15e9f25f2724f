"""Pages handed out as they arrive (``iter_pages_sliced(in_order=False)``, what
``tasktui sync`` reads with): every task exactly once, the last page handed out ends the
listing, each page's cursor is a place to resume from without losing a task, and its
``covered`` counts the tasks that resume leaves behind — both
against the public contract (slices sized from totals) and with the bundled server's
extensions (day slices, pages of 1,000). Some answers are delayed at random (seeded) so
that slices finish out of order. Oracle: the server's SQLite."""

from __future__ import annotations

import pytest

from tasktui.api import TaskClient
from tasktui.domain import TaskQuery
from tasktui.testing import Fault

from .conftest import BIG_N


async def _read(client, **kw) -> list:
    return [p async for p in client.iter_pages_sliced(TaskQuery(), min_tasks=0, in_order=False, **kw)]


@pytest.mark.parametrize("public", [True, False])
async def test_pages_as_they_arrive_every_task_once_and_every_cursor_resumes(
        big_server, proxy_for, sql, fast_retry, public):
    want = {r[0] for r in sql(big_server, "SELECT task_id FROM tasks")}
    assert len(want) == BIG_N
    proxy = await proxy_for(big_server, public_contract=public, seed=5)
    proxy.set_rate(0.3, (Fault.slow(0.05),), match="GET /v1/tasks")
    limit = 100 if public else 1000
    async with TaskClient(proxy.url, big_server.api_key, retry=fast_retry) as c:
        pages = await _read(c, limit=limit)
        ids = [t.task_id for p in pages for t in p.tasks]
        assert len(ids) == len(set(ids)) and set(ids) == want, "every task once"
        assert [p.has_more for p in pages] == [True] * (len(pages) - 1) + [False], "the last page ends it"
        covered = [p.covered for p in pages]
        assert covered == sorted(covered) and covered[-1] == BIG_N, "the count before the cursor only grows"
        newest = [max(t.created_at for t in p.tasks) for p in pages if p.tasks]
        assert any(b > a for a, b in zip(newest, newest[1:])), "slices finished out of listing order"
        # resuming after any page loses nothing (pages of later slices may come again)
        for k in (0, len(pages) // 3, len(pages) // 2, len(pages) - 2):
            before = {t.task_id for p in pages[:k + 1] for t in p.tasks}
            rest = [t.task_id for p in await _read(c, limit=limit, start_cursor=pages[k].next_token)
                    for t in p.tasks]
            assert before | set(rest) == want, k
            assert len(rest) == len(set(rest))
            # what the cursor leaves behind is exactly the count it was handed out with
            assert pages[k].covered == len(want - set(rest)), k
    assert proxy.refused == []
