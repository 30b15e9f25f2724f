"""Waiting for a condition outside a Textual app (the UI tests use ``ui.support.wait_for``,
which also lets the pilot run): poll ``predicate`` until it holds, fail after ``timeout``
seconds. The interval between two checks is a polling interval, never evidence."""

from __future__ import annotations

import asyncio
import time
from typing import Any, Callable


async def eventually(predicate: Callable[[], Any], what: str, timeout: float = 20.0) -> Any:
    """Return ``predicate()``'s first truthy value; fail the test after ``timeout`` s."""
    loop = asyncio.get_running_loop()
    end = loop.time() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if loop.time() > end:
            raise AssertionError(f"timed out waiting for {what}")
        await asyncio.sleep(0.01)


def wait_until(predicate: Callable[[], Any], what: str, timeout: float = 20.0) -> Any:
    """``eventually`` for code without an event loop (subprocesses, threads, files)."""
    end = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > end:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.02)
