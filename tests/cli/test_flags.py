"""Flags become Settings and Filters in one place (tasktui.cli.common), the same way for
every subcommand; locations honour the same overrides everywhere."""

from __future__ import annotations

import argparse
from pathlib import Path

import pytest

from tasktui import locations
from tasktui.cli.common import (
    add_connection_arguments,
    add_console_arguments,
    add_filter_arguments,
    filters_from_args,
    join_dash_values,
    one_line_errors,
    settings_from_args,
)
from tasktui.cli.main import SUBCOMMANDS, build_parser
from tasktui.config import load_settings
from tasktui.domain import AuditStatus, OperatorStatus, SortOrder, Zone
from tasktui.domain.filters import Filters

KEY = "live_abcdefghijklmnopWXYZ"


def parser(*groups) -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="t")
    for add in groups:
        add(p)
    one_line_errors(p, "t")
    return p


def test_every_console_flag_lands_in_settings_with_its_source(tmp_path: Path):
    cfg = tmp_path / "c.toml"
    cfg.write_text('zone = "pacific"\nrefresh_interval = 30\n')
    args = parser(add_connection_arguments, add_console_arguments).parse_args([
        "--config", str(cfg), "--api-url", "http://127.0.0.1:9/v1/", "--api-key", KEY, "--sandbox",
        "--sandbox-db", str(tmp_path / "s.db"), "--no-simulate", "--read-only", "--tz", "local",
        "--refresh", "0"])
    s = settings_from_args(args, env={})
    assert (s.api_url, s.api_key, s.force_sandbox, s.sandbox_db, s.simulate, s.read_only, s.zone,
            s.refresh_interval) == ("http://127.0.0.1:9/v1", KEY, True, tmp_path / "s.db", False, True,
                                    Zone.LOCAL, 0.0)
    assert s.config_file == cfg
    assert {k: s.sources[k] for k in ("api_url", "api_key", "sandbox_db", "read_only", "zone",
                                      "refresh_interval")} == {
        "api_url": "flag --api-url", "api_key": "flag --api-key", "sandbox_db": "flag --sandbox-db",
        "read_only": "flag --read-only", "zone": "flag --zone", "refresh_interval": "flag --refresh"}


def test_without_flags_the_file_and_environment_stand(tmp_path: Path):
    cfg = tmp_path / "c.toml"
    cfg.write_text('zone = "pacific"\nrefresh_interval = 30\n')
    env = {"TASKTUI_CONFIG": str(cfg), "SCALE_API_KEY": KEY, "TASKTUI_DATA_DIR": str(tmp_path / "d")}
    s = settings_from_args(parser(add_connection_arguments, add_console_arguments).parse_args([]), env=env)
    assert (s.zone, s.refresh_interval, s.api_key, s.read_only) == (Zone.PACIFIC, 30.0, KEY, False)
    assert s.sandbox_db == tmp_path / "d" / "sandbox.db"
    assert s.sources["api_key"] == "env SCALE_API_KEY"


def test_the_export_tz_flag_is_the_console_zone_flag(tmp_path: Path):
    args = parser(add_connection_arguments, add_filter_arguments).parse_args(["--tz", "pacific"])
    assert settings_from_args(args, env={"TASKTUI_CONFIG": str(tmp_path / "none.toml")}).zone is Zone.PACIFIC


@pytest.mark.parametrize("argv, words", [
    (["--refresh", "0.5"], "t: argument --refresh: must be 0 (off) or at least 1 second (see t --help)"),
    (["--zone", "mars"], "t: argument --zone/--tz: unknown time zone 'mars'"),
    (["--nope"], "t: unknown option --nope (see t --help)"),
])
def test_a_bad_flag_is_one_line_and_exit_2(argv, words, capsys):
    with pytest.raises(SystemExit) as e:
        parser(add_connection_arguments, add_console_arguments).parse_args(argv)
    err = capsys.readouterr().err
    assert e.value.code == 2 and len(err.strip().splitlines()) == 1 and err.startswith(words), err


