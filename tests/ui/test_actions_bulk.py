"""Bulk accept / reject / cancel of marked tasks: the confirmation counts what will
happen, the summary reports each failure by task."""

from __future__ import annotations

import httpx
from textual.app import App

from tasktui.api import TaskClient
from tasktui.domain import AuditStatus, OperatorStatus, Task, TaskQuery
from tasktui.store import TaskStore
from tasktui.ui.app import stylesheet_path
from tasktui.store import plan_bulk
from tasktui.ui.modals.bulk import BulkSummary, run_bulk
from tasktui.ui.modals.confirm import ChoiceDialog
from tasktui.ui.modals.prompt import RejectDialog

from .support import FAST_RETRY, api_get, db_status, find_tasks, notifications, screen_text, wait_for


class BulkHost(App):
    CSS_PATH = str(stylesheet_path())

    def __init__(self, server, query: TaskQuery, *, read_only: bool = False):
        super().__init__()
        self.animation_level = "none"
        self.server = server
        self.query_ = query
        self.read_only = read_only
        self.store: TaskStore | None = None

    async def on_mount(self) -> None:
        self.client = TaskClient(self.server.url, self.server.api_key, retry=FAST_RETRY)
        self.store = TaskStore(self.client, page_size=100, max_rows=500, read_only=self.read_only)
        await self.store.set_query(self.query_)

    async def on_unmount(self) -> None:
        await self.store.close()
        await self.client.aclose()


def dialog_text(app) -> str:
    """The body of the dialog on top, unwrapped."""
    return str(app.screen.query_one("#dialog-text").content)


def _t(tid, status, **kw):
    return Task({"task_id": tid, "status": status, **kw})


def test_plan_counts_what_will_happen():
    tasks = {
        "q1": _t("q1", "pending"), "q2": _t("q2", "pending"),
        "p1": _t("p1", "pending", work_started=True), "p2": _t("p2", "pending", work_started=True),
        "c1": _t("c1", "completed"), "gone": LookupError("task gone was not found"),
    }
    query = TaskQuery(statuses=frozenset({OperatorStatus.QUEUED, OperatorStatus.IN_PROGRESS}))
    plan = plan_bulk("cancel", ["q1", "q2", "p1", "p2", "c1", "gone"], tasks, query)
    assert plan.eligible == ["q1", "q2"]
    assert plan.describe() == ("2 will be canceled; 2 are In Progress and will be skipped; 1 is Completed "
                               "and will be skipped; 1 could not be looked up and will be skipped; "
                               "1 marked task is hidden by the current filter.")


async def test_bulk_cancel_with_mixed_statuses_reports_each_failure(server, sql):
    completed = find_tasks(sql, server, "ostatus = 'completed'", limit=1)
    query = TaskQuery(statuses=frozenset({OperatorStatus.QUEUED, OperatorStatus.IN_PROGRESS}))
    app = BulkHost(server, query)
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_for(pilot, lambda: app.store is not None and app.store.rows)
        # marked rows of the list as loaded
        queued = [t.task_id for t in app.store.rows if t.status_label == "Queued"][:3]
        in_progress = [t.task_id for t in app.store.rows if t.status_label == "In Progress"][:2]
        assert len(queued) == 3 and len(in_progress) == 2
        marked = queued + in_progress + completed
        # someone else cancels one of them after the list was loaded: it will fail
        httpx.post(f"{server.url}/task/{queued[2]}/cancel", auth=(server.api_key, "")).raise_for_status()
        worker = app.run_worker(run_bulk(app, app.store, "cancel", marked))
        await wait_for(pilot, lambda: isinstance(app.screen, ChoiceDialog), what="confirmation")
        text = dialog_text(app)
        await wait_for(pilot, lambda: "3 will be canceled;" in screen_text(app))
        assert ("3 will be canceled; 2 are In Progress and will be skipped; 1 is Completed and will be "
                "skipped; 1 marked task is hidden by the current filter.") in text
        await pilot.press("y")
        await wait_for(pilot, lambda: isinstance(app.screen, BulkSummary), what="summary")
        summary = app.screen
        out = summary.outcome
        assert out.succeeded == queued[:2]
        assert list(out.failed) == [queued[2]]
        assert f"cannot cancel: {queued[2]} is already canceled" in out.failed[queued[2]]
        assert set(out.skipped) == set(in_progress + completed)
        text = dialog_text(app)
        assert text.startswith("2 canceled; 1 failed; 3 skipped.")
        assert f"  {queued[2]}  " in text.split("Failed:")[1].split("Skipped:")[0]
        await wait_for(pilot, lambda: "2 canceled; 1 failed; 3 skipped." in screen_text(app))
        await pilot.press("enter")
        outcome = await worker.wait()
        assert outcome is out
    for tid in queued:
        assert db_status(server, tid)[0] == "canceled"
    for tid in in_progress:
        assert db_status(server, tid)[0] == "in_progress"


