"""The console's "Sync index" (key ``S`` on the Tasks screen, or the palette): the local
index brought up to date from the API with a progress bar ("reading 8,200 of 20,345
tasks"), ``esc`` stops it (what was read is kept; the next sync continues from there),
and the view is read again from the index when it ends. The sync itself is the store's
(``TaskStore.sync_index`` -> ``tasktui.index``'s sync); this dialog only shows it."""

from __future__ import annotations

from typing import Any

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.widgets import Label, ProgressBar, Static

from tasktui.api import ApiError
from tasktui.store import ActionRefused, TaskStore
from tasktui.ui.keymap import bind
from tasktui.ui.modals.confirm import Dialog

__all__ = ["SyncDialog", "progress_words"]


def progress_words(read: int, total: int | None, phase: str) -> str:
    """"reading 8,200 of 20,345 tasks" (initial), "reading changes: 12 tasks" (delta)."""
    if phase == "delta":
        return f"reading changes since the last sync: {read:,} task{'s' if read != 1 else ''}"
    if total:
        return f"reading {read:,} of {total:,} tasks"
    return f"reading {read:,} tasks"


class SyncDialog(Dialog):
    """Runs one sync of the store's index and shows its progress; dismissed with a
    sentence saying what happened (or None when it was stopped before anything)."""

    BINDINGS = [bind("sync.stop", "escape", "stop", "Stop", tooltip="Stop syncing (what was read is kept)")]

    def __init__(self, store: TaskStore, *, scope: Any = None, origin: str = "", scope_words: str = "") -> None:
        super().__init__()
        self.store = store
        self._scope = scope
        self._origin = origin
        self._scope_words = scope_words
        self._worker = None
        self.read = 0
        self.total: int | None = None
        self.outcome: str | None = None

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield Label(Text("Sync the local index"), classes="dialog-title")
            yield Static(Text(f"Scope: {self._scope_words}" if self._scope_words else ""), id="sync-scope")
            yield ProgressBar(total=None, show_eta=False, id="sync-bar")
            yield Static(Text("asking the API …"), id="sync-words")
            yield Static(Text("esc stops (what was read is kept)"), classes="dialog-keys")

    def on_mount(self) -> None:
        self.store.pause_polling(True)
        self._worker = self.run_worker(self._run(), exclusive=True, exit_on_error=False)

    def _told(self, p: Any) -> None:
        self.read, self.total = p.read, p.total
        bar = self.query_one("#sync-bar", ProgressBar)
        if p.total:
            bar.update(total=p.total, progress=min(p.read, p.total))
        self.query_one("#sync-words", Static).update(Text(progress_words(p.read, p.total, p.phase)))

    async def _run(self) -> None:
        try:
            result = await self.store.sync_index(self._scope, origin=self._origin, on_progress=self._told)
        except (ApiError, ActionRefused) as e:
            self._finish(f"Sync failed: {e} What was read is kept; sync again to continue.", error=True)
            return
        except Exception as e:  # SyncBusy (another tasktui syncs this index), a disk error
            self._finish(f"Sync failed: {e}", error=True)
            return
        read = result.initial + result.delta
        self._finish(f"Index synced: {read:,} task{'s' if read != 1 else ''} read; it holds {result.tasks:,}.")

    def _finish(self, message: str, *, error: bool = False) -> None:
        self.outcome = message
        self.store.pause_polling(False)
        self.app.notify(message, severity="error" if error else "information", markup=False, timeout=8)
        self.dismiss(message)

    def action_stop(self) -> None:
        if self._worker is not None and self._worker.is_running:
            self._worker.cancel()
        self.store.pause_polling(False)
        store = self.store
        self.app.run_worker(store.reload(), exit_on_error=False)  # the index may cover the view now, or not
        message = f"Sync stopped after {self.read:,} tasks; what was read is kept (sync again to continue)."
        self.outcome = message
        self.app.notify(message, markup=False, timeout=8)
        self.dismiss(message)
