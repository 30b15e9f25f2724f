"""Launching: settings (file < environment < flags), config errors in plain words, the
embedded sandbox backend, `tasktui config path/show`, and the app started with a saved view."""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from tasktui.config import ConfigError, Settings, load_settings, mask_key, save_view, SavedView
from tasktui.backend import open_backend
from tasktui.cli.common import add_connection_arguments, settings_from_args
from tasktui.domain import AuditStatus, OperatorStatus, Zone
from .support import settled, wait_for

KEY = "live_abcdefghijklmnopWXYZ"


def parse(argv: list[str]) -> argparse.Namespace:
    p = argparse.ArgumentParser()
    add_connection_arguments(p)
    p.add_argument("--read-only", action="store_true")
    return p.parse_args(argv)


def test_flags_override_environment_override_file(tmp_path: Path):
    cfg = tmp_path / "c.toml"
    cfg.write_text('api_url = "https://file.example/v1"\napi_key = "live_fromfile000000000"\nzone = "pacific"\n'
                   "refresh_interval = 30\nread_only = false\n")
    cfg.chmod(0o600)
    env = {"TASKTUI_CONFIG": str(cfg)}
    s = settings_from_args(parse([]), env=env)
    assert (s.api_url, s.api_key, s.zone, s.refresh_interval) == (
        "https://file.example/v1", "live_fromfile000000000", Zone.PACIFIC, 30.0)
    assert s.sources["api_key"] == "file" and not s.uses_sandbox
    env.update(SCALE_API_KEY="live_fromenv0000000000", TASKTUI_API_URL="https://env.example/v1")
    s = settings_from_args(parse([]), env=env)
    assert (s.api_url, s.api_key) == ("https://env.example/v1", "live_fromenv0000000000")
    s = settings_from_args(parse(["--api-url", "http://127.0.0.1:9/v1/", "--api-key", KEY, "--read-only"]), env=env)
    assert (s.api_url, s.api_key, s.read_only) == ("http://127.0.0.1:9/v1", KEY, True)
    assert s.sources["api_key"] == "flag --api-key"
    assert settings_from_args(parse(["--sandbox"]), env=env).uses_sandbox


@pytest.mark.parametrize("text, words", [
    ('zone = "mars"', ["zone", "unknown time zone 'mars'", "utc, pacific or local"]),
    ("refresh_interval = -3", ["refresh_interval", "must not be negative"]),
    ('read_only = "yes"', ["read_only", "true or false"]),
    ('api_url = "ftp://x"', ["api_url", "http:// or https://"]),
    ("refersh_interval = 5", ["unknown key(s) 'refersh_interval'", "refresh_interval"]),
    ('[keymap]\n"tasks.refresh" = 5', ["keymap.tasks.refresh", "ctrl+r"]),
    ('[views.x]\nstatus = ["pending"]', ["views.x.status", "queued, in_progress or redo"]),
    ('[views.x]\nfrom = "2026-02-30"', ["views.x.from:", "not a real date"]),
    ("zone = ", ["not valid TOML"]),
])
def test_config_errors_name_the_file_and_the_key(tmp_path: Path, text: str, words: list[str]):
    cfg = tmp_path / "config.toml"
    cfg.write_text(text + "\n")
    with pytest.raises(ConfigError) as e:
        load_settings(cfg, env={})
    msg = str(e.value)
    assert str(cfg) in msg
    for w in words:
        assert w in msg, msg


def test_saved_views_round_trip(tmp_path: Path):
    cfg = tmp_path / "config.toml"
    cfg.write_text(f'api_key = "{KEY}"\n')
    cfg.chmod(0o600)
    view = SavedView(name="Audit, this week", from_text="-7d", statuses=frozenset({OperatorStatus.COMPLETED}),
                     audit_statuses=frozenset({AuditStatus.READY_TO_AUDIT}), projects=("Street Scenes",))
    save_view(view, cfg)
    s = load_settings(cfg, env={})
    assert s.api_key == KEY  # the rest of the file is kept
    assert s.views["Audit, this week"] == view
    assert oct(cfg.stat().st_mode & 0o777) == "0o600"


