"""Fixtures for the UI tests: the app against the real bundled server (over HTTP, on a
free loopback port), with a fixed "now", UTC, no live polling and no retries, so that
what is on screen is deterministic."""

from __future__ import annotations

from pathlib import Path

import pytest

from tasktui.api import RetryPolicy
from tasktui.config import Settings
from tasktui.backend import Backend
from .support import ui_settings


@pytest.fixture
def make_app(tmp_path, seed_now):
    """``make_app(handle_or_url, api_key, settings=None, **app_kwargs) -> TaskTuiApp``."""
    from tasktui.ui.app import TaskTuiApp

    def make(target, api_key: str | None = None, *, settings: Settings | None = None,
             kind: str = "sandbox", **kw) -> TaskTuiApp:
        url = target if isinstance(target, str) else target.url
        key = api_key or target.api_key
        kw.setdefault("now", lambda: seed_now)
        kw.setdefault("client_options", {"retry": RetryPolicy.none(), "timeout": 10.0})
        kw.setdefault("theme", "textual-dark")
        return TaskTuiApp(settings or ui_settings(tmp_path), Backend(url, key, kind, "local sandbox"), **kw)

    return make


