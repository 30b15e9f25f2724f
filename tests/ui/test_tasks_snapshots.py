"""Snapshots of the Tasks screen at 120x40 and 80x24 (fixed data, fixed now, UTC, no live
refresh, no clock on screen). Update with ``pytest tests/ui --snapshot-update`` after
checking the report."""

from __future__ import annotations

from .support import settled, steady_screen, wait_for


async def _ready(pilot) -> None:
    await settled(pilot, pilot.app)
    await steady_screen(pilot)


def test_tasks_screen_120x40(shared_server, make_app, snap_compare):
    app = make_app(shared_server)

    async def run_before(pilot) -> None:
        await _ready(pilot)
        await pilot.press("j", "j", "space")  # a cursor and a mark on screen

    assert snap_compare(app, terminal_size=(120, 40), run_before=run_before)


def test_tasks_screen_80x24(shared_server, make_app, snap_compare):
    app = make_app(shared_server)
    assert snap_compare(app, terminal_size=(80, 24), run_before=_ready)


def test_tasks_screen_empty_state_80x24(shared_server, make_app, snap_compare):
    app = make_app(shared_server)

    async def run_before(pilot) -> None:
        await _ready(pilot)
        await pilot.press("ctrl+b", "slash", *"no-such-task")
        await wait_for(pilot, lambda: pilot.app.store.query.search == "no-such-task", what="the search applied")
        await _ready(pilot)
        await pilot.press("escape")

    assert snap_compare(app, terminal_size=(80, 24), run_before=run_before)
