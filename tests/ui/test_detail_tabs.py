"""The detail screen's tabs, on real tasks of the bundled server (read-only)."""

from __future__ import annotations

import json

from textual.widgets import TabbedContent, TextArea

from datetime import datetime
from zoneinfo import ZoneInfo

from tasktui.domain import AuditStatus, OperatorStatus, TaskQuery, Zone

from .support import (DetailHost, api_get, escape_chars_on_screen, hostile_sequences_in_output, find_task, notifications,
                                 open_tab, screen_text, steady_screen, wait_for, wait_loaded)


async def test_summary_shows_fields_words_and_zone_times(shared_server, sql):
    tid = find_task(sql, shared_server, "ostatus = 'completed' AND review = 'fixed'")
    doc = api_get(shared_server, tid)
    app = DetailHost(shared_server, tid, zone=Zone.PACIFIC)
    async with app.run_test(size=(140, 50)) as pilot:
        await wait_loaded(pilot, app, tid)
        text = screen_text(app)
        assert f"Task {tid}  Completed  ·  Fixed " in text
        created = _pacific(doc["created_at"])  # the oracle: the stdlib's zoneinfo, not our formatter
        assert created.endswith(("PST", "PDT"))
        assert f"Created (Pacific)    {created}" in text
        assert f"Completed (Pacific)  {_pacific(doc['completed_at'])}" in text
        audit_line = next(line for line in text.splitlines() if line.lstrip().startswith("Audit status"))
        assert audit_line.strip() == "Audit status         Fixed"
        assert "wire:" not in text  # words for operators, not the wire's
        assert f"Project              {doc['project']}" in text
        assert f"Batch                {doc['batch']}" in text
        assert doc["params"]["attachment"] in text
        assert f'"source": "{doc["metadata"]["source"]}"' in text


def _pacific(wire: str) -> str:
    """A wire timestamp as the detail shows it in Pacific time, computed with zoneinfo."""
    dt = datetime.fromisoformat(wire.replace("Z", "+00:00")).astimezone(ZoneInfo("America/Los_Angeles"))
    return dt.strftime("%Y-%m-%d %H:%M:%S ") + dt.tzname()


async def test_instructions_json_response_and_audit_tabs(shared_server, sql):
    tid = find_task(sql, shared_server, "ostatus = 'completed' AND review = 'fixed'")
    doc = api_get(shared_server, tid)
    app = DetailHost(shared_server, tid)
    async with app.run_test(size=(120, 40)) as pilot:
        detail = await wait_loaded(pilot, app, tid)

        assert doc["project"] in await open_tab(pilot, "2")  # the instructions' title

        await open_tab(pilot, "3")
        ta = detail.query_one("#json-text", TextArea)
        assert ta.read_only and ta.language == "json"
        import json
        assert json.loads(ta.text) == doc

        text = await open_tab(pilot, "4")
        assert "What the fix changed (latest prior → current)" in text
        body = detail.query_one("#response-body").content
        from rich.console import Console
        console = Console(width=120, record=True, color_system=None)
        console.print(body)
        rendered = console.export_text()
        assert "Current response" in rendered and "Prior responses (1)" in rendered
        assert "What the fix changed (latest prior → current)" in rendered
        assert "--- prior response" in rendered and "+++ current response" in rendered
        assert any(line.startswith("-") and not line.startswith("---") for line in rendered.splitlines())
        assert any(line.startswith("+") and not line.startswith("+++") for line in rendered.splitlines())

        text = await open_tab(pilot, "5")
        audit = doc["audits"][0]
        assert f"Fixed  by {audit['audited_by']}" in text
        assert "Customer review" in text
        for c in doc["customer_review_comments"]:
            assert c in text


