"""The Tasks screen: scrolling, refresh, failures, keys (and remapping them), help and the
command palette — against the real bundled server."""

from __future__ import annotations

import asyncio
from pathlib import Path

from tasktui.config import load_settings
from tasktui.domain import SortOrder, TaskQuery, Zone
from tasktui.testing.faultproxy import Fault, FaultProxy
from .support import notifications, screen_text, settled, ui_settings, wait_for

SIZE = (120, 40)


def api_order(sql, handle, limit: int, offset: int = 0, where: str = "", *args) -> list[str]:
    """Task ids in the list's order (newest first), straight from the database."""
    q = f"SELECT task_id FROM tasks {where} ORDER BY created_at DESC, task_id DESC LIMIT ? OFFSET ?"
    return [r[0] for r in sql(handle, q, *args, limit, offset)]


async def test_infinite_scroll_loads_page_two(shared_server, make_app, sql):
    app = make_app(shared_server)
    async with app.run_test(size=SIZE) as pilot:
        await settled(pilot, app)
        table = app.tasks_screen.table
        assert table.row_count == 100
        header = app.tasks_screen.header.text().plain
        assert "Showing 100 of 1,500" in header
        await pilot.press("G")  # the last loaded row: the next page is fetched before the end
        await wait_for(pilot, lambda: table.row_count >= 200, what="page two")
        await settled(pilot, app)
        ids = [t.task_id for t in table.rows]
        assert ids[:200] == api_order(sql, shared_server, 200)
        assert len(set(ids)) == len(ids)
        assert "Showing 200 of 1,500" in app.tasks_screen.header.text().plain
        assert table.cursor_task_id == ids[99]  # the cursor stayed on the task it was on
        # paging down keeps fetching ahead of the cursor
        for _ in range(6):
            await pilot.press("pagedown")
        await wait_for(pilot, lambda: table.row_count >= 300, what="page three")


async def test_cursor_stays_on_its_task_across_refresh_and_live_updates(server, make_app, sql):
    app = make_app(server)
    async with app.run_test(size=SIZE) as pilot:
        await settled(pilot, app)
        table = app.tasks_screen.table
        for _ in range(7):
            await pilot.press("j")
        target = table.cursor_task_id
        assert target == table.rows[7].task_id
        # another client cancels a Queued task above the cursor, and a new task appears
        ids_above = [t.task_id for t in table.rows[:7]]
        queued = [r[0] for r in sql(server, "SELECT task_id FROM tasks WHERE ostatus='queued' "
                                            "ORDER BY created_at DESC LIMIT 50")]
        import httpx

        async with httpx.AsyncClient(base_url=server.url, auth=(server.api_key, "")) as http:
            victim = next((q for q in queued if q in ids_above), None)
            assert victim is not None, "the seed has no Queued task above the cursor: pick another row"
            r = await http.post(f"/task/{victim}/cancel")
            assert r.status_code == 200
            r = await http.post("/task/categorization", json={
                "instruction": "new", "callback_url": "http://127.0.0.1:9/cb",
                "params": {"attachment": "hello", "attachment_type": "text", "categories": ["a", "b"]}})
            assert r.status_code == 200, r.text
            new_id = r.json()["task_id"]
        await pilot.press("r")  # refresh: the new task is on top, the cursor on the same task
        await wait_for(pilot, lambda: table.row_count and table.rows[0].task_id == new_id, what="refresh")
        await settled(pilot, app)
        assert table.cursor_task_id == target
        assert table.rows[table.cursor_row].task_id == target
        # live poll merges a change in place; the cursor does not move
        async with httpx.AsyncClient(base_url=server.url, auth=(server.api_key, "")) as http:
            r = await http.post("/task/categorization", json={
                "instruction": "newer", "callback_url": "http://127.0.0.1:9/cb",
                "params": {"attachment": "hi", "attachment_type": "text", "categories": ["a"]}})
            newest = r.json()["task_id"]
        await app.store.poll_once()
        await wait_for(pilot, lambda: table.rows[0].task_id == newest, what="live insert")
        assert table.cursor_task_id == target
        # and a zone switch
        from tasktui.domain import Zone

        await pilot.press("t")
        await wait_for(pilot, lambda: app.store.zone is Zone.PACIFIC and table.zone is Zone.PACIFIC,
                       what="the zone switched")
        await settled(pilot, app)
        assert table.cursor_task_id == target