def test_filter_flags_split_commas_where_names_cannot_hold_them():
    args = parser(add_filter_arguments).parse_args(join_dash_values([
        "--status", "completed,queued", "--status", "redo", "--audit", "ready_to_audit,fixed",
        "--project", "A, B", "--type", "imageannotation,transcription", "--tag", "x,y",
        "--from", "-7d", "--search", " 6a ", "--order", "oldest first", "--date-field", "completed"]))
    f = filters_from_args(args)
    assert f == Filters.parse({
        "status": ["completed", "queued", "redo"], "audit": ["ready_to_audit", "fixed"], "project": ["A, B"],
        "type": ["imageannotation", "transcription"], "tag": ["x,y"], "from": "-7d", "search": "6a",
        "order": "oldest", "date_field": "completed"})
    assert f.statuses == {OperatorStatus.COMPLETED, OperatorStatus.QUEUED, OperatorStatus.REDO}
    assert f.audit_statuses == {AuditStatus.READY_TO_AUDIT, AuditStatus.FIXED}


@pytest.mark.parametrize("argv, message", [
    (["--status", "bogus"], "--status: unknown task status 'bogus'"),
    (["--order", "sideways"], "--order: unknown order 'sideways'; choose newest or oldest"),
    (["--from", "2026-02-30"], "--from: '2026-02-30' is not a real date"),
    (["--date-field", "updated"], "--date-field: unknown field 'updated'"),
])
def test_filter_errors_name_the_flag(argv, message):
    with pytest.raises(ValueError) as e:
        filters_from_args(parser(add_filter_arguments).parse_args(argv))
    assert str(e.value).startswith(message), str(e.value)


@pytest.mark.parametrize("spelling", ["new", "newest", "newest first", "desc", "old", "oldest first", "asc"])
def test_the_cli_and_the_config_accept_the_same_order_spellings(spelling, tmp_path: Path):
    want = SortOrder.parse(spelling)
    args = parser(add_filter_arguments).parse_args(["--order", spelling])
    assert filters_from_args(args).order is want
    cfg = tmp_path / "c.toml"
    cfg.write_text(f'[views.v]\norder = "{spelling}"\n')
    assert load_settings(cfg, env={}).views["v"].order is want


def test_a_relative_date_after_from_or_to_is_its_value():
    assert join_dash_values(["export", "--from", "-7d", "--to", "-12h", "--tz", "utc", "--from", "today"]) == [
        "export", "--from=-7d", "--to=-12h", "--tz", "utc", "--from", "today"]
    assert join_dash_values(["--to"]) == ["--to"]
    assert join_dash_values(["--from", "--order", "old"]) == ["--from", "--order", "old"]


def test_locations_follow_the_environment(tmp_path: Path):
    env = {"TASKTUI_CONFIG": "~/x/c.toml", "TASKTUI_DATA_DIR": str(tmp_path)}
    assert locations.config_path(env) == Path("~/x/c.toml").expanduser()
    assert locations.data_dir(env) == tmp_path
    assert locations.sandbox_db(env) == tmp_path / "sandbox.db"
    assert locations.serve_db(env) == tmp_path / "server.db"
    assert locations.sandbox_db({}).parent == locations.serve_db({}).parent == locations.data_dir({})
    assert locations.config_path({}).name == "config.toml"


def test_the_subcommand_table_names_a_module_for_each_command():
    full = build_parser()
    for name, (module, _) in SUBCOMMANDS.items():
        args = full.parse_args([name] + (["x"] if name in ("get", "open") else []))
        assert args.command_module.__name__ == module == f"tasktui.cli.{name}"


def test_the_documented_relative_from_reaches_the_export(capsys, tmp_path: Path, monkeypatch):
    from tasktui.cli.main import main

    monkeypatch.setenv("TASKTUI_CONFIG", str(tmp_path / "none.toml"))
    code = main(["export", "--from", "-7d", "--resume", "--api-url", "http://127.0.0.1:9/v1", "--api-key", "test_x"])
    err = capsys.readouterr().err
    assert code == 2 and "standard output cannot be resumed" in err, err  # the flags parsed