async def test_json_search_moves_the_selection_and_n_N_step_through_matches(shared_server, sql):
    tid = find_task(sql, shared_server, "ostatus = 'completed' AND type = 'imageannotation'")
    doc = api_get(shared_server, tid)
    n_labels = len(doc["response"]["annotations"])
    assert n_labels >= 2
    app = DetailHost(shared_server, tid)
    async with app.run_test(size=(120, 40)) as pilot:
        detail = await wait_loaded(pilot, app, tid)
        await pilot.press("slash")
        assert detail.active_tab == "json"
        await pilot.press(*'"label"')
        ta = detail.query_one("#json-text", TextArea)
        assert ta.selected_text == '"label"'
        first = ta.selection
        status = detail.query_one("#json-find-status").content
        assert str(status).startswith(f"1 of {n_labels}")
        await pilot.press("enter")  # next match, focus back in the JSON
        assert str(detail.query_one("#json-find-status").content).startswith(f"2 of {n_labels}")
        await pilot.press("n")
        assert str(detail.query_one("#json-find-status").content).startswith(f"3 of {n_labels}" if n_labels >= 3 else f"1 of {n_labels}")
        assert detail.shown_task.task_id == tid  # n searched, it did not change task
        await pilot.press("N")
        assert str(detail.query_one("#json-find-status").content).startswith(f"2 of {n_labels}")
        assert ta.selected_text == '"label"' and ta.selection != first
        await pilot.press("escape")  # closes the search...
        assert not detail.json_view.find_term
        assert detail.shown_task.task_id == tid
        await pilot.press("/")
        await pilot.press("z", "z", "q", "x")
        assert "no match" in str(detail.query_one("#json-find-status").content)
        await pilot.press("escape")
        assert app.screen is detail
        await pilot.press("escape")  # ...and then esc goes back to the list
        await wait_for(pilot, lambda: app.screen is not detail, what="back")


async def test_n_and_p_move_through_the_list_keeping_the_tab(shared_server):
    query = TaskQuery(statuses=frozenset({OperatorStatus.COMPLETED}))
    app = DetailHost(shared_server, None, query=query)
    async with app.run_test(size=(120, 40)) as pilot:
        detail = await wait_loaded(pilot, app)
        ids = [t.task_id for t in app.store.rows]
        assert detail.shown_task.task_id == ids[0]
        await pilot.press("3")
        await pilot.press("n")
        await wait_loaded(pilot, app, ids[1])
        assert detail.query_one(TabbedContent).active == "json"
        await wait_for(pilot, lambda: f"  ·  2 of {app.store.total:,}" in screen_text(app))
        await pilot.press("n")
        await wait_loaded(pilot, app, ids[2])
        await pilot.press("p", "p")
        await wait_loaded(pilot, app, ids[0])
        await pilot.press("p")
        await wait_for(pilot, lambda: any("This is the first task of the list." in m for m in notifications(app)))
        assert detail.active_tab == "json"


def all_text(value) -> str:
    """Every string in a JSON value, keys too, joined with newlines, as the raw characters."""
    if isinstance(value, str):
        return value
    if isinstance(value, dict):
        return "\n".join(k + "\n" + all_text(v) for k, v in value.items())
    if isinstance(value, list):
        return "\n".join(all_text(v) for v in value)
    return ""


async def test_hostile_text_is_shown_literally_and_no_escape_reaches_the_screen(shared_server, sql):
    rows = sql(shared_server, "SELECT t.task_id FROM tasks t JOIN task_tags g ON g.id = t.id "
                              "WHERE g.tag = 'hostile-text' ORDER BY t.id")
    docs = [api_get(shared_server, r[0]) for r in rows]
    # a task whose instruction carries Rich markup, and one with escape sequences somewhere
    marked = next(d for d in docs if "[bold red]URGENT[/bold red]" in d.get("instruction", ""))
    app = DetailHost(shared_server, marked["task_id"])
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_loaded(pilot, app, marked["task_id"])
        await steady_screen(pilot)
        for key in "123456":  # each tab checked once it is drawn, never on the previous frame
            if key != "1":
                await open_tab(pilot, key)
            assert escape_chars_on_screen(app) == [], key
            assert hostile_sequences_in_output(app) == [], key
        text = await open_tab(pilot, "2")
        assert "[bold red]URGENT[/bold red] re-check this [/] now" in text
        assert "[link=https://evil.invalid/]link[/link]" in text
    # every kind of escape sequence in the seed: one task per distinct hostile string
    seen: set[str] = set()
    picked = []
    for d in docs:
        key = repr(sorted((k, str(v)) for k, v in d.items() if k in ("instruction", "metadata")))
        flat = all_text(d)
        if ("\x1b" in flat or "\x9b" in flat) and key not in seen:
            seen.add(key)
            picked.append(d)
    picked = picked[:3]
    assert picked
    ids = [d["task_id"] for d in picked]
    app = DetailHost(shared_server, ids[0], task_ids=ids)
    red_alerts = 0
    async with app.run_test(size=(100, 30)) as pilot:
        for d in picked:
            await wait_loaded(pilot, app, d["task_id"])
            shown = {"1": await steady_screen(pilot)}
            for key in "125":  # where task text shows: summary, instructions, audit comments
                if key != "1":
                    shown[key] = await open_tab(pilot, key)
                assert escape_chars_on_screen(app) == [], (d["task_id"], key)
                assert hostile_sequences_in_output(app) == [], (d["task_id"], key)
            await open_tab(pilot, "1")
            if "\x1b[31mred alert" in d["instruction"]:  # shown as data, with visible stand-ins
                assert "␛[31mred alert␛[0m" in shown["2"]
                red_alerts += 1
            await pilot.press("n")
    assert red_alerts  # the check above met a task: it did not skip in silence


