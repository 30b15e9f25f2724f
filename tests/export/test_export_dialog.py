"""The export dialog in the real app (Pilot): ctrl+e on the Tasks screen, the store's
query and client, the bundled server over HTTP (through the fault proxy when an export
must be slow)."""

from __future__ import annotations

import json
from pathlib import Path


from tasktui.api import RetryPolicy
from tasktui.config import Settings
from tasktui.backend import Backend
from tasktui.domain import OperatorStatus, TaskQuery
from tasktui.export import checkpoint_path, partial_path, read_checkpoint
from tasktui.testing.faultproxy import Fault, FaultProxy
from tasktui.ui.app import TaskTuiApp
from tasktui.ui.keymap import notification_messages, screen_text
from tasktui.ui.screens.export import ExportScreen, current_job
from ui.support import wait_for

FAST_RETRY = RetryPolicy(max_attempts=2, base_delay=0.01, max_delay=0.05, total_time=5, seed=1)


def make_app(url: str, api_key: str, downloads: Path) -> TaskTuiApp:
    settings = Settings(api_url=url, api_key=api_key, refresh_interval=0, downloads_dir=downloads)
    backend = Backend(url=url, api_key=api_key, kind="remote", label="test server")
    return TaskTuiApp(settings, backend, client_options={"retry": FAST_RETRY})


def shown(screen, selector: str) -> str:
    """The text a Static shows (whole, however the dialog wraps it)."""
    return str(screen.query_one(selector).content)


async def open_dialog(pilot) -> ExportScreen:
    app = pilot.app
    await wait_for(pilot, lambda: app.store is not None and app.store.loaded_once, what="the first page")
    await pilot.press("ctrl+e")
    await wait_for(pilot, lambda: isinstance(app.screen, ExportScreen), what="the export dialog")
    await pilot.pause()
    return app.screen


async def set_path(pilot, screen: ExportScreen, path: Path) -> None:
    inp = screen.query_one("#export-path")
    inp.value = str(path)
    inp.focus()
    await pilot.pause()


async def test_export_from_the_app_writes_every_task_of_the_current_filters(shared_server, tmp_path):
    app = make_app(shared_server.url, shared_server.api_key, tmp_path)
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_for(pilot, lambda: app.store is not None and app.store.loaded_once, what="the first page")
        query = TaskQuery(statuses=frozenset({OperatorStatus.COMPLETED}), projects=("Street Scenes",))
        await app.store.set_query(query)
        screen = await open_dialog(pilot)
        text = screen_text(app)
        assert "Export tasks" in text and "Status: Completed" in text and "Project: Street Scenes" in text
        path_input = screen.query_one("#export-path")
        assert path_input.value.startswith(str(tmp_path / "tasks-")) and path_input.value.endswith(".json")
        await pilot.click("#fmt-ndjson", offset=(2, 0))
        await pilot.pause()
        assert path_input.value.endswith(".ndjson")  # the name follows the format
        target = Path(path_input.value)
        path_input.focus()
        await pilot.press("enter")
        await wait_for(pilot, lambda: current_job(app) is not None and current_job(app).state == "done",
                       what="the export to finish")
        await wait_for(pilot, lambda: "Export finished" in screen_text(app), what="the finished dialog drawn")
        text = screen_text(app)
        assert "Export finished" in text and "tasks written to" in text
        lines = target.read_text().splitlines()
        docs = [json.loads(line) for line in lines]
        assert docs and len({d["task_id"] for d in docs}) == len(docs) == current_job(app).result.written
        assert all(d["status"] == "completed" and d["project"] == "Street Scenes" for d in docs)
        assert shared_server.api_key not in target.read_text()
        await pilot.press("escape")
        await pilot.pause()
        assert not isinstance(app.screen, ExportScreen)


async def test_cancel_from_the_app_leaves_no_finished_looking_file(shared_server, tmp_path):
    proxy = FaultProxy(shared_server.url)
    await proxy.start()
    try:
        app = make_app(proxy.url, shared_server.api_key, tmp_path)
        async with app.run_test(size=(120, 40)) as pilot:
            screen = await open_dialog(pilot)
            target = tmp_path / "canceled.json"
            await set_path(pilot, screen, target)
            proxy.script(Fault.slow(3, match="next_token"), times=5)  # every later page is slow
            await pilot.press("enter")
            job = current_job(app)
            await wait_for(pilot, lambda: job.progress is not None and job.progress.written >= 100,
                           what="some progress")
            assert partial_path(target).exists() and not target.exists()
            # the dialog refreshes its figures 5 times a second
            await wait_for(pilot, lambda: "of 1,500 tasks written" in screen_text(app), what="the figures drawn")
            text = screen_text(app)
            assert "Exporting" in text and "of 1,500 tasks written" in text
            await pilot.click("#run-cancel")
            await wait_for(pilot, lambda: job.state == "canceled", what="the cancellation")
            await wait_for(pilot, lambda: "Canceled" in screen_text(app), what="the cancellation drawn")
            # nothing that looks finished, and nothing half-done left behind
            assert not target.exists()
            assert not partial_path(target).exists() and not checkpoint_path(target).exists()
            assert list(tmp_path.iterdir()) == []
    finally:
        proxy.clear()
        await proxy.stop()


