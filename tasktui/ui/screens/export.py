"""The export dialog: every task matching the Tasks screen's filters, to a file.

``ExportScreen(store)`` is the modal the Tasks screen pushes on ``ctrl+e``. It asks for
the file (default: the downloads folder, a timestamped name) and the format (a JSON
array or NDJSON), validates the path (the folder exists and is writable; overwriting
asks first; an unfinished export of the same filters to that file is offered for
resuming), then shows a progress bar: tasks written of total, rate, time left.

Decisions (see also :mod:`tasktui.export`):

* The export runs in an **app-level worker**, so the dialog can be **hidden** (``esc`` or
  *Hide*) and the app stays usable; a notification says when it is done (or failed).
  ``ctrl+e`` while it runs brings the dialog back with the live progress. One export runs
  at a time.
* **Cancel** stops it and **removes** the partial file and its checkpoint: nothing is
  left that looks finished, and nothing half-done lingers in the downloads folder.
* A **failure** (network, server, disk) keeps the partial file and the checkpoint; the
  dialog offers *Resume* (continues exactly where it stopped) or *Discard*. Closing keeps
  them: opening the dialog later with the same file offers to resume.
* The screen never calls the API itself: it drives :class:`tasktui.export.Exporter` with
  the store's client and the store's current query.
"""

from __future__ import annotations

import asyncio
import weakref
from datetime import datetime
from pathlib import Path
from typing import Any

from rich.text import Text
from textual import on
from textual.app import App, ComposeResult
from textual.containers import Horizontal, Vertical
from textual.widgets import Button, Input, Label, ProgressBar, RadioButton, RadioSet, Static

from tasktui.api import ApiError
from tasktui.locations import default_downloads_dir
from tasktui.export import (
    ExportError,
    Exporter,
    ExportFormat,
    ExportProgress,
    ExportResult,
    ExportUsageError,
    Checkpoint,
    clock,
    fingerprint,
    query_to_dict,
    read_checkpoint,
    validate_output_path,
)
from tasktui.store import TaskStore
from tasktui.ui.keymap import bind
from tasktui.ui.modals.confirm import Dialog
from tasktui.ui.safe import clean
from tasktui.ui.widgets.toggles import Radio

__all__ = ["ExportJob", "ExportScreen", "current_job", "default_export_path"]


def default_export_path(directory: Path, fmt: ExportFormat, now: datetime | None = None) -> Path:
    stamp = (now or datetime.now()).strftime("%Y%m%d-%H%M%S")
    return Path(directory).expanduser() / f"tasks-{stamp}{fmt.suffix}"


def match_words(total: int, exact: bool) -> str:
    """``12,345 tasks match now.`` — ``At least 1,200 …`` while a view read in full is still
    being counted (never the total of a wider query)."""
    noun = "task matches" if total == 1 else "tasks match"
    return f"{total:,} {noun} now." if exact else f"At least {total:,} {noun} so far."


def describe_progress(p: ExportProgress | None) -> str:
    if p is None:
        return "starting…"
    of = "" if p.total is None else f" of {'' if p.total_exact else 'at most '}{p.total:,}"
    parts = [f"{p.written:,}{of} tasks written"]
    if p.rate:
        parts.append(f"{p.rate:,.0f} tasks/s")
    if p.remaining is not None and not p.done:
        parts.append(f"about {clock(p.remaining)} left")
    return " · ".join(parts)