async def test_audit_status_filter_makes_the_audit_queue(shared_server):
    app = DetailHost(shared_server, None, query=TaskQuery(audit_statuses=frozenset({AuditStatus.READY_TO_AUDIT})))
    async with app.run_test(size=(120, 40)) as pilot:
        detail = await wait_loaded(pilot, app)
        assert detail.in_audit_queue
    app = DetailHost(shared_server, None, query=TaskQuery(audit_statuses=frozenset(AuditStatus)))
    async with app.run_test(size=(120, 40)) as pilot:
        detail = await wait_loaded(pilot, app)
        assert not detail.in_audit_queue


async def test_the_escape_checks_catch_raw_sequences():
    """Control: Textual passes control characters through, so without tasktui.ui.safe
    the checks above would fail."""
    from rich.text import Text
    from textual.app import App
    from textual.widgets import Static

    from tasktui.ui.safe import safe_text

    raw = "x \x1b]52;c;ZXZpbA==\x07 y \x1b[31mred \x9b31m"

    class Raw(App):
        def compose(self):
            yield Static(Text(raw), id="raw")

    async with Raw().run_test() as pilot:
        await pilot.pause()
        assert escape_chars_on_screen(pilot.app)
        assert set(hostile_sequences_in_output(pilot.app)) >= {"\x1b]52;", "\x1b[31mred", "\x9b"}
        pilot.app.query_one("#raw", Static).update(safe_text(raw))
        await pilot.pause()
        assert escape_chars_on_screen(pilot.app) == []
        assert hostile_sequences_in_output(pilot.app) == []
        assert "x ␛]52;c;ZXZpbA==␇ y ␛[31mred ⟨9B⟩31m" in screen_text(pilot.app)


async def test_links_in_instructions_are_shown_never_opened(server, monkeypatch):
    import httpx
    from textual.widgets import Markdown

    r = httpx.post(f"{server.url}/task/imageannotation", auth=(server.api_key, ""), json={
        "instruction": "See [the guide](https://evil.invalid/x) and ![img](https://evil.invalid/p.png)",
        "attachment": "https://media.invalid/a.png", "attachment_type": "image"})
    r.raise_for_status()
    tid = r.json()["task_id"]
    app = DetailHost(server, tid)
    async with app.run_test(size=(120, 40)) as pilot:
        detail = await wait_loaded(pilot, app, tid)
        opened: list[str] = []
        monkeypatch.setattr(app, "open_url", lambda url, **kw: opened.append(url))
        await pilot.press("2")
        await wait_for(pilot, lambda: "the guide" in screen_text(app))
        md = detail.query_one("#instructions-md", Markdown)
        md.post_message(Markdown.LinkClicked(md, "https://evil.invalid/x"))
        await wait_for(pilot, lambda: any("Links in task instructions are not opened: https://evil.invalid/x" in m
                                          for m in notifications(app)))
        assert opened == []
