"""The app on screen under hostile data and a hostile terminal: a task whose every field
is Rich markup and escape sequences, resizing while loading, and ``NO_COLOR``.

Checks are made on the bytes Textual would send to the terminal for the full screen
(``screen.terminal_bytes``): apart from Textual's own drawing (SGR colours, cursor
moves) no control character may be there."""

from __future__ import annotations

import difflib
import re
import sqlite3
from datetime import timedelta

import orjson
import pytest

from tasktui.api import RetryPolicy
from tasktui.config import Settings
from tasktui.backend import Backend
from tasktui.server.db import insert_doc
from tasktui.server.times import ms_to_wire
from tasktui.testing.faultproxy import Fault, FaultProxy
from tasktui.ui.keymap import notification_messages

from ui.support import open_tab, steady_screen, wait_for as until

from .hostile import HOSTILE
from .screen import foreign_controls, screen_text, terminal_bytes


def make_app(url: str, api_key: str, tmp_path, now, **kw):
    from tasktui.ui.app import TaskTuiApp

    settings = Settings(refresh_interval=0, sandbox_db=tmp_path / "unused.db", downloads_dir=tmp_path / "dl")
    kw.setdefault("client_options", {"retry": RetryPolicy.none(), "timeout": 10.0})
    return TaskTuiApp(settings, Backend(url, api_key, "sandbox", "local sandbox"), now=lambda: now,
                      theme="textual-dark", **kw)


def settled(app) -> bool:
    s = app.store
    return (s is not None and s.loaded_once and not s.loading and not s.loading_more
            and app.tasks_screen is not None and not app.tasks_screen.filters_pending
            and app.tasks_screen.sidebar_ready)  # mounted shortly after the first page


def plant(db_path, doc: dict) -> None:
    """Insert a task document straight into the server's database (what a hostile or
    broken upstream could send): the server answers with whatever it holds."""
    conn = sqlite3.connect(db_path, timeout=30, isolation_level=None)
    try:
        conn.execute("BEGIN IMMEDIATE")
        insert_doc(conn, doc)
        conn.execute("COMMIT")
    finally:
        conn.close()


def hostile_doc(task_id: str, created) -> dict:
    h = HOSTILE
    return {
        "task_id": task_id, "created_at": ms_to_wire(int(created.timestamp() * 1000)),
        "updated_at": ms_to_wire(int(created.timestamp() * 1000)),
        "completed_at": ms_to_wire(int(created.timestamp() * 1000) + 1000),
        "status": "completed", "type": "[b]type[/b]\x1b[5m", "project": "[red]proj[/]\x9b2J",
        "batch": "\x1b]8;;https://evil.example\x1b\\batch\x1b]8;;\x1b\\", "unique_id": "[@click=app.quit]u\x07",
        "instruction": f"# Title {h}\n\nBody [bold]not bold[/bold] \x1b[2J",
        "params": {"attachment": f"text {h}", "attachment_type": "text"},
        "metadata": {h: h, "k": ["[i]x[/i]", "\x1b]52;c;ZXZpbA==\x07"]},
        "response": {"label": h, "annotations": [{"label": "\x1b[31mred"}]},
        "prior_responses": [{"label": "[s]old[/s]\x1b[0m"}],
        "customer_review_status": "fixed", "customer_review_comments": [h, "[/]"],
        "audits": [{"audited_by": h, "audited_at": "2026-11-01T00:00:00.000Z", "audit_result": "fixed",
                    "audit_source": "customer"}],
        "tags": ["[u]tag[/u]", "\x1b[7m"], "callback_url": "http://127.0.0.1:9/[x]\x1b",
        "error": h,
    }


