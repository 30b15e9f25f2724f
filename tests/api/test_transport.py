"""The Transport alone (no TaskClient): what it reports, when it may retry a write, and
the key kept out of every text it makes."""

from __future__ import annotations

import httpx
import pytest

from tasktui.api import MalformedResponseError, RetryPolicy, ServerError
from tasktui.api.transport import Transport
from tasktui.testing import Fault

THREE = RetryPolicy(max_attempts=3, base_delay=0.001, max_delay=0.01, total_time=10, seed=1)


def _transport(url: str, key: str, *, replays: bool = False, answers: list | None = None) -> Transport:
    return Transport(httpx.URL(url), key, timeout=httpx.Timeout(5.0), retry=THREE, max_connections=2,
                     user_agent="test", on_answer=(answers.append if answers is not None else lambda r: None),
                     replays_writes=lambda: replays)


def test_scrub_hides_the_key_wherever_it_appears():
    t = _transport("http://127.0.0.1:9/v1", "sekrit-key")
    assert t.scrub("a sekrit-key b sekrit-key") == "a *** b ***"
    assert _transport("http://127.0.0.1:9/v1", "abc").scrub("abc") == "abc"  # too short to mean anything
    assert "sekrit-key" not in repr(vars(t))


def test_malformed_shows_the_start_of_the_body_cleaned_and_scrubbed():
    t = _transport("http://127.0.0.1:9/v1", "sekrit-key")
    err = t.malformed("list tasks", "not JSON", b"<<sekrit-key\x1b[2J\xe2\x80\xae>>")
    assert isinstance(err, MalformedResponseError)
    assert str(err) == "Could not list tasks: not JSON. It began: '<<*** [2J >>'."
    assert str(t.malformed("x", "empty", b"")) == "Could not x: empty. It was empty."
    assert str(t.malformed("x", "no body")) == "Could not x: no body."


async def test_api_answers_are_reported_and_parsed(shared_server):
    answers: list[httpx.Response] = []
    t = _transport(shared_server.url, shared_server.api_key, answers=answers)
    try:
        data = await t.call("GET", "tasks", what="list tasks", params=[("limit", "2")])
    finally:
        await t.aclose()
    assert len(data["docs"]) == 2
    assert len(answers) == 1 and answers[0].status_code == 200


@pytest.mark.parametrize(("replays", "tries"), [(False, 1), (True, 3)])
async def test_a_failed_write_is_retried_only_where_the_server_replays_writes(
        server, proxy_for, replays, tries):
    proxy = await proxy_for(server)
    proxy.script(Fault.error(500), times=5)
    t = _transport(proxy.url, server.api_key, replays=replays)
    try:
        with pytest.raises(ServerError):
            await t.call("POST", "task/nope/cancel", what="cancel", state_changing=True)
    finally:
        await t.aclose()
    assert proxy.stats.requests == tries
