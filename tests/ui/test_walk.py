"""What the new-operator walk of issue 14 found (tmux at 120x40 and 80x24), each fixed and
checked here with Pilot against what is on screen or where the view is."""

from __future__ import annotations

from textual.containers import VerticalScroll

from .support import DetailHost, find_task, wait_for, wait_loaded

NARROW = (80, 24)


async def test_j_k_g_G_move_the_summary_and_the_json_as_the_help_says(shared_server, sql):
    tid = find_task(sql, shared_server, "ostatus = 'completed' AND review = 'fixed'")
    app = DetailHost(shared_server, tid)
    async with app.run_test(size=NARROW) as pilot:
        detail = await wait_loaded(pilot, app, tid)
        body = detail.query_one("#summary").query_one(VerticalScroll)
        await wait_for(pilot, lambda: app.focused is body, what="the summary focused")
        assert body.max_scroll_y > 3
        await pilot.press("j", "j", "j")
        await wait_for(pilot, lambda: body.scroll_y == 3, what="j scrolls the summary by a line each")
        await pilot.press("k")
        await wait_for(pilot, lambda: body.scroll_y == 2, what="k scrolls it back")
        await pilot.press("G")
        await wait_for(pilot, lambda: body.scroll_y == body.max_scroll_y, what="G: the end")
        await pilot.press("g")
        await wait_for(pilot, lambda: body.scroll_y == 0, what="g: the top")

        await pilot.press("3")
        text = detail.query_one("#json-text")
        await wait_for(pilot, lambda: app.focused is text, what="the JSON focused")
        last = text.document.line_count - 1
        assert last > 30
        await pilot.press("G")
        await wait_for(pilot, lambda: text.cursor_location[0] == last and text.scroll_y > 0, what="G: the end")
        await pilot.press("g")
        await wait_for(pilot, lambda: text.cursor_location == (0, 0) and text.scroll_y == 0, what="g: the top")
        await pilot.press("j", "j")
        await wait_for(pilot, lambda: text.cursor_location[0] == 2, what="j: down a line")
        await pilot.press("end")
        await wait_for(pilot, lambda: text.cursor_location[0] == last, what="End: the end, as in the summary")
        await pilot.press("home")
        await wait_for(pilot, lambda: text.cursor_location == (0, 0), what="Home: the top")


def _inside_frame(line: str) -> str:
    """The part of a screen line between a dialog's left and right frame (█), stripped."""
    a, b = line.find("█"), line.rfind("█")
    return line[a + 1:b].strip(" ▌▐") if 0 <= a < b else ""


async def test_the_help_footer_says_how_to_close_it_at_every_width(shared_server, make_app):
    from tasktui.ui.keymap import screen_text
    from tasktui.ui.screens.help import HelpScreen

    for size in (NARROW, (120, 40)):
        app = make_app(shared_server)
        async with app.run_test(size=size) as pilot:
            await wait_for(pilot, lambda: app.tasks_screen is not None and app.store.rows, what="rows")
            await pilot.press("question_mark")
            await wait_for(pilot, lambda: isinstance(app.screen, HelpScreen), what="the help")
            await pilot.pause()
            # the dialog's lines only (the list shows through its backdrop around it)
            text = " ".join(_inside_frame(line) for line in screen_text(app).splitlines())
            assert "esc closes" in text, (size, screen_text(app))
            assert "in the config file" in text, (size, screen_text(app))


async def test_a_toast_from_before_does_not_cover_the_fix_editors_keys(server, sql):
    from tasktui.ui.keymap import screen_text
    from tasktui.ui.modals.fix_editor import FixEditor

    from .support import notifications

    tid = find_task(sql, server, "ostatus = 'completed' AND review = 'pending' AND type = 'imageannotation'")
    app = DetailHost(server, tid)
    async with app.run_test(size=(120, 40), notifications=True) as pilot:
        await wait_loaded(pilot, app, tid)
        await pilot.press("c")  # a completed task: the refusal is a toast
        await wait_for(pilot, lambda: any("Cannot cancel" in m for m in notifications(app)), what="the refusal")
        await pilot.press("e")
        await wait_for(pilot, lambda: isinstance(app.screen, FixEditor), what="the editor")
        await pilot.pause()
        assert notifications(app) == []
        assert "ctrl+s submit fix · ctrl+o open in $EDITOR · ctrl+g go to error · esc cancel" in screen_text(app)


