"""Each error type is raised with a sentence an operator can read — never a crash, never
the API key — and the retry policy retries what it should, as often as it may."""

from __future__ import annotations

import random
import socket

import pytest

from tasktui.api import (
    ApiError,
    AuthError,
    InvalidRequestError,
    MalformedResponseError,
    NetworkError,
    NotFoundError,
    RateLimitedError,
    RetryPolicy,
    ServerError,
    TaskClient,
    UnsupportedError,
)
from tasktui.domain import OperatorStatus, TaskQuery
from tasktui.testing import Fault

THREE = RetryPolicy(max_attempts=3, base_delay=0.001, max_delay=0.01, total_time=10, seed=1)


def _readable(err: ApiError, key: str) -> str:
    msg = str(err)
    assert msg and msg[0].isupper() and msg.endswith("."), msg
    assert "Traceback" not in msg and "\x1b" not in msg
    assert key not in msg and key not in repr(err)
    return msg


async def test_wrong_key_is_an_auth_error_that_never_shows_the_key(shared_server):
    bad = "test_wrong_key_0123456789"
    async with TaskClient(shared_server.url, bad, retry=THREE) as c:
        with pytest.raises(AuthError) as ei:
            await c.list_tasks(TaskQuery())
        assert bad not in repr(c)
    msg = _readable(ei.value, bad)
    assert "API key" in msg and "401" in msg
    assert ei.value.status_code == 401 and ei.value.attempts == 1


async def test_unknown_task_is_not_found(client, api_key):
    with pytest.raises(NotFoundError) as ei:
        await client.get_task("no-such-task-000")
    msg = _readable(ei.value, api_key)
    assert "no-such-task-000" in msg and "not found" in msg


async def test_invalid_request_carries_the_servers_message(server, api_key):
    async with TaskClient(server.url, api_key, retry=THREE) as c:
        page = await c.list_tasks(TaskQuery(statuses=frozenset({OperatorStatus.COMPLETED})), limit=1)
        done = page.tasks[0]
        with pytest.raises(InvalidRequestError) as ei:
            await c.cancel(done.task_id)
    msg = _readable(ei.value, api_key)
    assert ei.value.status_code == 400 and ei.value.server_message
    assert ei.value.server_message in msg and done.task_id in msg


async def test_bad_parameter_is_an_invalid_request(shared_server, proxy_for, api_key):
    proxy = await proxy_for(shared_server)
    # A parameter the server cannot read, as an outdated or hand-edited client might send.
    proxy.script(Fault.custom('{"status_code": 400, "error": "limit must be between 1 and 100"}',
                              status=400))
    async with TaskClient(proxy.url, api_key, retry=THREE) as c:
        with pytest.raises(InvalidRequestError) as ei:
            await c.list_tasks(TaskQuery())
    assert "limit must be between 1 and 100" in _readable(ei.value, api_key)
    assert proxy.stats.requests == 1  # a 400 is never retried


async def test_rate_limited_until_retries_run_out(shared_server, proxy_for, api_key):
    proxy = await proxy_for(shared_server)
    proxy.script(Fault.rate_limit(0), times=5)
    async with TaskClient(proxy.url, api_key, retry=THREE) as c:
        with pytest.raises(RateLimitedError) as ei:
            await c.list_tasks(TaskQuery())
    _readable(ei.value, api_key)
    assert ei.value.attempts == 3 and proxy.stats.injected["rate_limit"] == 3


async def test_retry_after_longer_than_the_bound_gives_up_at_once(shared_server, proxy_for, api_key):
    proxy = await proxy_for(shared_server)
    proxy.script(Fault.rate_limit(300))
    async with TaskClient(proxy.url, api_key, retry=THREE) as c:
        with pytest.raises(RateLimitedError) as ei:
            await c.list_tasks(TaskQuery())
    msg = _readable(ei.value, api_key)
    assert "300 s" in msg and "120 s tasktui waits" in msg
    assert ei.value.retry_after == 300 and proxy.stats.requests == 1


async def test_retry_after_above_max_delay_is_waited_out_and_reported(shared_server, proxy_for, api_key):
    """The issue's bug: a Retry-After above the backoff cap (here 0.01 s) aborted. Now it
    is waited out (up to max_retry_after) and the wait is told to ``on_wait``."""
    proxy = await proxy_for(shared_server)
    proxy.script(Fault.rate_limit(1))
    waits: list[tuple[float, str]] = []
    async with TaskClient(proxy.url, api_key, retry=THREE, on_wait=lambda s, why: waits.append((s, why))) as c:
        page = await c.list_tasks(TaskQuery(), limit=2)
    assert len(page.tasks) == 2
    assert len(waits) == 1 and waits[0][0] >= 1 and "429" in waits[0][1]
    log = proxy.log
    assert [s.fault for s in log] == ["rate_limit", None] and log[1].at - log[0].at >= 1


