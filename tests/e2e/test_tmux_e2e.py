"""End to end: ``tasktui`` with no API key, in a real terminal (tmux), on a fresh
machine (empty config and data directories): it seeds and starts the embedded sandbox,
shows the list, answers keys, and quits cleanly. The screen is read with capture-pane."""

from __future__ import annotations

import os
import re
import shlex
import shutil
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest
from waiting import wait_until

pytestmark = [
    pytest.mark.skipif(shutil.which("tmux") is None, reason="tmux is not installed"),
    pytest.mark.timeout(120),
]

ROOT = Path(__file__).resolve().parents[2]


class Tmux:
    def __init__(self, socket: str):
        self.socket = socket

    def run(self, *args: str, check: bool = True) -> subprocess.CompletedProcess:
        return subprocess.run(["tmux", "-L", self.socket, *args], capture_output=True, text=True,
                              check=check, timeout=20)

    def screen(self) -> str:
        return self.run("capture-pane", "-p", "-t", "e2e").stdout

    def keys(self, *keys: str) -> None:
        for k in keys:
            self.run("send-keys", "-t", "e2e", k)
            # deliberate: a person's typing pace; ESC followed at once by a key reads as alt+key
            time.sleep(0.15)

    def wait_for(self, pattern: str, timeout: float = 30.0) -> str:
        deadline = time.monotonic() + timeout
        screen = ""
        while time.monotonic() < deadline:
            screen = self.screen()
            if re.search(pattern, screen):
                return screen
            time.sleep(0.2)  # polling interval
        raise AssertionError(f"{pattern!r} never appeared on screen; last screen:\n{screen}")


@pytest.fixture
def tmux(tmp_path):
    t = Tmux(f"tasktui-e2e-{uuid.uuid4().hex[:8]}")
    yield t
    t.run("kill-server", check=False)


def test_tasktui_opens_on_the_embedded_sandbox_in_a_terminal(tmux, tmp_path):
    config = tmp_path / "config" / "config.toml"
    data = tmp_path / "data"
    config.parent.mkdir()
    config.write_text("sandbox_seed = 300\nrefresh_interval = 5\n")
    env = {k: v for k, v in os.environ.items() if k not in ("SCALE_API_KEY", "TASKTUI_API_URL")}
    env.update(TASKTUI_CONFIG=str(config), TASKTUI_DATA_DIR=str(data), TERM="xterm-256color",
               PYTHONPATH=str(ROOT))
    exports = " ".join(f"{k}={shlex.quote(v)}" for k, v in env.items()
                       if k in ("TASKTUI_CONFIG", "TASKTUI_DATA_DIR", "TERM", "PYTHONPATH", "PATH", "HOME"))
    cmd = f"env -u SCALE_API_KEY -u TASKTUI_API_URL -u COLUMNS -u LINES {exports} {shlex.quote(sys.executable)} -m tasktui; " \
          "echo EXITED=$?; sleep 30"
    tmux.run("new-session", "-d", "-s", "e2e", "-x", "120", "-y", "40", cmd)

    screen = tmux.wait_for(r"Showing \d+ of [\d,]+", timeout=90)
    # the sandbox seeded 300 demo tasks; its simulated workforce may have added some since
    total = int(re.search(r"Showing \d+ of ([\d,]+)", screen).group(1).replace(",", ""))
    assert total >= 300
    tmux.wait_for(r"Task status · all shown")  # 120 columns: the sidebar is shown
    screen = tmux.wait_for(r"\b[0-9a-f]{24}\b \d{4}-\d\d-\d\d \d\d:\d\d")  # rows painted
    assert "⌂ local sandbox" in screen
    assert "● live 5s" in screen
    assert re.search(r"\b[0-9a-f]{24}\b \d{4}-\d\d-\d\d \d\d:\d\d", screen), screen
    assert "Task status · all shown" in screen
    assert (data / "sandbox.db").exists()

    tmux.keys("t")
    screen = tmux.wait_for(r"│ Pacific │")
    tmux.keys("?")
    screen = tmux.wait_for(r"Keys — Tasks")
    assert "tasks.refresh" in screen
    tmux.keys("Escape")
    tmux.wait_for(r"Showing \d+ of")
    # a status box: f goes to the top of the sidebar (the date field); tab to the status
    # list (From, To, the four quick ranges, the zone), space ticks its first box (Completed)
    tmux.keys("f")
    tmux.wait_for(r"\(•\) Created")
    tmux.keys(*["Tab"] * 8, "Space")
    tmux.wait_for(r"Task status · 1 of 6 on", timeout=60)
    def only_completed_rows() -> bool:  # the filter applies after a short debounce and one request
        rows = [line for line in tmux.screen().splitlines() if re.search(r"\b[0-9a-f]{24}\b", line)]
        return bool(rows) and all("Completed" in line for line in rows)

    wait_until(only_completed_rows, "only Completed rows on screen", timeout=60)
    tmux.keys("Escape", "q")  # q asks first
    tmux.wait_for(r"Quit \[y\]", timeout=60)
    time.sleep(0.3)  # deliberate: an operator reads the question before answering (typing pace)
    tmux.keys("y")
    screen = tmux.wait_for(r"EXITED=0", timeout=60)
    assert (data / "last-view.json").exists()
    # the next start comes back to that view (filter, zone, live), and says so
    # the same pane runs it again: killing the only session ends the tmux server, and a
    # new-session at once can reach the server while it exits ("server exited unexpectedly")
    tmux.run("respawn-pane", "-k", "-t", "e2e", cmd)
    tmux.wait_for(r"Restored your last view", timeout=90)
    screen = tmux.wait_for(r"Task status · 1 of 6 on", timeout=60)
    assert "│ Pacific │" in screen and "live 5s" in screen
    tmux.keys("C-q")  # ctrl+q quits at once
    tmux.wait_for(r"EXITED=0", timeout=60)