async def test_path_validation_and_overwrite_confirmation(shared_server, tmp_path):
    downloads = tmp_path / "Downloads"  # not there yet: created on first use
    app = make_app(shared_server.url, shared_server.api_key, downloads)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await open_dialog(pilot)
        default = Path(screen.query_one("#export-path").value)
        assert default.parent == downloads and not downloads.exists()
        await set_path(pilot, screen, tmp_path / "missing-dir" / "x.json")
        await pilot.press("enter")
        await pilot.pause()
        assert "does not exist" in shown(screen, "#export-error")
        assert current_job(app) is None
        existing = tmp_path / "existing.json"
        existing.write_text("keep me")
        await set_path(pilot, screen, existing)
        await pilot.press("enter")
        await pilot.pause()
        assert "already exists. Overwrite it?" in shown(screen, "#export-question")
        assert "Overwrite" in screen_text(app)
        await pilot.press("n")  # back to the form, nothing touched
        await pilot.pause()
        assert existing.read_text() == "keep me" and current_job(app) is None
        screen.query_one("#export-path").focus()
        await pilot.press("enter")
        await pilot.pause()
        await pilot.press("y")
        await wait_for(pilot, lambda: current_job(app) is not None and current_job(app).state == "done",
                       what="the export to finish")
        assert len(json.loads(existing.read_text())) == 1500
        await pilot.press("escape")
        await pilot.pause()
        screen = await open_dialog(pilot)  # a new export: the default name, its folder made
        screen.query_one("#export-path").focus()
        await pilot.press("enter")
        await wait_for(pilot, lambda: current_job(app) is not None and current_job(app).state == "done",
                       what="the export to the downloads folder")
        assert current_job(app).path.parent == downloads
        assert len(json.loads(current_job(app).path.read_text())) == 1500


async def test_hidden_export_keeps_running_and_notifies_when_done(shared_server, tmp_path):
    proxy = FaultProxy(shared_server.url)
    await proxy.start()
    try:
        app = make_app(proxy.url, shared_server.api_key, tmp_path)
        async with app.run_test(size=(120, 40)) as pilot:
            screen = await open_dialog(pilot)
            target = tmp_path / "background.ndjson"
            await set_path(pilot, screen, target)
            await pilot.click("#fmt-ndjson", offset=(2, 0))  # a chosen name keeps its suffix unless it matched
            proxy.script(Fault.slow(1.0, match="next_token"), times=2)
            screen.query_one("#export-path").focus()
            await pilot.press("enter")
            job = current_job(app)
            assert job is not None and job.running
            await pilot.press("escape")  # hide: the app is usable while it runs
            await pilot.pause()
            assert not isinstance(app.screen, ExportScreen)
            await wait_for(pilot, lambda: job.state == "done", what="the background export")
            await wait_for(pilot, lambda: any("Exported" in m for m in notification_messages(app)),
                           what="the notice")
            messages = notification_messages(app)
            assert any("Exported 1,500 tasks" in m for m in messages), messages
            assert len(target.read_text().splitlines()) == 1500
    finally:
        proxy.clear()
        await proxy.stop()


async def test_a_failed_export_keeps_its_partial_and_resumes_from_the_dialog(shared_server, tmp_path):
    proxy = FaultProxy(shared_server.url)
    await proxy.start()
    try:
        app = make_app(proxy.url, shared_server.api_key, tmp_path)
        async with app.run_test(size=(120, 40)) as pilot:
            screen = await open_dialog(pilot)
            target = tmp_path / "flaky.json"
            await set_path(pilot, screen, target)
            # the second page loses its connection on every try the retry policy allows
            proxy.script(Fault.drop("body", match="next_token"), times=2)
            await pilot.press("enter")
            job = current_job(app)
            await wait_for(pilot, lambda: job.state == "failed", what="the failure")
            await wait_for(pilot, lambda: "Export failed" in screen_text(app), what="the failure drawn")
            assert "dropped" in shown(screen, "#export-run-error")
            assert "1,000 tasks are saved" in shown(screen, "#export-stats")
            assert not target.exists() and partial_path(target).exists() and checkpoint_path(target).exists()
            # Resume fails again; Close keeps what was written for later
            proxy.script(Fault.drop("body", match="next_token"), times=2)
            await pilot.click("#run-resume")
            await wait_for(pilot, lambda: current_job(app) is not job and current_job(app).state == "failed",
                           what="the second failure")
            # the dialog refreshes its buttons 5 times a second
            await wait_for(pilot, lambda: app.screen.query_one("#run-close").display, what="the Close button")
            await pilot.click("#run-close")
            await pilot.pause()
            assert not isinstance(app.screen, ExportScreen) and current_job(app) is None
            assert partial_path(target).exists() and checkpoint_path(target).exists()
            # later: the same file offers to resume the unfinished export of these filters
            screen = await open_dialog(pilot)
            await set_path(pilot, screen, target)
            await pilot.press("enter")
            await pilot.pause()
            assert "unfinished export of these filters" in shown(screen, "#export-question")
            assert "1,000 of 1,500 tasks written" in shown(screen, "#export-question")
            await pilot.press("r")
            await wait_for(pilot, lambda: current_job(app) is not None and current_job(app).state == "done",
                           what="the resumed export")
            assert current_job(app).result.resumed_from == 1000
            ids = [d["task_id"] for d in json.loads(target.read_text())]
            assert len(ids) == len(set(ids)) == 1500
            assert not partial_path(target).exists() and not checkpoint_path(target).exists()
    finally:
        proxy.clear()
        await proxy.stop()


