"""The backend: the configured Scale API, or the embedded sandbox server.

With an API key (``--api-key``, ``$SCALE_API_KEY`` or the config file) the app talks to
``api_url``. With none, :func:`open_backend` starts the bundled Scale-compatible server in
a background thread on a free 127.0.0.1 port, over a persistent SQLite database in the
user data directory (seeded with demo tasks on first run), with a random API key made
for this run only (never the operator's key).

No Textual and no argparse here: the app, ``tasktui export`` and ``tasktui get`` share it
(their flags become :class:`~tasktui.config.Settings` in :mod:`tasktui.cli.common`).
"""

from __future__ import annotations

import os
import secrets
import sqlite3
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Callable
from urllib.parse import urlsplit

from tasktui.config import Settings
from tasktui.files import fsync_dir

if TYPE_CHECKING:  # the server is imported only when the sandbox is opened
    from tasktui.server import ServerHandle

__all__ = [
    "Backend",
    "BackendError",
    "open_backend",
    "sandbox_needs_seeding",
]


class BackendError(Exception):
    """The backend could not be opened; ``str()`` says why and what to do."""


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
    _handle: ServerHandle | None = field(default=None, repr=False)

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
    fsync_dir(db_path.parent)
    if progress:
        progress(f"Sandbox ready ({time.monotonic() - t0:.1f} s).")


def open_backend(settings: Settings, *, progress: Callable[[str], None] | None = None) -> Backend:
    """Open the backend the settings describe. For the sandbox, start the bundled server
    (seeding its database the first time). Raises BackendError."""
    if not settings.uses_sandbox:
        assert settings.api_key
        return Backend(url=settings.api_url.rstrip("/"), api_key=settings.api_key,
                       kind="remote", label=remote_label(settings.api_url))
    from tasktui.server import start_server_thread
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