async def test_hostile_task_in_list_and_detail_reaches_the_terminal_as_inert_text(server, tmp_path, seed_now):
    tid = "aaaaaaaaaaaaaaaaaaaaaaaa"  # a valid id: the detail screen fetches it
    plant(server.db_path, hostile_doc(tid, seed_now + timedelta(days=2)))
    # a task whose very id is hostile (a broken or malicious server can send one in a list)
    bad_id = "[bold]ID[/]\x1b[31m\x9b2J\x07"
    plant(server.db_path, {**hostile_doc(bad_id, seed_now + timedelta(days=1)), "unique_id": "u2"})
    app = make_app(server.url, server.api_key, tmp_path, seed_now)
    async with app.run_test(size=(200, 50), notifications=True) as pilot:
        await until(pilot, lambda: settled(app), what="the list")
        table = app.tasks_screen.table
        assert [t.task_id for t in table.rows[:2]] == [tid, bad_id]
        assert foreign_controls(app) == []
        assert "\x1b]8;" not in terminal_bytes(app)  # no hyperlink made from data
        text = screen_text(app)
        assert "[bold]ID[/]␛[31m⟨9B⟩2J␇" in text  # literal, controls made visible
        assert "[red]proj[/]" in text
        # clicking the cells that hold "[@click=app.quit]" and links does nothing but select
        for y in (2, 3):
            for x in (5, 100):
                await pilot.click(offset=(x, y))
                await pilot.pause()
        assert app.is_running and app.return_code is None
        # the detail screen, every tab
        table.move_to_task(tid)
        await pilot.press("enter")
        await until(pilot, lambda: getattr(app.screen, "task_id", None) == tid, what="the detail screen")
        await until(pilot, lambda: "[@click=app.quit]u␇" in screen_text(app), what="the summary drawn")
        for key in "234561":  # each tab, ending on the summary: every check follows a redraw
            await open_tab(pilot, key)
            assert foreign_controls(app) == [], key
            assert "\x1b]8;" not in terminal_bytes(app), key
        assert "[@click=app.quit]u␇" in screen_text(app)
        await pilot.press("escape")
        # the hostile id opens too (the list's copy; the server refuses such ids by id)
        await until(pilot, lambda: app.screen is app.tasks_screen, what="back to the list")
        table.move_to_task(bad_id)
        await pilot.press("enter")
        await until(pilot, lambda: getattr(app.screen, "shown_task", None) is not None
                    and app.screen.shown_task.task_id == bad_id, what="the detail of the hostile id")
        await until(pilot, lambda: "[bold]ID[/]" in screen_text(app), what="the summary drawn")
        for key in "2341":
            await open_tab(pilot, key)
            assert foreign_controls(app) == [], key
        assert "[bold]ID[/]␛[31m⟨9B⟩2J␇" in screen_text(app)
        assert app.is_running


SIZES = [(80, 24), (200, 60), (81, 25), (199, 59), (80, 24), (120, 40)]


async def test_resizing_while_loading_leaves_the_same_screen_as_a_fresh_start(shared_server, tmp_path, seed_now):
    final = SIZES[-1]
    # reference: a fresh app at the final size
    ref = make_app(shared_server.url, shared_server.api_key, tmp_path, seed_now)
    async with ref.run_test(size=final) as pilot:
        await until(pilot, lambda: settled(ref), what="the reference list")
        expected = await steady_screen(pilot)
    # slow answers keep the app loading while the terminal is resized again and again
    with FaultProxy(shared_server.url, seed=3, rate=1.0, kinds=(Fault.slow(0.15),)).running() as proxy:
        # the first page 3 s late: the storm lands while loading even on a slow, busy machine
        proxy.script(Fault.slow(3.0, match="GET /v1/tasks"))
        app = make_app(proxy.url, shared_server.api_key, tmp_path, seed_now)
        async with app.run_test(size=SIZES[0]) as pilot:
            loading_during_resizes = []
            for size in SIZES:
                await pilot.resize_terminal(*size)
                loading_during_resizes.append(not settled(app))
                await pilot.pause(0.03)  # deliberate: the pace of a resize storm (what is tested), not evidence
            # the resizes did land while the list was still loading (every answer is 0.15 s late)
            assert loading_during_resizes[0], loading_during_resizes
            await pilot.resize_terminal(*final)
            await until(pilot, lambda: settled(app), what="the list after resizing")
            await steady_screen(pilot)
            assert app.size == final
            lines = screen_text(app).split("\n")
            assert len(lines) == final[1]
            assert foreign_controls(app) == []
            got = screen_text(app)
    # the same screen as a fresh start (the count of rows fetched ahead may differ: a tall
    # terminal prefetches the next page sooner, so the scrollbar thumb differs too)
    def norm(t: str) -> str:
        return re.sub(r"Showing [\d,]+ of", "Showing … of", t).translate(str.maketrans("▁▂▃▄▅▆▇█", "        "))

    a, b = norm(got), norm(expected)
    assert a == b, "\n".join(difflib.unified_diff(b.split("\n"), a.split("\n"), lineterm="", n=0))


