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
        assert 0 < app.store.total < all_total and app.store.rows
        assert all(t.created_at >= app.store.query.start for t in app.store.rows)
        assert f"{app.store.total:,}" in keymap.screen_text(app)
        sidebar.query_one("#quick-all", Button).press()
        await wait_for(pilot, lambda: app.store.query.start is None, what="All time applied")
        await settled(pilot, app)
        assert app.store.total == all_total


async def test_bulk_confirmation_has_one_cancel_and_a_back_button(server, sql):
    from tasktui.domain import OperatorStatus, TaskQuery
    from tasktui.ui.modals.bulk import run_bulk
    from tasktui.ui.modals.confirm import ChoiceDialog
    from .support import db_status, find_tasks
    from .test_actions_bulk import BulkHost

    queued = find_tasks(sql, server, "ostatus = 'queued'", limit=2)
    app = BulkHost(server, TaskQuery(statuses=frozenset({OperatorStatus.QUEUED})))
    async with app.run_test(size=WIDE) as pilot:
        await wait_for(pilot, lambda: app.store is not None and app.store.loaded_once)
        worker = app.run_worker(run_bulk(app, app.store, "cancel", queued))
        await wait_for(pilot, lambda: isinstance(app.screen, ChoiceDialog))
        await pilot.pause()
        text = keymap.screen_text(app)
        assert "Back [esc]" in text and "Cancel [esc]" not in text
        await pilot.press("escape")
        await worker.wait()
    assert all(db_status(server, t)[0] == "queued" for t in queued)


async def test_reject_needs_a_comment(server, sql):
    from tasktui.ui.modals.prompt import RejectDialog
    from .support import DetailHost, db_status, find_task, wait_loaded

    tid = find_task(sql, server, "ostatus = 'completed' AND review = 'pending'")
    app = DetailHost(server, tid)
    async with app.run_test(size=WIDE) as pilot:
        await wait_loaded(pilot, app, tid)
        await pilot.press("x")
        await wait_for(pilot, lambda: isinstance(app.screen, RejectDialog))
        await pilot.press("space", "enter")
        await wait_for(pilot, lambda: "a rejection needs a comment" in keymap.screen_text(app),
                       what="the refusal of a blank comment")
        assert isinstance(app.screen, RejectDialog)
        assert db_status(server, tid) == ("completed", "pending")
        await pilot.press(*"loose", "enter")
        await wait_for(pilot, lambda: db_status(server, tid) == ("completed", "rejected"), what="rejected")


async def test_accepting_an_accepted_task_asks_first(server, sql):
    from tasktui.ui.modals.confirm import ConfirmDialog
    from .support import DetailHost, api_get, find_task, wait_loaded

    tid = find_task(sql, server, "ostatus = 'completed' AND review = 'accepted'")
    audits = len(api_get(server, tid).get("audits") or [])
    app = DetailHost(server, tid)
    async with app.run_test(size=WIDE) as pilot:
        await wait_loaded(pilot, app, tid)
        await pilot.press("a")
        await wait_for(pilot, lambda: isinstance(app.screen, ConfirmDialog), what="the question")
        assert "is already Accepted" in keymap.screen_text(app)
        await pilot.press("n")
        # the action's last step on "no": after this notice nothing more is sent
        await wait_for(pilot, lambda: "Nothing changed: the task was already Accepted."
                       in keymap.notification_messages(app), what="the 'nothing changed' notice")
        assert not isinstance(app.screen, ConfirmDialog)
        assert len(api_get(server, tid).get("audits") or []) == audits
        await pilot.press("a")
        await wait_for(pilot, lambda: isinstance(app.screen, ConfirmDialog), what="the question")
        await pilot.press("y")
        await wait_for(pilot, lambda: f"Accepted {tid}." in keymap.notification_messages(app),
                       what="the accept done")
        assert len(api_get(server, tid).get("audits") or []) == audits + 1


