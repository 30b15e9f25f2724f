"""The Tasks screen: header, filter sidebar, the task table, notices, footer; and its
command palette (``ctrl+p``): every action of the screen (from its bindings, with their
keys), the saved filter views, quick date ranges, time zones, saving the filters as a view.

It reads only the :class:`~tasktui.store.TaskStore`: filters go to ``store.set_query``
(debounced, never while a typed date is invalid), scrolling near the end calls
``store.load_more``, ``r`` calls ``store.refresh`` (keeping the cursor's task), and every
store event arrives here as a :class:`StoreChanged` message and re-syncs the widgets.
The detail and export screens are imported when first opened (start-up time).
"""

from __future__ import annotations

import asyncio
import time
from datetime import datetime
from functools import partial
from typing import Callable

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.command import DiscoveryHit, Hit, Hits, Provider
from textual.containers import Horizontal, Vertical
from textual.screen import Screen
from textual.widgets import Footer

from tasktui.api import ApiError
from tasktui.config import ConfigError, SavedView, Settings, save_view
from tasktui.domain import (
    DateInputError,
    SortOrder,
    TaskQuery,
    Zone,
    quick_range,
)
from tasktui.store import StoreEventKind as K
from tasktui.store import TaskStore
from tasktui.ui.clipboard import copy_text
from tasktui.ui.keymap import bind, key_for, run_binding
from tasktui.ui.last_view import LastView
from tasktui.ui.modals.bulk import run_bulk
from tasktui.ui.modals.prompt import PromptDialog
from tasktui.ui.screens.help import collect_entries
from tasktui.ui.store_bridge import StoreChanged, forward_events
from tasktui.ui.widgets.empty_state import EmptyState
from tasktui.ui.widgets.filter_sidebar import FilterSidebar
from tasktui.ui.widgets.header import AppHeader, HeaderState
from tasktui.ui.widgets.notice import Notice, advice_for
from tasktui.ui.widgets.task_table import TaskTable

DEBOUNCE = 0.25  # seconds between the last filter edit and the request
NARROW = 100  # below this many columns the sidebar starts hidden
DEFAULT_LIVE_INTERVAL = 15.0
SIDEBAR_DELAY = 0.25  # seconds from the first page to the sidebar's mount


# ---------------------------------------------------------------------- command palette
def _commands(screen: TasksScreen) -> list[tuple[str, Callable[[], object], str]]:
    out: list[tuple[str, Callable[[], object], str]] = []
    for name in screen.settings.views:
        out.append((f"View: {name}", partial(screen.apply_view, name),
                    "apply this saved filter view (from the config file)"))
    out.append(("Save current filters as a view…", screen.action_save_view,
                "store the filters in the config file's \\[views] table"))
    out.append(("Start fresh", screen.start_fresh,
                "clear the filters, back to the configured zone and live setting; forget the last view"))
    for key, label in (("today", "Today"), ("7d", "Last 7 days"), ("30d", "Last 30 days"), ("all", "All time")):
        out.append((f"Date range: {label}", partial(screen.apply_quick_range, key), "set From / To"))
    for z in Zone:
        out.append((f"Time zone: {z.label}", partial(screen.set_zone, z), "show and type dates in this zone"))
    seen: set[str] = set()
    for e in collect_entries(screen):
        if e.binding_id in seen or e.binding_id.startswith(("table.down", "table.up", "help.")):
            continue
        seen.add(e.binding_id)
        if not e.enabled:
            continue
        out.append((e.description, partial(screen.run_binding, e.binding_id), "key: " + " ".join(e.keys)))
    return out


