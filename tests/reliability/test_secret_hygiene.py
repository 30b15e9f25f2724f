"""The API key never appears in anything tasktui produces.

Representative commands and an app session run with a distinctive key (and a
distinctive wrong key): ``tasktui get`` / ``export`` against the real server over HTTP,
their error paths (wrong URL, unreachable server, wrong key, unknown task, a connection
dropped mid-export and ``--resume``), ``config show``; and a Pilot session of the app
that opens a task and meets an error. Then EVERYTHING produced is searched for the key,
raw and as it travels in a Basic auth header: standard output and error, exported files,
checkpoints and partial files, files written under HOME / XDG dirs / TMPDIR, the
server's database, and every screen the app showed (its text and the bytes a terminal
would receive), including notifications. The only file allowed to hold the key is the
config file the operator put it in.
"""

from __future__ import annotations

import base64
import os
import secrets
import subprocess
import sys
from pathlib import Path

import pytest

from tasktui.testing.faultproxy import Fault, FaultProxy

from tasktui.ui.keymap import notification_messages

from .screen import screen_text, terminal_bytes

KEY = "live_H6secret" + secrets.token_hex(10)
WRONG = "live_H6wrong" + secrets.token_hex(10)


def forms(key: str) -> list[bytes]:
    """The key as it could leak: raw, and base64 of ``key:`` (a logged Basic header)."""
    raw = key.encode()
    b64 = base64.b64encode(raw + b":")
    return [raw, b64, b64.rstrip(b"="), key[5:].encode()]


def leaks(data: bytes | str) -> list[str]:
    if isinstance(data, str):
        data = data.encode("utf-8", "replace")
    return [f.decode() for k in (KEY, WRONG) for f in forms(k) if f in data]


def clean_env(root: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("TASKTUI_", "SCALE_", "XDG_")) and k not in ("NO_COLOR",)}
    for d in ("home", "config", "data", "cache", "state", "tmp"):
        (root / d).mkdir(parents=True, exist_ok=True)
    env.update(
        HOME=str(root / "home"), XDG_CONFIG_HOME=str(root / "config"), XDG_DATA_HOME=str(root / "data"),
        XDG_CACHE_HOME=str(root / "cache"), XDG_STATE_HOME=str(root / "state"), TMPDIR=str(root / "tmp"),
        TASKTUI_CONFIG=str(root / "config" / "tasktui" / "config.toml"),
        TASKTUI_DATA_DIR=str(root / "data" / "tasktui"),
    )
    return env


def run(args: list[str], env: dict[str, str], cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "tasktui", *args], env=env, cwd=cwd,
                          capture_output=True, timeout=90)


@pytest.fixture
def keyed_server(server_factory):
    return server_factory(keys=[KEY])