def test_mask_key_never_shows_more_than_the_last_four():
    assert mask_key(KEY) == "live_…WXYZ"
    assert mask_key("test_short") == "test_…"
    assert mask_key("abcdefghijklmnop1234") == "…1234"
    assert mask_key(None) == "(none)"


def test_the_sandbox_backend_seeds_once_and_uses_its_own_key(tmp_path: Path):
    db = tmp_path / "data" / "sandbox.db"
    s = Settings(api_key=None, sandbox_db=db, sandbox_seed=120, simulate=False)
    messages: list[str] = []
    with open_backend(s, progress=messages.append) as backend:
        assert backend.kind == "sandbox" and backend.label == "local sandbox"
        assert backend.url.startswith("http://127.0.0.1:") and backend.url.endswith("/v1")
        assert backend.api_key.startswith("test_sandbox_")
        r = httpx.get(f"{backend.url}/tasks", params={"limit": 1}, auth=(backend.api_key, ""), timeout=10)
        assert r.status_code == 200 and r.json()["total"] == 120
        first_key = backend.api_key
    assert any("120 demo tasks" in m for m in messages)
    assert db.exists() and not db.with_name("sandbox.db.partial").exists()
    messages.clear()
    with open_backend(s, progress=messages.append) as backend:  # second run: no seeding, new key
        assert backend.api_key != first_key
        r = httpx.get(f"{backend.url}/tasks", params={"limit": 1}, auth=(backend.api_key, ""), timeout=10)
        assert r.json()["total"] == 120
        # the previous run's key is not accepted
        assert httpx.get(f"{backend.url}/tasks", auth=(first_key, ""), timeout=10).status_code == 401
    assert messages == []


def test_a_configured_key_means_the_remote_api(tmp_path: Path):
    s = Settings(api_key=KEY, api_url="https://api.scale.com/v1")
    b = open_backend(s)
    assert (b.kind, b.label, b.url, b.api_key) == ("remote", "api.scale.com", "https://api.scale.com/v1", KEY)
    assert KEY not in repr(b)


def _cli(*args: str, env_extra: dict[str, str]) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k not in ("SCALE_API_KEY", "TASKTUI_API_URL")}
    env.update(env_extra)
    return subprocess.run([sys.executable, "-m", "tasktui", *args], env=env, capture_output=True, text=True,
                          timeout=60, stdin=subprocess.DEVNULL)


def test_config_path_and_show(tmp_path: Path):
    cfg = tmp_path / "cfg" / "config.toml"
    env = {"TASKTUI_CONFIG": str(cfg), "TASKTUI_DATA_DIR": str(tmp_path / "data")}
    r = _cli("config", "path", env_extra=env)
    assert r.returncode == 0 and r.stdout.strip() == str(cfg)
    cfg.parent.mkdir()
    cfg.write_text(f'api_key = "{KEY}"\nzone = "pacific"\n[views.mine]\nstatus = ["queued"]\n')
    cfg.chmod(0o600)
    r = _cli("config", "show", env_extra=env)
    assert r.returncode == 0, r.stderr
    assert 'api_key = "live_…WXYZ"  # file' in r.stdout
    assert KEY not in r.stdout + r.stderr
    assert 'zone = "pacific"  # file' in r.stdout
    assert '[views."mine"]' in r.stdout
    cfg.write_text('zone = "mars"\n')
    r = _cli("config", "show", env_extra=env)
    assert r.returncode == 2 and "zone" in r.stderr and str(cfg) in r.stderr