# --------------------------------------------------------------------------- the job
class ExportJob:
    """One export running in an app-level worker (it outlives the dialog).

    ``state``: "running", "done", "failed" or "canceled". ``progress`` is the latest
    :class:`ExportProgress`; ``error`` the operator-facing reason of a failure.
    """

    def __init__(self, app: App, exporter: Exporter):
        self.app = app
        self.exporter = exporter
        self.state = "running"
        self.progress: ExportProgress | None = None
        self.result: ExportResult | None = None
        self.error: str = ""
        self.shown = True  # whether the dialog is showing it (else: notify at the end)
        self.worker: Any = None
        self.on_change: Any = None  # the dialog showing it repaints at once when it ends
        self._cancel_requested = False
        exporter.on_progress = self._on_progress

    @property
    def path(self) -> Path:
        assert self.exporter.path is not None
        return self.exporter.path

    @property
    def running(self) -> bool:
        return self.state == "running"

    def _on_progress(self, p: ExportProgress) -> None:
        self.progress = p

    def start(self) -> None:
        _JOBS[self.app] = self
        self.worker = self.app.run_worker(self._run(), name="export", group="export",
                                          exit_on_error=False)

    async def _run(self) -> None:
        try:
            self.result = await self.exporter.run()
            self.state = "done"
        except asyncio.CancelledError:
            if self._cancel_requested:
                # canceled on purpose: no finished-looking file, nothing half-done left behind
                self.exporter.discard()
                self.state = "canceled"
            else:
                # the app is closing: keep what was written; the dialog offers to resume it
                self.state = "failed"
                self.error = "the app closed during the export"
            raise
        except (ExportError, ApiError) as e:
            self.error = _app_words(str(e))
            self.state = "failed"
        except OSError as e:
            self.error = f"cannot write the export: {e.strerror or e}"
            self.state = "failed"
        except Exception as e:  # never leave the dialog saying "Exporting…" forever
            self.error = f"the export stopped unexpectedly: {type(e).__name__}: {e}"
            self.state = "failed"
        finally:
            self._finished()

    def _finished(self) -> None:
        if self.on_change is not None:
            try:
                self.on_change()
            except Exception:  # the dialog may be going away; its timer catches up
                pass
        if self.shown:
            return
        if self.state == "done" and self.result is not None:
            backend = getattr(self.app, "backend", None)
            note = backend.attachment_note() if backend is not None and self.result.written else None
            self.app.notify(f"Exported {self.result.written:,} tasks to {clean(self.path)}"
                            + (f". {note}" if note else ""),
                            title="Export finished", markup=False, timeout=15 if note else 5)
        elif self.state == "failed":
            self.app.notify(f"{clean(self.error)} — press ctrl+e to resume or discard it",
                            title="Export failed", severity="error", markup=False, timeout=15)

    def cancel(self) -> None:
        if self.running and self.worker is not None:
            self._cancel_requested = True
            self.worker.cancel()


_JOBS: "weakref.WeakKeyDictionary[App, ExportJob]" = weakref.WeakKeyDictionary()


def current_job(app: App) -> ExportJob | None:
    """The export of this app that is running or awaits acknowledgement, if any."""
    return _JOBS.get(app)


