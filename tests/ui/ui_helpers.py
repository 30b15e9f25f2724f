"""Helpers shared by the UI tests (imported as ``ui_helpers``)."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Callable

from tasktui.config import Settings


def ui_settings(tmp_path: Path, **changes) -> Settings:
    s = Settings(refresh_interval=0, sandbox_db=tmp_path / "unused.db", downloads_dir=tmp_path / "dl")
    for k, v in changes.items():
        setattr(s, k, v)
    return s


async def wait_for(pilot, predicate: Callable[[], bool], timeout: float = 15.0, what: str = "") -> None:
    """Let the app run until ``predicate()`` holds (bounded)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not predicate():
        if loop.time() > deadline:
            raise AssertionError(f"timed out waiting for {what or predicate}")
        await pilot.pause(0.02)
    await pilot.pause()


async def settled(pilot, app) -> None:
    """Wait until the first page is on screen and nothing is loading."""
    await wait_for(pilot, lambda: app.store is not None and app.store.loaded_once
                   and not app.store.loading and not app.store.loading_more
                   and app.tasks_screen is not None and app.tasks_screen._debounce is None
                   and app.tasks_screen._sidebar_ready,
                   what="the list to settle")