def test_the_console_refuses_without_a_terminal_and_reports_config_errors(tmp_path: Path):
    cfg = tmp_path / "config.toml"
    env = {"TASKTUI_CONFIG": str(cfg), "TASKTUI_DATA_DIR": str(tmp_path / "data")}
    r = _cli(env_extra=env)
    assert r.returncode == 2 and "needs a terminal" in r.stderr
    assert not (tmp_path / "data").exists()  # nothing started, nothing seeded
    cfg.write_text("refresh_interval = true\n")
    r = _cli(env_extra=env)
    assert r.returncode == 2 and "refresh_interval" in r.stderr and str(cfg) in r.stderr
    cfg.write_text("")
    r = _cli("--view", "nope", env_extra=env)
    assert r.returncode == 2 and "no saved view named 'nope'" in r.stderr


async def test_the_app_opens_on_a_saved_view_and_live_toggles(shared_server, make_app, tmp_path):
    cfg = tmp_path / "config.toml"
    cfg.write_text('refresh_interval = 0\n[views.errors]\nstatus = ["error"]\n')
    settings = load_settings(cfg, env={})
    app = make_app(shared_server, settings=settings, initial_view="errors")
    async with app.run_test(size=(120, 40)) as pilot:
        await settled(pilot, app)
        assert app.store.query.statuses == {OperatorStatus.ERROR}
        assert {t.status_label for t in app.tasks_screen.table.rows} == {"Error"}
        assert "1 of 6 on" in str(app.tasks_screen.sidebar.query_one("#status-title").render())
        header = app.tasks_screen.header
        assert "○ live off" in header.text().plain
        await pilot.press("l")
        await pilot.pause()
        assert app.store.polling and "● live 15s" in header.text().plain
        await pilot.press("l")
        await pilot.pause()
        assert not app.store.polling and "○ live off" in header.text().plain
        # a dialog on top pauses the live refresh
        await pilot.press("l", "question_mark")
        await wait_for(pilot, lambda: "⏸ paused" in header.text().plain, what="paused")
        assert app.store.poll_paused
        await pilot.press("escape")
        await wait_for(pilot, lambda: "● live" in header.text().plain, what="resumed")
        assert not app.store.poll_paused


async def test_a_saved_view_keeps_its_type_and_tag_once_the_sidebar_is_up(shared_server, make_app, sql, tmp_path):
    """The sidebar has no type or tag field: a view's type and tag filters were dropped the
    moment it mounted (the list showed every task). They stay until C clears the filters,
    and the empty state names them."""
    from .support import screen_text

    ttype = sql(shared_server, "SELECT t.type FROM tasks t JOIN task_tags g ON g.id = t.id WHERE g.tag = 'rain' "
                               "GROUP BY t.type ORDER BY COUNT(*) DESC LIMIT 1")[0][0]
    want = sql(shared_server, "SELECT COUNT(*) FROM tasks t JOIN task_tags g ON g.id = t.id "
                              "WHERE g.tag = 'rain' AND t.type = ?", ttype)[0][0]
    everything = sql(shared_server, "SELECT COUNT(*) FROM tasks")[0][0]
    assert 0 < want < 100
    cfg = tmp_path / "config.toml"
    cfg.write_text(f'refresh_interval = 0\n[views.rainy]\ntype = ["{ttype}"]\ntag = ["rain"]\n'
                   '[views.nothing]\ntag = ["no-such-tag"]\n')
    settings = load_settings(cfg, env={})
    app = make_app(shared_server, settings=settings, initial_view="rainy")
    async with app.run_test(size=(120, 40)) as pilot:
        await settled(pilot, app)
        assert f"Showing {want} of {want}" in screen_text(app).splitlines()[0]
        await pilot.press("C")
        await wait_for(pilot, lambda: f"of {everything:,}" in screen_text(app).splitlines()[0],
                       what="every task once the filters are cleared")
        from textual.command import CommandPalette

        await pilot.press("ctrl+p")
        await wait_for(pilot, lambda: isinstance(app.screen, CommandPalette), what="the palette")
        await pilot.press(*"view: nothing")
        await wait_for(pilot, lambda: "View: nothing" in screen_text(app), what="the view offered")
        await pilot.press("enter")
        await wait_for(pilot, lambda: "Tag: no-such-tag" in screen_text(app), what="the empty state naming the tag")
