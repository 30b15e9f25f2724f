"""Every filter of the sidebar, both ways (issue 11): through the public-contract proxy
(no extensions: the console asks for `pending` and splits Queued / In Progress / Redo
here, filters audit statuses it cannot trust the server with, and counts by reading) and
on the bundled server directly. Both must show the same first rows, in order, and the
same exact total — read from the server's SQLite by tests/sql_oracle.py, not by the code
under test. A request the public API would refuse fails the test. One seeded server for
the whole module (the session's shared one, read only)."""

from __future__ import annotations

import contextlib

import pytest
from textual.widgets import OptionList, Select

from sql_oracle import expected_ids
from tasktui.config import SavedView
from tasktui.domain import AuditStatus, OperatorStatus, TaskQuery
from tasktui.domain.filters import Filters
from tasktui.testing import FaultProxy
from tasktui.ui.keymap import screen_text

from .support import settled, ui_settings, wait_for
from .test_tasks_filters import shown_tasks, toggle_box

SIZE = (120, 40)
FIRST = 20  # rows compared in order (the first screenful and more)


@contextlib.contextmanager
def backend(handle, mode: str):
    """(url, proxy or None): the bundled server directly, or behind the public contract."""
    if mode == "direct":
        yield handle.url, None
        return
    with FaultProxy(handle.url, public_contract=True).running() as proxy:
        yield proxy.url, proxy


async def _exact(pilot, app, what: str) -> None:
    await wait_for(pilot, lambda: app.store.loaded_once and not app.store.loading and not app.store.scanning
                   and app.store.total_exact, timeout=60, what=f"{what}: the exact total")
    await pilot.pause()


async def pick(pilot, sel: Select, value: str) -> None:
    """Choose ``value`` in a picker as a user does: open it, wait until its menu (an
    OptionList) offers an option that reads ``value``, highlight it and press enter."""
    sel.focus()
    await pilot.pause()
    await pilot.press("enter")
    await wait_for(pilot, lambda: sel.expanded, what=f"{sel.id} opened")
    menu = sel.query_one(OptionList)
    index = await wait_for(pilot, lambda: next((i + 1 for i, o in enumerate(menu.options) if str(o.prompt) == value),
                                               None), what=f"{value} offered") - 1
    menu.highlighted = index
    await pilot.press("enter")
    await wait_for(pilot, lambda: not sel.expanded and sel.value == value, what=f"{value} chosen")


def _check(app, handle, q: TaskQuery, what: str) -> None:
    want = expected_ids(handle.db_path, q)
    assert want, f"the seed holds tasks for {what}, or the check would pass for any filter"
    rows = [t.task_id for t in shown_tasks(app)]
    assert rows[:FIRST] == want[:FIRST], what
    assert app.store.total == len(want), what
    header = screen_text(app).splitlines()[0]
    assert f"{len(want):,}" in header and "at least" not in header, (what, header)


@pytest.mark.parametrize("mode", ["direct", "public"])
async def test_every_status_and_audit_box_shows_the_same_rows_and_exact_total(shared_server, make_app, mode):
    with backend(shared_server, mode) as (url, proxy):
        app = make_app(url, shared_server.api_key, kind="remote")
        async with app.run_test(size=SIZE) as pilot:
            await settled(pilot, app)
            for list_id, values, field in (("#status", list(OperatorStatus), "statuses"),
                                           ("#audit", list(AuditStatus), "audit_statuses")):
                previous = None
                for index, value in enumerate(values):
                    if previous is not None:
                        await toggle_box(pilot, app, list_id, previous)  # off, debounced with the next
                    await toggle_box(pilot, app, list_id, index)
                    await wait_for(pilot, lambda: getattr(app.store.query, field) == {value},
                                   what=f"{value} applied")
                    await settled(pilot, app)
                    await _exact(pilot, app, f"{mode} {value}")
                    _check(app, shared_server, TaskQuery(**{field: frozenset({value})}), f"{mode} {value}")
                    previous = index
                await toggle_box(pilot, app, list_id, previous)
                await wait_for(pilot, lambda: not getattr(app.store.query, field), what="cleared")
                await settled(pilot, app)
        if proxy is not None:
            assert proxy.refused == []


@pytest.mark.parametrize("mode", ["direct", "public"])
async def test_project_and_batch_with_a_status_show_the_same_rows(shared_server, make_app, sql, mode):
    """A project, then a batch, each with Queued (which the public API cannot filter)."""
    (project,), = sql(shared_server, "SELECT project FROM tasks WHERE ostatus = 'queued' "
                                     "GROUP BY project ORDER BY COUNT(*) DESC LIMIT 1")
    (batch,), = sql(shared_server, "SELECT batch FROM tasks WHERE ostatus = 'queued' AND batch IS NOT NULL "
                                   "GROUP BY batch ORDER BY COUNT(*) DESC LIMIT 1")
    with backend(shared_server, mode) as (url, proxy):
        app = make_app(url, shared_server.api_key, kind="remote")
        async with app.run_test(size=SIZE) as pilot:
            await settled(pilot, app)
            await toggle_box(pilot, app, "#status", list(OperatorStatus).index(OperatorStatus.QUEUED))
            queued = frozenset({OperatorStatus.QUEUED})
            for select_id, value, q in (("#project", project, TaskQuery(statuses=queued, projects=(project,))),
                                        ("#batch", batch, TaskQuery(statuses=queued, projects=(project,),
                                                                    batches=(batch,)))):
                await pick(pilot, app.tasks_screen.sidebar.query_one(select_id, Select), value)
                await wait_for(pilot, lambda: app.store.query == app.store.query.replace(
                    statuses=q.statuses, projects=q.projects, batches=q.batches), what=f"{value} applied")
                await settled(pilot, app)
                await _exact(pilot, app, f"{mode} {value}")
                _check(app, shared_server, q, f"{mode} {select_id} {value}")
        if proxy is not None:
            assert proxy.refused == []


async def test_public_queued_position_and_export_estimate_are_the_sql_count(shared_server, make_app, tmp_path):
    """Through the public contract: the detail says "1 of N" and the export dialog "N tasks
    match now." with N the SQL count of Queued tasks — never the count of every pending task."""
    from tasktui.ui.screens.export import ExportScreen

    q = TaskQuery(statuses=frozenset({OperatorStatus.QUEUED}))
    want = expected_ids(shared_server.db_path, q)
    views = {"Queued": SavedView.of("Queued", Filters.parse({"status": ["queued"]}))}
    with FaultProxy(shared_server.url, public_contract=True).running() as proxy:
        app = make_app(proxy.url, shared_server.api_key, settings=ui_settings(tmp_path, views=views),
                       initial_view="Queued", kind="remote")
        async with app.run_test(size=SIZE) as pilot:
            await settled(pilot, app)
            await _exact(pilot, app, "Queued")
            assert app.tasks_screen.table.cursor_task_id == want[0]
            await pilot.press("enter")
            await wait_for(pilot, lambda: getattr(app.screen, "task_id", None) == want[0], what="the task opened")
            await wait_for(pilot, lambda: f"1 of {len(want):,}" in screen_text(app), what="the position")
            await pilot.press("escape")
            await wait_for(pilot, lambda: app.screen is app.tasks_screen, what="back to the list")
            await pilot.press("ctrl+e")
            await wait_for(pilot, lambda: isinstance(app.screen, ExportScreen), what="the export dialog")
            await wait_for(pilot, lambda: f"{len(want):,} tasks match now." in str(
                app.screen.query_one("#export-total").content), what="the estimate")
            await pilot.press("escape")
        assert proxy.refused == []
