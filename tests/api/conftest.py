"""Fixtures of the API client tests: a fast retry policy, a client on the shared server,
fault proxies in front of real servers, and a 10,000-task server for paging tests."""

from __future__ import annotations

import pytest

from tasktui.api import RetryPolicy, TaskClient
from tasktui.server import seed_database, start_server_thread

#: Retries that are quick in tests but still exercise backoff and the bounds. Built in the
#: fixtures, not at import: `make mutate` needs importing this file to run no RetryPolicy code.
FAST_RETRY = dict(max_attempts=8, base_delay=0.002, max_delay=0.02, total_time=20, seed=3)
BIG_N = 10_000


@pytest.fixture(scope="session")
def fast_retry() -> RetryPolicy:
    return RetryPolicy(**FAST_RETRY)


@pytest.fixture
async def client(shared_server, fast_retry):
    async with TaskClient(shared_server.url, shared_server.api_key, retry=fast_retry) as c:
        yield c


@pytest.fixture(scope="session")
def big_server(tmp_path_factory, api_key, seed_now):
    """10,000 tasks (read-only), seeded once per session (per xdist worker)."""
    path = tmp_path_factory.mktemp("big") / "big.db"
    seed_database(path, BIG_N, seed=11, now=seed_now)
    handle = start_server_thread(path, [api_key])
    yield handle
    handle.stop()
