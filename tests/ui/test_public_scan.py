"""The Queued view against a server that speaks only the public contract (issue 11): the
server can filter `status=pending` only, so the console reads the pending tasks in full to
find the Queued ones — saying so in words while it reads, counting "at least N" until the
end, then the exact count; `esc` stops the reading. The server is the bundled one behind
the public-contract proxy with latency; expectations come from SQL."""

from __future__ import annotations

from tasktui.config import SavedView
from tasktui.domain.filters import Filters
from tasktui.testing import FaultProxy
from tasktui.ui.keymap import notification_messages, screen_text

from .support import ui_settings, wait_for

QUEUED = {"Queued": SavedView.of("Queued", Filters.parse({"status": ["queued"]}))}


def _app(make_app, tmp_path, proxy, key):
    return make_app(proxy.url, key, settings=ui_settings(tmp_path, views=QUEUED), initial_view="Queued",
                    kind="remote")


async def test_the_queued_view_says_what_it_reads_then_shows_the_exact_count(
        shared_server, sql, make_app, tmp_path):
    (want,), = sql(shared_server, "SELECT COUNT(*) FROM tasks WHERE ostatus = 'queued'")
    (pending,), = sql(shared_server, "SELECT COUNT(*) FROM tasks WHERE ostatus IN ('queued', 'in_progress', 'redo')")
    assert 0 < want < pending
    seen: list[str] = []
    with FaultProxy(shared_server.url, public_contract=True, latency=0.4).running() as proxy:
        app = _app(make_app, tmp_path, proxy, shared_server.api_key)
        async with app.run_test(size=(120, 40)) as pilot:
            def reading() -> bool:
                text = screen_text(app)
                seen.append(text)
                return "reading pending tasks:" in text
            await wait_for(pilot, reading, timeout=30, what="the reading notice")
            assert "stops reading" in seen[-1]
            await wait_for(pilot, lambda: not app.store.scanning and app.store.total_exact, timeout=60,
                           what="the scan to finish")
            await wait_for(pilot, lambda: f"of {want:,}" in screen_text(app), what="the exact count")
            final = screen_text(app)
        assert proxy.refused == []
    assert "at least" not in final.splitlines()[0]
    assert "reading pending tasks" not in final
    assert app.store.total == want


async def test_esc_stops_the_reading_and_the_count_stays_a_lower_bound(shared_server, make_app, tmp_path):
    with FaultProxy(shared_server.url, public_contract=True, latency=1.0).running() as proxy:
        app = _app(make_app, tmp_path, proxy, shared_server.api_key)
        async with app.run_test(size=(120, 40), notifications=True) as pilot:
            await wait_for(pilot, lambda: app.store.scanning and "reading pending tasks:" in screen_text(app),
                           timeout=30, what="the reading")
            await pilot.press("escape")
            # generous bounds: on a loaded machine a stop waits for the requests in flight
            await wait_for(pilot, lambda: not app.store.scanning, timeout=30, what="the scan to stop")
            await wait_for(pilot, lambda: any("Stopped reading" in m for m in notification_messages(app)),
                           timeout=30, what="the notification")
            assert not app.store.total_exact
            await pilot.pause()
            header = screen_text(app).splitlines()[0]
            assert app.store.total is not None and f"at least {app.store.total:,}" in header, header
            assert "reading pending tasks" not in screen_text(app)
        assert proxy.refused == []
