"""The backend: the configured Scale API, or the embedded sandbox server.

With an API key (``--api-key``, ``$SCALE_API_KEY`` or the config file) the app talks to
``api_url``. A server named without a key is refused (:class:`MissingKeyError`), never
replaced by the sandbox. With no server named and no key (or ``--sandbox``),
:func:`open_backend` starts the bundled Scale-compatible server in a background thread on a
free 127.0.0.1 port, over a persistent SQLite database in the user data directory, with a
random API key made for this run only (never the operator's key).

The sandbox database is demo data, made here: seeded on first run into a temporary file
that is checked before it is renamed into place, checked again at every start (a damaged
one is moved aside and seeded anew, saying so), under a lock file so that two first runs
at once do not write the same files.

No Textual and no argparse here: the app, ``tasktui export`` and ``tasktui get`` share it
(their flags become :class:`~tasktui.config.Settings` in :mod:`tasktui.cli.common`).
"""

from __future__ import annotations

import contextlib
import os
import secrets
import sqlite3
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Callable, Iterator
from urllib.parse import urlsplit

from tasktui.config import ENV_API_KEY, Settings, mask_url
from tasktui.files import fsync_dir, move_aside, sqlite_files

if TYPE_CHECKING:  # the server is imported only when the sandbox is opened
    from tasktui.server import ServerHandle

__all__ = [
    "Backend",
    "BackendError",
    "MissingKeyError",
    "check_settings",
    "ensure_sandbox_db",
    "open_backend",
    "sandbox_problem",
    "sandbox_needs_seeding",
]


class BackendError(Exception):
    """The backend could not be opened; ``str()`` says why and what to do."""


class MissingKeyError(BackendError):
    """A server is named but no API key is given (the CLI's exit 3, like a refused key)."""


#: The label of the sandbox's own local index (``export --offline`` without a server named).
SANDBOX_INDEX_LABEL = "local sandbox's index"


@dataclass
class Backend:
    """Where the task service is: ``url`` (API base, ending in ``/v1``) and ``api_key``.

    ``kind`` is "sandbox" (the embedded server, stopped by :meth:`close`), "remote", or
    "index" (the bundled server over a local index, for ``export --offline``; stopped by
    :meth:`close` too). ``label`` is what the header shows ("local sandbox" or the host name).
    """

    url: str
    api_key: str
    kind: str
    label: str
    db_path: Path | None = None
    _handle: ServerHandle | None = field(default=None, repr=False)

    def __repr__(self) -> str:
        return f"Backend(kind={self.kind!r}, url={mask_url(self.url)!r}, label={self.label!r})"

    @property
    def is_sandbox(self) -> bool:
        return self.kind == "sandbox"

    def attachment_note(self) -> str | None:
        """What to tell whoever saves tasks from this backend to a file (download, export)
        about the attachment URLs in it: for the sandbox, that they stop working when this
        run ends (its server's port and key are made for this run only); for the sandbox's
        local index, that they are those of the run that synced them; None otherwise."""
        if self.kind == "index":
            if self.label != SANDBOX_INDEX_LABEL:
                return None  # the API's own URLs, as it gave them at the last sync
            return ("Its attachment URLs are those the local sandbox gave when the index was synced: "
                    "they work only while that sandbox runs (its port and key change every run).")
        if not self.is_sandbox:
            return None
        origin = self.url[: -len("/v1")] if self.url.endswith("/v1") else self.url
        db = f" --db {self.db_path}" if self.db_path is not None else ""
        return (f"Its attachment URLs point at this run's local sandbox ({origin}) and stop working "
                "when tasktui exits: the sandbox's port and key change every run. "
                f"`tasktui serve{db}` serves the same /v1/media/… paths on a port and key of your choosing.")

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


def check_settings(settings: Settings) -> None:
    """Refuse settings that name a server but give no key (raises MissingKeyError): the
    sandbox is for "no server named and no key" only, never a silent stand-in."""
    if settings.server_without_key:
        raise MissingKeyError(
            f"{settings.api_url_origin()} names the server {mask_url(settings.api_url)}, but no API "
            f"key is set, so nothing was done. Give the key with ${ENV_API_KEY}, api_key in the "
            "config file, or --api-key; or pass --sandbox to use the local demo sandbox instead."
        )


def sandbox_problem(db_path: Path) -> str | None:
    """What is wrong with an existing sandbox database (SQLite's quick_check, a few tens of
    milliseconds for 20,000 tasks), or None when it is sound."""
    try:
        conn = sqlite3.connect(db_path, timeout=30)
        try:
            rows = conn.execute("PRAGMA quick_check").fetchall()
        finally:
            conn.close()
    except sqlite3.DatabaseError as e:
        return str(e)
    if rows == [("ok",)]:
        return None
    return "; ".join(str(r[0]) for r in rows[:3])


