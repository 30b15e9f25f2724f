"""A scripted operator session through the fault-injecting proxy at 20% faults
(500 / 503 / 502 HTML pages, 429 with Retry-After, slow answers, connections dropped
before, during and after the answer — some after the server applied the action — cut
bodies and garbage): filter, scroll, open tasks, accept, fix, cancel, export.

It ends with no crash, each action applied exactly once (read in SQLite: one audit
appended, one prior response kept, the cancel done, and no other task touched), and the
export holding exactly the tasks the database holds for its filter, each once."""

from __future__ import annotations

import functools
import json
from pathlib import Path

import orjson
import pytest
from textual.widgets import SelectionList, TextArea

from tasktui.api import RetryPolicy
from tasktui.config import Settings
from tasktui.backend import Backend
from tasktui.domain import AuditStatus, OperatorStatus
from tasktui.testing.faultproxy import DEFAULT_MIX, Fault, FaultProxy

from tasktui.ui.keymap import notification_messages

from ui.support import screen_text, wait_for

MIX = (*DEFAULT_MIX, Fault.slow(0.3), Fault.rate_limit(0.2), Fault.error(500, forward=True),
       Fault.drop("before", forward=True))
RETRY = RetryPolicy(max_attempts=10, base_delay=0.02, max_delay=0.3, total_time=30, seed=1)


def docs_of(sql, handle, ids) -> dict[str, dict]:
    q = (f"SELECT t.task_id, d.doc FROM tasks t JOIN docs d ON d.id = t.id "
         f"WHERE t.task_id IN ({','.join('?' * len(ids))})")
    return {tid: orjson.loads(blob) for tid, blob in sql(handle, q, *ids)}


def notes(app) -> str:
    return " | ".join(notification_messages(app))


#: a wait for a condition; 40 s, as the session runs under faults on a busy machine
until = functools.partial(wait_for, timeout=40.0)


def settled(app) -> bool:
    s = app.store
    return (s is not None and s.loaded_once and not s.loading and not s.loading_more and s.error is None
            and app.tasks_screen is not None and not app.tasks_screen.filters_pending
            and app.tasks_screen.sidebar_ready)  # mounted shortly after the first page


async def boxes(pilot, app, list_id: str, wanted: set[str]) -> None:
    """Tick exactly ``wanted`` in a checkbox list, with the keyboard."""
    sl = app.tasks_screen.sidebar.query_one(list_id, SelectionList)
    sl.focus()
    await pilot.pause()
    for i in range(sl.option_count):
        value = sl.get_option_at_index(i).value
        if (value in sl.selected) != (value in wanted):
            sl.highlighted = i
            await pilot.press("space")
            await pilot.pause()


async def filter_to(pilot, app, statuses: set[OperatorStatus], audits: set[AuditStatus]) -> None:
    await boxes(pilot, app, "#status", {s.value for s in statuses})
    await boxes(pilot, app, "#audit", {a.value for a in audits})
    await until(pilot, lambda: app.store.query.statuses == statuses and app.store.query.audit_statuses == audits,
                what="the filter")
    await until(pilot, lambda: settled(app), what="the filtered list")


async def open_row(pilot, app, row: int = 0) -> str:
    from tasktui.ui.screens.detail import TaskDetailScreen

    table = app.tasks_screen.table
    table.focus()
    table.move_to_task(table.rows[row].task_id)
    tid = table.cursor_task_id
    await pilot.press("enter")
    await until(pilot, lambda: isinstance(app.screen, TaskDetailScreen) and app.screen.shown_task is not None
                and app.screen.shown_task.task_id == tid, what=f"the detail of {tid}")
    return tid


async def back_to_list(pilot, app) -> None:
    for _ in range(3):
        if app.screen is app.tasks_screen:
            break
        screen = app.screen
        await pilot.press("escape")
        await until(pilot, lambda: app.screen is not screen, what="escape to close the screen")
    assert app.screen is app.tasks_screen


