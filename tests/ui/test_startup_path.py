"""Start-up: what the console does before its first rows (issue 14). No timings: which
modules a fresh process has imported when the first rows are on screen, which requests
reached the server by then, and the terminal-graphics probe's one round trip."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from tasktui.testing import FaultProxy
from tasktui.ui import graphics

ROOT = Path(__file__).resolve().parents[2]
ROW = re.compile(r"\b[0-9a-f]{24}\b \d{4}-\d\d-\d\d \d\d:\d\d")

#: A fresh process opens the console (as ``tasktui.cli.tui.run`` does, minus the terminal)
#: and waits for the first task row; then it reports what it has imported.
FIRST_ROWS = r'''
import asyncio, json, re, ssl, sys
from pathlib import Path

ca_loads = []  # CA bundles loaded into an SSL context (~0.1 s each), counted
_load = ssl.SSLContext.load_verify_locations
def counted(self, *args, **kwargs):
    ca_loads.append(args or kwargs)
    return _load(self, *args, **kwargs)
ssl.SSLContext.load_verify_locations = counted
from tasktui.ui.graphics import probe_terminal
from tasktui.backend import Backend
from tasktui.config import Settings
from tasktui.ui.app import TaskTuiApp
from tasktui.ui.keymap import screen_text

url, key, tmp = sys.argv[1:4]
probe_terminal()  # no terminal here: asks nothing
settings = Settings(refresh_interval=0, sandbox_db=Path(tmp) / "unused.db", downloads_dir=Path(tmp) / "dl")
app = TaskTuiApp(settings, Backend(url, key, "remote", "test"))
ROW = re.compile(r"\b[0-9a-f]{24}\b \d{4}-\d\d-\d\d \d\d:\d\d")

async def main():
    async with app.run_test(size=(120, 40)) as pilot:
        for _ in range(1500):
            await pilot.pause()
            if ROW.search(screen_text(app)):
                break
            await asyncio.sleep(0.01)
        else:
            raise SystemExit("no rows on screen")
        print("CA_LOADS", len(ca_loads))
        print("MODULES " + json.dumps(sorted(sys.modules)), flush=True)

asyncio.run(main())
'''

#: Imported only when a screen other than the list is opened, or never on a plain-http API.
NOT_AT_START = (
    "PIL", "numpy", "textual_image", "textual_plot", "markdown_it", "pendulum",
    "tasktui.ui.screens.detail", "tasktui.ui.widgets.preview", "tasktui.ui.screens.export",
    "tasktui.ui.modals.fix_editor", "tasktui.server",
)


def test_the_first_rows_need_no_image_libraries_no_ca_bundle_and_one_request(shared_server, tmp_path):
    with FaultProxy(shared_server.url).running() as proxy:
        r = subprocess.run([sys.executable, "-c", FIRST_ROWS, proxy.url, shared_server.api_key, str(tmp_path)],
                           cwd=ROOT, capture_output=True, text=True, timeout=120, stdin=subprocess.DEVNULL)
        seen = [s.request_line for s in proxy.log]
    assert r.returncode == 0, r.stderr[-3000:]
    modules = set(json.loads(r.stdout.rsplit("MODULES ", 1)[1].splitlines()[0]))
    assert "tasktui.ui.screens.tasks" in modules and "httpx" in modules  # the report is of the run
    loaded = sorted(m for m in modules if m.split(".")[0] in NOT_AT_START or
                    any(m == h or m.startswith(h + ".") for h in NOT_AT_START))
    assert loaded == []
    assert "CA_LOADS 0" in r.stdout  # no TLS to a plain-http API
    # the first page is the first request: no `GET /v1/tasks?limit=1` to learn the extensions first
    assert seen[0].startswith("GET /v1/tasks?limit=100 "), seen[:3]
    assert not any("limit=1 " in line for line in seen), seen


def test_opening_a_preview_module_later_asks_the_terminal_nothing(tmp_path):
    """textual-image, imported after the probe, must not write its own questions to the
    terminal (Textual reads it by then): the probe's answers are used instead."""
    code = """
import os, sys
master, slave = os.openpty()  # a terminal, so that textual-image would ask it
sys.__stdout__ = os.fdopen(slave, "w")
sys.__stdin__ = os.fdopen(os.dup(slave), "r")
import textual_image._terminal as t
asked = []
def counted(*args, **kwargs):
    asked.append(args)
    raise t.TerminalError("counted")
t.capture_terminal_response = counted
from tasktui.ui import graphics
graphics._probed = graphics.Graphics(sixel=False, kitty=True, cell=(9, 18))
from tasktui.ui.widgets import preview
print(len(asked), preview.image_renderer(), *t.get_cell_size())
"""
    r = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=60,
                       stdin=subprocess.DEVNULL)
    assert r.returncode == 0, r.stderr[-2000:]
    assert r.stdout.split() == ["0", "kitty", "9", "18"]