async def test_boxes_and_radio_buttons_show_their_state_without_colour(shared_server, make_app):
    from .test_tasks_filters import toggle_box

    app = make_app(shared_server)
    async with app.run_test(size=WIDE) as pilot:
        await settled(pilot, app)
        await toggle_box(pilot, app, "#status", 0)  # Completed on
        await pilot.pause()
        lines = keymap.screen_text(app).splitlines()
        assert any("[x] Completed" in line for line in lines)
        assert any("[ ] Queued" in line for line in lines)
        assert any("(•) Created" in line and "( ) Completed" in line for line in lines)
        assert any("(•) UTC" in line for line in lines)


async def test_detail_opens_with_the_content_focused_so_keys_scroll_it(shared_server, sql):
    from textual.containers import VerticalScroll
    from textual.widgets import Tabs
    from .support import DetailHost, find_task, wait_loaded

    tid = find_task(sql, shared_server, "ostatus = 'completed'")
    app = DetailHost(shared_server, tid)
    async with app.run_test(size=NARROW) as pilot:
        detail = await wait_loaded(pilot, app, tid)
        await pilot.pause()
        assert not isinstance(app.focused, Tabs)
        body = detail.query_one("#summary").query_one(VerticalScroll)
        assert app.focused is body
        await pilot.press("end")
        await wait_for(pilot, lambda: body.scroll_y > 0, what="Summary scrolled by End")
        await pilot.press("3")  # JSON: its text has the focus too
        await pilot.pause()
        assert app.focused is not None and detail.query_one("#json") in app.focused.ancestors
        from tasktui.ui.screens.help import HelpScreen

        await app.push_screen(HelpScreen(detail))  # the host app has no ? key
        await pilot.pause()
        text = keymap.screen_text(app)
        assert "Keys — Task detail" in text and "TaskDetailScreen" not in text


def help_words(text: str) -> str:
    """The words inside the help dialog's frame (between its two side borders), one line
    after another, so a note the dialog wraps reads as one sentence."""
    out = []
    for line in text.splitlines():
        if line.count("█") >= 2:
            out.append(line[line.index("█") + 1:line.rindex("█")].strip())
    return " ".join(" ".join(out).split())


async def test_detail_help_tells_tab_and_the_scroll_keys_and_n_N_in_find(shared_server, make_app):
    from textual.widgets import Tabs
    from tasktui.ui.screens.detail import TaskDetailScreen
    from tasktui.ui.screens.help import HelpScreen

    scroll = ("The tab's content has the focus: j / k, PgUp / PgDn, Home / End scroll it. "
              "tab moves the focus to the tab strip (← / → change tab there) and back.")
    find = ("Find in JSON: / opens the find bar, enter finds; then n / N go to the next / previous match")
    app = make_app(shared_server)
    async with app.run_test(size=WIDE) as pilot:
        await settled(pilot, app)
        await pilot.press("enter")
        await wait_for(pilot, lambda: isinstance(app.screen, TaskDetailScreen) and app.screen.shown_task is not None,
                       what="the task's detail")
        detail = app.screen
        await pilot.press("question_mark")
        await wait_for(pilot, lambda: isinstance(app.screen, HelpScreen), what="the help")
        assert "Keys — Task detail" in keymap.screen_text(app)
        await pilot.press("G")  # the notes close the help: its end
        await wait_for(pilot, lambda: "Notes" in help_words(keymap.screen_text(app)), what="the notes shown")
        words = help_words(keymap.screen_text(app))
        assert scroll in words, words
        assert find in words, words
        # what the first note says holds: tab goes to the tab strip and back to the content
        await pilot.press("escape")
        await wait_for(pilot, lambda: app.screen is detail, what="the help closed")
        content = app.focused
        assert content is not None and not isinstance(content, Tabs)
        await pilot.press("tab")
        await wait_for(pilot, lambda: isinstance(app.focused, Tabs), what="tab to the tab strip")
        await pilot.press("tab")
        await wait_for(pilot, lambda: app.focused is content, what="tab back to the content")


