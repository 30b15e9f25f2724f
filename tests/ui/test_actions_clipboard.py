"""Copy: the OSC 52 sequence (plain, tmux, screen), the size cap, and y / Y / u on the
detail screen putting the task id / JSON / URL on the clipboard."""

from __future__ import annotations

import base64
import json

import pytest

from textual.app import App

from tasktui.ui import clipboard
from tasktui.ui.clipboard import DEFAULT_OSC52_MAX, copy_text, multiplexer, osc52_sequence

from .support import DetailHost, api_get, find_task, notifications, wait_for, wait_loaded


def test_osc52_plain_sequence():
    assert osc52_sequence("hi") == "\x1b]52;c;aGk=\x07"


def test_osc52_tmux_wraps_in_dcs_passthrough_with_doubled_escapes():
    assert osc52_sequence("hi", mux="tmux") == "\x1bPtmux;\x1b\x1b]52;c;aGk=\x07\x1b\\"


def test_osc52_screen_splits_into_dcs_chunks():
    text = "x" * 200
    seq = osc52_sequence(text, mux="screen")
    inner = "\x1b]52;c;" + base64.b64encode(text.encode()).decode() + "\x07"
    chunks = [inner[i:i + 76] for i in range(0, len(inner), 76)]
    assert seq == "".join(f"\x1bP{c}\x1b\\" for c in chunks)
    assert len(chunks) > 1


def test_osc52_encodes_utf8():
    seq = osc52_sequence("café ✓")
    payload = seq[len("\x1b]52;c;"):-1]
    assert base64.b64decode(payload).decode("utf-8") == "café ✓"


def test_multiplexer_detection():
    assert multiplexer({"TMUX": "/tmp/tmux-0/default,1,0", "TERM": "screen-256color"}) == "tmux"
    assert multiplexer({"STY": "123.pts-0", "TERM": "screen"}) == "screen"
    assert multiplexer({"TERM": "screen.xterm-256color"}) == "screen"
    assert multiplexer({"TERM": "xterm-256color"}) is None


@pytest.fixture
def terminal(monkeypatch) -> list[str]:
    """What copy_text sends to the terminal, seen at its one seam (``write_to_terminal``;
    that it reaches a real terminal is tests/e2e's clipboard test). The app is a real,
    not running Textual App, read through its public ``App.clipboard``."""
    written: list[str] = []
    monkeypatch.setattr(clipboard, "write_to_terminal", lambda _app, data: written.append(data))
    return written


def test_copy_text_over_ssh_in_tmux_writes_the_wrapped_sequence(terminal):
    app = App()
    res = copy_text(app, "abc", what="the id", env={"SSH_TTY": "/dev/pts/1", "TMUX": "x"},
                    native=lambda t: pytest.fail("native clipboard used over SSH"))
    assert res.ok and res.method == "osc52"
    assert app.clipboard == "abc"
    assert terminal == [osc52_sequence("abc", mux="tmux")]


def test_copy_text_prefers_native_locally(terminal):
    got = []
    app = App()
    res = copy_text(app, "abc", env={"TERM": "xterm"}, native=got.append)
    assert res.ok and res.method == "native" and got == ["abc"]
    assert app.clipboard == "abc"
    assert terminal == []


def test_copy_text_falls_back_to_osc52_when_native_fails(terminal):
    def broken(_t):
        raise RuntimeError("xclip: cannot open display")
    app = App()
    res = copy_text(app, "abc", env={"TERM": "xterm"}, native=broken)
    assert res.ok and res.method == "osc52"
    assert terminal == [osc52_sequence("abc")]


def test_copy_text_over_the_cap_sends_nothing_and_says_so(terminal):
    big = "x" * (DEFAULT_OSC52_MAX)
    res = copy_text(App(), big, what="the JSON", env={"TASKTUI_CLIPBOARD": "osc52"},
                    too_big_hint="Download it with d instead.")
    assert not res.ok
    assert terminal == []
    assert "more than the terminal clipboard accepts" in res.message
    assert "TASKTUI_OSC52_MAX" in res.message and "Download it with d" in res.message
    # the cap is configurable
    res2 = copy_text(App(), big, env={"TASKTUI_CLIPBOARD": "osc52", "TASKTUI_OSC52_MAX": str(10 * DEFAULT_OSC52_MAX)})
    assert res2.ok and len(terminal) == 1


def test_copy_text_off_keeps_it_in_the_app(terminal):
    app = App()
    res = copy_text(app, "abc", env={"TASKTUI_CLIPBOARD": "off"})
    assert res.ok and app.clipboard == "abc" and terminal == []


async def test_y_Y_u_copy_id_json_and_url(shared_server, sql, monkeypatch):
    monkeypatch.setenv("TASKTUI_CLIPBOARD", "osc52")
    monkeypatch.delenv("TMUX", raising=False)
    monkeypatch.setenv("TERM", "xterm-256color")
    tid = find_task(sql, shared_server, "ostatus = 'completed' AND type = 'imageannotation'")
    app = DetailHost(shared_server, tid)
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_loaded(pilot, app, tid)
        written: list[str] = []
        monkeypatch.setattr(clipboard, "write_to_terminal", lambda _app, data: written.append(data))

        await pilot.press("y")
        assert app.clipboard == tid
        assert osc52_sequence(tid) in written
        # nothing confirms an OSC 52 write: say what was sent, what must allow it, and the text
        (said,) = [m for m in notifications(app) if "the task id" in m]
        assert said == (f"Sent the task id {tid} to the terminal's clipboard (OSC 52). It arrives "
                        "only if the terminal allows clipboard writes (many need it switched on).")

        await pilot.press("Y")
        assert json.loads(app.clipboard) == api_get(shared_server, tid)

        await pilot.press("u")
        assert app.clipboard == api_get(shared_server, tid)["params"]["attachment"]
        await wait_for(pilot, lambda: any("attachment URL" in m for m in notifications(app)))


def test_osc52_through_tmux_says_what_tmux_must_allow(terminal):
    res = copy_text(App(), "6b0c", what="the task id", env={"TASKTUI_CLIPBOARD": "osc52", "TMUX": "/tmp/x"})
    assert res.ok and res.message.startswith("Sent the task id to the terminal's clipboard (OSC 52 through tmux).")
    assert "set -g set-clipboard on" in res.message and "The text: 6b0c" in res.message
    long = "x" * 500
    res = copy_text(App(), long, what="the JSON", env={"TASKTUI_CLIPBOARD": "osc52"})
    assert long not in res.message and "ctrl+v pastes it" in res.message