async def test_server_down_keeps_rows_shows_notice_and_retry_works(shared_server, make_app):
    proxy = FaultProxy(shared_server.url)
    await proxy.start()
    app = make_app(proxy.url, shared_server.api_key)
    try:
        async with app.run_test(size=SIZE) as pilot:
            await settled(pilot, app)
            table = app.tasks_screen.table
            before = [t.task_id for t in table.rows]
            port = proxy.port
            await proxy.stop()  # the server is gone: connections are refused
            await pilot.press("r")
            await wait_for(pilot, lambda: app.store.error is not None, what="the error")
            await settled(pilot, app)
            notice = app.tasks_screen.notice
            assert notice.has_class("-error")
            assert "press r to retry" in notice.message
            assert [t.task_id for t in table.rows] == before  # the table keeps what it had
            assert "⚠ error" in app.tasks_screen.header.text().plain
            # keys still work while the server is away
            await pilot.press("j", "j")
            assert table.cursor_row == 2
            # the server is back: the retry key brings the list back and clears the notice
            proxy = FaultProxy(shared_server.url, port=port)
            await proxy.start()
            await pilot.press("r")
            await wait_for(pilot, lambda: app.store.error is None and not app.store.loading, what="recovery")
            await pilot.pause()
            assert not notice.has_class("-error")
            assert table.cursor_task_id == before[2]
    finally:
        await proxy.stop()


async def test_bad_key_5xx_and_429_say_what_happened(shared_server, make_app):
    async with FaultProxy(shared_server.url) as proxy:
        app = make_app(proxy.url, "test_wrong_key")
        async with app.run_test(size=SIZE) as pilot:
            await wait_for(pilot, lambda: app.store is not None and app.store.error is not None, what="auth error")
            await pilot.pause()
            msg = app.tasks_screen.notice.message
            assert "API key" in msg and "SCALE_API_KEY" in msg
            assert "test_wrong_key" not in msg
            assert app.tasks_screen.empty.plain == ""  # an error is not "no tasks"
        app = make_app(proxy.url, shared_server.api_key)
        async with app.run_test(size=SIZE) as pilot:
            await settled(pilot, app)
            rows = [t.task_id for t in app.tasks_screen.table.rows]
            proxy.script(Fault.error(503, match="GET /v1/tasks"))
            await pilot.press("r")
            await wait_for(pilot, lambda: app.store.error is not None, what="5xx")
            assert "press r to retry" in app.tasks_screen.notice.message
            assert [t.task_id for t in app.tasks_screen.table.rows] == rows
            proxy.script(Fault.rate_limit(1, match="GET /v1/tasks"))
            await pilot.press("r")
            await wait_for(pilot, lambda: app.store.error is not None and "429" in repr(app.store.error)
                           or "rate" in str(app.store.error).lower(), what="429")
            assert "wait a moment" in app.tasks_screen.notice.message
            await pilot.press("r")
            await wait_for(pilot, lambda: app.store.error is None and not app.store.loading, what="recovery")
            assert not app.tasks_screen.notice.has_class("-error")