async def test_help_scrolls_with_G_and_ctrl_d_and_lists_esc_on_the_list(shared_server, make_app):
    from textual.containers import VerticalScroll
    from tasktui.ui.screens.help import HelpScreen

    app = make_app(shared_server)
    async with app.run_test(size=NARROW) as pilot:
        await settled(pilot, app)
        await pilot.press("question_mark")
        await wait_for(pilot, lambda: isinstance(app.screen, HelpScreen))
        help_screen = app.screen
        assert "tasks.back" in help_screen.plain_text()
        body = help_screen.query_one("#help-body", VerticalScroll)
        await pilot.press("ctrl+d")
        await wait_for(pilot, lambda: body.scroll_y > 0, what="ctrl+d scrolled the help")
        await pilot.press("G")
        await wait_for(pilot, lambda: body.scroll_y == body.max_scroll_y, what="G went to the end")
        assert "u unmarks all." in keymap.screen_text(app)  # the last note: the end is shown


async def test_the_end_of_the_list_is_not_claimed_while_more_tasks_match():
    from textual.app import App

    from tasktui.domain import Task
    from tasktui.ui.widgets.task_table import TaskTable

    rows = [Task({"task_id": f"{i:024x}", "status": "completed", "type": "imageannotation",
                  "project": "Street", "created_at": "2026-11-20T12:00:00.000Z", "params": {}})
            for i in range(3)]

    class Host(App):
        def compose(self):
            yield TaskTable(id="table")

    app = Host()
    async with app.run_test(size=WIDE) as pilot:
        table = app.query_one(TaskTable)
        table.set_rows(rows)
        table.not_loaded = lambda: 103  # tasks arrived since the list was read
        table.refresh()
        await pilot.pause()
        text = keymap.screen_text(app)
        assert "end of the list" not in text
        assert "103 more tasks match now: r refreshes" in text
        table.not_loaded = lambda: 0
        table.refresh()
        await pilot.pause()
        assert "— end of the list —" in keymap.screen_text(app)


async def test_tasks_arriving_beyond_the_loaded_end_are_told_not_the_end_of_the_list(
        server, make_app, sql, tmp_path):
    """The real wiring (the screen's count of what is not loaded, the live poll's exact
    total, the table's last line): tasks tagged on the server while the tag's view is open
    and scrolled to its end join the view below its loaded end; the list says so, and
    "end of the list" comes back once r has loaded them."""
    import httpx

    from tasktui.config import SavedView
    from tasktui.domain.filters import Filters
    from .support import ui_settings

    tag = "arrivals"
    # 40 tasks in the view at first; 7 older ones join it while it is open (older than its
    # top row: they belong below the loaded rows, where scrolling does not fetch any more)
    ids = [r[0] for r in sql(server, "SELECT task_id FROM tasks ORDER BY created_at DESC, task_id DESC "
                                     "LIMIT 47 OFFSET 200")]
    first, later = ids[:40], ids[40:]

    def count() -> int:
        return sql(server, "SELECT COUNT(*) FROM task_tags WHERE tag = ?", tag)[0][0]

    async def tag_tasks(task_ids):
        async with httpx.AsyncClient(base_url=server.url, auth=(server.api_key, "")) as http:
            for tid in task_ids:
                r = await http.put(f"/task/{tid}/tags", json=[tag])
                assert r.status_code == 200, r.text

    await tag_tasks(first)
    assert count() == 40
    views = {"Arrivals": SavedView.of("Arrivals", Filters.parse({"tag": [tag]}))}
    app = make_app(server, settings=ui_settings(tmp_path, views=views, refresh_interval=0.2),
                   initial_view="Arrivals")
    async with app.run_test(size=WIDE) as pilot:
        await settled(pilot, app)
        await pilot.press("G")  # the last row: the line under it is on screen
        await wait_for(pilot, lambda: "— end of the list —" in keymap.screen_text(app), what="the end of the list")
        assert "Showing 40 of 40" in keymap.screen_text(app)

        await tag_tasks(later)
        assert count() == 47
        await wait_for(pilot, lambda: "Showing 40 of 47" in keymap.screen_text(app),
                       what="the live poll's total (the SQL count)")
        await wait_for(pilot, lambda: "7 more tasks match now: r refreshes" in keymap.screen_text(app),
                       what="the last line telling what is not loaded")
        text = keymap.screen_text(app)
        assert "end of the list" not in text, text

        await pilot.press("r")
        await wait_for(pilot, lambda: "Showing 47 of 47" in keymap.screen_text(app), what="the refresh")
        await pilot.press("G")
        await wait_for(pilot, lambda: "— end of the list —" in keymap.screen_text(app),
                       what="the end of the list once everything is loaded")
        assert "more tasks match now" not in keymap.screen_text(app)