@pytest.mark.timeout(300)  # 17 short-lived processes
def test_cli_never_shows_or_writes_the_key(keyed_server, tmp_path: Path, sql) -> None:
    root = tmp_path / "run"
    env = clean_env(root)
    out = root / "out"
    out.mkdir()
    url = keyed_server.url
    conn = ["--api-url", url, "--api-key", KEY]
    tid = sql(keyed_server, "SELECT task_id FROM tasks ORDER BY created_at DESC LIMIT 1")[0][0]
    dead = f"http://127.0.0.1:{_closed_port()}/v1"
    produced: list[tuple[str, bytes]] = []

    def check(args: list[str], want: int | tuple[int, ...],
              extra_env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
        r = run(args, {**env, **(extra_env or {})}, root)
        produced.append((f"{args} stdout", r.stdout))
        produced.append((f"{args} stderr", r.stderr))
        assert r.returncode in (want if isinstance(want, tuple) else (want,)), (
            args, r.returncode, r.stderr.decode()[-500:])
        return r

    r = check(["get", tid, *conn], 0)
    assert tid.encode() in r.stdout
    check(["get", tid, "-o", str(out / "one.json"), *conn], 0)
    check(["get", "no_such_task_0000", *conn], 4)
    r = check(["get", tid, "--api-url", dead, "--api-key", KEY], 1)
    assert r.stderr.strip()  # an error in words, just not the key
    r = check(["get", tid, "--api-url", url, "--api-key", WRONG], 3)
    assert r.stderr.strip()
    check(["get", tid, "--api-url", keyed_server.origin + "/not-the-api", "--api-key", KEY], (1, 4))
    check(["get", tid, "--api-url", "not a url", "--api-key", KEY], 2)
    check(["get", tid, "--api-url", url], 0, {"SCALE_API_KEY": KEY})
    check(["export", "-o", str(out / "done.ndjson"), "--status", "completed", "--no-progress", *conn], 0)
    r = check(["export", "--format", "ndjson", "--project", _a_project(sql, keyed_server), "--api-url", url], 0,
              {"SCALE_API_KEY": KEY})
    assert r.stdout.count(b"\n") > 0
    check(["export", "-o", str(out / "wrong.json"), "--api-url", url, "--api-key", WRONG], 3)
    check(["export", "-o", str(out / "dead.json"), "--api-url", dead, "--api-key", KEY, "--retries", "0"], 1)

    # a connection dropped mid-export leaves a partial file and a checkpoint; --resume ends it
    with FaultProxy(url).running() as proxy:
        # the start instant and the probe deciding whether to read in slices pass, then
        # the first page, and the second is dropped
        proxy.script(*[Fault.slow(0, match="GET /v1/tasks")] * 3, Fault.drop(match="GET /v1/tasks"))
        pconn = ["--api-url", proxy.url, "--api-key", KEY]
        check(["export", "-o", str(out / "cut.json"), "--retries", "0", "--page-size", "100", "--no-progress", *pconn], 1)
        left = sorted(p.name for p in out.iterdir() if p.name.startswith("cut.json."))
        assert any(n.endswith(".partial") for n in left) and any("checkpoint" in n for n in left), left
        for p in out.iterdir():  # grep the unfinished state now: --resume removes it
            produced.append((f"unfinished {p.name}", p.read_bytes()))
        check(["export", "-o", str(out / "cut.json"), "--resume", "--page-size", "100", "--no-progress", *pconn], 0)
    assert (out / "cut.json").exists()

    # config file holding the key (the one place it may live), and config show
    cfg = Path(env["TASKTUI_CONFIG"])
    cfg.parent.mkdir(parents=True, exist_ok=True)
    cfg.write_text(f'api_key = "{KEY}"\napi_url = "{url}"\n')
    cfg.chmod(0o600)
    check(["config", "show"], 0)
    check(["get", tid], 0)  # key from the config file
    check(["export", "-o", str(out / "from-config.ndjson"), "--audit", "accepted", "--no-progress"], 0)

    # everything produced: outputs, every file under the run root, the server's database
    files = [p for p in root.rglob("*") if p.is_file() and p != cfg]
    assert len(files) >= 4
    db = Path(keyed_server.db_path)
    files += [p for p in db.parent.glob(db.name + "*") if p.is_file()]
    found = [(what, leaks(data)) for what, data in produced if leaks(data)]
    found += [(str(p), leaks(p.read_bytes())) for p in files if leaks(p.read_bytes())]
    assert found == []


async def test_app_session_never_shows_the_key(keyed_server, tmp_path: Path, sql) -> None:
    from tasktui.api import RetryPolicy
    from tasktui.config import Settings
    from tasktui.backend import Backend
    from tasktui.ui.app import TaskTuiApp

    seen: list[str] = []

    def capture(app) -> None:
        seen.append(screen_text(app))
        seen.append(terminal_bytes(app))
        seen.extend(notification_messages(app, titles=True))
        seen.append(f"{app.title} {app.sub_title}")

    # a wrong key first: the refusal is shown, the key (wrong or right) is not
    wrong = TaskTuiApp(Settings(api_key=WRONG, refresh_interval=0, sandbox_db=tmp_path / "u2.db"),
                       Backend(keyed_server.url, WRONG, "remote", "127.0.0.1"),
                       client_options={"retry": RetryPolicy.none(), "timeout": 5.0})
    async with wrong.run_test(size=(120, 40), notifications=True) as pilot:
        await _until(pilot, lambda: wrong.store is not None and wrong.store.error is not None, timeout=15)
        # the refusal is drawn (on screen or in a notice) before the capture
        await _until(pilot, lambda: str(wrong.store.error)[:40] in
                     screen_text(wrong) + " ".join(notification_messages(wrong, titles=True)))
        capture(wrong)
        refusal = str(wrong.store.error)
    assert "key" in refusal.lower() and any(refusal[:40] in s for s in seen)

    settings = Settings(api_key=KEY, api_url=keyed_server.url, refresh_interval=0,
                        sandbox_db=tmp_path / "unused.db", downloads_dir=tmp_path / "dl")
    backend = Backend(keyed_server.url, KEY, "remote", "127.0.0.1")
    app = TaskTuiApp(settings, backend, client_options={"retry": RetryPolicy.none(), "timeout": 5.0})
    async with app.run_test(size=(120, 40), notifications=True) as pilot:
        await _until(pilot, lambda: app.store is not None and app.store.loaded_once and not app.store.loading)
        capture(app)
        await pilot.press("enter")  # the detail screen of the first task
        await _until(pilot, lambda: getattr(app.screen, "shown_task", None) is not None)
        capture(app)
        await pilot.press("escape")
        await _until(pilot, lambda: app.screen is app.tasks_screen)
        keyed_server.stop()  # the server goes away: refresh shows an error notice
        await pilot.press("r")
        await _until(pilot, lambda: app.store.error is not None, timeout=15)
        await _until(pilot, lambda: "cannot reach the server" in screen_text(app))
        capture(app)
    found = [s[:200] for s in seen if leaks(s)]
    assert found == []


async def _until(pilot, pred, timeout: float = 20.0) -> None:
    from ui.support import wait_for

    await wait_for(pilot, pred, timeout)


def _closed_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _a_project(sql, handle) -> str:
    return sql(handle, "SELECT project FROM tasks GROUP BY project ORDER BY COUNT(*) LIMIT 1")[0][0]
