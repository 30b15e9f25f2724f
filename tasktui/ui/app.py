"""The Textual application: one TaskClient and one TaskStore shared by every screen.

``TaskTuiApp(settings, backend)`` opens the client on ``backend.url`` with
``backend.api_key``, builds the store and shows the Tasks screen. The operator's
``[keymap]`` is applied with ``App.set_keymap``; unknown binding ids get a warning.

With ``last_view_path`` (the ``tui`` command passes ``<data dir>/last-view.json``) the
Tasks screen's filters, zone and live setting are saved on quit and restored on the next
start without ``--view``. ``q`` asks before quitting; ``ctrl+q`` quits at once.

Only what the first screen shows is imported with this module: the detail screen (and its
previews: Pillow, textual-image, textual-plot, numpy), the export screen and the fix
editor are imported when first opened, so that the first rows paint sooner.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import sys
import threading
from datetime import datetime
from pathlib import Path
from typing import Callable

from textual.app import App
from textual.binding import Binding
from textual.widgets import Input

from tasktui.api import RetryPolicy, TaskClient
from tasktui.backend import Backend
from tasktui.config import Settings
from tasktui.locations import config_path
from tasktui.store import DEFAULT_MAX_ROWS, IndexSource, TaskStore
from tasktui.ui.keymap import bind, check_keymap
from tasktui.ui.last_view import LastView, forget_last_view, load_last_view, save_last_view
from tasktui.ui.modals.bulk import BulkSummary
from tasktui.ui.modals.confirm import ChoiceDialog, ConfirmDialog
from tasktui.ui.modals.prompt import PromptDialog, RejectDialog
from tasktui.ui.screens.help import HelpScreen
from tasktui.ui.screens.tasks import TasksScreen
from tasktui.ui.widgets.task_table import TaskTable

#: How often (seconds) the console checks that its terminal is still there, and how long
#: it then gives Textual to shut down before the process ends without it.
TERMINAL_CHECK_INTERVAL = 2.0
TERMINAL_GONE_GRACE = 5.0


def stylesheet_path() -> Path:
    """``screens.tcss``: inside the package when installed as a wheel, else the repo root."""
    here = Path(__file__).resolve().parent.parent  # tasktui/
    packaged = here / "screens.tcss"
    if packaged.exists():
        return packaged
    return here.parent / "screens.tcss"


class TaskTuiApp(App[int]):
    """tasktui: the task queue console."""

    TITLE = "tasktui"
    CSS_PATH = str(stylesheet_path())
    # the app's own look; the screens' and modals' styles are in screens.tcss. A modal is a
    # Screen too: it keeps a see-through backdrop here (this CSS outranks screens.tcss), so
    # the list stays in sight behind a dialog
    CSS = """
    Screen { background: $surface; }
    ModalScreen { background: $background 60%; }
    Footer { background: $panel; }
    Toast { max-width: 70; }
    """
    ENABLE_COMMAND_PALETTE = True
    COMMAND_PALETTE_BINDING = "ctrl+p"
    HELP_TITLE = "Everywhere"

    BINDINGS = [
        bind("app.quit", "q", "ask_quit", "Quit",
             tooltip="Quit tasktui, after a question (ctrl+q: at once); the view is restored next time"),
        bind("app.help", "question_mark", "help", "Help", key_display="?",
             tooltip="This help: every key of the current screen"),
        bind("app.palette", "ctrl+p", "command_palette", "Commands", key_display="^p", show=False,
             tooltip="Command palette: actions, saved filter views, quick ranges, zones"),
        Binding("ctrl+q", "quit", "Quit", show=False, priority=True),
        Binding("ctrl+c", "help_quit", show=False, system=True),
        # tab / shift+tab out of a text field move the focus before the next key is handed
        # out, so that fast typing or a paste across tab lands in the next field
        Binding("tab", "move_focus(1)", show=False, priority=True),
        Binding("shift+tab", "move_focus(-1)", show=False, priority=True),
    ]

    def __init__(
        self,
        settings: Settings,
        backend: Backend,
        *,
        initial_view: str | None = None,
        now: Callable[[], datetime] | None = None,
        client_options: dict | None = None,
        max_rows: int | None = None,
        theme: str | None = None,
        last_view_path: Path | None = None,
        index: IndexSource | None = None,
        offline: bool = False,
        read_only_why: str = "flag",
    ) -> None:
        super().__init__()
        #: a local index answering the views it covers (``tasktui.index.reader``); with
        #: ``offline`` it answers everything and no API client is made at all
        self.index = index
        self.offline = offline
        self.read_only_why = read_only_why
        self.settings = settings
        self.backend = backend
        self.initial_view = initial_view
        self._now = now
        self._client_options = client_options or {}
        self._max_rows = max_rows
        self.client: TaskClient | None = None
        self.store: TaskStore | None = None
        self.tasks_screen: TasksScreen | None = None
        self.last_view_path = last_view_path
        self._asking_quit = False
        if theme:
            self.theme = theme

    async def on_mount(self) -> None:
        self._watch_terminal()
        if self.settings.keymap:
            for w in check_keymap(self.settings.keymap, remappable()):
                self.notify(w, severity="warning", timeout=10, markup=False)
            self.set_keymap(self.settings.keymap)
        for w in self.settings.warnings:
            self.notify(w, severity="warning", timeout=10, markup=False)
        options = dict(self._client_options)
        # Interactive: a few quick retries, then say what happened (the retry key is there).
        options.setdefault("retry", RetryPolicy(max_attempts=3, base_delay=0.3, max_delay=3.0, total_time=8.0))
        options.setdefault("connect_timeout", 5.0)
        if self.settings.parallel:
            options.setdefault("parallel", self.settings.parallel)
        if self.offline and self.index is not None:
            self.client = self.index.client()  # no request ever leaves the process
        else:
            self.client = TaskClient(self.backend.url, self.backend.api_key, **options)
        restore = load_last_view(self.last_view_path) if self.last_view_path is not None else None
        self.store = TaskStore(self.client, zone=restore.zone if restore else self.settings.zone,
                               max_rows=self._max_rows or DEFAULT_MAX_ROWS,
                               read_only=self.settings.read_only, index=self.index,
                               offline=self.offline, read_only_why=self.read_only_why)
        cfg = self.settings.config_file or config_path()
        self.tasks_screen = TasksScreen(
            self.store, self.settings, backend_kind=self.backend.kind, backend_label=self.backend.label,
            now=self._now, initial_view=self.initial_view, config_path=str(cfg),
            restore=restore, on_fresh_start=self._forget_last_view,
        )
        await self.push_screen(self.tasks_screen)

    def _watch_terminal(self) -> None:
        """Leave, as ``q`` does, once the terminal is gone. A dropped SSH connection or a
        closed window normally ends the process with SIGHUP, but not when something
        between it and the terminal keeps the signal (make, a wrapper that ignores it);
        the terminal then reads as end-of-file for ever, and Textual's input thread spins
        on it at full CPU. A terminal that hung up is no longer a tty."""
        if self.is_headless or sys.__stdin__ is None:
            return
        try:
            fd = sys.__stdin__.fileno()
        except (OSError, ValueError):
            return
        if not os.isatty(fd):
            return

        async def check() -> None:
            if not os.isatty(fd):
                timer.stop()
                with contextlib.suppress(Exception):
                    self.save_last_view()
                # Textual's shutdown writes to the terminal to restore it, and on a terminal
                # that hung up it can block for ever (its output queue fills, nothing drains
                # it): past a few seconds the process ends without it — committed SQLite
                # writes are durable, the view is saved, there is no screen to restore.
                watchdog = threading.Timer(TERMINAL_GONE_GRACE, os._exit, args=(129,))
                watchdog.daemon = True
                watchdog.start()
                self.exit(return_code=129)  # as a process ended by SIGHUP reports (128 + 1)

        timer = self.set_interval(TERMINAL_CHECK_INTERVAL, check)

    async def on_unmount(self) -> None:
        if self.store is not None:
            with contextlib.suppress(Exception):
                await self.store.close()
        if self.client is not None:
            with contextlib.suppress(Exception):
                await self.client.aclose()
        if self.index is not None:
            with contextlib.suppress(Exception):
                await self.index.aclose()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "move_focus":  # only out of a one-line field; elsewhere tab is as usual
            return isinstance(self.focused, Input)
        return True

    async def action_move_focus(self, step: int) -> None:
        """Move the focus once the field has handled the keys it was already given, and
        only then hand out the next key (the app waits here)."""
        field = self.focused
        screen = self.screen
        done: asyncio.Future[None] = asyncio.get_running_loop().create_future()

        def move() -> None:
            if step > 0:
                screen.focus_next()
            else:
                screen.focus_previous()
            if not done.done():
                done.set_result(None)

        if field is None:
            move()
            return
        field.call_next(move)  # after the keys already queued for the field
        try:
            await asyncio.wait_for(done, timeout=1.0)
        except asyncio.TimeoutError:
            move()

    async def action_ask_quit(self) -> None:
        """``q``: quit after a question (the view is kept for next time)."""
        if self._asking_quit:
            return
        self._asking_quit = True
        kept = " Your filters, time zone and live setting come back next time." \
            if self.last_view_path is not None else ""

        def answered(yes: bool | None) -> None:
            self._asking_quit = False
            if yes:
                self.run_worker(self.action_quit(), exit_on_error=False)

        self.push_screen(ConfirmDialog("Quit tasktui?", "Quit the console?" + kept,
                                       yes="Quit", no="Stay"), answered)

    async def action_quit(self) -> None:
        """Save the view (when asked to remember it) and exit."""
        self.save_last_view()
        self.exit()

    def save_last_view(self) -> LastView | None:
        """Write the Tasks screen's view to ``last_view_path``; the view, or None."""
        if self.last_view_path is None or self.tasks_screen is None or self.store is None:
            return None
        last = self.tasks_screen.last_view()
        try:
            save_last_view(last, self.last_view_path)
        except OSError:
            return None  # quitting: nothing to tell; the next start is fresh
        return last

    def _forget_last_view(self) -> None:
        if self.last_view_path is not None:
            with contextlib.suppress(OSError):
                forget_last_view(self.last_view_path)

    def sync_index(self) -> None:
        """Sync the local index from the API with a progress bar (``SyncDialog``); the first
        time, the index is made (``<data dir>/index/<origin>.sqlite``) and the store reads
        from it from then on. Offline there is no API to sync from: said so."""
        if self.store is None:
            return
        if self.offline:
            why = ("An opened export file is not synced: it is a copy read from disk."
                   if self.read_only_why == "file" else
                   "Offline: syncing needs the API (start without --offline, or run `tasktui sync`).")
            self.notify(why, severity="warning", markup=False)
            return
        from tasktui.config import public_url
        from tasktui.index.db import index_path_for, open_index
        from tasktui.index.reader import IndexReader
        from tasktui.index.scope import ScopeError, SyncScope
        from tasktui.ui.modals.sync import SyncDialog

        try:
            scope = SyncScope.from_settings(self.settings)
            if self.store.index is None:
                path = index_path_for(self.settings)
                open_index(path).close()  # folder 0700, file 0600
                self.index = IndexReader.for_index(path)
                self.store.attach_index(self.index)
        except (ScopeError, OSError, ValueError) as e:
            self.notify(f"Cannot sync the index: {e}", severity="error", markup=False)
            return
        origin = "local sandbox" if self.backend.is_sandbox else (public_url(self.backend.url) or "")
        self.push_screen(SyncDialog(self.store, scope=scope, origin=origin, scope_words=scope.describe()))

    def action_help(self) -> None:
        if isinstance(self.screen, HelpScreen):
            self.screen.dismiss(None)
            return
        self.push_screen(HelpScreen(self.screen))


def remappable() -> tuple[type, ...]:
    """Every class whose bindings the ``[keymap]`` may remap: the ids the keymap check knows.
    (Imports the screens opened later, so it is called only when there is a keymap.)"""
    from tasktui.ui.modals.fix_editor import FixEditor
    from tasktui.ui.screens.detail import TaskDetailScreen
    from tasktui.ui.modals.sync import SyncDialog
    from tasktui.ui.screens.export import ExportScreen

    return (
        TaskTuiApp, TasksScreen, TaskTable, TaskDetailScreen, ExportScreen, HelpScreen,
        ConfirmDialog, ChoiceDialog, PromptDialog, RejectDialog, FixEditor, BulkSummary, SyncDialog,
    )