async def test_bulk_accept_visible_only_and_bulk_reject_with_a_comment(server, sql):
    ready = find_tasks(sql, server, "ostatus = 'completed' AND review = 'pending'", limit=4)
    accepted = find_tasks(sql, server, "ostatus = 'completed' AND review = 'accepted'", limit=1)
    queued = find_tasks(sql, server, "ostatus = 'queued'", limit=1)
    query = TaskQuery(statuses=frozenset({OperatorStatus.COMPLETED}),
                      audit_statuses=frozenset({AuditStatus.READY_TO_AUDIT}))
    app = BulkHost(server, query)
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_for(pilot, lambda: app.store is not None and app.store.rows)
        worker = app.run_worker(run_bulk(app, app.store, "accept", ready[:2] + accepted + queued))
        await wait_for(pilot, lambda: isinstance(app.screen, ChoiceDialog))
        text = dialog_text(app)
        assert ("3 will be accepted; 1 is Queued and will be skipped; 2 marked tasks are hidden by the "
                "current filter.") in text
        await wait_for(pilot, lambda: "Only the 2 visible [v]" in screen_text(app))
        await pilot.press("v")
        await wait_for(pilot, lambda: isinstance(app.screen, BulkSummary))
        assert app.screen.outcome.succeeded == ready[:2]
        assert app.screen.outcome.skipped[accepted[0]] == "hidden by the current filter"
        await pilot.press("enter")
        await worker.wait()

        worker = app.run_worker(run_bulk(app, app.store, "reject", ready[2:4]))
        await wait_for(pilot, lambda: isinstance(app.screen, ChoiceDialog))
        await pilot.press("y")
        await wait_for(pilot, lambda: isinstance(app.screen, RejectDialog))
        await pilot.press(*"Boxes too loose", "enter")
        await wait_for(pilot, lambda: isinstance(app.screen, BulkSummary))
        await wait_for(pilot, lambda: "2 rejected." in screen_text(app))
        await pilot.press("escape")
        await worker.wait()
    for tid in ready[:2]:
        assert db_status(server, tid) == ("completed", "accepted")
    for tid in ready[2:4]:
        assert db_status(server, tid) == ("completed", "rejected")
        assert "Boxes too loose" in str(api_get(server, tid))


async def test_bulk_in_read_only_mode_is_refused(shared_server):
    app = BulkHost(shared_server, TaskQuery(), read_only=True)
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_for(pilot, lambda: app.store is not None and app.store.rows)
        ids = [t.task_id for t in app.store.rows[:3]]
        outcome = await app.run_worker(run_bulk(app, app.store, "cancel", ids)).wait()
        assert outcome is None
        assert any(m.startswith("Read-only mode: tasks cannot be canceled") for m in notifications(app))


async def test_bulk_with_nothing_eligible_says_so(shared_server, sql):
    in_progress = find_tasks(sql, shared_server, "ostatus = 'in_progress'", limit=2)
    app = BulkHost(shared_server, TaskQuery())
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_for(pilot, lambda: app.store is not None and app.store.rows)
        worker = app.run_worker(run_bulk(app, app.store, "cancel", in_progress))
        await wait_for(pilot, lambda: isinstance(app.screen, BulkSummary))
        text = dialog_text(app)
        assert text.startswith("Nothing was canceled: none of the 2 marked tasks can be canceled.")
        assert f"{in_progress[0]}  In Progress" in text
        await wait_for(pilot, lambda: "Bulk cancel: nothing to do" in screen_text(app))
        await pilot.press("enter")
        assert await worker.wait() is None
    for tid in in_progress:
        assert db_status(shared_server, tid)[0] == "in_progress"
