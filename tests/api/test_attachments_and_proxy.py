"""Attachment fetches (key only on the API's own origin, size cap) and the fault proxy
itself (transparent when quiet, counts what it does, usable from synchronous code)."""

from __future__ import annotations

import asyncio

import httpx
import pytest

from tasktui.api import AttachmentTooLargeError, AuthError, InvalidRequestError, TaskClient, UnsupportedError
from tasktui.domain import TaskQuery
from tasktui.testing import Fault, FaultProxy, Gate


async def _with_attachment(client: TaskClient):
    async for t in client.iter_tasks(TaskQuery(types=("imageannotation",))):
        if t.attachment:
            return t
    raise AssertionError("the seed has image tasks with attachments")


async def test_attachment_on_the_api_origin_is_fetched_with_the_key(client):
    task = await _with_attachment(client)
    assert task.attachment.startswith(client.origin)
    att = await client.fetch_attachment(task.attachment)
    assert att.content and att.content_type and att.content_type.startswith("image/")
    assert att.content.startswith((b"\x89PNG", b"\xff\xd8"))


async def test_attachment_elsewhere_is_fetched_without_the_key(shared_server, proxy_for, client):
    # The proxy is another origin in front of the same server: if the key were sent,
    # the server would answer; without it, it refuses with 401.
    proxy = await proxy_for(shared_server)
    task = await _with_attachment(client)
    elsewhere = proxy.origin + task.attachment[len(client.origin):]
    with pytest.raises(InvalidRequestError, match="refused access \\(HTTP 401\\)") as ei:
        await client.fetch_attachment(elsewhere)
    assert not isinstance(ei.value, AuthError)  # not "check your API key": none was sent
    assert proxy.stats.passed == 1


async def test_attachment_size_cap_and_schemes(client):
    task = await _with_attachment(client)
    with pytest.raises(AttachmentTooLargeError, match="allowed for a preview"):
        await client.fetch_attachment(task.attachment, max_bytes=100)
    with pytest.raises(UnsupportedError, match="only http:// and https://"):
        await client.fetch_attachment("file:///etc/passwd")
    # a path relative to the API's origin works too
    rel = task.attachment[len(client.origin):]
    assert (await client.fetch_attachment(rel)).content


async def test_quiet_proxy_is_transparent_and_counts(shared_server, proxy_for, fast_retry):
    proxy = await proxy_for(shared_server)
    async with TaskClient(shared_server.url, shared_server.api_key) as direct, \
            TaskClient(proxy.url, shared_server.api_key, retry=fast_retry) as via:
        a = [t.raw async for t in direct.iter_tasks(TaskQuery(), limit=100, parallel=1)]
        b = [t.raw async for t in via.iter_tasks(TaskQuery(), limit=100, parallel=1)]
    # identical but for attachment URLs, which the server writes for the origin asked
    strip = lambda docs: [{k: v for k, v in d.items() if k != "params"} for d in docs]  # noqa: E731
    assert strip(a) == strip(b) and len(a) > 1000
    assert proxy.stats.requests == proxy.stats.passed == proxy.stats.forwarded == len(a) // 100
    assert proxy.stats.faults == 0


async def test_scripted_faults_wait_for_a_matching_request(shared_server, proxy_for, fast_retry):
    proxy = await proxy_for(shared_server)
    proxy.script(Fault.error(500, match="/v1/projects"))
    async with TaskClient(proxy.url, shared_server.api_key, retry=fast_retry) as c:
        await c.list_tasks(TaskQuery(), limit=1)
        assert proxy.scripted_left == 1 and proxy.stats.faults == 0
        assert await c.projects()
    assert proxy.scripted_left == 0 and proxy.stats.injected["status"] == 1


def test_proxy_runs_in_a_thread_for_synchronous_callers(shared_server):
    proxy = FaultProxy(shared_server.url, seed=1)
    with proxy.running():
        proxy.script(Fault.error(503))
        auth = (shared_server.api_key, "")
        with httpx.Client(auth=auth) as h:
            first = h.get(proxy.url + "/projects")
            second = h.get(proxy.url + "/projects")
    assert first.status_code == 503 and second.status_code == 200
    assert proxy.stats.requests == 2 and proxy.stats.passed == 1


async def test_a_held_answer_waits_for_its_gate_and_is_the_servers_answer_of_that_moment(
        shared_server, proxy_for, fast_retry):
    proxy = await proxy_for(shared_server)
    gate = Gate()
    proxy.script(Fault.hold(gate, match="/v1/projects"))
    async with TaskClient(proxy.url, shared_server.api_key, retry=fast_retry) as c:
        held = asyncio.ensure_future(c.projects())
        await gate.until_held(1)
        # the request reached the server; the answer waits while other requests pass
        assert await c.list_tasks(TaskQuery(), limit=1)
        await asyncio.sleep(0.05)  # deliberate: a window in which the held answer must not arrive
        assert not held.done() and gate.held == 1
        gate.release()
        names = [p["name"] for p in await held]
    async with httpx.AsyncClient(auth=(shared_server.api_key, "")) as h:
        direct = (await h.get(shared_server.url + "/projects")).json()
    assert names == [p["name"] for p in direct] and len(names) >= 2
    assert proxy.stats.injected["hold"] == 1 and proxy.stats.forwarded == 2


async def test_a_held_answer_can_be_replaced_by_a_fault_once_released(shared_server, proxy_for, fast_retry):
    proxy = await proxy_for(shared_server)
    gate = Gate()
    gate.release()  # open before anything is held: nothing waits
    proxy.script(Fault.hold(gate, then=Fault.error(503), match="/v1/projects"))
    auth = (shared_server.api_key, "")
    async with httpx.AsyncClient(auth=auth) as h:
        r = await h.get(proxy.url + "/projects")
    assert r.status_code == 503 and "injected fault" in r.text
    assert proxy.stats.injected["hold"] == 1 and proxy.stats.injected["status"] == 1
    assert proxy.stats.forwarded == 1  # the server saw the request all the same
    with pytest.raises(ValueError):
        Fault.hold(gate, then=Fault.hold(gate))
