"""Fixtures of the store tests: stores over clients of real servers, fault proxies."""

from __future__ import annotations

import pytest

from tasktui.api import RetryPolicy, TaskClient
from tasktui.store import StoreEvent, TaskStore

#: Built per store, not at import: `make mutate` needs importing this file to run no RetryPolicy code.
FAST_RETRY = dict(max_attempts=8, base_delay=0.002, max_delay=0.02, total_time=20, seed=5)


class Recorder:
    """Collects the events a store emits."""

    def __init__(self, store: TaskStore):
        self.events: list[StoreEvent] = []
        self.unsubscribe = store.subscribe(self.events.append)

    def kinds(self) -> list[str]:
        return [e.kind.value for e in self.events]

    def of(self, kind: str) -> list[StoreEvent]:
        return [e for e in self.events if e.kind.value == kind]

    def clear(self) -> None:
        self.events.clear()


@pytest.fixture
async def make_store():
    """``await make_store(url, key, **store_kw)`` -> (store, Recorder); closed at teardown.
    ``client_kw`` passes options to the TaskClient."""
    made: list[tuple[TaskStore, TaskClient]] = []

    async def make(url: str, key: str, *, client_kw: dict | None = None, **kw):
        client = TaskClient(url, key, retry=RetryPolicy(**FAST_RETRY), **(client_kw or {}))
        store = TaskStore(client, **kw)
        made.append((store, client))
        return store, Recorder(store)

    yield make
    for store, client in made:
        await store.close()
        await client.aclose()