def _remove(path: Path) -> None:
    for p in sqlite_files(path):
        try:
            p.unlink()
        except FileNotFoundError:
            pass


def _write_trouble(directory: Path) -> str:
    """Why a write may have failed, in words: a nearly full disk or a file-size limit."""
    import resource
    import shutil

    reasons = []
    try:
        free = shutil.disk_usage(directory).free
        if free < 256 * 1024 * 1024:
            reasons.append(f"only {free / 1048576:,.0f} MB are free on the disk holding {directory}")
    except OSError:
        pass
    soft, _ = resource.getrlimit(resource.RLIMIT_FSIZE)
    if soft != resource.RLIM_INFINITY:
        reasons.append(f"a file-size limit of {soft:,} bytes is in force (ulimit -f)")
    if not reasons:
        return "the disk may be full or a file-size limit reached"
    return " and ".join(reasons)


@contextlib.contextmanager
def _sandbox_lock(db_path: Path, progress: Callable[[str], None] | None) -> Iterator[None]:
    """Hold ``<db>.lock`` (fcntl.flock) while the sandbox is checked or created, so that
    two first runs at once do not seed the same files: the second waits, then finds the
    database ready."""
    import fcntl

    fd = os.open(db_path.with_name(db_path.name + ".lock"), os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            if progress:
                progress(f"Another tasktui is preparing the sandbox in {db_path.parent}; waiting for it …")
            fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)  # releases the lock


def ensure_sandbox_db(db_path: Path, n: int, progress: Callable[[str], None] | None = None) -> None:
    """Make ``db_path`` a sound sandbox database: seed it on first run; check an existing
    one and, when it is damaged (a first run on a full disk, a crash, a bad disk), move it
    aside as ``sandbox.db.broken-<time>`` and seed a new one, saying so. Raises BackendError
    in words; nothing half-made is left behind."""
    db_path.parent.mkdir(parents=True, exist_ok=True)
    with _sandbox_lock(db_path, progress):
        if db_path.exists():
            problem = sandbox_problem(db_path)
            if problem is None:
                return
            aside = move_aside(db_path)
            if progress:
                progress(f"The sandbox database {db_path} is damaged ({problem}); it is demo data, so it "
                         f"was moved to {aside.name} and a new one is created.")
        _prepare_sandbox_db(db_path, n, progress)


def _prepare_sandbox_db(db_path: Path, n: int, progress: Callable[[str], None] | None) -> None:
    """Create and seed the sandbox database. Seeding writes to a temporary file that is
    checked (quick_check) and renamed into place only when complete and sound, so a failed
    or interrupted first run leaves nothing that looks ready."""
    from tasktui.server import seed_database

    if progress:
        progress(f"First run: creating the local sandbox with {n:,} demo tasks in {db_path} …")
    tmp = db_path.with_name(db_path.name + ".partial")
    _remove(tmp)  # a killed earlier run's (the lock says no one else is writing it)
    t0 = time.monotonic()
    try:
        seed_database(tmp, n, seed=1)
        # fold the write-ahead log into the main file before renaming it
        c = sqlite3.connect(tmp)
        try:
            c.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            c.execute("PRAGMA journal_mode=DELETE")
        finally:
            c.close()
        problem = sandbox_problem(tmp)
        if problem is not None:
            raise sqlite3.DatabaseError(problem)
        os.replace(tmp, db_path)
    except (OSError, sqlite3.Error) as e:
        _remove(tmp)
        detail = e.strerror if isinstance(e, OSError) and e.strerror else str(e)
        raise BackendError(
            f"could not create the sandbox database {db_path}: writing it failed ({detail}); "
            f"{_write_trouble(db_path.parent)}. Nothing was kept: make room (or lift the limit) and run "
            "again, or set sandbox_db in the config file (or --sandbox-db PATH) to a disk with room."
        ) from None
    fsync_dir(db_path.parent)
    if progress:
        progress(f"Sandbox ready ({time.monotonic() - t0:.1f} s).")


def open_backend(settings: Settings, *, progress: Callable[[str], None] | None = None) -> Backend:
    """Open the backend the settings describe. For the sandbox, start the bundled server
    (seeding its database the first time). Raises BackendError."""
    check_settings(settings)
    if not settings.uses_sandbox:
        assert settings.api_key
        return Backend(url=settings.api_url.rstrip("/"), api_key=settings.api_key,
                       kind="remote", label=remote_label(settings.api_url))
    from tasktui.server import start_server_thread
    db = Path(settings.sandbox_db).expanduser()
    try:
        ensure_sandbox_db(db, settings.sandbox_seed, progress)
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