def test_tasktui_open_shows_an_export_read_only_with_no_live_refresh(tmux, tmp_path):
    """`tasktui open FILE` in a real terminal: the header names the file, counts its tasks
    and says the console is read-only with live refresh off (a file does not change); at
    80x24 the count and the order still fit. Oracle: the file written here."""
    opened = _open_command(tmp_path / "few.ndjson", [
        (f"{i:024x}", f"2026-03-0{1 + i % 9}T10:00:00.000Z", "2026-03-10T10:00:00.000Z", "Opened")
        for i in range(1, 38)])
    cmd = f"{opened}; echo EXITED=$?; sleep 30"
    tmux.run("new-session", "-d", "-s", "e2e", "-x", "80", "-y", "24", cmd)
    screen = tmux.wait_for(r"Showing \d+ of 37", timeout=90)
    header = screen.splitlines()[0]
    assert "⊘ opened export" in header and "newest first" in header, header
    tmux.run("resize-window", "-t", "e2e", "-x", "120", "-y", "40")
    screen = tmux.wait_for(r"READ-ONLY")
    header = screen.splitlines()[0]
    assert "few.ndjson" in header and "○ live off" in header and "● live" not in header, header
    # a dialog keeps the list in sight behind its see-through backdrop (it was blanked out)
    rows_before = [line for line in screen.splitlines()[2:] if re.search(r"\b0{20}\w{4}\b", line)]
    assert rows_before, screen
    tmux.keys("?")
    screen = tmux.wait_for(r"Keys — Tasks")
    assert screen.splitlines()[0] == header, screen  # the header behind the dialog
    last_row = re.search(r"\b0{20}\w{4}\b", rows_before[-1]).group(0)
    assert last_row in screen, screen  # the rows below the dialog


