"""Where tasktui keeps its files: the config file, the data directory (the sandbox's and
``tasktui serve``'s databases) and the downloads folder. One home, so that every command
honours the same overrides (``$TASKTUI_CONFIG``, ``$TASKTUI_DATA_DIR``).

Each function takes an optional environment mapping (tests pass their own; the default is
``os.environ``) and returns a path; nothing is created here.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Mapping

import platformdirs

APP_NAME = "tasktui"
ENV_CONFIG = "TASKTUI_CONFIG"
ENV_DATA_DIR = "TASKTUI_DATA_DIR"


def config_path(env: Mapping[str, str] | None = None) -> Path:
    """The config file: ``$TASKTUI_CONFIG`` or ``<user config dir>/tasktui/config.toml``."""
    env = os.environ if env is None else env
    override = env.get(ENV_CONFIG)
    if override:
        return Path(override).expanduser()
    return Path(platformdirs.user_config_dir(APP_NAME)) / "config.toml"


def data_dir(env: Mapping[str, str] | None = None) -> Path:
    """Where the databases live: ``$TASKTUI_DATA_DIR`` or the user data directory."""
    env = os.environ if env is None else env
    override = env.get(ENV_DATA_DIR)
    if override:
        return Path(override).expanduser()
    return Path(platformdirs.user_data_dir(APP_NAME))


def sandbox_db(env: Mapping[str, str] | None = None) -> Path:
    """The embedded sandbox's database (default of the ``sandbox_db`` setting)."""
    return data_dir(env) / "sandbox.db"


def serve_db(env: Mapping[str, str] | None = None) -> Path:
    """``tasktui serve``'s database (default of ``--db``)."""
    return data_dir(env) / "server.db"


def default_downloads_dir() -> Path:
    """Where downloaded tasks go unless ``downloads_dir`` says otherwise."""
    return Path(platformdirs.user_downloads_dir())
