"""Helpers for the UI tests (imported as ``from .support import ...``): settings for a
test app, waiting on the pilot, a host App running the detail screen over the real
TaskStore / TaskClient against the bundled server, what the screen shows, and the
server's database."""

from __future__ import annotations

import asyncio
import json
import sqlite3
from pathlib import Path
from typing import Any, Callable

import orjson
from textual.app import App

from tasktui.api import RetryPolicy, TaskClient
from tasktui.config import Settings
from tasktui.domain import TaskQuery, Zone
from tasktui.store import TaskStore
from tasktui.ui import keymap
from tasktui.ui.app import stylesheet_path
from tasktui.ui.widgets import preview
from tasktui.ui.screens.detail import TaskDetailScreen

# deterministic image output in every test: half-blocks, and the VT340 cell size
# textual-image assumes when it cannot ask the terminal (pytest may run on a tty)
preview.set_image_renderer("halfcell")
from textual_image._terminal import CellSize, get_cell_size  # noqa: E402

get_cell_size._result = CellSize(10, 20)  # type: ignore[attr-defined]

FAST_RETRY = RetryPolicy(max_attempts=3, base_delay=0.01, max_delay=0.05, total_time=10, seed=1)


class DetailHost(App):
    """Opens a TaskDetailScreen on ``task_id`` over a real store; ``query`` loads the list
    first (for n / p and the audit queue). It loads the screens' stylesheet, not the app's
    own look."""

    CSS_PATH = str(stylesheet_path())

    def __init__(
        self,
        server,
        task_id: str | None,
        *,
        query: TaskQuery | None = None,
        zone: Zone = Zone.UTC,
        read_only: bool = False,
        downloads_dir: Path | None = None,
        tab: str = "summary",
        task_ids: list[str] | None = None,
        client_options: dict | None = None,
    ) -> None:
        super().__init__()
        self.animation_level = "none"
        self.theme = "textual-dark"
        self.server = server
        self.first_task_id = task_id
        self.query_ = query
        self.zone = zone
        self.read_only = read_only
        self.downloads_dir = downloads_dir
        self.tab = tab
        self.task_ids = task_ids
        self.client_options = client_options or {}
        self.store: TaskStore | None = None
        self.client: TaskClient | None = None
        self.detail: TaskDetailScreen | None = None

    async def on_mount(self) -> None:
        self.client = TaskClient(self.server.url, self.server.api_key, retry=FAST_RETRY, **self.client_options)
        self.store = TaskStore(self.client, zone=self.zone, read_only=self.read_only,
                               page_size=20, max_rows=200)
        if self.query_ is not None:
            await self.store.set_query(self.query_)
        tid = self.first_task_id or self.store.rows[0].task_id
        self.detail = TaskDetailScreen(
            self.store, tid,
            task_ids=self.task_ids if self.task_ids is not None else (lambda: [t.task_id for t in self.store.rows]),
            downloads_dir=self.downloads_dir, tab=self.tab)
        await self.push_screen(self.detail)

    async def on_unmount(self) -> None:
        if self.store is not None:
            await self.store.close()
        if self.client is not None:
            await self.client.aclose()


screen_text = keymap.screen_text
screen_segments = keymap.screen_segments
notifications = keymap.notification_messages


def escape_chars_on_screen(app: App) -> list[str]:
    """Segments that carry ESC or C1 control characters (there must be none)."""
    return [t for t in screen_segments(app)
            if "\x1b" in t or "\x07" in t or any(0x80 <= ord(c) <= 0x9F for c in t)]


terminal_output = keymap.screen_bytes


#: escape sequences the seeded hostile tasks carry; none may reach the terminal
HOSTILE_SEQUENCES = ("\x1b]52;", "\x1b]8;;https://evil", "\x1b[2J", "\x1b[31mred", "\x9b", "\x07 clipboard")


def hostile_sequences_in_output(app: App) -> list[str]:
    out = terminal_output(app)
    return [seq for seq in HOSTILE_SEQUENCES if seq in out]


def ui_settings(tmp_path: Path, **changes) -> Settings:
    """Settings for a test app: no live refresh, downloads under ``tmp_path``."""
    s = Settings(refresh_interval=0, sandbox_db=tmp_path / "unused.db", downloads_dir=tmp_path / "dl")
    for k, v in changes.items():
        setattr(s, k, v)
    return s


async def wait_for(pilot, predicate: Callable[[], Any], timeout: float = 20.0, what: str = "") -> Any:
    """Pause the pilot until ``predicate()`` is truthy and return its value; after
    ``timeout`` s fail the test, quoting the notifications and the screen. The 0.02 s
    between two checks is a polling interval, never evidence."""
    loop = asyncio.get_running_loop()
    end = loop.time() + timeout
    while True:
        await pilot.pause()
        value = predicate()
        if value:
            await pilot.pause()  # and let the screen catch up with what the condition saw
            return value
        if loop.time() > end:
            app = pilot.app
            raise AssertionError(f"timed out waiting for {what or predicate}; notices: "
                                 f"{' | '.join(notifications(app))}\n{screen_text(app)}")
        await asyncio.sleep(0.02)