SGR_RE = re.compile(r"\x1b\[([0-9;:]*)m")


def colours(raw: str) -> set[str]:
    """Every non-grey colour in the SGR sequences of ``raw`` (truecolor, 256 or 16)."""
    found = set()
    for params in SGR_RE.findall(raw):
        p = [x for x in re.split("[;:]", params) if x != ""]
        i = 0
        while i < len(p):
            n = int(p[i])
            if n in (38, 48) and i + 1 < len(p) and p[i + 1] == "2":
                r, g, b = (int(x) for x in p[i + 2:i + 5])
                if not (r == g == b):
                    found.add(f"rgb({r},{g},{b})")
                i += 5
            elif n in (38, 48) and i + 1 < len(p) and p[i + 1] == "5":
                found.add(f"256:{p[i + 2]}")
                i += 3
            else:
                if 31 <= n <= 36 or 41 <= n <= 46 or 91 <= n <= 96 or 101 <= n <= 106:
                    found.add(f"16:{n}")
                i += 1
    return found


@pytest.mark.parametrize("no_color", [False, True])
async def test_no_color_is_honoured_and_statuses_keep_their_words(shared_server, tmp_path, seed_now,
                                                                  monkeypatch, no_color: bool) -> None:
    if no_color:
        monkeypatch.setenv("NO_COLOR", "1")
    else:
        monkeypatch.delenv("NO_COLOR", raising=False)
    app = make_app(shared_server.url, shared_server.api_key, tmp_path, seed_now)
    async with app.run_test(size=(140, 40)) as pilot:
        await until(pilot, lambda: settled(app), what="the list")
        await steady_screen(pilot)
        raw = terminal_bytes(app)
        text = screen_text(app)
        statuses = {t.status_label for t in app.tasks_screen.table.rows[:30]}
        await pilot.press("enter")  # the detail screen too
        await until(pilot, lambda: app.screen is not app.tasks_screen, what="the detail screen")
        await steady_screen(pilot)
        raw_detail = terminal_bytes(app)
    # status and audit are words on screen, never colour alone
    assert len(statuses) >= 3
    for s in statuses:
        assert s in text
    if no_color:
        assert app.no_color
        assert colours(raw) == set() and colours(raw_detail) == set()
    else:
        assert colours(raw)  # the same check finds colour when NO_COLOR is not set


PICKER_NAME = "[b]Bold[/b] \x1b[31mR\x9b2J [@click=app.quit]Q[/]"


