"""Accept, reject (with a comment), fix (JSON editor validated as typed) and their
refusals, against a real server; the fix reaches a real callback receiver."""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from textual.widgets import TextArea

from tasktui.ui.modals.fix_editor import FixEditor, edit_in_external_editor, validate_response_json
from tasktui.ui.modals.prompt import RejectDialog

from .support import (DetailHost, api_get, db_status, find_task, notifications, screen_text,
                                 set_doc_field, wait_for, wait_loaded)


def test_validate_response_json_reports_line_and_column():
    assert validate_response_json('{"a": 1}') == ({"a": 1}, None, None)
    _v, err, at = validate_response_json('{\n  "a": 1,\n  "b": [1, 2,]\n}')
    assert at == (3, 14) and err.startswith("Line 3, column 14: ")
    _v, err, at = validate_response_json("[1]")
    assert at == (1, 1) and "must be a JSON object" in err and "a list" in err


def test_external_editor_round_trip_and_failures(tmp_path):
    env = {"PATH": "/usr/bin:/bin", "EDITOR": "sed -i s/car/truck/"}
    assert edit_in_external_editor('{"label": "car"}', env=env) == '{"label": "truck"}'
    with pytest.raises(RuntimeError, match="exited with status 1; nothing was submitted"):
        edit_in_external_editor("{}", env={"PATH": "/usr/bin:/bin", "EDITOR": "false"})
    with pytest.raises(RuntimeError, match="was not found"):
        edit_in_external_editor("{}", env={"PATH": "/usr/bin:/bin", "EDITOR": str(tmp_path / "no-editor")})


async def test_accept_updates_the_task(server, sql):
    tid = find_task(sql, server, "ostatus = 'completed' AND review = 'pending'")
    app = DetailHost(server, tid)
    async with app.run_test(size=(120, 40)) as pilot:
        detail = await wait_loaded(pilot, app, tid)
        await pilot.press("a")
        await wait_for(pilot, lambda: detail.shown_task.audit_label == "Accepted", what="accepted")
        assert db_status(server, tid) == ("completed", "accepted")
        await wait_for(pilot, lambda: f"Task {tid}  Completed  ·  Accepted" in screen_text(app))
        assert any(f"Accepted {tid}." in m for m in notifications(app))


async def test_reject_asks_for_a_comment(server, sql):
    tid = find_task(sql, server, "ostatus = 'completed' AND review = 'pending'")
    app = DetailHost(server, tid)
    async with app.run_test(size=(120, 40)) as pilot:
        detail = await wait_loaded(pilot, app, tid)
        await pilot.press("x")
        await wait_for(pilot, lambda: isinstance(app.screen, RejectDialog))
        await pilot.press("escape")  # backing out changes nothing
        await wait_for(pilot, lambda: app.screen is detail)
        assert db_status(server, tid) == ("completed", "pending")
        await pilot.press("x")
        await wait_for(pilot, lambda: isinstance(app.screen, RejectDialog))
        await pilot.press(*"Boxes too loose")
        await pilot.press("enter")
        await wait_for(pilot, lambda: detail.shown_task.audit_label == "Rejected", what="rejected")
        doc = api_get(server, tid)
        assert doc["customer_review_status"] == "rejected"
        assert "Boxes too loose" in json.dumps(doc)


NOT_AUDITABLE = [
    ("ostatus = 'queued'", "is Queued: only completed tasks can be audited"),
    ("ostatus = 'in_progress'", "is In Progress: only completed tasks can be audited"),
    ("ostatus = 'error'", "is Error: only completed tasks can be audited"),
]


async def test_audit_keys_refuse_tasks_that_are_not_completed(shared_server, sql):
    # one app steps through the three tasks with n (one start-up instead of three)
    tids = [find_task(sql, shared_server, where) for where, _words in NOT_AUDITABLE]
    before = [db_status(shared_server, tid) for tid in tids]
    app = DetailHost(shared_server, tids[0], task_ids=tids)
    async with app.run_test(size=(120, 40)) as pilot:
        for i, (tid, (_where, words)) in enumerate(zip(tids, NOT_AUDITABLE)):
            if i:
                await pilot.press("n")
            detail = await wait_loaded(pilot, app, tid)
            for key, verb in (("a", "accept"), ("x", "reject"), ("e", "fix")):
                await pilot.press(key)
                await wait_for(pilot, lambda: any(f"Cannot {verb}: {tid} {words}" in m for m in notifications(app)),
                               what=f"{verb} refusal of {tid}")
                assert app.screen is detail  # no dialog opened
    assert [db_status(shared_server, tid) for tid in tids] == before