async def steady_screen(pilot, timeout: float = 20.0, reads: int = 3) -> str:
    """Wait until the screen's text is the same on ``reads`` reads in a row, 0.05 s apart
    (a condition with a timeout, not a fixed pause) and return it."""
    loop = asyncio.get_running_loop()
    end = loop.time() + timeout
    last, same = screen_text(pilot.app), 0
    while same < reads - 1:
        if loop.time() > end:
            raise AssertionError(f"the screen kept changing:\n{last}")
        await pilot.pause()
        await asyncio.sleep(0.05)
        now = screen_text(pilot.app)
        same = same + 1 if now == last else 0
        last = now
    return last


async def wait_loaded(pilot, app: DetailHost, task_id: str | None = None) -> TaskDetailScreen:
    def ready():
        d = app.detail
        return d is not None and d.shown_task is not None and (task_id is None or d.shown_task.task_id == task_id)
    await wait_for(pilot, ready, what=f"task {task_id} shown")
    await pilot.pause()
    return app.detail  # type: ignore[return-value]


def find_tasks(sql, handle, where: str, *args, limit: int = 1) -> list[str]:
    rows = sql(handle, f"SELECT task_id FROM tasks WHERE {where} ORDER BY id LIMIT {int(limit)}", *args)
    return [r[0] for r in rows]


def find_task(sql, handle, where: str, *args) -> str:
    ids = find_tasks(sql, handle, where, *args)
    assert ids, f"no seeded task matches {where}"
    return ids[0]


def db_doc(handle, task_id: str) -> dict[str, Any]:
    """The stored document of a task, straight from the server's SQLite database."""
    conn = sqlite3.connect(handle.db_path, timeout=30)
    try:
        row = conn.execute(
            "SELECT d.doc FROM docs d JOIN tasks t ON t.id = d.id WHERE t.task_id = ?", (task_id,)).fetchone()
    finally:
        conn.close()
    assert row is not None, task_id
    return orjson.loads(row[0])


def db_status(handle, task_id: str) -> tuple[str, str]:
    conn = sqlite3.connect(handle.db_path, timeout=30)
    try:
        return conn.execute("SELECT ostatus, review FROM tasks WHERE task_id = ?", (task_id,)).fetchone()
    finally:
        conn.close()


def set_doc_field(handle, task_id: str, key: str, value: Any) -> None:
    conn = sqlite3.connect(handle.db_path, timeout=30)
    try:
        with conn:
            (rid, blob) = conn.execute(
                "SELECT d.id, d.doc FROM docs d JOIN tasks t ON t.id = d.id WHERE t.task_id = ?",
                (task_id,)).fetchone()
            doc = orjson.loads(blob)
            doc[key] = value
            conn.execute("UPDATE docs SET doc = ? WHERE id = ?", (orjson.dumps(doc), rid))
    finally:
        conn.close()


def as_json(text: str) -> Any:
    return json.loads(text)


def api_get(handle, task_id: str) -> dict[str, Any]:
    """The task as the server's API returns it now."""
    import httpx

    r = httpx.get(f"{handle.url}/task/{task_id}", auth=(handle.api_key, ""), timeout=10)
    r.raise_for_status()
    return r.json()


async def settled(pilot, app) -> None:
    """Wait until the first page is on screen, the sidebar is up, no filter edit waits
    for its debounce and nothing is loading."""
    await wait_for(pilot, lambda: app.store is not None and app.store.loaded_once
                   and not app.store.loading and not app.store.loading_more
                   and app.tasks_screen is not None and not app.tasks_screen.filters_pending
                   and app.tasks_screen.sidebar_ready,
                   what="the list to settle")
    await pilot.pause()


async def open_preview(pilot, app, tid):
    """Open the Preview tab of task ``tid`` and wait until it has loaded (or said why not)."""
    from tasktui.ui.widgets.preview import MediaPreview

    detail = await wait_loaded(pilot, app, tid)
    await pilot.press("6")
    preview = detail.query_one(MediaPreview)
    await wait_for(pilot, lambda: preview.state not in ("empty", "loading"), what="preview loaded")
    await pilot.pause()
    return detail, preview


#: the detail screen's tab keys
TAB_KEYS = dict(zip("123456", ("summary", "instructions", "json", "response", "audit", "preview")))


async def open_tab(pilot, key: str) -> str:
    """Press a detail tab's key and wait until that tab is active and drawn (the screen has
    changed and stays the same; the preview has loaded or said why not), so a check never
    reads the previous tab's frame. Returns the screen's text."""
    from tasktui.ui.widgets.preview import MediaPreview

    app = pilot.app
    detail = app.screen
    tab = TAB_KEYS[key]
    before = screen_text(app)
    assert detail.active_tab != tab, f"tab {tab} is open already: nothing would change"
    await pilot.press(key)
    await wait_for(pilot, lambda: detail.active_tab == tab, what=f"tab {tab} active")
    if tab == "preview":
        preview = detail.query_one(MediaPreview)
        await wait_for(pilot, lambda: preview.state not in ("empty", "loading"), what="the preview loaded")
    await wait_for(pilot, lambda: screen_text(app) != before, what=f"tab {tab} drawn")
    return await steady_screen(pilot, reads=2)
