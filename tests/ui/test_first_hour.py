"""What a new operator tripped over in the first hour (issue 14): each test drives the app
as they did and asserts what is on screen (or what the list / store then holds)."""

from __future__ import annotations

from textual.widgets import Button

from tasktui.ui import keymap
from .support import settled, wait_for

WIDE = (120, 40)
NARROW = (80, 24)


async def test_sidebar_quick_range_buttons_change_the_list(shared_server, make_app, seed_now):
    app = make_app(shared_server)
    async with app.run_test(size=WIDE) as pilot:
        await settled(pilot, app)
        all_total = app.store.total
        sidebar = app.tasks_screen.sidebar
        sidebar.query_one("#quick-7d", Button).press()
        await wait_for(pilot, lambda: app.store.query.start is not None, what="7d applied to the list")
        await settled(pilot, app)
        assert app.store.total < all_total
        assert all(t.created_at >= app.store.query.start for t in app.store.rows)
        assert f"{app.store.total:,}" in keymap.screen_text(app)
        sidebar.query_one("#quick-all", Button).press()
        await wait_for(pilot, lambda: app.store.query.start is None, what="All time applied")
        await settled(pilot, app)
        assert app.store.total == all_total