async def test_retry_after_is_honoured_then_the_call_succeeds(shared_server, proxy_for, api_key):
    proxy = await proxy_for(shared_server)
    proxy.script(Fault.rate_limit(0.01), Fault.error(503))
    async with TaskClient(proxy.url, api_key, retry=THREE) as c:
        page = await c.list_tasks(TaskQuery(), limit=3)
    assert len(page.tasks) == 3
    assert proxy.stats.faults == 2 and proxy.stats.passed == 1


async def test_server_error_until_retries_run_out(shared_server, proxy_for, api_key):
    proxy = await proxy_for(shared_server)
    proxy.script(Fault.error(500), times=10)
    async with TaskClient(proxy.url, api_key, retry=THREE) as c:
        with pytest.raises(ServerError) as ei:
            await c.get_task("anything")
    msg = _readable(ei.value, api_key)
    assert "500" in msg and "3 tries" in msg and ei.value.attempts == 3


async def test_html_error_page_is_explained(shared_server, proxy_for, api_key):
    proxy = await proxy_for(shared_server)
    proxy.script(Fault.html(), times=3)
    async with TaskClient(proxy.url, api_key, retry=THREE) as c:
        with pytest.raises(ServerError) as ei:
            await c.list_tasks(TaskQuery())
    assert "HTML page" in _readable(ei.value, api_key)


async def test_total_time_bounds_the_retries(shared_server, proxy_for, api_key):
    proxy = await proxy_for(shared_server)
    proxy.script(Fault.error(503), times=50)
    # The waits alone (uniform 0..0.1 s, seed 2) for 49 retries add up to far more than the
    # 0.6 s budget, so reaching 50 attempts means the budget was ignored; a loaded machine can
    # only make the attempts fewer, and one 503 through the proxy takes far less than 0.6 s.
    policy = RetryPolicy(max_attempts=50, base_delay=0.1, max_delay=0.1, total_time=0.6, seed=2)
    jitter = random.Random(2)
    assert sum(jitter.uniform(0, 0.1) for _ in range(49)) > 3 * policy.total_time
    async with TaskClient(proxy.url, api_key, retry=policy) as c:
        with pytest.raises(ServerError) as ei:
            await c.list_tasks(TaskQuery())
    assert 2 <= ei.value.attempts < 50
    assert proxy.stats.requests == ei.value.attempts


async def test_server_down_is_a_network_error(api_key):
    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    async with TaskClient(f"http://127.0.0.1:{port}/v1", api_key, retry=THREE) as c:
        with pytest.raises(NetworkError) as ei:
            await c.list_tasks(TaskQuery())
    msg = _readable(ei.value, api_key)
    assert "cannot reach" in msg and f"127.0.0.1:{port}" in msg and ei.value.attempts == 3
    assert "?." not in msg and ".." not in msg  # one sentence, one full stop (issue 13.18)


async def test_slow_answer_is_a_timeout(shared_server, proxy_for, api_key):
    proxy = await proxy_for(shared_server)
    proxy.script(Fault.slow(2.0))
    async with TaskClient(proxy.url, api_key, retry=RetryPolicy.none(), timeout=0.2) as c:
        with pytest.raises(NetworkError) as ei:
            await c.list_tasks(TaskQuery())
    assert "did not answer within 0.2 s" in _readable(ei.value, api_key)


async def test_garbage_body_is_malformed_not_a_crash(shared_server, proxy_for, api_key):
    proxy = await proxy_for(shared_server)
    proxy.script(Fault.garbage(), times=3)
    async with TaskClient(proxy.url, api_key, retry=THREE) as c:
        with pytest.raises(MalformedResponseError) as ei:
            await c.list_tasks(TaskQuery())
    msg = _readable(ei.value, api_key)
    assert "not valid JSON" in msg and "<<this is not json>>" in msg and "\x00" not in msg