async def test_remapped_keys_from_the_config_file(shared_server, make_app, tmp_path: Path):
    cfg = tmp_path / "config.toml"
    cfg.write_text('[keymap]\n"tasks.zone" = "z"\n"tasks.refresh" = "ctrl+r"\n"table.down" = "n,down"\n'
                   '"no.such.binding" = "x"\n')
    settings = load_settings(cfg, env={})
    settings.refresh_interval = 0
    app = make_app(shared_server, settings=settings)
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await settled(pilot, app)
        # the unknown id is reported at start (for 10 s), naming the ids that exist
        await wait_for(pilot, lambda: any("no.such.binding" in m and "tasks.refresh" in m
                                          for m in notifications(app)), what="the unknown binding id reported")
        screen = app.tasks_screen
        await pilot.press("t")  # no longer the zone key
        await pilot.pause()
        assert screen.zone is Zone.UTC
        await pilot.press("z")
        await pilot.pause()
        assert screen.zone is Zone.PACIFIC
        await pilot.press("n", "n")
        assert screen.table.cursor_row == 2
        await pilot.press("j")  # replaced by the keymap
        assert screen.table.cursor_row == 2
        await pilot.press("ctrl+r")
        await wait_for(pilot, lambda: app.store.loading or app.store.generation > 1, what="refresh by ctrl+r")
        # help and the footer show the remapped keys
        await pilot.press("question_mark")
        await pilot.pause()
        text = app.screen.plain_text()
        zone_line = next(line for line in text.splitlines() if "tasks.zone" in line)
        assert zone_line.strip().startswith("z")
        refresh_line = next(line for line in text.splitlines() if "tasks.refresh" in line)
        assert refresh_line.strip().startswith("^r")


async def test_help_lists_every_key_of_the_screen(shared_server, make_app):
    app = make_app(shared_server)
    async with app.run_test(size=SIZE) as pilot:
        await settled(pilot, app)
        await pilot.press("question_mark")
        await pilot.pause()
        from tasktui.ui.screens.help import HelpScreen
        from tasktui.ui.screens.tasks import TasksScreen
        from tasktui.ui.widgets.task_table import TaskTable

        assert isinstance(app.screen, HelpScreen)
        text = app.screen.plain_text()
        declared = [b.id for cls in (TasksScreen, TaskTable, type(app)) for b in cls.BINDINGS
                    if getattr(b, "id", None)]
        for bid in declared:
            assert bid in text, f"{bid} missing from help"
        assert "Cycle the time zone" in text
        await pilot.press("escape")
        await pilot.pause()
        assert app.screen is app.tasks_screen


async def test_palette_lists_actions_and_saved_views(shared_server, make_app, tmp_path):
    cfg = tmp_path / "config.toml"
    cfg.write_text('[views."Ready to audit"]\nstatus = ["completed"]\naudit = ["ready_to_audit"]\n')
    settings = load_settings(cfg, env={})
    settings.refresh_interval = 0
    app = make_app(shared_server, settings=settings)
    async with app.run_test(size=SIZE) as pilot:
        await settled(pilot, app)
        from textual.command import CommandPalette

        await pilot.press("ctrl+p")
        await wait_for(pilot, lambda: isinstance(app.screen, CommandPalette), what="the palette")
        await pilot.press(*"ready to")
        await wait_for(pilot, lambda: "Ready to audit" in screen_text(app), what="the saved view offered")
        palette = app.screen
        assert isinstance(palette, CommandPalette)
        await pilot.press("enter")
        await wait_for(pilot, lambda: app.store.query.audit_statuses and app.store.query.statuses,
                       what="view applied")
        await settled(pilot, app)
        assert {t.audit_label for t in app.tasks_screen.table.rows} == {"Ready to Audit"}
        assert "2" not in str(app.tasks_screen.sidebar.query_one("#status-title").render())
        assert "1 of 6 on" in str(app.tasks_screen.sidebar.query_one("#status-title").render())