async def test_the_export_dialog_shows_the_chosen_format_without_colour_and_the_sandbox_note(
        shared_server, make_app, tmp_path):
    from tasktui.ui.keymap import screen_text
    from tasktui.ui.screens.export import ExportScreen

    app = make_app(shared_server)
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_for(pilot, lambda: app.tasks_screen is not None and app.store.rows, what="rows")
        await pilot.press("ctrl+e")
        await wait_for(pilot, lambda: isinstance(app.screen, ExportScreen), what="the export dialog")
        await pilot.pause()
        lines = screen_text(app).splitlines()
        assert any("(•) JSON array" in line for line in lines), screen_text(app)
        assert any("( ) NDJSON (one task per line)" in line for line in lines)
        app.screen.query_one("#fmt-ndjson").value = True
        await pilot.pause()
        lines = screen_text(app).splitlines()
        assert any("( ) JSON array" in line for line in lines)
        assert any("(•) NDJSON (one task per line)" in line for line in lines)
        # the sandbox's attachment URLs end with the run: the finished export says so
        from textual.widgets import Input

        app.screen.query_one("#export-path", Input).value = str(tmp_path / "all.ndjson")
        await pilot.press("ctrl+s")
        await wait_for(pilot, lambda: "Done:" in screen_text(app), timeout=60, what="the export to finish")
        text = " ".join(line.strip(" █▌▐▎▊") for line in screen_text(app).splitlines())
        assert "stop working when tasktui exits" in " ".join(text.split()), text
        assert (tmp_path / "all.ndjson").exists()


def test_a_task_without_tags_says_so_with_a_dash_like_every_empty_field():
    from tasktui.domain import Task, Zone
    from tasktui.ui.screens.detail_tabs import render_summary

    def tags_cell(doc: dict) -> str:
        table = render_summary(Task(doc), Zone.UTC)
        labels = [str(c) for c in table.columns[0].cells]
        return str(list(table.columns[1].cells)[labels.index("Tags")])

    base = {"task_id": "t1", "status": "completed", "created_at": "2026-11-20T10:00:00Z"}
    assert tags_cell({**base, "tags": []}) == "—"
    assert tags_cell(base) == "—"
    assert tags_cell({**base, "tags": ["urban", "night"]}) == "urban, night"


async def test_the_bulk_summary_is_not_shown_beside_a_stale_in_progress_toast(server, sql, make_app):
    from tasktui.ui.modals.bulk import BulkSummary

    from .support import find_tasks, notifications

    ids = find_tasks(sql, server, "ostatus = 'completed' AND review = 'pending'", limit=2)
    assert len(ids) == 2
    app = make_app(server)
    async with app.run_test(size=(120, 40), notifications=True) as pilot:
        await wait_for(pilot, lambda: app.tasks_screen is not None and app.store.rows, what="rows")
        app.tasks_screen.table.set_marks(set(ids))
        await pilot.press("A")
        await wait_for(pilot, lambda: type(app.screen).__name__ == "ChoiceDialog", what="the question")
        await pilot.press("y")
        await wait_for(pilot, lambda: isinstance(app.screen, BulkSummary), what="the summary")
        await pilot.pause()
        assert not any("Accepting 2 tasks" in m for m in notifications(app)), notifications(app)
    (n,), = sql(server, f"SELECT COUNT(*) FROM tasks WHERE review = 'accepted' AND task_id IN ('{ids[0]}', '{ids[1]}')")
    assert n == 2
