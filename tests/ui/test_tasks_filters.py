"""The filter sidebar drives what the table shows (against the real bundled server)."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from textual.widgets import Input, SelectionList

from sql_oracle import WIRE_OSTATUS, WIRE_REVIEW
from tasktui.domain import AuditStatus, OperatorStatus, Zone, parse_wire_time
from tasktui.testing.faultproxy import FaultProxy
from .support import settled, wait_for

SIZE = (120, 40)


def shown_tasks(app):
    table = app.tasks_screen.table
    return [table.rows[i] for i in range(table.row_count)]


async def toggle_box(pilot, app, list_id: str, index: int) -> None:
    """Highlight option ``index`` of a checkbox list and press space on it."""
    sl = app.tasks_screen.sidebar.query_one(list_id, SelectionList)
    sl.focus()
    await pilot.pause()
    sl.highlighted = index
    await pilot.press("space")


#: the words the list shows, as literals (not the labels of the mapping under test)
STATUS_WORDS = {"queued": "Queued", "in_progress": "In Progress", "redo": "Redo", "completed": "Completed",
                "error": "Error", "canceled": "Canceled"}
AUDIT_WORDS = {"pending": "Ready to Audit", "accepted": "Accepted", "fixed": "Fixed", "rejected": "Rejected"}


async def test_each_status_box_changes_the_rows(shared_server, make_app, sql):
    # statuses from the wire fields (sql_oracle), not the server's ostatus column
    counts = dict(sql(shared_server, f"SELECT {WIRE_OSTATUS}, COUNT(*) FROM tasks GROUP BY 1"))
    app = make_app(shared_server)
    async with app.run_test(size=SIZE) as pilot:
        await settled(pilot, app)
        assert app.store.total == sum(counts.values())
        previous = None
        for index, status in enumerate(OperatorStatus):
            if previous is not None:
                await toggle_box(pilot, app, "#status", previous)  # off, debounced with the next one
            await toggle_box(pilot, app, "#status", index)
            await wait_for(pilot, lambda: app.store.query.statuses == {status}, what=f"{status} applied")
            await settled(pilot, app)
            rows = shown_tasks(app)
            assert rows, f"no rows for {status}"
            newest = [r[0] for r in sql(shared_server, f"SELECT task_id FROM tasks WHERE {WIRE_OSTATUS} = ? "
                                                       "ORDER BY created_at DESC, task_id DESC LIMIT 100",
                                        status.value)]
            assert [t.task_id for t in rows[:len(newest)]] == newest  # SQL, not the status mapping
            assert len(rows) == min(100, counts[status.value])
            assert app.store.total == counts[status.value]
            title = str(app.tasks_screen.sidebar.query_one("#status-title").render())
            assert "1 of 6 on" in title
            # the cells say the status in words
            table = app.tasks_screen.table
            assert table.row_texts(0)[table.visible_column_keys.index("status")].endswith(STATUS_WORDS[status.value])
            previous = index
        await toggle_box(pilot, app, "#status", previous)
        await wait_for(pilot, lambda: not app.store.query.statuses, what="status cleared")
        await settled(pilot, app)
        assert app.store.total == sum(counts.values())


async def test_each_audit_box_changes_the_rows(shared_server, make_app, sql):
    rows_db = sql(shared_server, f"SELECT {WIRE_OSTATUS}, {WIRE_REVIEW}, COUNT(*) FROM tasks GROUP BY 1, 2")
    expected = {
        AuditStatus.READY_TO_AUDIT: sum(n for s, r, n in rows_db if s == "completed" and r in ("", "pending")),
        AuditStatus.ACCEPTED: sum(n for s, r, n in rows_db if r == "accepted"),
        AuditStatus.FIXED: sum(n for s, r, n in rows_db if r == "fixed"),
        AuditStatus.REJECTED: sum(n for s, r, n in rows_db if r == "rejected"),
    }
    app = make_app(shared_server)
    async with app.run_test(size=SIZE) as pilot:
        await settled(pilot, app)
        previous = None
        for index, audit in enumerate(AuditStatus):
            if previous is not None:
                await toggle_box(pilot, app, "#audit", previous)
            await toggle_box(pilot, app, "#audit", index)
            await wait_for(pilot, lambda: app.store.query.audit_statuses == {audit}, what=f"{audit} applied")
            await settled(pilot, app)
            rows = shown_tasks(app)
            assert rows and {t.audit_status for t in rows} == {audit}
            assert app.store.total == expected[audit]
            texts = app.tasks_screen.table.row_texts(0)
            assert texts[app.tasks_screen.table.visible_column_keys.index("audit")].endswith(AUDIT_WORDS[audit.value])
            assert "1 of 4 on" in str(app.tasks_screen.sidebar.query_one("#audit-title").render())
            previous = index


async def test_zone_toggle_changes_displayed_times(shared_server, make_app):
    import pendulum
    from pendulum.tz.local_timezone import test_local_timezone as local_zone_is

    # "Local" must differ from UTC and Pacific (pendulum caches the machine's zone: mock it)
    with local_zone_is(pendulum.timezone("Asia/Tokyo")):
        app = make_app(shared_server)
        async with app.run_test(size=SIZE) as pilot:
            await settled(pilot, app)
            table = app.tasks_screen.table
            col = table.visible_column_keys.index("created")
            task = table.rows[0]
            created: datetime = parse_wire_time(task.raw["created_at"])

            def expect(tz: str) -> str:
                return created.astimezone(ZoneInfo(tz)).strftime("%Y-%m-%d %H:%M")

            assert table.row_texts(0)[col] == expect("UTC")
            assert " UTC " in app.tasks_screen.header.text().plain
            await pilot.press("t")
            await pilot.pause()
            assert app.tasks_screen.zone is Zone.PACIFIC
            assert table.row_texts(0)[col] == expect("America/Los_Angeles")
            assert " Pacific " in app.tasks_screen.header.text().plain
            await pilot.press("t")
            await pilot.pause()
            assert table.row_texts(0)[col] == expect("Asia/Tokyo")
            assert " Local (Asia/Tokyo) " in app.tasks_screen.header.text().plain
            await pilot.press("t")
            await pilot.pause()
            assert table.row_texts(0)[col] == expect("UTC")
            assert table.cursor_task_id == task.task_id


async def test_zone_toggle_reinterprets_the_typed_range(shared_server, make_app):
    app = make_app(shared_server)
    async with app.run_test(size=SIZE) as pilot:
        await settled(pilot, app)
        sidebar = app.tasks_screen.sidebar
        sidebar.query_one("#from", Input).focus()
        await pilot.press(*"2026-11-01")
        await wait_for(pilot, lambda: app.store.query.start is not None, what="range applied")
        await settled(pilot, app)
        assert app.store.query.start.isoformat() == "2026-11-01T00:00:00+00:00"
        assert str(sidebar.query_one("#date-utc").render()) == "UTC: 2026-11-01 00:00 → …"
        assert shown_tasks(app)  # not vacuous: some tasks are in the range
        assert all(t.created_at >= app.store.query.start for t in shown_tasks(app))
        await pilot.press("escape", "t")  # Pacific: midnight there is 07:00 UTC (PDT)
        await wait_for(pilot, lambda: app.store.query.start.hour == 7, what="range re-read in Pacific")
        assert str(sidebar.query_one("#date-utc").render()) == "UTC: 2026-11-01 07:00 → …"


async def test_invalid_date_shows_inline_error_and_sends_nothing(shared_server, make_app):
    async with FaultProxy(shared_server.url) as proxy:
        app = make_app(proxy.url, shared_server.api_key)
        async with app.run_test(size=SIZE) as pilot:
            await settled(pilot, app)
            sidebar = app.tasks_screen.sidebar
            sidebar.query_one("#from", Input).focus()
            await wait_for(pilot, lambda: sidebar.project_choices and proxy.stats.in_flight == 0,
                           what="the pickers' requests done")
            before = proxy.stats.requests
            await pilot.press(*"2026-13-45")
            await wait_for(pilot, lambda: "not a real date" in str(sidebar.query_one("#date-error").render())
                           and not app.tasks_screen.filters_pending, what="the date refused")
            error = str(sidebar.query_one("#date-error").render())
            assert "From: '2026-13-45' is not a real date" in error
            assert "nothing is applied" in error
            assert sidebar.query_one("#from", Input).has_class("-invalid")
            assert proxy.stats.requests == before, "a request was sent while the date was invalid"
            assert app.store.query.start is None
            # an inverted range is refused the same way
            sidebar.query_one("#from", Input).value = "2026-11-10"
            sidebar.query_one("#to", Input).value = "2026-11-01"
            await wait_for(pilot, lambda: "is before the start" in str(sidebar.query_one("#date-error").render())
                           and not app.tasks_screen.filters_pending, what="the inverted range refused")
            assert proxy.stats.requests == before
            # fixed: exactly one query goes out, and the error is gone
            sidebar.query_one("#to", Input).value = "2026-11-12"
            await wait_for(pilot, lambda: app.store.query.end is not None, what="valid range applied")
            await settled(pilot, app)
            assert proxy.stats.requests == before + 1
            assert sidebar.date_error is None
            assert str(sidebar.query_one("#date-utc").render()) == "UTC: 2026-11-10 00:00 → 2026-11-13 00:00"


async def test_typing_is_debounced_into_one_request(shared_server, make_app, sql, monkeypatch):
    # the debounce made longer than a loaded CI machine's gap between two keystrokes
    # (it failed there at 0.25 s); the code path is the same
    monkeypatch.setattr("tasktui.ui.screens.tasks.DEBOUNCE", 1.0)
    (some_id,), = sql(shared_server, "SELECT task_id FROM tasks ORDER BY created_at DESC LIMIT 1")
    prefix = some_id[:5]  # a prefix the seed has: the check below cannot pass on an empty list
    want = [r[0] for r in sql(shared_server, "SELECT task_id FROM tasks WHERE task_id LIKE ? OR lower(unique_id) "
                                             "LIKE ? ORDER BY created_at DESC, task_id DESC", prefix + "%", prefix + "%")]
    async with FaultProxy(shared_server.url) as proxy:
        app = make_app(proxy.url, shared_server.api_key)
        async with app.run_test(size=SIZE) as pilot:
            await settled(pilot, app)
            await pilot.press("slash")
            await wait_for(pilot, lambda: app.focused is not None and app.focused.id == "search"
                           and proxy.stats.in_flight == 0, what="the search box focused")
            before = len(proxy.log)
            await pilot.press(*prefix)  # keystrokes well inside the debounce window
            await wait_for(pilot, lambda: app.store.query.search == prefix, what="search applied")
            await settled(pilot, app)
            # one listing asked for the search, with the whole prefix (other requests — the
            # sidebar's counts, a live poll — may come and go meanwhile)
            searches = [s.request_line for s in proxy.log[before:] if "search=" in s.request_line]
            assert len(searches) == 1 and f"search={prefix}" in searches[0], searches
            assert want and [t.task_id for t in shown_tasks(app)] == want[:100]


async def test_empty_state_lists_filters_and_clears_with_one_key(shared_server, make_app):
    app = make_app(shared_server)
    async with app.run_test(size=SIZE) as pilot:
        await settled(pilot, app)
        await toggle_box(pilot, app, "#status", 0)  # Completed
        await pilot.press("slash", *"nothing-matches-this")
        await wait_for(pilot, lambda: app.store.query.search == "nothing-matches-this", what="search")
        await settled(pilot, app)
        screen = app.tasks_screen
        assert screen.has_class("-empty")
        text = screen.empty.plain
        assert "No tasks match these filters." in text
        assert "• Status: Completed" in text
        assert "• Search: nothing-matches-this" in text
        assert "Press C to clear all filters." in text
        assert "Showing 0 of 0" in screen.header.text().plain
        await pilot.press("escape", "C")
        await wait_for(pilot, lambda: app.store.query.is_unfiltered, what="filters cleared")
        await settled(pilot, app)
        assert not screen.has_class("-empty")
        assert screen.table.row_count == 100
        assert "Task status · all shown" in str(screen.sidebar.query_one("#status-title").render())
        assert screen.sidebar.query_one("#search", Input).value == ""


async def test_project_picker_is_filled_from_the_api_and_filters(shared_server, make_app, sql):
    names = sorted(r[0] for r in sql(shared_server, "SELECT name FROM projects"))
    app = make_app(shared_server)
    async with app.run_test(size=SIZE) as pilot:
        await settled(pilot, app)
        from textual.widgets import Select

        sel = app.tasks_screen.sidebar.query_one("#project", Select)
        sidebar = app.tasks_screen.sidebar
        await wait_for(pilot, lambda: len(sidebar.project_choices) >= 1, what="projects loaded")
        offered = sidebar.project_choices
        assert offered == names
        project = names[1]
        sel.value = project
        await wait_for(pilot, lambda: app.store.query.projects == (project,), what="project applied")
        await settled(pilot, app)
        (n,) = sql(shared_server, "SELECT COUNT(*) FROM tasks WHERE project = ?", project)[0]
        assert app.store.total == n
        assert {t.project for t in shown_tasks(app)} == {project}


async def test_completion_date_switch_and_batch_picker(shared_server, make_app, sql):
    app = make_app(shared_server)
    async with app.run_test(size=SIZE) as pilot:
        await settled(pilot, app)
        sidebar = app.tasks_screen.sidebar
        from textual.widgets import RadioButton, Select

        sidebar.query_one("#df-completed", RadioButton).value = True
        sidebar.query_one("#from", Input).value = "2026-11-10"
        sidebar.query_one("#to", Input).value = "2026-11-12"
        await wait_for(pilot, lambda: app.store.query.date_field.value == "completed"
                       and app.store.query.end is not None, what="completion range applied")
        await settled(pilot, app)
        (n,) = sql(shared_server, "SELECT COUNT(*) FROM tasks WHERE completed_at >= ? AND completed_at < ?",
                   int(datetime(2026, 11, 10, tzinfo=ZoneInfo("UTC")).timestamp() * 1000),
                   int(datetime(2026, 11, 13, tzinfo=ZoneInfo("UTC")).timestamp() * 1000))[0]
        assert n > 0 and app.store.total == n
        start, end = app.store.query.start, app.store.query.end
        assert shown_tasks(app) and all(t.completed_at is not None and start <= t.completed_at < end
                                        for t in shown_tasks(app))
        # batches offered follow the chosen project
        project_sel = sidebar.query_one("#project", Select)
        batch_sel = sidebar.query_one("#batch", Select)
        await wait_for(pilot, lambda: len(sidebar.batch_choices) >= 1 and len(sidebar.project_choices) >= 1,
                       what="pickers filled")
        project = sidebar.project_choices[0]
        project_sel.value = project
        expected = {r[0] for r in sql(shared_server, "SELECT name FROM batches WHERE project = ?", project)}
        assert expected
        await wait_for(pilot, lambda: set(sidebar.batch_choices) == expected, what="the project's batches offered")
        batch = sorted(expected)[0]
        batch_sel.value = batch
        await wait_for(pilot, lambda: app.store.query.batches == (batch,), what="batch applied")
        await settled(pilot, app)
        assert {t.batch for t in shown_tasks(app)} <= {batch}