def test_y_puts_the_task_id_on_the_terminals_clipboard(tmux, tmp_path):
    """y on the list sends the task id under the cursor to the terminal's clipboard (OSC 52)
    through the app's real driver: tmux, told to accept clipboard writes from its panes,
    puts it in a paste buffer. The console runs with TMUX unset, so it sends the plain
    sequence that tmux itself reads (not the passthrough meant for the terminal outside).
    Oracle: tmux's buffer, against the newest task of the file written here (a literal)."""
    opened = _open_command(tmp_path / "five.ndjson", [
        (f"{i:024x}", f"2026-03-{i:02d}T10:00:00.000Z", "2026-03-20T10:00:00.000Z", "Copied")
        for i in range(1, 6)], env="-u TMUX TASKTUI_CLIPBOARD=osc52")
    status = tmp_path / "exit-status"
    # the exit status goes to a file: read whether or not the tmux server outlives the console
    # (one CI run saw it gone right after the console quit)
    cmd = f"{opened}; echo $? > {shlex.quote(str(status))}; sleep 600"
    tmux.run("new-session", "-d", "-s", "e2e", "-x", "120", "-y", "40", cmd)
    tmux.run("set-option", "-g", "set-clipboard", "on")
    tmux.wait_for(r"Showing 5 of 5")
    assert tmux.run("list-buffers").stdout == ""
    tmux.keys("y")
    newest = "000000000000000000000005"  # created 2026-03-05, first in the default newest-first order
    wait_until(lambda: tmux.run("show-buffer", check=False).stdout == newest,
               f"tmux's paste buffer to hold {newest}", timeout=20)
    tmux.keys("C-q")
    wait_until(lambda: status.exists() and status.read_text().strip() != "", "the console to quit", timeout=60)
    assert status.read_text().strip() == "0"


def _open_command(path: Path, tasks: list[tuple[str, str, str, str]], env: str = "") -> str:
    """Write pending tasks (id, created_at, updated_at, project) to ``path`` as NDJSON and
    give the shell command that opens it with ``tasktui open``: its own data directory and
    no config (beside ``path``), no API key, ``env`` added to its environment."""
    import json

    path.write_text("".join(json.dumps({
        "task_id": tid, "created_at": created, "updated_at": updated, "status": "pending",
        "type": "imageannotation", "project": project, "params": {}, "metadata": {}}) + "\n"
        for tid, created, updated, project in tasks))
    here = path.parent
    return (f"env -u SCALE_API_KEY -u COLUMNS -u LINES {env} TERM=xterm-256color "
            f"TASKTUI_DATA_DIR={shlex.quote(str(here / 'd'))} TASKTUI_CONFIG={shlex.quote(str(here / 'none.toml'))} "
            f"PYTHONPATH={shlex.quote(str(ROOT))} {shlex.quote(sys.executable)} -m tasktui open "
            f"{shlex.quote(str(path))}")


def _running(pid: int) -> bool:
    """Whether a process (not our child: tmux's) still runs; a zombie has ended."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (FileNotFoundError, ProcessLookupError):
        return False
    return state not in ("Z", "X")


def test_the_console_leaves_when_its_terminal_goes_away_without_a_hangup_signal(tmux, tmp_path):
    """A dropped connection normally ends the process with SIGHUP, but not when something in
    between keeps the signal (here a wrapper that ignores it, as make does while it waits):
    the console must notice the terminal is gone, save the view and end, not spin for ever
    on a terminal that reads as end-of-file."""
    config = tmp_path / "config.toml"
    data = tmp_path / "data"
    config.write_text("sandbox_seed = 200\n")
    env = {"TASKTUI_CONFIG": str(config), "TASKTUI_DATA_DIR": str(data), "TERM": "xterm-256color",
           "PYTHONPATH": str(ROOT), "PATH": os.environ.get("PATH", ""), "HOME": os.environ.get("HOME", "")}
    exports = " ".join(f"{k}={shlex.quote(v)}" for k, v in env.items())
    cmd = (f"trap '' HUP; exec env -u SCALE_API_KEY -u TASKTUI_API_URL -u COLUMNS -u LINES {exports} "
           f"{shlex.quote(sys.executable)} -m tasktui")
    tmux.run("new-session", "-d", "-s", "e2e", "-x", "100", "-y", "30", cmd)
    tmux.wait_for(r"Showing \d+ of [\d,]+", timeout=90)
    pid = int(tmux.run("display", "-p", "-t", "e2e", "#{pane_pid}").stdout.strip())
    assert _running(pid)
    ignored = int(Path(f"/proc/{pid}/status").read_text().split("SigIgn:")[1].split()[0], 16)
    assert ignored & 1, "SIGHUP (signal 1) is ignored: only the console itself can end it"
    try:
        tmux.run("kill-server")  # the terminal goes away; no SIGHUP reaches the console
        wait_until(lambda: not _running(pid), "the console ended", timeout=60)
    finally:
        if _running(pid):  # failed: leave no console spinning behind
            os.kill(pid, signal.SIGKILL)
    assert (data / "last-view.json").exists(), "the view was saved for next time"