class TasksCommands(Provider):
    """Actions and saved views of the Tasks screen."""

    def _target(self) -> "TasksScreen | None":
        for s in reversed(self.app.screen_stack):
            if isinstance(s, TasksScreen):
                return s
        return None

    async def discover(self) -> Hits:
        screen = self._target()
        if screen is None:
            return
        for text, cb, help_text in _commands(screen):
            yield DiscoveryHit(Text(text), cb, text=text, help=help_text)

    async def search(self, query: str) -> Hits:
        screen = self._target()
        if screen is None:
            return
        matcher = self.matcher(query)
        for text, cb, help_text in _commands(screen):
            score = matcher.match(text)
            if score > 0:
                yield Hit(score, matcher.highlight(text), cb, text=text, help=help_text)


# ---------------------------------------------------------------------- the screen
class TasksScreen(Screen):
    """The list of tasks with its filters."""

    HELP_TITLE = "Tasks"
    HELP_NOTES = (
        "In the filter sidebar: tab / shift+tab move between fields, space toggles a box, "
        "enter applies a typed date at once, esc goes back to the list.",
        "Dates: YYYY-MM-DD, YYYY-MM-DD HH:MM, today, yesterday, now, -7d, -12h, -2w "
        "(in the zone shown in the header; the sidebar shows the range in UTC). "
        "A date typed in To includes that whole day.",
        "Marks: space marks the row under the cursor, v marks every row from the last mark "
        "to the cursor, u unmarks all.",
    )
    COMMANDS = {TasksCommands}
    BINDINGS = [
        bind("tasks.open", "enter", "open_task", "Open", tooltip="Open the task under the cursor"),
        bind("tasks.search", "slash", "search", "Search", key_display="/",
             tooltip="Search by task id or unique id (prefix)"),
        bind("tasks.filters", "f", "focus_filters", "Filters", tooltip="Go to the filter sidebar"),
        bind("tasks.refresh", "r", "refresh", "Refresh",
             tooltip="Refresh the list, keeping the cursor's task (also: retry after an error)"),
        bind("tasks.zone", "t", "cycle_zone", "Zone",
             tooltip="Cycle the time zone UTC → Pacific → Local (dates shown and typed)"),
        bind("tasks.live", "l", "toggle_live", "Live", show=False, tooltip="Turn live refresh on or off"),
        bind("tasks.sort", "s", "toggle_sort", "Sort", show=False, tooltip="Newest first / oldest first"),
        bind("tasks.sidebar", "ctrl+b,f2", "toggle_sidebar", "Sidebar", tooltip="Show or hide the filter sidebar"),
        bind("tasks.clear_filters", "C", "clear_filters", "Clear filters", show=False,
             tooltip="Clear every filter (zone, date field and sort order are kept)"),
        bind("tasks.copy_id", "y", "copy_ids", "Copy id", show=False,
             tooltip="Copy the task id under the cursor (or the marked ids, one a line)"),
        bind("tasks.sync", "S", "sync_index", "Sync index", show=False,
             tooltip="Sync index: bring the local index up to date from the API (progress bar; "
                     "esc stops); the views it covers are then answered from disk"),
        bind("tasks.export", "ctrl+e", "export", "Export",
             tooltip="Export every task matching the filters to a JSON / NDJSON file"),
        bind("tasks.bulk_accept", "A", "bulk('accept')", "Accept marked", show=False,
             tooltip="Accept the marked tasks (or the one under the cursor), after confirmation"),
        bind("tasks.bulk_reject", "X", "bulk('reject')", "Reject marked", show=False,
             tooltip="Reject the marked tasks (or the one under the cursor) with a comment"),
        bind("tasks.bulk_cancel", "ctrl+k", "bulk('cancel')", "Cancel marked", show=False,
             tooltip="Cancel the marked Queued tasks (or the one under the cursor), after confirmation"),
        bind("tasks.back", "escape", "back_to_list", "Back to the list", show=False,
             tooltip="Leave the sidebar or the search box and go back to the list; "
                     "stop reading while a view is being read in full"),
    ]

    def __init__(self, store: TaskStore, settings: Settings, *, backend_kind: str = "sandbox",
                 backend_label: str = "", now: Callable[[], datetime] | None = None,
                 initial_view: str | None = None, config_path: str = "",
                 restore: LastView | None = None, on_fresh_start: Callable[[], None] | None = None) -> None:
        super().__init__()
        self.store = store
        self.settings = settings
        self._now = now
        self._initial_view = initial_view
        # the view left last time, unless a saved view was asked for
        self._restore = restore if not (initial_view and initial_view in settings.views) else None
        self._on_fresh_start = on_fresh_start
        self._config_path = config_path
        self.live_interval = self._restore.live_interval if self._restore else settings.refresh_interval
        self._live_default = settings.refresh_interval or DEFAULT_LIVE_INTERVAL
        self._suspended = False
        self._debounce = None
        self._unsubscribe: Callable[[], None] | None = None
        self._sidebar_user_choice: bool | None = None
        self._new_query_pending = False
        self._go_top_pending = False
        self._poll_error: str | None = None
        #: the server asked us to wait: (monotonic time it ends, why) — a countdown on screen
        self._wait: tuple[float, str] | None = None
        self._wait_timer = None
        self.requests_sent = 0  # queries handed to the store (for tests and the bench)
        self.header = AppHeader(HeaderState(backend_kind=backend_kind, backend_label=backend_label,
                                            zone=store.zone, live_interval=self.live_interval,
                                            read_only=store.read_only), id="header")
        self.sidebar = FilterSidebar(zone=store.zone, now_fn=now, id="sidebar")
        self.sidebar_slot = Vertical(id="sidebar-slot")
        self._sidebar_ready = False
        self._sidebar_mounting = False
        self._sidebar_mounted = asyncio.Event()
        self._pickers_started = False
        self.table = TaskTable(zone=store.zone, id="table")
        self.table.has_more = lambda: self.store.has_more
        self.table.has_before = lambda: self.store.has_before
        self.table.not_loaded = self._not_loaded
        self.notice = Notice(id="notice")
        self.empty = EmptyState(id="empty")

    # ------------------------------------------------------------------ layout
    def compose(self) -> ComposeResult:
        # The first page is asked for before the widgets mount, so that the server works
        # on it while they do (start-up time); its events queue up until they are mounted.
        self._ask_first_page()
        yield self.header
        yield self.notice
        with Horizontal(id="body"):
            yield self.sidebar_slot  # the sidebar is mounted into it once the first rows are up
            with Vertical(id="main"):
                yield self.table
                yield self.empty
        yield Footer(compact=True, show_command_palette=False)

    def _ask_first_page(self) -> None:
        if self._unsubscribe is not None:
            return
        self._unsubscribe = forward_events(self.store, self)
        view = self._start_view()
        query = TaskQuery()
        if view is not None:
            try:
                query = view.to_query(self.zone, now=self._now() if self._now else None)
            except DateInputError:
                query = TaskQuery()
            query = query.replace(order=query.order if self._order_supported() else SortOrder.NEWEST)
        self._set_query(query)

    def on_mount(self) -> None:
        self._ask_first_page()  # (done in compose already)
        self.table.refresh_key = self._key_for("tasks.refresh")
        self.table.focus()
        if self.app.size.width < NARROW:
            self.sidebar_slot.add_class("-hidden")
        # The sidebar (most of the screen's widgets) is mounted shortly after the first page is
        # painted, so that the first rows appear as early as possible; at the latest after 1 s.
        self.set_timer(1.0, self._mount_sidebar)
        if self.live_interval > 0:
            self.store.start_polling(self.live_interval)
        self.set_interval(1.0, self._tick_source)  # "index · synced 4 s ago" ticks (once there is an index)

        if self._restore is not None:
            self.notify(f"Restored your last view ({self._restore_summary()}). "
                        f"{self._key_for('tasks.clear_filters')} clears the filters; "
                        "ctrl+p › Start fresh resets everything.", timeout=8, markup=False)

    def _start_view(self) -> SavedView | None:
        """The filters to start with: the --view asked for, else the last view, else none."""
        if self._restore is not None:
            return self._restore.view
        return self.settings.views.get(self._initial_view or "")

    def _restore_summary(self) -> str:
        r = self._restore
        assert r is not None
        n = len(r.view.to_toml())
        what = f"{n} filter{'s' if n != 1 else ''}" if n else "no filters"
        live = f"live {r.live_interval:g}s" if r.live_interval > 0 else "live off"
        return f"{what}, {r.zone.label}, {live}"

    def last_view(self) -> LastView:
        """What the screen shows now, to be restored next time."""
        view: SavedView | None = None
        if self._sidebar_ready and not self.sidebar.date_error:
            try:
                view = self.sidebar.current_view("")
            except DateInputError:
                view = None
        if view is None:
            view = SavedView.from_query("", self.store.query)
        return LastView(view=view, zone=self.zone, live_interval=self.live_interval)

    async def start_fresh(self) -> None:
        """Every filter off, the configured zone and live setting, and no last view kept."""
        await self.ensure_sidebar()
        if self._on_fresh_start is not None:
            self._on_fresh_start()
        self.set_zone(self.settings.zone)
        self.live_interval = self.settings.refresh_interval
        self.store.stop_polling()
        if self.live_interval > 0:
            self.store.start_polling(self.live_interval)
        self.sidebar.order = SortOrder.NEWEST
        self.sidebar.clear_filters()
        self.table.focus()
        self._sync()
        self.notify("Fresh start: no filters, newest first, "
                    f"{self.settings.zone.label}, "
                    + (f"live every {self.live_interval:g} s." if self.live_interval > 0 else "live off."),
                    timeout=4, markup=False)

    def on_unmount(self) -> None:
        if self._unsubscribe:
            self._unsubscribe()
        self.store.stop_polling()

    def on_resize(self) -> None:
        if self._sidebar_user_choice is None:
            self.sidebar_slot.set_class(self.app.size.width < NARROW, "-hidden")

    async def _mount_sidebar(self) -> None:
        if self._sidebar_ready:
            return
        if self._sidebar_mounting:  # another caller is mounting it: wait for that
            await self._sidebar_mounted.wait()
            return
        self._sidebar_mounting = True
        self.sidebar.zone = self.zone
        self.sidebar.order = self.order
        await self.sidebar_slot.mount(self.sidebar)
        self._sidebar_ready = True
        self._sidebar_mounted.set()
        view = self._start_view()
        if view is not None:
            self.sidebar.apply_view(view)
        if self.store.projects:
            self.sidebar.set_projects(self.store.project_names)
        if self.store.batches:
            self.sidebar.set_batches(self._batch_choices())
        if not self._pickers_started:
            self._start_pickers()

    async def ensure_sidebar(self) -> FilterSidebar:
        """The sidebar, mounted (it is mounted lazily after the first page)."""
        await self._mount_sidebar()
        return self.sidebar

    def _batch_choices(self) -> list[tuple[str, str]]:
        """(name, project) of every batch the store knows."""
        return [(b.get("name", ""), b.get("project", "")) for b in self.store.batches if isinstance(b, dict)]

    def _start_pickers(self) -> None:
        if not self._pickers_started:
            self._pickers_started = True
            self.run_worker(self._load_pickers(), group="pickers", exit_on_error=False)

    def on_screen_suspend(self) -> None:
        self._suspended = True
        self.store.pause_polling(True)
        self.header.update_state(paused=True)

    def on_screen_resume(self) -> None:
        self._suspended = False
        self.store.pause_polling(False)
        self.header.update_state(paused=False)
        self._sync()

    # ------------------------------------------------------------------ public API
    @property
    def zone(self) -> Zone:
        """The zone dates are shown and typed in: the store's."""
        return self.store.zone

    @property
    def order(self) -> SortOrder:
        """The list's sort order: the store's query's."""
        return self.store.query.order

    @property
    def sidebar_ready(self) -> bool:
        """Whether the filter sidebar is mounted (it is, shortly after the first page)."""
        return self._sidebar_ready

    @property
    def filters_pending(self) -> bool:
        """Whether a filter edit waits for its debounce before it is applied."""
        return self._debounce is not None

    @property
    def marked_ids(self) -> set[str]:
        """Task ids the operator marked (space / v), for bulk actions."""
        return set(self.table.marked_ids)

    @property
    def cursor_task_id(self) -> str | None:
        return self.table.cursor_task_id

    # ------------------------------------------------------------------ store -> ui
    def on_store_changed(self, message: StoreChanged) -> None:
        ev = message.event
        kind = ev.kind
        if kind is K.QUERY:
            self._new_query_pending = True
        elif kind in (K.ROWS_REPLACED, K.ROWS_APPENDED, K.ROWS_PREPENDED, K.ROWS_INSERTED,
                      K.ROWS_UPDATED, K.ROWS_REMOVED):
            fallback = 0 if (kind is K.ROWS_REPLACED and self._new_query_pending) else None
            if kind is K.ROWS_REPLACED:
                self._new_query_pending = False
            self.table.set_rows(self.store.rows, fallback_row=fallback)
            if kind is K.ROWS_REPLACED and self._go_top_pending:
                self._go_top_pending = False
                self.table.go_top()
        elif kind is K.TOTAL:
            # the line under the last row tells tasks matching beyond the loaded ones
            self.table.refresh_end_line()
        if kind in (K.ROWS_REPLACED, K.ERROR) and not self._sidebar_ready:
            # "after refresh" is before the frame has reached the terminal (Textual writes it
            # from a thread): mounting the sidebar at once delays the first rows on screen
            self.set_timer(SIDEBAR_DELAY, self._after_first_paint)
        if kind is K.PROJECTS and self._sidebar_ready:
            self.sidebar.set_projects(self.store.project_names)
        elif kind is K.BATCHES and self._sidebar_ready:
            self.sidebar.set_batches(self._batch_choices())
        elif kind is K.ZONE:
            self._show_zone()
        elif kind is K.WAIT:
            self._start_wait(ev.count, ev.message or "")
        elif kind is K.POLL:
            if not ev.ok and ev.error is not None:
                self._poll_error = "Live refresh failed: " + advice_for(ev.error, self._key_for("tasks.refresh"))
            else:
                self._poll_error = None
        self._sync()

    async def _after_first_paint(self) -> None:
        await self._mount_sidebar()

    def _source_text(self) -> str:
        now = self._now().timestamp() if self._now else None
        return self.store.source_text(now) or ""

    def _tick_source(self) -> None:
        if self.store.index is not None:
            self.header.update_state(source=self._source_text())

    def _sync(self) -> None:
        s = self.store
        rows = s.rows
        self.table.set_date_column(s.query.date_field.value)  # the date the filter is about
        self.header.update_state(
            zone=self.zone, shown=len(rows), offset=s.offset, total=s.total, total_exact=s.total_exact,
            order=self.order, loading=bool(s.loading or s.loading_more), live_interval=self.live_interval,
            paused=self._suspended, read_only=self.store.read_only, marked=len(self.table.marked_ids),
            error=s.error is not None or self._poll_error is not None, source=self._source_text(),
        )
        if s.error is not None:
            self.notice.show_error(advice_for(s.error, self._key_for("tasks.refresh"), self._config_path,
                                              has_rows=bool(rows)))
        elif self._poll_error:
            self.notice.show_error(self._poll_error)
        elif self._wait is not None:
            left = max(0, round(self._wait[0] - time.monotonic()))
            self.notice.show_info(f"The server asked us to wait: retrying in {left} s"
                                  + (f" ({self._wait[1]})" if self._wait[1] else "") + ".")
        elif s.scanning and s.progress is not None:
            self.notice.show_info(f"{s.progress.describe()} · {self._key_for('tasks.back')} stops reading")
        elif self.notice.message:
            self.notice.clear()
        empty = s.is_empty and not s.loading and s.error is None
        if empty:
            active = self.sidebar.describe_active() if self._sidebar_ready else s.query.active_filters()
            self.empty.show(active, self._key_for("tasks.clear_filters"))
        else:
            self.empty.hide()
        self.set_class(empty, "-empty")

    def _not_loaded(self) -> int:
        """Tasks the exact total counts beyond the loaded window that scrolling will not
        bring (they arrived since the list was read): r refreshes."""
        s = self.store
        if s.total is None or not s.total_exact or s.has_more or s.has_before:
            return 0
        return max(0, s.total - s.offset - len(s.rows))

    def _key_for(self, binding_id: str) -> str:
        """The key (as displayed) bound to ``binding_id``, remapping included."""
        return key_for(binding_id, (self, self.table, self.app))

    # ------------------------------------------------------------------ filters -> store
    @on(FilterSidebar.Changed)
    def _filters_changed(self, event: FilterSidebar.Changed) -> None:
        event.stop()
        if self._debounce is not None:
            self._debounce.stop()
            self._debounce = None
        if not self._sidebar_ready or self.sidebar.date_error:
            return  # nothing is sent while a typed date is invalid
        if event.immediate:
            self._apply_filters()
        else:
            self._debounce = self.set_timer(DEBOUNCE, self._apply_filters)

    @on(FilterSidebar.ZoneChanged)
    def _zone_picked(self, event: FilterSidebar.ZoneChanged) -> None:
        event.stop()
        self.set_zone(event.zone)

    def _apply_filters(self, force: bool = False) -> None:
        self._debounce = None
        if not self._sidebar_ready:
            self._set_query(self.store.query)
            return
        try:
            query = self.sidebar.build_query()
        except DateInputError:
            return
        if query.order is SortOrder.OLDEST and not self._order_supported():
            query = query.replace(order=SortOrder.NEWEST)
        if not force and query == self.store.query and self.store.loaded_once:
            return
        self._set_query(query)

    def _set_query(self, query: TaskQuery) -> None:
        self.requests_sent += 1
        self.header.update_state(loading=True)
        self.run_worker(self.store.set_query(query), group="query", exit_on_error=False)

    async def _load_pickers(self) -> None:
        try:
            await self.store.load_projects()
        except ApiError:
            pass  # the list shows the error; the pickers stay as they are
        try:
            await self.store.load_batches()
        except ApiError:
            pass

    def _order_supported(self) -> bool:
        return self.store.can_sort_oldest

    # ------------------------------------------------------------------ table events
    @on(TaskTable.CursorMoved)
    def _cursor_moved(self, event: TaskTable.CursorMoved) -> None:
        self.store.set_anchor(event.task.task_id if event.task else None)

    @on(TaskTable.NearEnd)
    def _near_end(self, event: TaskTable.NearEnd) -> None:
        if self.store.has_more and not self.store.loading and self.store.error is None:
            self.run_worker(self.store.load_more(), group="more", exit_on_error=False)

    @on(TaskTable.NearStart)
    def _near_start(self, event: TaskTable.NearStart) -> None:
        if self.store.has_before and not self.store.loading:
            self.run_worker(self.store.load_previous(), group="previous", exit_on_error=False)

    @on(TaskTable.TopRequested)
    def _top_requested(self, event: TaskTable.TopRequested) -> None:
        self._go_top_pending = True
        self.header.update_state(loading=True)
        self.run_worker(self.store.reload(), group="query", exit_on_error=False)

    @on(TaskTable.MarksChanged)
    def _marks_changed(self, event: TaskTable.MarksChanged) -> None:
        self.header.update_state(marked=len(event.marked))

    @on(TaskTable.Activated)
    def _activated(self, event: TaskTable.Activated) -> None:
        self._open(event.task.task_id)

    # ------------------------------------------------------------------ actions
    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "bulk" and self.store.read_only:
            return False
        return True

    def run_binding(self, binding_id: str) -> None:
        """Run the action of the binding ``binding_id`` (the command palette uses it)."""
        run_binding(binding_id, (self.table, self, self.app))

    def action_sync_index(self) -> None:
        """``S``: sync the local index (the app makes it the first time)."""
        self.app.sync_index()

    def action_open_task(self) -> None:
        task_id = self.table.cursor_task_id
        if task_id is None:
            self.app.bell()
            return
        self._open(task_id)

    def _open(self, task_id: str) -> None:
        # imported when first needed: the detail screen brings the previews' image and plot
        # libraries, which the first screen does not use (start-up time)
        from tasktui.ui.screens.detail import TaskDetailScreen

        self.app.push_screen(TaskDetailScreen(
            self.store, task_id,
            task_ids=lambda: [t.task_id for t in self.store.rows],
            downloads_dir=self.settings.downloads_dir,
        ))

    def action_copy_ids(self) -> None:
        ids = sorted(self.marked_ids) or ([self.table.cursor_task_id] if self.table.cursor_task_id else [])
        if not ids:
            self.app.bell()
            return
        what = f"{len(ids)} task ids" if len(ids) > 1 else f"task id {ids[0]}"
        result = copy_text(self.app, "\n".join(ids), what=what)
        self.notify(result.message, severity="information" if result.ok else "error", timeout=3, markup=False)

    async def action_search(self) -> None:
        await self.ensure_sidebar()
        self._show_sidebar()
        self.sidebar.focus_search()

    async def action_focus_filters(self) -> None:
        await self.ensure_sidebar()
        self._show_sidebar()
        self.sidebar.focus_first()

    def _show_sidebar(self) -> None:
        if self.sidebar_slot.has_class("-hidden"):
            self.sidebar_slot.remove_class("-hidden")
            self._sidebar_user_choice = True

    @property
    def sidebar_shown(self) -> bool:
        return not self.sidebar_slot.has_class("-hidden")

    def action_toggle_sidebar(self) -> None:
        hidden = not self.sidebar_slot.has_class("-hidden")
        self.sidebar_slot.set_class(hidden, "-hidden")
        self._sidebar_user_choice = not hidden
        if hidden and self.focused is not None and self.focused is not self.table \
                and self.sidebar in self.focused.ancestors:
            self.table.focus()

    def action_back_to_list(self) -> None:
        if self.store.stop_scan():
            p = self.store.progress
            found = f": {p.matched:,} found so far" if p is not None else ""
            self.notify(f"Stopped reading{found}; the total shown is a lower bound "
                        f"(press {self._key_for('tasks.refresh')} to read again).", markup=False, timeout=4)
        self.table.focus()

    def _start_wait(self, seconds: int, why: str) -> None:
        """A countdown in the notice while the client waits out a Retry-After."""
        self._wait = (time.monotonic() + seconds, why)
        if self._wait_timer is None:
            self._wait_timer = self.set_interval(1.0, self._tick_wait)
        self._sync()

    def _tick_wait(self) -> None:
        if self._wait is not None and time.monotonic() >= self._wait[0]:
            self._wait = None
            if self._wait_timer is not None:
                self._wait_timer.stop()
                self._wait_timer = None
        self._sync()

    def action_refresh(self) -> None:
        """Refresh (also the retry key after an error): re-read the window, keeping the
        cursor's task; after a failed first load, load again."""
        self.header.update_state(loading=True)
        self._poll_error = None
        if self.store.loaded_once and self.store.rows:
            self.run_worker(self.store.refresh(), group="query", exit_on_error=False)
        else:
            self._apply_filters(force=True)

    def action_cycle_zone(self) -> None:
        self.set_zone(self.zone.next())

    def set_zone(self, zone: Zone) -> None:
        """Show every timestamp in ``zone`` and re-interpret the typed range in it."""
        self.store.set_zone(zone)
        self._show_zone()

    def _show_zone(self) -> None:
        """Bring the widgets to the store's zone (once, however often it is asked)."""
        zone = self.store.zone
        if self.table.zone is zone and self.sidebar.zone is zone:
            return
        if self._sidebar_ready:
            self.sidebar.set_zone(zone)
        else:
            self.sidebar.zone = zone
        self.table.set_zone(zone)
        self.header.update_state(zone=zone)
        if self._sidebar_ready and (self.sidebar.from_text.strip() or self.sidebar.to_text.strip()):
            self._apply_filters()
        self._sync()

    def action_toggle_live(self) -> None:
        if self.live_interval > 0:
            self.live_interval = 0.0
            self.store.stop_polling()
            self.notify("Live refresh off.", timeout=2)
        else:
            self.live_interval = self._live_default
            self.store.start_polling(self.live_interval)
            self.notify(f"Live refresh on: every {self.live_interval:g} s.", timeout=2)
        self._sync()

    def action_toggle_sort(self) -> None:
        new = SortOrder.OLDEST if self.order is SortOrder.NEWEST else SortOrder.NEWEST
        if new is SortOrder.OLDEST and not self._order_supported():
            self.notify("Oldest first is unavailable: this server does not offer the 'order' "
                        "extension (the Scale API lists newest first only).", severity="warning")
            return
        self.sidebar.order = new
        if self._sidebar_ready:
            self._apply_filters()
        else:
            self._set_query(self.store.query.replace(order=new))

    async def action_clear_filters(self) -> None:
        await self.ensure_sidebar()
        self.sidebar.clear_filters()
        self.table.focus()

    def action_export(self) -> None:
        from tasktui.ui.screens.export import ExportScreen  # when first needed (start-up time)

        backend = getattr(self.app, "backend", None)
        self.app.push_screen(ExportScreen(self.store, directory=self.settings.downloads_dir,
                                          note=backend.attachment_note() if backend is not None else None))

    def action_bulk(self, action: str) -> None:
        ids = self.marked_ids
        if not ids and self.table.cursor_task_id:
            ids = {self.table.cursor_task_id}
        if not ids:
            self.app.bell()
            return
        self.run_worker(self._bulk(action, ids), group="bulk", exit_on_error=False)

    async def _bulk(self, action: str, ids: set[str]) -> None:
        outcome = await run_bulk(self.app, self.store, action, sorted(ids))
        if outcome is not None:
            self.table.set_marks(set())

    # ------------------------------------------------------------------ views
    async def apply_view(self, name: str) -> None:
        view = self.settings.views.get(name)
        if view is None:
            self.notify(f"No saved view named {name!r}.", severity="error", markup=False)
            return
        await self.ensure_sidebar()
        self._show_sidebar() if self.app.size.width >= NARROW else None
        self.sidebar.apply_view(view)
        self.notify(f"View: {name}", timeout=2, markup=False)

    async def apply_quick_range(self, key: str) -> None:
        await self.ensure_sidebar()
        a, b = quick_range(key, self.zone, now=self._now() if self._now else None)
        self.sidebar.set_dates(a, b)
        self._apply_filters()

    async def action_save_view(self) -> None:
        await self.ensure_sidebar()
        try:
            self.sidebar.build_query()
        except DateInputError as e:
            self.notify(f"Fix the dates first: {e}", severity="error", markup=False)
            return

        def problem(name: str) -> str | None:
            if not name:
                return "a view needs a name"
            if len(name) > 60:
                return "keep the name under 60 characters"
            return None

        def done(name: str | None) -> None:
            if not name:
                return
            view = self.sidebar.current_view(name)
            try:
                path = save_view(view, self.settings.config_file or None)
            except (OSError, ConfigError) as e:
                self.notify(f"Could not save the view: {e}", severity="error", markup=False)
                return
            self.settings.views[name] = view
            self.notify(f"Saved view {name!r} in {path}.", timeout=4, markup=False)

        self.app.push_screen(PromptDialog("Save the current filters as a view", placeholder="name",
                                          hint="enter: save in the config file · esc: cancel",
                                          validate=problem), done)
