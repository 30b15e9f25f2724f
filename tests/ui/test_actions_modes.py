"""Read-only mode removes every action that changes a task; the audit queue moves on."""

from __future__ import annotations

from tasktui.domain import AuditStatus, OperatorStatus, TaskQuery
from tasktui.ui.modals.prompt import RejectDialog

from .support import DetailHost, db_status, find_task, notifications, screen_text, wait_for, wait_loaded

READ_ONLY = "Read-only mode: tasks cannot be accepted, rejected, fixed or canceled here"


async def test_read_only_hides_and_refuses_every_changing_action(shared_server, sql, tmp_path, monkeypatch):
    monkeypatch.setenv("TASKTUI_CLIPBOARD", "off")
    completed = find_task(sql, shared_server, "ostatus = 'completed' AND review = 'pending'")
    queued = find_task(sql, shared_server, "ostatus = 'queued'")
    before = (db_status(shared_server, completed), db_status(shared_server, queued))
    app = DetailHost(shared_server, completed, read_only=True, downloads_dir=tmp_path,
                     task_ids=[completed, queued])
    async with app.run_test(size=(140, 40)) as pilot:
        detail = await wait_loaded(pilot, app, completed)
        footer = screen_text(app).splitlines()[-1]
        for word in ("a Accept", "x Reject", "e Fix", "c Cancel"):
            assert word not in footer, footer
        assert "Download" in footer and "y Copy" in footer
        await wait_for(pilot, lambda: "read-only" in screen_text(app).splitlines()[0])
        for key in ("a", "x", "e", "E", "c"):
            app.clear_notifications()
            await pilot.press(key)
            await wait_for(pilot, lambda: any(m.startswith(READ_ONLY) for m in notifications(app)), what=key)
            assert app.screen is detail
        await pilot.press("n")
        await wait_loaded(pilot, app, queued)
        app.clear_notifications()
        await pilot.press("c")
        await wait_for(pilot, lambda: any(m.startswith(READ_ONLY) for m in notifications(app)))
        # reading still works
        await pilot.press("y")
        assert app.clipboard == queued
        await pilot.press("d")
        await wait_for(pilot, (tmp_path / f"{queued}.json").exists)
    assert (db_status(shared_server, completed), db_status(shared_server, queued)) == before


async def test_audit_queue_moves_to_the_next_task_after_accept_and_reject(server):
    query = TaskQuery(statuses=frozenset({OperatorStatus.COMPLETED}),
                      audit_statuses=frozenset({AuditStatus.READY_TO_AUDIT}))
    app = DetailHost(server, None, query=query)
    async with app.run_test(size=(120, 40)) as pilot:
        detail = await wait_loaded(pilot, app)
        ids = [t.task_id for t in app.store.rows]
        assert len(ids) >= 3 and detail.shown_task.task_id == ids[0]
        await pilot.press("a")
        await wait_loaded(pilot, app, ids[1])
        assert db_status(server, ids[0]) == ("completed", "accepted")
        await pilot.press("x")
        await wait_for(pilot, lambda: isinstance(app.screen, RejectDialog))
        await pilot.press(*"wrong label", "enter")
        await wait_loaded(pilot, app, ids[2])
        assert db_status(server, ids[1]) == ("completed", "rejected")
        assert db_status(server, ids[2]) == ("completed", "pending")
        await wait_for(pilot, lambda: f"Task {ids[2]}" in screen_text(app))


async def test_outside_the_audit_queue_accept_stays_on_the_task(server):
    query = TaskQuery(statuses=frozenset({OperatorStatus.COMPLETED}))
    app = DetailHost(server, None, query=query)
    async with app.run_test(size=(120, 40)) as pilot:
        detail = await wait_loaded(pilot, app)
        first = detail.shown_task
        if first.audit_label != "Ready to Audit":
            first = next(t for t in app.store.rows if t.audit_label == "Ready to Audit")
            detail.load(first.task_id)
            await wait_loaded(pilot, app, first.task_id)
        await pilot.press("a")
        await wait_for(pilot, lambda: detail.shown_task.audit_label == "Accepted")
        assert detail.shown_task.task_id == first.task_id