async def test_slash_at_80x24_shows_the_search_box_and_what_is_typed(shared_server, make_app):
    from textual.widgets import Input

    app = make_app(shared_server)
    async with app.run_test(size=NARROW) as pilot:
        await settled(pilot, app)
        assert not app.tasks_screen.sidebar_shown
        search = app.tasks_screen.sidebar.query_one("#search", Input)
        await pilot.press("slash")
        await wait_for(pilot, lambda: app.focused is search, what="the search box focused")
        await pilot.press(*"zq9")
        await wait_for(pilot, lambda: "zq9" in keymap.screen_text(app), what="the typed text on screen")
        assert app.focused is search
        assert search.value == "zq9"
        assert search.region.y + search.region.height <= NARROW[1]
        assert search.region.height > 0 and app.screen.region.contains_region(search.region)
        assert "zq9" in keymap.screen_text(app)


async def test_f_goes_to_the_top_of_the_sidebar(shared_server, make_app):
    from textual.widgets import RadioSet

    app = make_app(shared_server)
    async with app.run_test(size=NARROW) as pilot:
        await settled(pilot, app)
        sidebar = app.tasks_screen.sidebar
        await pilot.press("slash")  # the last box used is the search box, at the bottom
        await wait_for(pilot, lambda: app.focused is sidebar.query_one("#search"), what="the search box")
        await wait_for(pilot, lambda: sidebar.scroll_y > 0, what="the sidebar scrolled to the search box")
        await pilot.press("escape", "f")
        await wait_for(pilot, lambda: app.focused is sidebar.query_one("#date-field", RadioSet),
                       what="f to focus the first box")
        await wait_for(pilot, lambda: sidebar.scroll_y == 0, what="the sidebar back at its top")
        assert "Date" in keymap.screen_text(app)


async def test_q_asks_and_the_next_start_restores_the_view_then_start_fresh(
        shared_server, make_app, tmp_path, sql):
    from tasktui.domain import OperatorStatus, Zone
    from tasktui.ui.modals.confirm import ConfirmDialog
    from .test_tasks_filters import toggle_box

    path = tmp_path / "data" / "last-view.json"
    app = make_app(shared_server, last_view_path=path)
    async with app.run_test(size=WIDE) as pilot:
        await settled(pilot, app)
        await toggle_box(pilot, app, "#status", 0)  # Completed
        await wait_for(pilot, lambda: app.store.query.statuses == {OperatorStatus.COMPLETED})
        await pilot.press("escape", "t", "l")
        await wait_for(pilot, lambda: app.store.zone is Zone.PACIFIC)
        await pilot.press("q")
        await wait_for(pilot, lambda: isinstance(app.screen, ConfirmDialog), what="the quit question")
        assert "Quit tasktui?" in keymap.screen_text(app)
        await pilot.press("n")  # stay
        await wait_for(pilot, lambda: app.screen is app.tasks_screen)
        assert not path.exists()
        await pilot.press("q")
        await wait_for(pilot, lambda: isinstance(app.screen, ConfirmDialog))
        await pilot.press("y")
        await wait_for(pilot, lambda: path.exists(), what="the view saved on quit")

    again = make_app(shared_server, last_view_path=path)
    async with again.run_test(size=WIDE, notifications=True) as pilot:  # toasts drawn
        await settled(pilot, again)
        screen = again.tasks_screen
        assert again.store.query.statuses == {OperatorStatus.COMPLETED}
        assert again.store.zone is Zone.PACIFIC and screen.live_interval > 0
        assert any("Restored your last view (1 filter, Pacific, live 15s)" in m
                   for m in keymap.notification_messages(again))
        assert "1 of 6 on" in keymap.screen_text(again)
        assert "Pacific" in keymap.screen_text(again).splitlines()[0]
        # start fresh as the notice says: ctrl+p, its name, enter
        from textual.command import CommandPalette

        await pilot.press("ctrl+p")
        await wait_for(pilot, lambda: isinstance(again.screen, CommandPalette), what="the palette")
        await pilot.press(*"start fresh")
        await wait_for(pilot, lambda: "forget the last view" in keymap.screen_text(again),
                       what="Start fresh offered")
        await pilot.press("enter")
        await wait_for(pilot, lambda: again.screen is screen, what="the palette closed")
        await wait_for(pilot, lambda: "Fresh start: no filters, newest first, UTC, live off."
                       in keymap.screen_text(again), what="the operator told (the toast)")
        total = sql(shared_server, "SELECT COUNT(*) FROM tasks")[0][0]
        await wait_for(pilot, lambda: f"Showing 100 of {total:,}" in keymap.screen_text(again),
                       what="every task listed again")
        await settled(pilot, again)
        text = keymap.screen_text(again)
        header = text.splitlines()[0]
        assert "UTC" in header and "Pacific" not in header and "live off" in header, header
        assert "newest first" in header
        assert "Task status · all shown" in text and "of 6 on" not in text
        assert again.store.zone is Zone.UTC and screen.live_interval == 0
        assert not path.exists()


