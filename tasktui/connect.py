"""Choosing the backend: the configured Scale API, or the embedded sandbox server.

With an API key (``--api-key``, ``$SCALE_API_KEY`` or the config file) the app talks to
``api_url``. With none, :func:`open_backend` starts the bundled Scale-compatible server in
a background thread on a free 127.0.0.1 port, over a persistent SQLite database in the
user data directory (seeded with demo tasks on first run), with a random API key made
for this run only (never the operator's key).

No Textual here: the app, ``tasktui export`` and ``tasktui get`` share it.
"""

from __future__ import annotations

import argparse
import os
import secrets
import sqlite3
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable
from urllib.parse import urlsplit

from tasktui.config import (
    ENV_API_KEY,
    ConfigError,
    Settings,
    _check_url,
    load_settings,
)

__all__ = [
    "Backend",
    "BackendError",
    "add_connection_arguments",
    "open_backend",
    "settings_from_args",
    "sandbox_needs_seeding",
]


class BackendError(Exception):
    """The backend could not be opened; ``str()`` says why and what to do."""


def add_connection_arguments(parser: argparse.ArgumentParser) -> None:
    """Flags shared by every command that talks to a task service."""
    g = parser.add_argument_group("connection")
    g.add_argument("--api-url", metavar="URL",
                   help="Scale API base URL (default: config file, $TASKTUI_API_URL, "
                        "or https://api.scale.com/v1)")
    g.add_argument("--api-key", metavar="KEY",
                   help=f"API key (prefer ${ENV_API_KEY} or the config file: a flag is visible "
                        "to other users in the process list); without one the embedded sandbox is used")
    g.add_argument("--config", metavar="PATH", type=Path,
                   help="config file to read (default: $TASKTUI_CONFIG or `tasktui config path`)")
    g.add_argument("--sandbox", action="store_true",
                   help="use the embedded sandbox server even if an API key is configured")
    g.add_argument("--sandbox-db", metavar="PATH", type=Path,
                   help="SQLite database of the embedded sandbox (default: in the user data directory)")
    g.add_argument("--no-simulate", dest="simulate", action="store_false", default=None,
                   help="the sandbox leaves tasks as they are (by default it moves them along: "
                        "queued -> in progress -> completed)")


def settings_from_args(args: argparse.Namespace, env: dict[str, str] | None = None) -> Settings:
    """Settings from defaults < config file < environment < flags. Raises ConfigError."""
    env = dict(os.environ) if env is None else env
    s = load_settings(getattr(args, "config", None), env)
    url = getattr(args, "api_url", None)
    if url:
        s.api_url = _check_url(url, "--api-url")
        s.sources["api_url"] = "flag --api-url"
    key = getattr(args, "api_key", None)
    if key is not None:
        if not key.strip():
            raise ConfigError("--api-key is empty")
        s.api_key = key.strip()
        s.sources["api_key"] = "flag --api-key"
    if getattr(args, "sandbox", False):
        s.force_sandbox = True
    db = getattr(args, "sandbox_db", None)
    if db is not None:
        s.sandbox_db = Path(db).expanduser()
        s.sources["sandbox_db"] = "flag --sandbox-db"
    sim = getattr(args, "simulate", None)
    if sim is not None:
        s.simulate = bool(sim)
    if getattr(args, "read_only", False):
        s.read_only = True
        s.sources["read_only"] = "flag --read-only"
    return s


@dataclass
class Backend:
    """Where the task service is: ``url`` (API base, ending in ``/v1``) and ``api_key``.

    ``kind`` is "sandbox" (the embedded server, stopped by :meth:`close`) or "remote".
    ``label`` is what the header shows ("local sandbox" or the host name).
    """

    url: str
    api_key: str
    kind: str
    label: str
    db_path: Path | None = None
    _handle: Any = field(default=None, repr=False)

    def __repr__(self) -> str:
        return f"Backend(kind={self.kind!r}, url={self.url!r}, label={self.label!r})"

    @property
    def is_sandbox(self) -> bool:
        return self.kind == "sandbox"

    def close(self) -> None:
        h, self._handle = self._handle, None
        if h is not None:
            h.stop()

    def __enter__(self) -> "Backend":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def remote_label(url: str) -> str:
    parts = urlsplit(url)
    host = parts.hostname or url
    if parts.port and parts.port not in (80, 443):
        host = f"{host}:{parts.port}"
    return host


def sandbox_needs_seeding(db_path: Path) -> bool:
    """Whether the sandbox database does not exist yet (first run)."""
    return not Path(db_path).exists()


def _prepare_sandbox_db(db_path: Path, n: int, progress: Callable[[str], None] | None) -> None:
    """Create and seed the sandbox database on first run. Seeding writes to a temporary
    file renamed into place when complete, so an interrupted first run starts over."""
    from tasktui.server import seed_database

    db_path.parent.mkdir(parents=True, exist_ok=True)
    if progress:
        progress(f"First run: creating the local sandbox with {n:,} demo tasks in {db_path} …")
    tmp = db_path.with_name(db_path.name + ".partial")
    for p in (tmp, Path(str(tmp) + "-wal"), Path(str(tmp) + "-shm")):
        try:
            p.unlink()
        except FileNotFoundError:
            pass
    t0 = time.monotonic()
    seed_database(tmp, n, seed=1)
    # fold a write-ahead log (if any was left) into the main file before renaming it
    try:
        c = sqlite3.connect(tmp)
        c.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        c.execute("PRAGMA journal_mode=DELETE")
        c.close()
    except sqlite3.Error:
        pass
    os.replace(tmp, db_path)
    if progress:
        progress(f"Sandbox ready ({time.monotonic() - t0:.1f} s).")


def open_backend(settings: Settings, *, progress: Callable[[str], None] | None = None) -> Backend:
    """Open the backend the settings describe. For the sandbox, start the bundled server
    (seeding its database the first time). Raises BackendError."""
    if not settings.uses_sandbox:
        assert settings.api_key
        return Backend(url=settings.api_url.rstrip("/"), api_key=settings.api_key,
                       kind="remote", label=remote_label(settings.api_url))
    try:
        from tasktui.server import start_server_thread
    except ImportError as e:  # pragma: no cover - the server ships in the same package
        raise BackendError(f"the bundled server cannot be loaded: {e}") from None
    db = Path(settings.sandbox_db).expanduser()
    try:
        if sandbox_needs_seeding(db):
            _prepare_sandbox_db(db, settings.sandbox_seed, progress)
    except OSError as e:
        raise BackendError(
            f"cannot create the sandbox database {db}: {e.strerror or e}. "
            "Set sandbox_db in the config file or pass --sandbox-db PATH."
        ) from None
    except sqlite3.Error as e:
        raise BackendError(f"cannot create the sandbox database {db}: {e}") from None
    key = "test_sandbox_" + secrets.token_hex(16)
    try:
        handle = start_server_thread(db, [key], host="127.0.0.1", port=0, simulate=settings.simulate)
    except sqlite3.DatabaseError as e:
        raise BackendError(
            f"the sandbox database {db} cannot be opened ({e}); move it away to start afresh"
        ) from None
    except OSError as e:
        raise BackendError(f"the sandbox server could not start: {e.strerror or e}") from None
    return Backend(url=handle.url.rstrip("/"), api_key=key, kind="sandbox",
                   label="local sandbox", db_path=db, _handle=handle)


def stderr_progress(message: str) -> None:
    print(f"tasktui: {message}", file=sys.stderr, flush=True)