async def test_hostile_project_and_batch_names_in_the_pickers_and_the_empty_state(server, tmp_path, seed_now):
    """Project and batch names come from the server: a name holding markup must not crash
    the pickers (Textual parses plain-string option prompts as markup) nor be applied, and
    the empty state lists the active filters without letting an escape through."""
    from textual.widgets import Input, Select

    batch = "b " + PICKER_NAME
    conn = sqlite3.connect(server.db_path, timeout=30)
    try:
        conn.execute("INSERT INTO projects (name, type, created_at, doc) VALUES (?,?,?,?)",
                     (PICKER_NAME, "imageannotation", "2026-01-01T00:00:00.000Z",
                      orjson.dumps({"name": PICKER_NAME, "type": "imageannotation"})))
        conn.execute("INSERT INTO batches (name, project, created_at, doc) VALUES (?,?,?,?)",
                     (batch, PICKER_NAME, "2026-01-01T00:00:00.000Z",
                      orjson.dumps({"name": batch, "project": PICKER_NAME, "status": "in_progress"})))
        conn.commit()
    finally:
        conn.close()
    app = make_app(server.url, server.api_key, tmp_path, seed_now)
    async with app.run_test(size=(160, 50), notifications=True) as pilot:
        await until(pilot, lambda: settled(app), what="the list")
        sidebar = app.tasks_screen.sidebar
        sel = sidebar.query_one("#project", Select)
        await until(pilot, lambda: PICKER_NAME in sidebar.project_choices, what="the project list")
        sel.focus()
        await pilot.pause()
        await pilot.press("enter")  # open the picker: its options are laid out and drawn
        # literal (cut to the picker's width)
        await until(pilot, lambda: "[b]Bold[/b] ␛[31mR⟨9B⟩2J" in screen_text(app), what="the picker's option")
        assert foreign_controls(app) == []
        sel.value = PICKER_NAME  # choose it: nothing matches (the project has no tasks)
        await until(pilot, lambda: app.store.query.projects == (PICKER_NAME,) and settled(app), what="the filter")
        bsel = sidebar.query_one("#batch", Select)
        bsel.focus()
        await pilot.press("enter")
        await until(pilot, lambda: bsel.expanded, what="the batch picker open")
        await steady_screen(pilot)
        assert foreign_controls(app) == []
        await pilot.press("escape")
        sidebar.query_one("#search", Input).value = "zz [i]nope[/i]"
        await until(pilot, lambda: app.store.query.search and settled(app)
                    and "No tasks match these filters" in screen_text(app), what="the search")
        text = screen_text(app)
        # the active filters, listed: the project's name literal, its controls made visible
        assert "Project: [b]Bold[/b] ␛[31mR⟨9B⟩2J [@click=app.quit]Q[/]" in text
        assert "Search: zz [i]nope[/i]" in text
        assert foreign_controls(app) == []
        assert app.is_running


async def test_copying_a_hostile_task_id_notifies_it_literally(server, tmp_path, seed_now, monkeypatch):
    """The notice after ``y`` names the task id: an id holding markup must be shown as is
    (Textual parses notifications as markup unless told not to: a stray ``[/]`` crashed the
    app). Notifications are on, as in real use (``run_test`` turns them off by default)."""
    monkeypatch.setenv("TASKTUI_CLIPBOARD", "off")
    tid = "copy[/]me [@click=app.quit]Q[/]"
    plant(server.db_path, {**hostile_doc(tid, seed_now + timedelta(days=3)), "unique_id": "u3"})
    app = make_app(server.url, server.api_key, tmp_path, seed_now)
    async with app.run_test(size=(160, 40), notifications=True) as pilot:
        await until(pilot, lambda: settled(app), what="the list")
        table = app.tasks_screen.table
        assert table.rows[0].task_id == tid
        table.focus()
        table.move_to_task(tid)
        await pilot.press("y")
        await until(pilot, lambda: any(tid in m for m in notification_messages(app)), what="the notice")
        await until(pilot, lambda: "Copied task id" in screen_text(app), what="the toast drawn")
        toasts = [line for line in screen_text(app).split("\n") if "Copied task id" in line]
        assert toasts and "Copied task id copy[/]me [@click=app.quit]" in toasts[0]  # literal in the toast
        assert foreign_controls(app) == []
        assert app.is_running


async def test_a_task_with_an_unknown_hostile_status_in_list_and_detail(server, tmp_path, seed_now):
    """A status the app does not know (another service, a newer API) is shown as its
    wire value: that value is data too."""
    tid = "bbbbbbbbbbbbbbbbbbbbbbbb"
    status = "[b]weird[/b]\x1b[31m\x9b2J\x07"
    plant(server.db_path, {**hostile_doc(tid, seed_now + timedelta(days=4)), "unique_id": "u4",
                           "status": status, "customer_review_status": status})
    app = make_app(server.url, server.api_key, tmp_path, seed_now)
    async with app.run_test(size=(160, 40), notifications=True) as pilot:
        await until(pilot, lambda: settled(app), what="the list")
        table = app.tasks_screen.table
        assert table.rows[0].task_id == tid
        assert foreign_controls(app) == []
        table.focus()
        table.move_to_task(tid)
        await pilot.press("enter")
        await until(pilot, lambda: getattr(app.screen, "shown_task", None) is not None
                    and app.screen.shown_task.task_id == tid, what="the detail")
        for key in "3451":  # the summary (1) is open already: visit it last, after the others
            await open_tab(pilot, key)
            assert foreign_controls(app) == [], key
        assert "[b]weird[/b]␛[31m⟨9B⟩2J␇" in screen_text(app)