@pytest.mark.parametrize("answer, want", [
    # tmux: no Sixel in the attributes, no answer to the Kitty query, none to the cell size
    ("\x1b[?1;2c", graphics.Graphics(sixel=False, kitty=False, cell=None)),
    # a Sixel terminal (4 in the attributes) that tells its cell size
    ("\x1b[6;18;9t\x1b[?62;4;22c", graphics.Graphics(sixel=True, kitty=False, cell=(9, 18))),
    # kitty: answers the graphics query first
    ("\x1b_Gi=31;OK\x1b\\\x1b[6;20;10t\x1b[?62;c", graphics.Graphics(sixel=False, kitty=True, cell=(10, 20))),
    # a terminal that refuses the query
    ("\x1b_Gi=31;ENOTSUPPORTED:no\x1b\\\x1b[?62;c", graphics.Graphics(sixel=False, kitty=False, cell=None)),
])
def test_the_probe_asks_once_and_reads_the_answers_up_to_the_attributes(answer, want, monkeypatch):
    monkeypatch.setattr(graphics, "_probed", None)
    master, slave = os.openpty()
    asked: list[bytes] = []

    def terminal() -> None:  # the other end of the pty: reads the questions, answers in one go
        got = b""
        while not got.endswith(b"\x1b[c"):
            got += os.read(master, 1024)
        asked.append(got)
        os.write(master, answer.encode())

    t = threading.Thread(target=terminal, daemon=True)
    t.start()
    try:
        found = graphics.probe_terminal(slave, slave, timeout=5.0)
    finally:
        t.join(5)
        os.close(master)
        os.close(slave)
    assert asked == [b"\x1b_Gi=31,s=1,v=1,a=q,t=d,f=24;AAAA\x1b\\\x1b[16t\x1b[c"]
    assert found == want
    assert graphics.probed() == want
    assert graphics.auto_renderer() == ("sixel" if want.sixel else "kitty" if want.kitty else "halfcell")


def test_no_terminal_no_questions_and_unicode_images(monkeypatch, tmp_path):
    monkeypatch.setattr(graphics, "_probed", None)
    with open(tmp_path / "out", "w") as f:
        assert graphics.probe_terminal(f.fileno(), f.fileno()) is None
    assert (tmp_path / "out").read_text() == ""
    assert graphics.auto_renderer() == "unicode"


@pytest.fixture
def tls_server(tmp_path):
    """An HTTPS server on loopback with a self-signed certificate (no CA vouches for it)."""
    import shutil
    import socket
    import ssl

    if shutil.which("openssl") is None:
        pytest.skip("openssl is needed to make a certificate")
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj",
                    "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1", "-keyout", str(key),
                    "-out", str(cert)], check=True, capture_output=True)
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(cert, key)
    sock = socket.create_server(("127.0.0.1", 0))
    handshakes: list[str] = []

    def serve() -> None:
        while True:
            try:
                conn, _ = sock.accept()
            except OSError:
                return
            try:
                with ctx.wrap_socket(conn, server_side=True) as tls:
                    tls.recv(65536)
                    tls.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok")
                    handshakes.append("ok")
            except (ssl.SSLError, OSError) as e:
                handshakes.append(type(e).__name__)

    threading.Thread(target=serve, daemon=True).start()
    yield f"https://127.0.0.1:{sock.getsockname()[1]}/a.txt", handshakes
    sock.close()


async def test_https_attachments_from_a_plain_http_api_are_still_verified(shared_server, tls_server):
    """The sandbox's client makes no TLS context at start, but an https attachment URL is
    verified as always: a certificate no CA vouches for is refused."""
    from tasktui.api import ApiError, RetryPolicy, TaskClient

    url, handshakes = tls_server
    client = TaskClient(shared_server.url, shared_server.api_key, retry=RetryPolicy.none())
    try:
        with pytest.raises(ApiError) as err:
            await client.fetch_attachment(url)
    finally:
        await client.aclose()
    assert "certificate" in str(err.value).lower(), str(err.value)
    assert "ok" not in handshakes


def test_a_terminal_that_answers_nothing_costs_the_timeout_once_and_gets_half_blocks(monkeypatch):
    monkeypatch.setattr(graphics, "_probed", None)
    master, slave = os.openpty()
    try:
        assert graphics.probe_terminal(slave, slave, timeout=0.2) is None
        assert os.read(master, 1024) == graphics.QUERIES.encode()  # asked once, all together
    finally:
        os.close(master)
        os.close(slave)
    assert graphics.auto_renderer() == "halfcell"
