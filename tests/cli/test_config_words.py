"""What the configuration says about itself never shows a secret: ``tasktui config show``
masks the user-info of ``api_url``, and a refused value that could be a misplaced key is
not echoed (short plain words and numbers still are, so a typo stays easy to see)."""

from __future__ import annotations

import pytest

from tasktui.config import ConfigError, load_settings, mask_url

SECRET = "live_9f8e7d6c5b4a39281706SECRET"


def test_mask_url_hides_user_info_only():
    assert mask_url("http://user:hunter2@host:8/v1") == "http://…@host:8/v1"
    assert mask_url(f"https://{SECRET}@api.example/v1") == "https://…@api.example/v1"
    assert mask_url("https://api.scale.com/v1") == "https://api.scale.com/v1"
    assert mask_url("https://host/v1?next=a@b") == "https://host/v1?next=a@b"


@pytest.mark.parametrize("how", ["file", "env"])
def test_config_show_masks_the_user_info_of_api_url(cli, how):
    url = "http://me:hunter2secret@tasks.example:8443/v1"
    env = {}
    if how == "file":
        cli.write_config(f'api_url = "{url}"\n')
    else:
        env = {"TASKTUI_API_URL": url}
    r = cli.run("config", "show", env=env)
    assert r.returncode == 0, r.stderr
    assert "hunter2secret" not in r.stdout + r.stderr
    assert 'api_url = "http://…@tasks.example:8443/v1"' in r.stdout, r.stdout


@pytest.mark.parametrize("line", [
    f'zone = "{SECRET}"',
    f'refresh_interval = "{SECRET}"',
    f'read_only = "{SECRET}"',
    f'api_url = "{SECRET}"',
    f'simulate = "{SECRET}"',
    f'downloads_dir = ["{SECRET}"]',
    f'[views.x]\nstatus = ["{SECRET}"]',
    f'[views.x]\nfrom = "{SECRET}"',
    f'[views.x]\norder = "{SECRET}"',
    f'{SECRET} = "misplaced"',
])
def test_a_refused_value_that_could_be_a_key_is_not_echoed(tmp_path, line):
    cfg = tmp_path / "config.toml"
    cfg.write_text(line + "\n")
    with pytest.raises(ConfigError) as e:
        load_settings(cfg, env={})
    msg = str(e.value)
    assert SECRET not in msg and "9f8e7d6c" not in msg, msg
    assert str(cfg) in msg and "not shown" in msg, msg


def test_the_environment_and_flags_do_not_echo_a_misplaced_key(cli):
    r = cli.run("config", "show", env={"TASKTUI_API_URL": SECRET})
    assert r.returncode == 2 and "TASKTUI_API_URL" in r.stderr and SECRET not in r.stderr, r.stderr
    r = cli.run("get", "x", "--api-url", SECRET)
    assert r.returncode == 2 and "--api-url" in r.stderr and SECRET not in r.stderr, r.stderr


@pytest.mark.parametrize("line, words", [
    ('zone = "mars"', "unknown time zone 'mars'"),
    ("refresh_interval = 0.5", "not 0.5"),
    ('api_url = "ftp://x"', "not 'ftp://x'"),
    ('[views.x]\nstatus = ["pending"]', "'pending'"),
])
def test_a_short_plain_value_is_still_quoted(tmp_path, line, words):
    cfg = tmp_path / "config.toml"
    cfg.write_text(line + "\n")
    with pytest.raises(ConfigError) as e:
        load_settings(cfg, env={})
    assert words in str(e.value), str(e.value)


def test_shown():
    from tasktui.config import shown

    assert shown("mars") == "'mars'" and shown(30) == "30" and shown(True) == "true"
    for secret in (SECRET, "test_abc", "a" * 40, "0123456789abcdef0123", "x\ny"):
        assert secret not in shown(secret) and "not shown" in shown(secret)
