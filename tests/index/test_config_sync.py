"""``[sync]`` in the config file: read, checked in words naming the file and key, saved
back unchanged, and turned into the scope a sync reads (literals as the oracle)."""

from __future__ import annotations

import tomllib
from datetime import datetime, timezone

import pytest

from tasktui.config import ConfigError, load_settings, save_settings
from tasktui.index.scope import SyncScope


def test_sync_table_is_read_saved_and_becomes_the_scope(tmp_path):
    cfg = tmp_path / "config.toml"
    cfg.write_text('[sync]\nprojects = ["Street Scenes", "Café Menü"]\nfrom = "2026-01-01"\nto = "2026-06-30"\n')
    s = load_settings(cfg, env={})
    assert (s.sync_projects, s.sync_from, s.sync_to) == (("Street Scenes", "Café Menü"), "2026-01-01", "2026-06-30")
    scope = SyncScope.from_settings(s)
    assert scope == SyncScope(("Café Menü", "Street Scenes"), datetime(2026, 1, 1, tzinfo=timezone.utc),
                              datetime(2026, 7, 1, tzinfo=timezone.utc))
    out = tmp_path / "saved.toml"
    save_settings(s, out)
    assert tomllib.loads(out.read_text())["sync"] == {"projects": ["Street Scenes", "Café Menü"],
                                                      "from": "2026-01-01", "to": "2026-06-30"}
    assert SyncScope.from_settings(load_settings(tmp_path / "none.toml", env={})) == SyncScope()


@pytest.mark.parametrize("table, words", [
    ('[sync]\nfrom = "-30d"\n', "sync.from: '-30d' is a relative date"),
    ('[sync]\nfrom = 2026-01-01\n', "sync.from must be a date in quotes"),
    ('[sync]\nprojects = [3]\n', "sync.projects must be a list of project names"),
    ('[sync]\nwindow = "x"\n', "unknown key(s) 'window'; known keys: projects, from, to"),
    ('sync = "all"\n', "sync must be a table"),
    ('[sync]\nfrom = "2026-02-01"\nto = "2026-01-01"\n', "the window from 2026-02-01 to 2026-01-01 is empty"),
])
def test_a_bad_sync_table_is_refused_naming_file_and_key(tmp_path, table, words):
    cfg = tmp_path / "config.toml"
    cfg.write_text(table)
    with pytest.raises(ConfigError) as e:
        load_settings(cfg, env={})
    assert str(e.value).startswith(f"{cfg}: sync")
    assert words in str(e.value)