@pytest.mark.timeout(300)  # a busy machine slows the session; its own waits are bounded
async def test_session_under_20_percent_faults_applies_each_action_once(server, sql, tmp_path: Path, seed_now):
    from tasktui.ui.app import TaskTuiApp
    from tasktui.ui.modals.confirm import ConfirmDialog
    from tasktui.ui.modals.fix_editor import FixEditor
    from tasktui.ui.screens.export import ExportScreen, current_job

    before_updated = dict(sql(server, "SELECT task_id, updated_at FROM tasks"))
    proxy = FaultProxy(server.url, seed=20, rate=0.2, kinds=MIX)
    # on top of the 20%: the first answer to each action is lost AFTER the server applied
    # it (the case Idempotency-Key exists for), each in a different way
    proxy.script(Fault.error(502, forward=True, match="POST /v1/task/"),
                 Fault.drop("headers", match="POST /v1/task/"),
                 Fault.drop("body", match="POST /v1/task/"))
    await proxy.start()
    try:
        settings = Settings(api_url=proxy.url, api_key=server.api_key, refresh_interval=0,
                            sandbox_db=tmp_path / "unused.db", downloads_dir=tmp_path / "dl")
        app = TaskTuiApp(settings, Backend(proxy.url, server.api_key, "remote", "through the fault proxy"),
                         now=lambda: seed_now, client_options={"retry": RETRY, "timeout": 10.0},
                         theme="textual-dark")
        async with app.run_test(size=(120, 40), notifications=True) as pilot:
            await until(pilot, lambda: settled(app), what="the first page")
            # filter: Completed and Ready to Audit; scroll far enough to load page two
            await filter_to(pilot, app, {OperatorStatus.COMPLETED}, {AuditStatus.READY_TO_AUDIT})
            table = app.tasks_screen.table
            table.focus()
            for pages in (100, 200, 300):  # scroll on until pages two, three and four are in
                await pilot.press("G")
                await until(pilot, lambda: table.row_count > pages and settled(app), what=f"more than {pages} rows")
            await pilot.press("g")
            for _ in range(3):  # refresh the list a few times
                await pilot.press("r")
                await until(pilot, lambda: settled(app), what="the refreshed list")

            # open the first task, step through its neighbours and back, accept it
            a = await open_row(pilot, app, 0)
            a_before = docs_of(sql, server, [a])[a]
            order = [t.task_id for t in table.rows[:3]]
            for key, shown in zip("nnpp", (order[1], order[2], order[1], order[0])):
                await pilot.press(key)
                await until(pilot, lambda: app.screen.shown_task.task_id == shown, what=f"{key} to show {shown}")
            assert app.screen.shown_task.task_id == a
            await pilot.press("a")
            await until(pilot, lambda: app.screen.shown_task.task_id != a
                        or app.screen.shown_task.audit_label == "Accepted", what=f"accept of {a}")
            await back_to_list(pilot, app)

            # fix another one
            await until(pilot, lambda: settled(app), what="the list")
            row = next(i for i, t in enumerate(table.rows) if t.task_id != a)
            b = await open_row(pilot, app, row)
            b_before = docs_of(sql, server, [b])[b]
            await pilot.press("e")
            await until(pilot, lambda: isinstance(app.screen, FixEditor), what="the fix editor")
            editor = app.screen
            ta = editor.query_one(TextArea)
            new = json.loads(ta.text)
            new["reliability_note"] = "fixed under faults"
            ta.load_text(json.dumps(new, indent=2))
            await pilot.pause()
            await pilot.press("ctrl+s")
            await until(pilot, lambda: not isinstance(app.screen, FixEditor), what=f"fix of {b} sent")
            await until(pilot, lambda: docs_of(sql, server, [b])[b].get("customer_review_status") == "fixed",
                        what=f"fix of {b} stored")
            await back_to_list(pilot, app)

            # cancel a Queued task
            await filter_to(pilot, app, {OperatorStatus.QUEUED}, set())
            c = await open_row(pilot, app, 0)
            await pilot.press("c")
            await until(pilot, lambda: isinstance(app.screen, ConfirmDialog), what="the cancel confirmation")
            await pilot.press("y")
            await until(pilot, lambda: docs_of(sql, server, [c])[c].get("status") == "canceled"
                        and not isinstance(app.screen, ConfirmDialog), what=f"cancel of {c}")
            # the action is over (its retries too) once the detail shows its outcome
            await until(pilot, lambda: app.screen.shown_task.status_label == "Canceled"
                        and "Canceling" not in screen_text(app).splitlines()[0], what=f"the cancel of {c} shown")
            await back_to_list(pilot, app)

            # export every Completed task from the app
            await filter_to(pilot, app, {OperatorStatus.COMPLETED}, set())
            await pilot.press("ctrl+e")
            await until(pilot, lambda: isinstance(app.screen, ExportScreen), what="the export dialog")
            target = tmp_path / "completed.json"
            inp = app.screen.query_one("#export-path")
            inp.value = str(target)
            inp.focus()
            await pilot.pause()
            await pilot.press("enter")
            await until(pilot, lambda: current_job(app) is not None and current_job(app).state in ("done", "failed"),
                        timeout=90, what="the export")
            assert current_job(app).state == "done", notes(app)
            assert app.is_running and app.return_code is None
            shown_notes = notes(app)
    finally:
        await proxy.stop()

    # faults really happened, on reads and on writes
    print(f"fault proxy: {proxy.stats}")  # shown with -s; quoted in RELIABILITY.md
    assert proxy.scripted_left == 0
    assert sum(proxy.stats.injected.values()) >= 4, proxy.stats
    # each action exactly once
    after = docs_of(sql, server, [a, b, c])
    assert after[a]["customer_review_status"] == "accepted"
    assert len(after[a]["audits"]) == len(a_before.get("audits") or []) + 1
    assert after[b]["customer_review_status"] == "fixed"
    assert after[b]["response"] == new
    assert len(after[b]["prior_responses"]) == len(b_before.get("prior_responses") or []) + 1
    assert len(after[b]["audits"]) == len(b_before.get("audits") or []) + 1
    assert after[c]["status"] == "canceled"
    # and nothing else was touched
    after_updated = dict(sql(server, "SELECT task_id, updated_at FROM tasks"))
    changed = {t for t, u in after_updated.items() if before_updated.get(t) != u}
    assert changed == {a, b, c}, (changed, shown_notes)
    # the export: exactly the Completed tasks of the database, each once
    docs = json.loads(target.read_text())
    ids = [d["task_id"] for d in docs]
    expected = {r[0] for r in sql(server, "SELECT task_id FROM tasks WHERE ostatus = 'completed'")}
    assert len(ids) == len(set(ids)) == len(expected)
    assert set(ids) == expected
