"""The config file that holds an API key: created 0600, re-written 0600, and a
warning (that names the file and the fix, never the key) when other users can read it."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from tasktui.config import (
    Settings,
    load_settings,
    permission_warning,
    save_settings,
    update_config,
)

KEY = "live_REL1ABLEsecretKEYzq7x9w"

pytestmark = pytest.mark.skipif(os.name != "posix", reason="file modes are POSIX")


def mode(p: Path) -> int:
    return stat.S_IMODE(p.stat().st_mode)


def test_saved_config_holding_a_key_is_0600(tmp_path: Path) -> None:
    old = os.umask(0o022)  # a typical umask that would give 0644
    try:
        p = save_settings(Settings(api_key=KEY), tmp_path / "cfg" / "config.toml")
    finally:
        os.umask(old)
    assert mode(p) == 0o600
    assert KEY in p.read_text()  # the one place the key may live
    assert load_settings(p, env={}).warnings == []
    # no temporary file with the key is left beside it
    assert [x.name for x in p.parent.iterdir()] == ["config.toml"]


def test_rewriting_a_loose_config_tightens_it(tmp_path: Path) -> None:
    p = tmp_path / "config.toml"
    p.write_text(f'api_key = "{KEY}"\n')
    p.chmod(0o644)
    update_config({"zone": "pacific"}, p)
    assert mode(p) == 0o600
    assert load_settings(p, env={}).api_key == KEY


@pytest.mark.parametrize("loose", [0o644, 0o640, 0o604])
def test_warns_when_others_can_read_a_key(tmp_path: Path, loose: int) -> None:
    p = tmp_path / "config.toml"
    p.write_text(f'api_key = "{KEY}"\n')
    p.chmod(loose)
    s = load_settings(p, env={})
    assert len(s.warnings) == 1
    w = s.warnings[0]
    assert str(p) in w and "chmod 600" in w
    assert KEY not in w
    assert s.api_key == KEY  # a warning, not a refusal: nothing is lost


def test_no_warning_without_a_key_or_when_private(tmp_path: Path) -> None:
    p = tmp_path / "config.toml"
    p.write_text('zone = "utc"\n')
    p.chmod(0o644)
    assert permission_warning(p) is None
    q = tmp_path / "private.toml"
    q.write_text(f'api_key = "{KEY}"\n')
    q.chmod(0o600)
    assert permission_warning(q) is None


def test_settings_repr_masks_the_key() -> None:
    s = Settings(api_key=KEY)
    assert KEY not in repr(s) and KEY not in str(s)
    assert KEY not in s.masked_key()


def test_config_show_masks_the_key_and_warns_on_stderr(tmp_path: Path) -> None:
    p = tmp_path / "config.toml"
    p.write_text(f'api_key = "{KEY}"\n')
    p.chmod(0o644)
    env = {k: v for k, v in os.environ.items() if k not in ("SCALE_API_KEY", "TASKTUI_API_URL")}
    env.update(TASKTUI_CONFIG=str(p), TASKTUI_DATA_DIR=str(tmp_path / "data"))
    r = subprocess.run([sys.executable, "-m", "tasktui", "config", "show"], env=env,
                       capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stderr
    assert "api_key" in r.stdout
    assert KEY not in r.stdout and KEY not in r.stderr
    assert "chmod 600" in r.stderr


async def test_the_app_warns_on_screen_about_a_readable_key_file(shared_server, tmp_path: Path) -> None:
    from tasktui.api import RetryPolicy
    from tasktui.backend import Backend
    from tasktui.ui.app import TaskTuiApp
    from tasktui.ui.keymap import notification_messages, screen_text
    from ui.support import wait_for

    p = tmp_path / "config.toml"
    p.write_text(f'api_key = "{KEY}"\nrefresh_interval = 0\n')
    p.chmod(0o644)
    s = load_settings(p, env={})
    app = TaskTuiApp(s, Backend(shared_server.url, shared_server.api_key, "remote", "test"),
                     client_options={"retry": RetryPolicy.none()})
    async with app.run_test(size=(120, 40), notifications=True) as pilot:
        await wait_for(pilot, lambda: "chmod 600" in " ".join(notification_messages(app))
                       and "chmod 600" in screen_text(app), what="the chmod warning")
        text = screen_text(app)
        messages = " ".join(notification_messages(app))
    assert "chmod 600" in messages and str(p) in messages
    assert "chmod 600" in text  # on screen, as a warning toast
    assert KEY not in text and KEY not in messages
