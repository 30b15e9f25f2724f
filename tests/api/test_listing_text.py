"""A listing's tasks are kept as the JSON text the server sent (``api.listing``) and
parsed when a field is first read: the tasks must be the server's all the same, whatever
legal JSON it writes (indented over many lines, numbers beyond 64 bits or a double's
range), and text that is not JSON is still refused. Oracles: the server's answers read
with plain httpx, literals."""

from __future__ import annotations

import httpx
import orjson
import pytest

from tasktui.api import MalformedResponseError, RetryPolicy, TaskClient
from tasktui.domain import TaskQuery
from tasktui.testing import Fault

THREE = RetryPolicy(max_attempts=3, base_delay=0.001, max_delay=0.01, total_time=10, seed=1)


def served_page(handle, api_key, **params) -> list[dict]:
    with httpx.Client(base_url=handle.url, auth=(api_key, ""), timeout=30) as c:
        r = c.get("/tasks", params=params)
        assert r.status_code == 200
        return r.json()["docs"]


async def test_a_task_keeps_the_servers_text_until_a_field_is_read(shared_server, api_key):
    want = served_page(shared_server, api_key, limit=100, project="Receipts OCR")
    async with TaskClient(shared_server.url, api_key) as c:
        page = await c.list_tasks(TaskQuery(projects=("Receipts OCR",)), limit=100)
    assert [t.task_id for t in page.tasks] == [d["task_id"] for d in want]
    first = page.tasks[0]
    # the text as sent (the bundled server writes compact JSON, as orjson does)
    assert bytes(first.json_text()) == orjson.dumps(want[0])
    assert first.raw == want[0]
    assert first.json_text() is None, "once parsed, the objects are what counts"
    assert [t.raw for t in page.tasks] == want


async def test_an_indenting_server_gives_the_same_tasks(shared_server, proxy_for, api_key):
    want = served_page(shared_server, api_key, limit=100, project="Street Scenes")
    proxy = await proxy_for(shared_server)
    proxy.set_rate(1.0, (Fault.indent(),), match="GET /v1/tasks")
    async with TaskClient(proxy.url, api_key) as c:
        page = await c.list_tasks(TaskQuery(projects=("Street Scenes",)), limit=100)
    assert proxy.stats.faults >= 1, "the answer was indented"
    assert [t.raw for t in page.tasks] == want


BEYOND = (b'{"docs": [{"task_id": "t-big", "status": "completed", '
          b'"metadata": {"score": 1e400, "count": 1180591620717411303424, "tiny": -1e-400}}], '
          b'"total": 1, "has_more": false}')


async def test_numbers_beyond_64_bits_and_a_doubles_range_are_read(shared_server, proxy_for, api_key):
    """orjson refuses 1e400; the stdlib reads it as infinity. Such a task is shown, not lost."""
    proxy = await proxy_for(shared_server)
    proxy.set_rate(1.0, (Fault.custom(BEYOND),), match="GET /v1/tasks")
    async with TaskClient(proxy.url, api_key) as c:
        page = await c.list_tasks(TaskQuery(), limit=100)
    (task,) = page.tasks
    assert task.task_id == "t-big" and task.status == "completed"
    assert task.metadata == {"score": float("inf"), "count": 2 ** 70, "tiny": -0.0}


async def test_text_that_is_not_utf8_is_refused_as_before(shared_server, proxy_for, api_key):
    body = b'{"docs": [{"task_id": "t1", "status": "pending", "metadata": {"n": "caf\xe9"}}], "total": 1}'
    proxy = await proxy_for(shared_server)
    proxy.set_rate(1.0, (Fault.custom(body),), match="GET /v1/tasks")
    async with TaskClient(proxy.url, api_key, retry=THREE) as c:
        with pytest.raises(MalformedResponseError) as ei:
            await c.list_tasks(TaskQuery(), limit=100)
    assert "not valid JSON" in str(ei.value)