async def test_quitting_the_app_mid_export_keeps_a_resumable_partial(shared_server, tmp_path):
    """Closing the app is not a cancel: what was written stays, with its checkpoint."""
    proxy = FaultProxy(shared_server.url)
    await proxy.start()
    target = tmp_path / "quit.ndjson"
    try:
        app = make_app(proxy.url, shared_server.api_key, tmp_path)
        async with app.run_test(size=(120, 40)) as pilot:
            screen = await open_dialog(pilot)
            await set_path(pilot, screen, target)
            proxy.script(Fault.slow(5, match="next_token"), times=2)
            await pilot.press("enter")
            job = current_job(app)
            await wait_for(pilot, lambda: job.progress is not None and job.progress.written >= 1000,
                           what="the first page")
            await pilot.press("ctrl+q")
            await pilot.pause()
        assert job.state == "failed"
        assert not target.exists()
        assert partial_path(target).exists()
        cp = read_checkpoint(target)
        assert cp is not None and cp.written == 1000
    finally:
        proxy.clear()
        await proxy.stop()


async def test_a_typed_ndjson_name_is_written_as_ndjson_and_enter_closes_the_finished_dialog(shared_server, tmp_path):
    # issue 13 item 15: the format follows the name typed, as in the CLI (--format wins
    # there; here the radio buttons follow the name); issue 14: enter closes the dialog
    app = make_app(shared_server.url, shared_server.api_key, tmp_path)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await open_dialog(pilot)
        assert screen.query_one("#fmt-json").value  # the default format: a JSON array
        target = tmp_path / "x.ndjson"
        await set_path(pilot, screen, target)
        await pilot.press("enter")
        await wait_for(pilot, lambda: current_job(app) is not None and current_job(app).state == "done",
                       what="the export to finish")
        await wait_for(pilot, lambda: shown(screen, "#export-stats").startswith("Done: 1,500 tasks written"),
                       what="the dialog to say it is done")
        lines = target.read_text().splitlines()
        assert len(lines) == 1500 and all(json.loads(line)["task_id"] for line in lines)
        assert "NDJSON" in shown(screen, "#export-target")
        assert screen.query_one("#fmt-ndjson").value
        await pilot.press("enter")
        await wait_for(pilot, lambda: not isinstance(app.screen, ExportScreen), what="enter to close the dialog")
        assert current_job(app) is None


async def test_a_write_failure_speaks_the_console_s_words_not_the_cli_s(shared_server, tmp_path, monkeypatch):
    # issue 13 item 15: "run the same command with --resume" -- there is no command here
    import errno

    from tasktui.export import exporter as exporter_module

    real = exporter_module.write_all
    calls = {"n": 0}

    def full_disk_on_the_third_write(fd, data):
        calls["n"] += 1
        if calls["n"] == 3:
            raise OSError(errno.ENOSPC, "No space left on device")
        return real(fd, data)

    monkeypatch.setattr(exporter_module, "write_all", full_disk_on_the_third_write)
    app = make_app(shared_server.url, shared_server.api_key, tmp_path)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await open_dialog(pilot)
        await set_path(pilot, screen, tmp_path / "full.json")
        await pilot.press("enter")
        await wait_for(pilot, lambda: current_job(app) is not None and current_job(app).state == "failed",
                       what="the failure")
        await wait_for(pilot, lambda: "No space left on device" in shown(screen, "#export-run-error"),
                       what="the dialog to say why")
        said = shown(screen, "#export-run-error") + " " + shown(screen, "#export-stats")
        assert "No space left on device" in said
        assert "--resume" not in said and "command" not in said, said
        assert "Resume" in said