# --------------------------------------------------------------------------- the screen
class ExportScreen(Dialog):
    """See the module docstring."""

    BINDINGS = [
        bind("export.close", "escape", "close", "Close / hide"),
        bind("export.start", "ctrl+s", "start", "Export", show=False),
    ]

    def __init__(self, store: TaskStore, *, directory: Path | None = None, note: str | None = None) -> None:
        super().__init__()
        self.store = store
        #: said under the result of a finished export (the sandbox's attachment URLs)
        self.note = note
        # what the dialog shows is what it exports, even if the filters change meanwhile
        self.export_query = store.query
        self._fmt = ExportFormat.JSON
        self._job: ExportJob | None = None
        self._pending: dict[str, Any] | None = None  # what the confirmation panel decides
        self._timer: Any = None
        self._panel = "form"
        # the configured downloads folder, else the platform's
        self._downloads = Path(directory).expanduser() if directory else default_downloads_dir()

    # ------------------------------------------------------------------ layout
    def compose(self) -> ComposeResult:
        q = self.export_query
        filters = q.active_filters()
        summary = "Filters: " + "; ".join(filters) if filters else "No filters: every task"
        total = self.store.total
        with Vertical(id="export-dialog", classes="dialog"):
            yield Label("Export tasks", classes="dialog-title", id="export-title")
            with Vertical(id="export-form"):
                yield Static(Text(clean(summary)), classes="export-muted", id="export-filters")
                if isinstance(total, int):
                    yield Static(Text(match_words(total, self.store.total_exact)), classes="export-muted",
                                 id="export-total")
                yield Label("File")
                yield Input(id="export-path", placeholder="path of the file to write")
                yield Label("Format")
                with RadioSet(id="export-format"):
                    yield Radio(ExportFormat.JSON.label, value=True, id="fmt-json")
                    yield Radio(ExportFormat.NDJSON.label, id="fmt-ndjson")
                yield Static("", classes="dialog-error", id="export-error")
                with Horizontal(classes="dialog-buttons"):
                    yield Button("Export", id="export-go", variant="primary")
                    yield Button("Cancel \\[esc]", id="export-back")
            with Vertical(id="export-confirm"):
                yield Static("", id="export-question")
                with Horizontal(classes="dialog-buttons", id="export-confirm-buttons"):
                    yield Button("Resume \\[r]", id="confirm-resume", variant="primary")
                    yield Button("Overwrite \\[y]", id="confirm-overwrite", variant="error")
                    yield Button("Back \\[n]", id="confirm-back")
            with Vertical(id="export-run"):
                yield Static("", id="export-target")
                yield ProgressBar(total=None, show_eta=False, id="export-bar")
                yield Static("", id="export-stats")
                yield Static("", classes="dialog-error", id="export-run-error")
                with Horizontal(classes="dialog-buttons"):
                    yield Button("Hide \\[esc]", id="run-hide")
                    yield Button("Cancel export \\[c]", id="run-cancel", variant="error")
                    yield Button("Resume", id="run-resume", variant="primary")
                    yield Button("Discard", id="run-discard", variant="error")
                    yield Button("Close", id="run-close")

    def on_mount(self) -> None:
        job = current_job(self.app)
        if job is not None:
            self._attach_job(job)
            return
        self.query_one("#export-path", Input).value = str(default_export_path(self._downloads, self._fmt))
        self._show("form")
        self.query_one("#export-path", Input).focus()

    def _show(self, panel: str) -> None:
        for name in ("form", "confirm", "run"):
            self.query_one(f"#export-{name}").display = name == panel
        self._panel = panel

    # ------------------------------------------------------------------ form
    @on(RadioSet.Changed, "#export-format")
    def _format_changed(self, event: RadioSet.Changed) -> None:
        new = ExportFormat.NDJSON if event.pressed.id == "fmt-ndjson" else ExportFormat.JSON
        old, self._fmt = self._fmt, new
        inp = self.query_one("#export-path", Input)
        if inp.value.endswith(old.suffix) and old is not new:
            inp.value = inp.value[: -len(old.suffix)] + new.suffix

    @on(Input.Changed, "#export-path")
    def _path_edited(self) -> None:
        self._error("")

    def _error(self, message: str) -> None:
        self.query_one("#export-error", Static).update(Text(clean(message)))

    @on(Input.Submitted, "#export-path")
    @on(Button.Pressed, "#export-go")
    def action_start(self) -> None:
        if self._panel != "form":
            return
        raw = self.query_one("#export-path", Input).value
        self._ensure_downloads_dir(raw)
        try:
            path = validate_output_path(raw)
        except ExportUsageError as e:
            self._error(_app_words(str(e)))
            return
        named = ExportFormat.for_path(path)
        if named is not None and named is not self._fmt:
            # the name decides, as in the CLI: x.ndjson is NDJSON whatever the radio said
            self._fmt = named
            self.query_one("#fmt-ndjson" if named is ExportFormat.NDJSON else "#fmt-json", RadioButton).value = True
        try:
            cp = read_checkpoint(path)
        except ExportUsageError:
            cp = None  # damaged: offered as "overwrite" below
        spec = query_to_dict(self.export_query)
        if cp is not None:
            same = cp.fingerprint == fingerprint(spec) and cp.format is self._fmt
            self._ask_unfinished(path, cp, resumable=same)
            return
        if path.exists() or Path(str(path) + ".partial").exists():
            self._ask(path, f"{path} already exists. Overwrite it?", resume=False)
            return
        self._begin(path, resume=False, overwrite=False)

    def _ensure_downloads_dir(self, raw: str) -> None:
        """The configured downloads folder is created on first use (as downloads of one
        task do); any other missing folder is the operator's to fix."""
        downloads = self._downloads
        target = Path(raw.strip()).expanduser()
        if raw.strip() and target.parent == downloads and not downloads.exists():
            try:
                downloads.mkdir(parents=True, exist_ok=True)
            except OSError:
                pass  # validate_output_path says why in a moment

    def _ask_unfinished(self, path: Path, cp: Checkpoint, *, resumable: bool) -> None:
        of = f" of {cp.total:,}" if cp.total is not None else ""
        if resumable:
            q = (f"An unfinished export of these filters to {path} exists "
                 f"({cp.written:,}{of} tasks written). Resume it, or start over?")
        else:
            q = (f"An unfinished export of other filters (or another format) to {path} exists "
                 f"({cp.written:,}{of} tasks written). Start over and discard it?")
        self._ask(path, q, resume=resumable)

    def _ask(self, path: Path, question: str, *, resume: bool) -> None:
        self._pending = {"path": path}
        self.query_one("#export-question", Static).update(Text(clean(question)))
        self.query_one("#confirm-resume").display = resume
        self.query_one("#confirm-overwrite", Button).label = (
            "Start over \\[y]" if resume else "Overwrite \\[y]")
        self._show("confirm")
        self.query_one("#confirm-resume" if resume else "#confirm-back", Button).focus()

    @on(Button.Pressed, "#confirm-resume")
    def _confirm_resume(self) -> None:
        if self._pending:
            self._begin(self._pending["path"], resume=True, overwrite=False)

    @on(Button.Pressed, "#confirm-overwrite")
    def _confirm_overwrite(self) -> None:
        if self._pending:
            self._begin(self._pending["path"], resume=False, overwrite=True)

    @on(Button.Pressed, "#confirm-back")
    def _confirm_back(self) -> None:
        self._pending = None
        self._show("form")
        self.query_one("#export-path", Input).focus()

    def on_key(self, event) -> None:
        if self._panel == "confirm":
            key = {"r": "#confirm-resume", "y": "#confirm-overwrite", "n": "#confirm-back"}.get(event.key)
            if key and self.query_one(key).display:
                event.stop()
                event.prevent_default()
                self.query_one(key, Button).press()
        elif self._panel == "run" and event.key == "c":
            if self._job is not None and self._job.running:
                event.stop()
                self._job.cancel()
        elif (self._panel == "run" and event.key == "enter" and self._job is not None
              and self._job.state in ("done", "canceled") and not isinstance(self.focused, Button)):
            # the finished dialog's one thing left to do is to close
            event.stop()
            event.prevent_default()
            self.action_close()

    def _begin(self, path: Path, *, resume: bool, overwrite: bool) -> None:
        exporter = Exporter(
            self.store.client, self.export_query, path=path, format=self._fmt,
            resume=resume, overwrite=overwrite,
            server_url=self.store.client.base_url,
        )
        try:
            exporter.prepare()
        except ExportUsageError as e:
            self._show("form")
            self._error(_app_words(str(e)))
            return
        job = ExportJob(self.app, exporter)
        job.start()
        self._attach_job(job)

    # ------------------------------------------------------------------ run
    def _attach_job(self, job: ExportJob) -> None:
        self._job = job
        job.shown = True
        job.on_change = self._refresh_run
        self._fmt = job.exporter.format
        self.query_one("#export-title", Label).update("Export tasks")
        self.query_one("#export-target", Static).update(
            Text(clean(f"To {job.path} ({job.exporter.format.label})")))
        self._show("run")
        self._refresh_run()
        if self._timer is None:
            self._timer = self.set_interval(0.2, self._refresh_run)

    def _refresh_run(self) -> None:
        job = self._job
        if job is None:
            return
        p = job.progress
        bar = self.query_one("#export-bar", ProgressBar)
        if p is not None:
            bar.update(total=p.total if p.total else None, progress=p.written)
        state = job.state
        stats = describe_progress(p)
        err = ""
        if state == "done" and job.result is not None:
            r = job.result
            bar.update(total=max(1, r.written), progress=max(1, r.written))
            stats = f"Done: {r.written_words} to {job.path} in {r.elapsed:.1f} s."
            if self.note and r.written:
                stats += " " + self.note
            title = "Export finished"
        elif state == "failed":
            n = p.written if p else job.exporter.resumed_from
            err = job.error
            stats = (f"{n:,} tasks are saved in {job.exporter.partial}. Resume continues from "
                     "there; Close keeps them for later; Discard removes them.")
            title = "Export failed"
        elif state == "canceled":
            stats = "Canceled. Nothing was written (the partial file was removed)."
            title = "Export canceled"
        else:
            title = "Exporting…"
        self.query_one("#export-title", Label).update(title)
        self.query_one("#export-stats", Static).update(Text(clean(stats)))
        self.query_one("#export-run-error", Static).update(Text(clean(err)))
        running = state == "running"
        self.query_one("#run-hide").display = running
        self.query_one("#run-cancel").display = running
        self.query_one("#run-resume").display = state == "failed"
        self.query_one("#run-discard").display = state == "failed"
        self.query_one("#run-close").display = not running

    @on(Button.Pressed, "#run-hide")
    def _hide(self) -> None:
        self.action_close()

    @on(Button.Pressed, "#run-cancel")
    def _cancel(self) -> None:
        if self._job is not None:
            self._job.cancel()

    @on(Button.Pressed, "#run-resume")
    def _resume(self) -> None:
        job = self._job
        if job is None or job.state != "failed":
            return
        self._resume_job(job)

    def _resume_job(self, job: ExportJob) -> None:
        self._fmt = job.exporter.format
        exporter = Exporter(
            self.store.client, job.exporter.user_query, path=job.path, format=self._fmt,
            resume=True, spec=job.exporter.spec,
            server_url=self.store.client.base_url,
        )
        try:
            exporter.prepare()
        except ExportUsageError as e:
            job.error = _app_words(str(e))
            self._refresh_run()
            return
        new = ExportJob(self.app, exporter)
        new.start()
        self._attach_job(new)

    @on(Button.Pressed, "#run-discard")
    def _discard(self) -> None:
        job = self._job
        if job is not None and job.state == "failed":
            job.exporter.discard()
            self._forget()
            self.dismiss(None)
            self.app.notify("The unfinished export was removed.", markup=False)

    @on(Button.Pressed, "#run-close")
    def _close_pressed(self) -> None:
        self.action_close()

    def _forget(self) -> None:
        job = self._job
        if job is not None and _JOBS.get(self.app) is job:
            del _JOBS[self.app]

    def action_close(self) -> None:
        job = self._job
        if self._panel == "confirm":
            self._confirm_back()
            return
        if job is not None:
            if job.running:
                job.shown = False  # hidden: it goes on, and notifies when done
                self.app.notify("The export goes on in the background; ctrl+e shows it again.",
                                markup=False, timeout=4)
            else:
                self._forget()
            job.on_change = None
        self.dismiss(None)

    def on_unmount(self) -> None:
        if self._job is not None:
            self._job.on_change = None
            if self._job.running:
                self._job.shown = False


def _app_words(message: str) -> str:
    """The exporter speaks in CLI flags; say the same in the dialog's words."""
    return (message.replace("fix the cause and run the same command with --resume",
                            "fix the cause, then choose Resume")
            .replace("fix the cause and run the same command again", "fix the cause, then export again")
            .replace("add --resume to continue it, or --force to start over",
                     "pick it again to resume or overwrite it")
            .replace("pass --force to start over", "choose Overwrite to start over")
            .replace("add --force to replace it", "confirm to replace it")
            .replace("; run the same command with --resume", "")
            .replace("run it with the same filters, or ", ""))