class _Receiver(BaseHTTPRequestHandler):
    bodies: list = []

    def do_POST(self):  # noqa: N802
        length = int(self.headers.get("content-length", 0))
        type(self).bodies.append((dict(self.headers), json.loads(self.rfile.read(length))))
        self.send_response(200)
        self.send_header("content-length", "0")
        self.end_headers()

    def log_message(self, *args):
        pass


@pytest.fixture
def callback_receiver():
    class Handler(_Receiver):
        bodies: list = []

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}/callback", Handler.bodies
    httpd.shutdown()
    httpd.server_close()


async def test_fix_validates_as_typed_refuses_invalid_and_reaches_the_callback(server, sql, callback_receiver):
    url, bodies = callback_receiver
    tid = find_task(sql, server, "ostatus = 'completed' AND review = 'pending' AND type = 'imageannotation'")
    set_doc_field(server, tid, "callback_url", url)
    old = api_get(server, tid)["response"]
    app = DetailHost(server, tid)
    async with app.run_test(size=(120, 40)) as pilot:
        detail = await wait_loaded(pilot, app, tid)
        await pilot.press("e")
        editor = await wait_for(pilot, lambda: app.screen if isinstance(app.screen, FixEditor) else None)
        ta = editor.query_one(TextArea)
        assert json.loads(ta.text) == old
        await pilot.press("ctrl+s")  # unchanged: refused
        assert app.screen is editor
        assert str(editor.query_one("#fix-status").content).startswith("No changes yet")
        # break it: remove the last closing brace
        ta.move_cursor(ta.document.end)
        await pilot.press("backspace")
        await pilot.pause()
        status = str(editor.query_one("#fix-status").content)
        lines = ta.text.count("\n") + 1
        assert status.startswith(f"Invalid JSON — Line {lines}, column "), status
        assert "Fix it to submit" in status
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert app.screen is editor  # refused while invalid
        assert any("Not submitted: Line" in m for m in notifications(app))
        assert db_status(server, tid) == ("completed", "pending")
        # ctrl+g jumps to the error
        await pilot.press("ctrl+g")
        assert ta.cursor_location[0] == lines - 1
        # repair it and change a label
        await pilot.press("}")
        await pilot.pause()
        assert str(editor.query_one("#fix-status").content).startswith("Valid JSON object")
        new = json.loads(ta.text)
        new["annotations"][0]["label"] = "fixed-label"
        ta.load_text(json.dumps(new, indent=2))
        await pilot.press("ctrl+s")
        await wait_for(pilot, lambda: app.screen is detail, what="editor closed")
        await wait_for(pilot, lambda: detail.shown_task.audit_label == "Fixed", what="fixed")
        doc = api_get(server, tid)
        assert doc["response"] == new
        assert doc["prior_responses"][-1] == old
        await pilot.press("4")
        await wait_for(pilot, lambda: "What the fix changed" in screen_text(app))
        # the callback receiver on loopback got the fix with the prior response
        headers, body = await wait_for(
            pilot, lambda: next(((h, b) for h, b in bodies if b.get("task", {}).get("prior_responses")), None),
            what="the fix's callback")
    assert body["task_id"] == tid
    assert body["task"]["prior_responses"][-1] == old
    assert body["response"] == new
    assert body["task"]["customer_review_status"] == "fixed"
    assert headers.get("scale-callback-auth") == server.callback_auth


async def test_a_failed_fix_keeps_the_edited_json(server, sql):
    tid = find_task(sql, server, "ostatus = 'completed' AND review = 'pending' AND type = 'imageannotation'")
    app = DetailHost(server, tid)
    async with app.run_test(size=(120, 40)) as pilot:
        detail = await wait_loaded(pilot, app, tid)
        await pilot.press("e")
        editor = await wait_for(pilot, lambda: app.screen if isinstance(app.screen, FixEditor) else None)
        ta = editor.query_one(TextArea)
        edited = '{\n  "annotations": [],\n  "note": "my careful edit"\n}'
        ta.load_text(edited)
        server.stop()  # the service goes away before the submit
        await pilot.press("ctrl+s")
        await wait_for(pilot, lambda: "The fix was not saved" in str(editor.query_one("#fix-status").content),
                       timeout=30, what="failure shown in the editor")
        assert app.screen is editor
        assert ta.text == edited  # nothing lost
        assert "ctrl+s retries" in str(editor.query_one("#fix-status").content)
        await pilot.press("escape")  # changed text: asks before discarding
        await pilot.pause()
        assert app.screen is not detail


