"""``Retry-After`` is obeyed, measured where it matters: at the proxy, as the time between
the 429 and the next request. Only lower bounds are asserted, so a loaded machine can make
the test slower but never wrong. The policy's own backoff is made tiny (2 ms), so a client
that ignored the header would come back within milliseconds."""

from __future__ import annotations

from email.utils import format_datetime
from datetime import datetime, timedelta, timezone

from tasktui.api import RetryPolicy, TaskClient
from tasktui.domain import TaskQuery
from tasktui.testing import Fault

TINY_BACKOFF = RetryPolicy(max_attempts=4, base_delay=0.002, max_delay=5.0, total_time=30, seed=1)


def _gaps_after_429(proxy) -> list[float]:
    log = proxy.log
    return [b.at - a.at for a, b in zip(log, log[1:]) if a.fault == "rate_limit"]


async def test_the_retry_waits_at_least_retry_after_seconds(shared_server, proxy_for, api_key):
    proxy = await proxy_for(shared_server)
    proxy.script(Fault.rate_limit(0.8))
    async with TaskClient(proxy.url, api_key, retry=TINY_BACKOFF) as c:
        page = await c.list_tasks(TaskQuery(), limit=2)
    assert len(page.tasks) == 2
    gaps = _gaps_after_429(proxy)
    assert len(gaps) == 1 and gaps[0] >= 0.8, gaps


async def test_retry_after_as_an_http_date_is_obeyed_too(shared_server, proxy_for, api_key):
    proxy = await proxy_for(shared_server)
    when = datetime.now(timezone.utc) + timedelta(seconds=3)
    proxy.script(Fault.custom(b'{"status_code": 429, "error": "slow down"}', status=429,
                              headers={"Retry-After": format_datetime(when, usegmt=True)}))
    async with TaskClient(proxy.url, api_key, retry=TINY_BACKOFF) as c:
        await c.list_tasks(TaskQuery(), limit=1)
    assert [s.fault for s in proxy.log] == ["custom", None]
    gap = proxy.log[1].at - proxy.log[0].at
    assert gap >= 1.5, gap  # the date has whole seconds: at least 2 s ahead when sent, minus slack