async def test_sort_order_toggle_with_and_without_the_extension(shared_server, make_app, sql):
    app = make_app(shared_server)
    async with app.run_test(size=SIZE) as pilot:
        await settled(pilot, app)
        await pilot.press("s")
        await wait_for(pilot, lambda: app.store.query.order is SortOrder.OLDEST, what="oldest first")
        await settled(pilot, app)
        oldest = [r[0] for r in sql(shared_server, "SELECT task_id FROM tasks ORDER BY created_at ASC, "
                                                   "task_id ASC LIMIT 100")]
        assert [t.task_id for t in app.tasks_screen.table.rows] == oldest
        assert "oldest first" in app.tasks_screen.header.text().plain
    # a client that ignores the extensions behaves as against the real Scale API: oldest
    # first is read slice by slice from the oldest (issue 11), never silently newest first
    app = make_app(shared_server, client_options={"ignore_extensions": True})
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await settled(pilot, app)
        await pilot.press("s")
        await wait_for(pilot, lambda: app.store.query.order is SortOrder.OLDEST, what="oldest first")
        await settled(pilot, app)
        await wait_for(pilot, lambda: [t.task_id for t in app.tasks_screen.table.rows[:100]] == oldest,
                       what="the oldest tasks, oldest first")
        assert "oldest first" in app.tasks_screen.header.text().plain


async def test_marks_and_range_marks_are_exposed(shared_server, make_app):
    app = make_app(shared_server)
    async with app.run_test(size=SIZE) as pilot:
        await settled(pilot, app)
        screen = app.tasks_screen
        rows = screen.table.rows
        await pilot.press("space")  # marks row 0, moves down
        await pilot.press("j", "j", "v")  # range from row 0 to row 3
        assert screen.marked_ids == {t.task_id for t in rows[:4]}
        assert "4 marked" in screen.header.text().plain
        await pilot.press("u")
        assert screen.marked_ids == set()


async def test_narrow_terminal_hides_the_sidebar_and_it_toggles(shared_server, make_app):
    app = make_app(shared_server)
    async with app.run_test(size=(80, 24)) as pilot:
        await settled(pilot, app)
        screen = app.tasks_screen
        assert not screen.sidebar_shown
        assert screen.table.visible_column_keys[:4] == ["mark", "task_id", "created", "status"]
        await pilot.press("ctrl+b")
        await pilot.pause()
        assert screen.sidebar_shown
        assert "status" in screen.table.visible_column_keys
        await pilot.press("f")  # focus filters
        await pilot.pause()
        assert screen.focused is not None and screen.sidebar in screen.focused.ancestors
        await pilot.press("escape")
        assert screen.focused is screen.table


async def test_enter_opens_the_task(shared_server, make_app):
    app = make_app(shared_server)
    async with app.run_test(size=SIZE) as pilot:
        await settled(pilot, app)
        task_id = app.tasks_screen.table.cursor_task_id
        await pilot.press("enter")
        await wait_for(pilot, lambda: getattr(app.screen, "task_id", None) == task_id, what="the task opened")
        assert app.screen is not app.tasks_screen
        await pilot.press("escape")
        await wait_for(pilot, lambda: app.screen is app.tasks_screen, what="back to the list")


async def test_hostile_task_text_is_shown_literally(server, make_app):
    import sqlite3

    import httpx
    import orjson

    project = "\x1b[31mred\x1b[0m [bold]x[/bold]"
    batch = "\x1b]52;c;ZXZpbA==\x07b\x9b2J"
    async with httpx.AsyncClient(base_url=server.url, auth=(server.api_key, "")) as http:
        r = await http.post("/task/categorization", json={
            "instruction": "x", "callback_url": "http://127.0.0.1:9/cb",
            "params": {"attachment": "hi", "attachment_type": "text", "categories": ["a"]}})
        assert r.status_code == 200, r.text
        tid = r.json()["task_id"]
    # the server answers with whatever its database holds: plant hostile names there
    conn = sqlite3.connect(server.db_path, timeout=30)
    try:
        (rid, blob) = conn.execute("SELECT d.id, d.doc FROM docs d JOIN tasks t ON t.id = d.id "
                                   "WHERE t.task_id = ?", (tid,)).fetchone()
        doc = orjson.loads(blob)
        doc.update(project=project, batch=batch)
        conn.execute("UPDATE docs SET doc = ? WHERE id = ?", (orjson.dumps(doc), rid))
        conn.commit()
    finally:
        conn.close()
    app = make_app(server)
    async with app.run_test(size=(200, 30)) as pilot:
        await settled(pilot, app)
        await pilot.press("ctrl+b")  # sidebar away: room for whole cells
        await pilot.pause()
        table = app.tasks_screen.table
        assert table.rows[0].task_id == tid
        line = "".join(seg.text for seg in table.render_line(1))
        assert "␛[31mred␛[0m [bold]x[/bold]" in line  # literal: markup not applied
        assert "␛]52;c;ZXZpbA==␇b⟨9B⟩2J" in line
        for y in range(0, 10):
            for seg in table.render_line(y):
                assert not any(c in seg.text for c in "\x1b\x07\x9b")


