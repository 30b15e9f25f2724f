"""The API key never reaches an operator through an error, whatever the server or a proxy
in between echoes back: the raw key, the HTTP Basic credentials in base64 (what a proxy
echoing the Authorization header shows), the percent-encoded key — on every error path
(an error JSON, a plain-text 5xx, a body that is not JSON, a wrong envelope), wherever
the key falls in the body, including across the point where an excerpt is cut.

Oracle: the key's forms computed here with the standard library, and a sliding check that
no 8-character piece of any of them is in the message, the repr or the log."""

from __future__ import annotations

import base64
import logging
from urllib.parse import quote

import pytest

from tasktui.api import ApiError, RetryPolicy, TaskClient
from tasktui.domain import TaskQuery
from tasktui.testing import Fault

ONCE = RetryPolicy.none()


def forms(key: str) -> list[str]:
    basic = base64.b64encode(f"{key}:".encode()).decode()
    return [key, basic, basic.rstrip("="), quote(key, safe=""), base64.b64encode(key.encode()).decode()]


def leaks(text: str, key: str) -> list[str]:
    out = []
    for form in forms(key):
        for i in range(0, len(form) - 7):
            piece = form[i:i + 8]
            if piece in text:
                out.append(piece)
    return out


def bodies(key: str):
    basic = "Basic " + base64.b64encode(f"{key}:".encode()).decode()
    # (description, status, content type, body)
    yield "error json, raw key", 400, "application/json", f'{{"status_code": 400, "error": "bad key {key}"}}'
    yield "error json, echoed Authorization", 401, "application/json", \
        f'{{"status_code": 401, "error": "Authorization: {basic} rejected"}}'
    yield "error json, percent-encoded", 400, "application/json", \
        f'{{"status_code": 400, "error": "url was /v1/tasks?key={quote(key, safe="")}"}}'
    for at in (0, 60, 75, 79, 280, 295, 299):  # around the 80- and 300-character excerpts
        pad = "x" * at
        yield f"plain 500, key at {at}", 500, "text/plain", f"{pad}{key} and {basic}"
        yield f"not JSON, key at {at}", 200, "application/json", f"{pad}{key} {basic} <not json"
        yield f"not JSON, Authorization at {at}", 200, "application/json", f"{pad}{basic} <not json"
    yield "wrong envelope", 200, "application/json", f'{{"tasks": [], "echo": "{key} {basic}"}}'


@pytest.mark.parametrize("index", range(len(list(bodies("k" * 20)))))
async def test_no_form_of_the_key_survives_in_any_error(shared_server, proxy_for, api_key, caplog, index):
    desc, status, ctype, body = list(bodies(api_key))[index]
    proxy = await proxy_for(shared_server)
    proxy.script(Fault.custom(body, status=status, content_type=ctype))
    caplog.set_level(logging.DEBUG)
    async with TaskClient(proxy.url, api_key, retry=ONCE) as c:
        with pytest.raises(ApiError) as ei:
            await c.list_tasks(TaskQuery(), limit=1)
    err = ei.value
    seen = " | ".join([str(err), repr(err), str(err.server_message or ""), caplog.text])
    assert leaks(seen, api_key) == [], (desc, seen)


async def test_the_message_still_says_what_the_server_said_around_the_key(shared_server, proxy_for, api_key):
    proxy = await proxy_for(shared_server)
    proxy.script(Fault.custom(f'{{"status_code": 400, "error": "key {api_key} is not allowed here"}}', status=400))
    async with TaskClient(proxy.url, api_key, retry=ONCE) as c:
        with pytest.raises(ApiError) as ei:
            await c.list_tasks(TaskQuery(), limit=1)
    assert "key *** is not allowed here" in str(ei.value)