async def test_completed_column_when_filtering_by_completion_and_wide_columns_without_sidebar(
        shared_server, make_app):
    from textual.widgets import RadioButton

    app = make_app(shared_server)
    async with app.run_test(size=WIDE) as pilot:
        await settled(pilot, app)
        table = app.tasks_screen.table
        assert "completed" not in table.visible_column_keys
        app.tasks_screen.sidebar.query_one("#df-completed", RadioButton).value = True
        await wait_for(pilot, lambda: app.store.query.date_field.value == "completed")
        await settled(pilot, app)
        assert "completed" in table.visible_column_keys
        header = next(line for line in keymap.screen_text(app).splitlines() if "Task ID" in line)
        assert "Completed" in header
        await pilot.press("ctrl+b")  # sidebar hidden: the width goes to Project and Batch
        await wait_for(pilot, lambda: not app.tasks_screen.sidebar_shown, what="the sidebar hidden")
        await wait_for(pilot, lambda: (w := dict((c.key, w) for c, w in table.columns))["project"] > 8
                       and w["batch"] > 8, what="Project and Batch wider than 8")
        project = app.store.rows[0].project
        assert project and len(project) > 8
        assert any(project in line for line in keymap.screen_text(app).splitlines())


async def test_at_80_columns_the_header_keeps_the_order_and_the_detail_footer_every_key(
        shared_server, make_app):
    from tasktui.ui.screens.detail import TaskDetailScreen

    app = make_app(shared_server)
    async with app.run_test(size=NARROW) as pilot:
        await settled(pilot, app)
        header = keymap.screen_text(app).splitlines()[0]
        assert "newest first" in header and "live off" in header
        await pilot.press("enter")
        await wait_for(pilot, lambda: isinstance(app.screen, TaskDetailScreen)
                       and app.screen.shown_task is not None)
        await pilot.pause()
        footer = keymap.screen_text(app).splitlines()[-1]
        for words in ("esc Back", "a Accept", "x Reject", "d Download", "y Copy", "q Quit", "? Help"):
            assert words in footer, (words, footer)


async def test_fast_typing_across_tab_lands_in_the_next_field(shared_server, make_app):
    from textual import events
    from textual.widgets import Input

    app = make_app(shared_server)
    async with app.run_test(size=WIDE) as pilot:
        await settled(pilot, app)
        sidebar = app.tasks_screen.sidebar
        sidebar.query_one("#from", Input).focus()
        await pilot.pause()
        # a paste or a fast typist: every key is queued before the first is handled
        for key, char in (("x", "x"), ("tab", None), ("y", "y"), ("z", "z")):
            app.post_message(events.Key(key, char))
        start, to = sidebar.query_one("#from", Input), sidebar.query_one("#to", Input)
        await wait_for(pilot, lambda: len(start.value) + len(to.value) >= 3, what="the three letters handled")
        assert start.value == "x"
        assert to.value == "yz"
        assert app.focused is sidebar.query_one("#to", Input)