@pytest.mark.parametrize(
    ("body", "words"),
    [
        ('[1, 2, 3]', "expected a JSON object"),
        ('{"total": 3, "has_more": false, "next_token": null}', "no 'docs' list"),
        ('{"docs": [], "total": "many", "has_more": false}', "'total' is not a count"),
        ('{"docs": [], "total": 5, "has_more": true, "next_token": null}', "gave no token"),
        ('{"docs": [{"status": "pending"}], "total": 1, "has_more": false}', "without a task_id"),
        ('{"docs": ["t1"], "total": 1, "has_more": false}', "must be a JSON object"),
        # the same checks where each task is kept as its text (api.listing)
        ('{"docs": [{"task_id": "", "status": "pending"}], "total": 1}', "without a task_id"),
        ('{"docs": [{"task_id": "t1", "status": 3}], "total": 1}', "has no status"),
        ('{"docs": [{"task_id": "t1", "status": "pending"}], "total": true}', "'total' is not a count"),
        ('{"docs": [{"task_id": "t1", "status": "pending"}], "total": 1, "has_more": null}', "not true/false"),
        ('{"docs": [{"task_id": "t1", "status": "pending"}], "total": 1, "next_token": 7}',
         "'next_token' is not a string"),
        ('{"docs": {"task_id": "t1"}, "total": 1}', "no 'docs' list"),
        # read the plain way for the complaint, with a number orjson refuses beside it
        ('{"docs": [{"status": "pending", "n": 1e400}], "total": 1}', "without a task_id"),
    ],
)
async def test_envelopes_are_validated(shared_server, proxy_for, api_key, body, words):
    proxy = await proxy_for(shared_server)
    proxy.script(Fault.custom(body))
    async with TaskClient(proxy.url, api_key, retry=THREE) as c:
        with pytest.raises(MalformedResponseError) as ei:
            await c.list_tasks(TaskQuery())
    assert words in _readable(ei.value, api_key)
    assert proxy.stats.requests == 1  # a well-formed but wrong answer is not retried


async def test_server_text_is_cleaned_of_control_characters_and_the_key(shared_server, proxy_for, api_key):
    proxy = await proxy_for(shared_server)
    hostile = '{"status_code": 400, "error": "bad \\u001b[31mred\\u001b[0m\\n%s"}' % api_key
    proxy.script(Fault.custom(hostile, status=400))
    async with TaskClient(proxy.url, api_key, retry=THREE) as c:
        with pytest.raises(InvalidRequestError) as ei:
            await c.get_task("x")
    msg = _readable(ei.value, api_key)
    assert "***" in msg and "\n" not in msg


async def test_server_text_loses_bidi_overrides_and_separators(shared_server, proxy_for, api_key):
    """A "Trojan source" message cannot reorder itself on screen or break the line."""
    proxy = await proxy_for(shared_server)
    hostile = '{"error": "invoice\\u202efdp.exe \\u2066x\\u2069 a\\u2028b\\u200e c"}'
    proxy.script(Fault.custom(hostile, status=400))
    async with TaskClient(proxy.url, api_key, retry=THREE) as c:
        with pytest.raises(InvalidRequestError) as ei:
            await c.get_task("x")
    msg = _readable(ei.value, api_key)
    assert ei.value.server_message == "invoice fdp.exe x a b c"
    assert "(HTTP 400: invoice fdp.exe x a b c)" in msg
    assert not set("\u202e\u2066\u2069\u2028\u200e") & set(msg)


async def test_fix_is_refused_clearly_where_the_server_does_not_offer_it(shared_server, api_key):
    async with TaskClient(shared_server.url, api_key, ignore_extensions=True) as plain:
        with pytest.raises(UnsupportedError) as ei:
            await plain.fix("any-task", {"labels": []})
    assert "does not offer Fix" in _readable(ei.value, api_key)


def test_bad_base_url_is_refused():
    with pytest.raises(ValueError, match="http:// or https://"):
        TaskClient("ftp://example.com/v1", "k")
    c = TaskClient("http://user:secret@example.com/v1/", "k")
    assert "secret" not in c.base_url and c.base_url == "http://example.com/v1"


async def test_user_agent_names_tasktui_and_the_key_stays_out_of_default_headers():
    from tasktui import __version__

    async with TaskClient("http://127.0.0.1:9/v1", "test_secret_key_42") as c:
        assert c.default_headers["user-agent"] == f"tasktui/{__version__}"
        assert "authorization" not in c.default_headers  # sent per request, only to the API origin
        assert "test_secret_key_42" not in repr(c) and "test_secret_key_42" not in str(vars(c))