async def test_fix_is_refused_up_front_where_the_server_does_not_offer_it(shared_server, sql):
    tid = find_task(sql, shared_server, "ostatus = 'completed' AND review = 'pending'")
    app = DetailHost(shared_server, tid, client_options={"ignore_extensions": True})
    async with app.run_test(size=(120, 40)) as pilot:
        detail = await wait_loaded(pilot, app, tid)
        await pilot.pause()
        footer = screen_text(app).splitlines()[-1]
        assert "Accept" in footer and "Fix" not in footer  # not offered where it cannot be done
        await pilot.press("e")
        await wait_for(pilot, lambda: any("This server does not offer Fix" in m for m in notifications(app)))
        assert app.screen is detail
    app = DetailHost(shared_server, tid)  # the bundled server offers it
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_loaded(pilot, app, tid)
        await pilot.pause()
        assert "e Fix" in screen_text(app).splitlines()[-1]


async def test_E_falls_back_to_the_built_in_editor_where_the_terminal_cannot_be_handed_over(shared_server, sql):
    tid = find_task(sql, shared_server, "ostatus = 'completed' AND review = 'pending'")
    app = DetailHost(shared_server, tid)
    async with app.run_test(size=(120, 40)) as pilot:  # headless: no terminal to suspend
        await wait_loaded(pilot, app, tid)
        await pilot.press("E")
        editor = await wait_for(pilot, lambda: app.screen if isinstance(app.screen, FixEditor) else None)
        assert any("Could not use the external editor" in m and "opening the built-in editor" in m
                   for m in notifications(app))
        assert json.loads(editor.query_one(TextArea).text) == api_get(shared_server, tid)["response"]


async def test_separators_in_a_response_are_escaped_and_the_editor_opens_it_valid_and_unchanged(server, sql):
    # issue 13 item 4: U+2028 / U+2029 faked extra lines in the JSON tab, and the fix
    # editor opened the unchanged response as invalid, asking "Discard your changes?"
    tid = find_task(sql, server, "ostatus = 'completed' AND review = 'pending' AND type = 'imageannotation'")
    response = {**api_get(server, tid)["response"], "note": "line\u2028para\u2029end"}
    set_doc_field(server, tid, "response", response)
    app = DetailHost(server, tid)
    async with app.run_test(size=(120, 40)) as pilot:
        detail = await wait_loaded(pilot, app, tid)
        await pilot.press("3")
        await pilot.pause()
        shown = detail.json_view.text_area.text
        assert "line\\u2028para\\u2029end" in shown
        assert json.loads(shown) == api_get(server, tid)
        await pilot.press("e")
        editor = await wait_for(pilot, lambda: app.screen if isinstance(app.screen, FixEditor) else None)
        ta = editor.query_one(TextArea)
        assert "\\u2028" in ta.text and json.loads(ta.text) == response
        assert str(editor.query_one("#fix-status").content).startswith("Valid JSON object")
        # re-indenting changes the text, not the value: still nothing to discard
        ta.load_text(json.dumps(response))
        await pilot.pause()
        await pilot.press("escape")
        await wait_for(pilot, lambda: app.screen is detail, what="the editor closed without asking")


async def test_the_error_toast_goes_when_the_json_is_valid_again(server, sql):
    # issue 14: a stale "Not submitted" toast covered the editor's key hints
    tid = find_task(sql, server, "ostatus = 'completed' AND review = 'pending' AND type = 'imageannotation'")
    app = DetailHost(server, tid)
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_loaded(pilot, app, tid)
        await pilot.press("e")
        editor = await wait_for(pilot, lambda: app.screen if isinstance(app.screen, FixEditor) else None)
        ta = editor.query_one(TextArea)
        ta.move_cursor(ta.document.end)
        await pilot.press("backspace")
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert any("Not submitted: Line" in m for m in notifications(app))
        await pilot.press("}")
        await pilot.pause()
        assert str(editor.query_one("#fix-status").content).startswith("Valid JSON object")
        assert not any("Not submitted" in m for m in notifications(app))
