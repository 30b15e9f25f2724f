"""Cancel: Queued tasks after a confirmation; In Progress and Completed refused with the reason."""

from __future__ import annotations

from tasktui.ui.modals.confirm import ConfirmDialog

from .support import DetailHost, db_status, find_task, notifications, screen_text, wait_for, wait_loaded


async def test_cancel_a_queued_task_after_confirmation(server, sql):
    tid = find_task(sql, server, "ostatus = 'queued'")
    app = DetailHost(server, tid)
    async with app.run_test(size=(120, 40)) as pilot:
        detail = await wait_loaded(pilot, app, tid)
        await pilot.press("c")
        await wait_for(pilot, lambda: isinstance(app.screen, ConfirmDialog))
        await wait_for(pilot, lambda: f"Cancel task {tid}?" in screen_text(app))
        await pilot.press("n")  # declined: nothing happens
        await wait_for(pilot, lambda: app.screen is detail)
        assert db_status(server, tid)[0] == "queued"
        await pilot.press("c")
        await wait_for(pilot, lambda: isinstance(app.screen, ConfirmDialog))
        await pilot.press("y")
        await wait_for(pilot, lambda: detail.shown_task.status_label == "Canceled", what="canceled")
        assert db_status(server, tid)[0] == "canceled"
        await wait_for(pilot, lambda: f"Task {tid}  Canceled" in screen_text(app))
        await pilot.press("c")  # and now it says why not
        await wait_for(pilot, lambda: any(f"Cannot cancel: {tid} is already canceled" in m for m in notifications(app)))


NOT_CANCELABLE = [
    ("ostatus = 'in_progress'", "is In Progress: it is being worked on and can no longer be canceled "
                                "(forcing it on the service may be charged)"),
    ("ostatus = 'completed'", "is Completed: completed tasks cannot be canceled"),
]


async def test_cancel_refusals_explain_why(shared_server, sql):
    # one app steps through both tasks with n (one start-up instead of two)
    tids = [find_task(sql, shared_server, where) for where, _words in NOT_CANCELABLE]
    before = [db_status(shared_server, tid) for tid in tids]
    app = DetailHost(shared_server, tids[0], task_ids=tids)
    async with app.run_test(size=(120, 40)) as pilot:
        for i, (tid, (_where, words)) in enumerate(zip(tids, NOT_CANCELABLE)):
            if i:
                await pilot.press("n")
            detail = await wait_loaded(pilot, app, tid)
            await pilot.press("c")
            await wait_for(pilot, lambda: any(f"Cannot cancel: {tid} {words}" in m for m in notifications(app)),
                           what=f"refusal of {tid}")
            assert app.screen is detail
    assert [db_status(shared_server, tid) for tid in tids] == before


async def test_a_failed_cancel_says_what_went_wrong(server, sql):
    tid = find_task(sql, server, "ostatus = 'queued'")
    app = DetailHost(server, tid)
    async with app.run_test(size=(120, 40)) as pilot:
        detail = await wait_loaded(pilot, app, tid)
        # someone else starts work on it meanwhile: the service refuses the cancel
        import httpx
        httpx.post(f"{server.url}/task/{tid}/cancel", auth=(server.api_key, "")).raise_for_status()
        await pilot.press("c")
        await wait_for(pilot, lambda: isinstance(app.screen, ConfirmDialog))
        await pilot.press("y")
        await wait_for(pilot, lambda: any(m.startswith(f"Canceling {tid} failed:") for m in notifications(app)),
                       what="failure message")
        await wait_for(pilot, lambda: detail.shown_task.status_label == "Canceled", what="re-fetched truth")
