"""``tasktui config path`` / ``tasktui config show``.

``path`` prints where the config file is (whether or not it exists yet); ``show`` prints
the settings in effect (file, environment and defaults merged) as TOML, with the API key
and the user-info of ``api_url`` masked, each line annotated with where its value came from.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from tasktui.cli.common import EXIT_OK, EXIT_USAGE, add_config_argument, fail, settings_from_args
from tasktui.config import ConfigError, Settings, mask_key, mask_url
from tasktui.locations import config_path, data_dir


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("action", nargs="?", choices=("path", "show"), default="path",
                        help="path: print where the config file is (default); "
                             "show: print the settings in effect, the API key masked")
    add_config_argument(parser)


def _toml_value(v: object) -> str:
    import tomli_w

    return tomli_w.dumps({"v": v}).split("=", 1)[1].strip()


def _key_note(s: Settings) -> str:
    if s.api_key:
        return ""
    if s.server_without_key:
        return (f": no key, but {s.api_url_origin()} names a server, so tasktui refuses to start "
                "(exit 3); set a key, or pass --sandbox for the demo sandbox")
    return ": the embedded sandbox is used"


def render_settings(s: Settings) -> str:
    def src(key: str) -> str:
        return s.sources.get(key, "default")

    lines = [
        f"# config file: {s.config_file or '(none: defaults in use)'}",
        f"# data directory: {data_dir()}",
        f"api_url = {_toml_value(mask_url(s.api_url))}  # {src('api_url')}",
        f"api_key = {_toml_value(mask_key(s.api_key)) if s.api_key else '(none)'}  "
        f"# {src('api_key')}{_key_note(s)}",
        f"zone = {_toml_value(s.zone.value)}  # {src('zone')}",
        f"refresh_interval = {_toml_value(s.refresh_interval)}  # seconds, 0 = off; {src('refresh_interval')}",
        f"read_only = {_toml_value(s.read_only)}  # {src('read_only')}",
        f"downloads_dir = {_toml_value(str(s.downloads_dir))}  # {src('downloads_dir')}",
        f"sandbox_db = {_toml_value(str(s.sandbox_db))}  # {src('sandbox_db')}",
        f"sandbox_seed = {_toml_value(s.sandbox_seed)}  # {src('sandbox_seed')}",
        f"simulate = {_toml_value(s.simulate)}  # {src('simulate')}",
    ]
    if s.keymap:
        lines.append("")
        lines.append("[keymap]")
        for bid, keys in s.keymap.items():
            lines.append(f"{_toml_value(bid)} = {_toml_value(keys)}")
    for name, view in s.views.items():
        lines.append("")
        lines.append(f"[views.{_toml_value(name)}]")
        for k, v in view.to_toml().items():
            lines.append(f"{k} = {_toml_value(v)}")
    return "\n".join(lines) + "\n"


def run(args: argparse.Namespace) -> int:
    if args.action == "path":
        print(Path(args.config).expanduser() if args.config else config_path())
        return EXIT_OK
    try:
        s = settings_from_args(args)
    except ConfigError as e:
        return fail("tasktui", str(e), EXIT_USAGE)
    for w in s.warnings:
        print(f"tasktui: warning: {w}", file=sys.stderr)
    sys.stdout.write(render_settings(s))
    return EXIT_OK