async def test_the_window_stays_bounded_and_pages_come_back_when_scrolling_up(shared_server, make_app, sql):
    app = make_app(shared_server, max_rows=300)
    async with app.run_test(size=SIZE) as pilot:
        await settled(pilot, app)
        table = app.tasks_screen.table
        for _ in range(7):  # to the end of what is loaded, seven times: 800 rows seen
            seen = app.store.offset + table.row_count
            await pilot.press("G")
            await wait_for(pilot, lambda: app.store.offset + table.row_count > seen and not app.store.loading_more,
                           what=f"a page past row {seen}")
        await wait_for(pilot, lambda: app.store.offset >= 400, what="rows dropped at the top")
        assert table.row_count <= 300
        all_ids = api_order(sql, shared_server, 1500)
        off = app.store.offset
        assert [t.task_id for t in table.rows] == all_ids[off: off + table.row_count]
        header = app.tasks_screen.header.text().plain
        assert f"Showing {off + 1:,}–{off + table.row_count:,} of 1,500" in header
        # scrolling up past the window's first row fetches the dropped page again
        here = table.cursor_task_id
        await pilot.press("pageup", "pageup", "pageup", "pageup", "pageup", "pageup", "pageup", "pageup")
        await wait_for(pilot, lambda: app.store.offset < off, what="a page before the window")
        assert [t.task_id for t in table.rows] == all_ids[app.store.offset: app.store.offset + table.row_count]
        assert table.cursor_task_id != here
        # g: the very first task, reloaded from the top
        await pilot.press("g")
        await wait_for(pilot, lambda: app.store.offset == 0 and not app.store.loading, what="back to the top")
        await pilot.pause()
        assert table.cursor_row == 0 and table.cursor_task_id == all_ids[0]


async def test_keys_pressed_before_the_sidebar_is_mounted_still_work(shared_server, make_app):
    app = make_app(shared_server)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("slash", *"6b0")  # at once: the sidebar is mounted on demand
        await wait_for(pilot, lambda: app.store.query.search == "6b0", what="search applied")
        await settled(pilot, app)
        from textual.widgets import Input

        assert app.tasks_screen.sidebar.query_one("#search", Input).value == "6b0"
        rows = app.tasks_screen.table.rows
        assert rows  # the seed has tasks with this prefix: the check below is not vacuous
        assert all(t.task_id.startswith("6b0") or (t.unique_id or "").lower().startswith("6b0") for t in rows)


async def test_y_copies_the_task_id_or_the_marked_ids(shared_server, make_app, monkeypatch):
    monkeypatch.setenv("TASKTUI_CLIPBOARD", "off")  # the app's own clipboard only
    app = make_app(shared_server)
    async with app.run_test(size=SIZE) as pilot:
        await settled(pilot, app)
        rows = app.tasks_screen.table.rows
        await pilot.press("j", "y")
        assert app.clipboard == rows[1].task_id
        await pilot.press("space", "space", "y")
        assert app.clipboard == "\n".join(sorted([rows[1].task_id, rows[2].task_id]))
