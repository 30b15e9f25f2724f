""""Sync index" from the console (the palette, or key S; help lists it): a progress bar says how far it
has read, esc stops it (what was read is kept), and when it ends the view is read again
from the index ("index · synced" in the header, the exact total). The API is the bundled
server behind the public-contract proxy; oracles are its SQLite and the index file."""

from __future__ import annotations

import sqlite3

from tasktui.testing import FaultProxy

from .support import notifications, screen_text, settled, ui_settings, wait_for

SIZE = (140, 40)


def _index_tasks(data_dir) -> int:
    (path,) = list((data_dir / "index").glob("*.sqlite"))
    conn = sqlite3.connect(path)
    try:
        return conn.execute("SELECT COUNT(*) FROM tasks").fetchone()[0]
    finally:
        conn.close()


async def test_sync_from_the_console_shows_progress_then_reads_the_index(
        shared_server, sql, make_app, tmp_path, monkeypatch):
    monkeypatch.setenv("TASKTUI_DATA_DIR", str(tmp_path / "data"))
    (n,), = sql(shared_server, "SELECT COUNT(*) FROM tasks")
    seen: list[str] = []
    with FaultProxy(shared_server.url, public_contract=True, latency=0.4).running() as api:  # the bar stays a while
        app = make_app(api.url, shared_server.api_key, kind="remote", settings=ui_settings(tmp_path))
        async with app.run_test(size=SIZE, notifications=True) as pilot:
            await settled(pilot, app)
            assert "index" not in screen_text(app).splitlines()[0]
            await pilot.press("question_mark")  # help lists the key
            await wait_for(pilot, lambda: "Sync index: bring the local index up to date" in screen_text(app), what="help")
            await pilot.press("question_mark")
            await wait_for(pilot, lambda: app.screen is app.tasks_screen, what="help closed")
            from textual.command import CommandPalette

            await pilot.press("ctrl+p")  # the palette offers it
            await wait_for(pilot, lambda: isinstance(app.screen, CommandPalette), what="the palette")
            await pilot.press(*"sync index")
            await wait_for(pilot, lambda: "Sync index" in screen_text(app), what="Sync index offered")
            await pilot.press("enter")

            def reading() -> bool:
                text = screen_text(app)
                seen.append(text)
                return "Sync the local index" in text and "reading" in text and f"of {n:,} tasks" in text
            await wait_for(pilot, reading, timeout=30, what="the progress")
            await wait_for(pilot, lambda: any(m.startswith("Index synced") for m in notifications(app)),
                           timeout=60, what="the end of the sync")
            await wait_for(pilot, lambda: "index · synced" in screen_text(app).splitlines()[0], what="the header")
            await settled(pilot, app)
            assert app.store.from_index and app.store.total == n
        assert api.refused == []
    assert _index_tasks(tmp_path / "data") == n


async def test_esc_stops_the_sync_and_keeps_what_was_read(shared_server, sql, make_app, tmp_path, monkeypatch):
    monkeypatch.setenv("TASKTUI_DATA_DIR", str(tmp_path / "data"))
    (n,), = sql(shared_server, "SELECT COUNT(*) FROM tasks")
    with FaultProxy(shared_server.url, public_contract=True, latency=0.5).running() as api:
        app = make_app(api.url, shared_server.api_key, kind="remote", settings=ui_settings(tmp_path))
        async with app.run_test(size=SIZE, notifications=True) as pilot:
            await settled(pilot, app)
            await pilot.press("S")
            await wait_for(pilot, lambda: app.store.index is not None and "reading" in screen_text(app)
                           and _index_tasks(tmp_path / "data") > 0, timeout=30, what="some tasks read")
            await pilot.press("escape")
            await wait_for(pilot, lambda: any(m.startswith("Sync stopped after") for m in notifications(app)),
                           what="the stop")
            assert "Sync the local index" not in screen_text(app)
            await settled(pilot, app)
            assert not app.store.from_index  # an unfinished first sync covers nothing: the API answers
            assert "API · outside the index" in screen_text(app).splitlines()[0]
            assert app.store.total == n
    kept = _index_tasks(tmp_path / "data")
    assert 0 < kept < n
