"""File writes: the one place that knows how a file is replaced whole, and how bytes
are written so that none go missing unnoticed.

A reader of ``path`` sees the old content or the new, never a mix, and once
:func:`write_atomic` returns the new content survives a crash or a power loss: the
data go to a temporary file in the same directory (so the rename stays on one file
system), are flushed and fsynced, the temporary file is renamed over ``path``, and
the directory is fsynced so that the rename itself is on disk. On any failure the
temporary file is removed and ``path`` is left as it was.

:func:`write_all` writes every byte to a descriptor or raises: a ``write`` may take
fewer bytes than it was given (a full disk, a file-size limit), and a writer that counts
what it gave instead of what was taken records bytes the file does not hold.

:func:`sqlite_files` and :func:`move_aside` are the one way a damaged SQLite database
(the sandbox's, an index) is set aside: with its WAL and journal files, which must never
meet a new database of the same name.
"""

from __future__ import annotations

import contextlib
import errno
import glob
import os
import secrets
import time
from pathlib import Path

__all__ = ["TEMP_SUFFIX", "fsync_dir", "leftover_temps", "write_all", "write_atomic"]

#: Temporary files are named ``.<name>.<random>.tmp`` beside the file they replace.
TEMP_SUFFIX = ".tmp"
_OPEN_FLAGS = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_CLOEXEC", 0) | getattr(os, "O_BINARY", 0)


def write_atomic(path: str | os.PathLike[str], data: bytes, mode: int | None = 0o600) -> None:
    """Replace ``path`` with ``data``, atomically and durably.

    ``mode`` is the new file's permission bits, exactly (``0o600``: the owner only, the
    default); ``None`` gives what creating a file gives (``0o666`` less the umask). The
    directory must exist. A symbolic link is followed: the file it points to is replaced
    and the link stays (a dotfile manager's link to ``config.toml`` survives a save).
    Raises OSError (``path`` untouched, no temporary file left)."""
    path = Path(os.path.realpath(path))
    fd, tmp = _create_temp(path)
    try:
        with os.fdopen(fd, "wb") as f:
            if mode is not None:
                os.chmod(f.fileno() if os.chmod in os.supports_fd else tmp, mode)
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
    fsync_dir(path.parent)


def write_all(fd: int, data: bytes) -> None:
    """Write all of ``data`` to the file descriptor ``fd``, however many ``write`` calls
    it takes. Raises OSError when the system takes no more (``ENOSPC``, ``EFBIG`` once a
    file-size limit is reached, ...): some of ``data`` may then be in the file, and the
    caller must not count any of it."""
    view = memoryview(data)
    while view:
        n = os.write(fd, view)
        if n <= 0:  # a regular file never takes nothing without an error; be sure anyway
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        view = view[n:]


def fsync_dir(path: str | os.PathLike[str]) -> None:
    """Flush a directory's entries (a rename, a new or removed file) to disk. Best
    effort: where a directory cannot be opened or fsynced (some platforms and file
    systems), nothing more can be done and nothing is raised."""
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def leftover_temps(path: str | os.PathLike[str]) -> list[Path]:
    """Temporary files of :func:`write_atomic` for ``path`` that a killed process left
    behind (a normal return or exception never leaves one)."""
    path = Path(path)
    pattern = f".{glob.escape(path.name)}.*{TEMP_SUFFIX}"
    return sorted(path.parent.glob(pattern))


def _create_temp(path: Path) -> tuple[int, Path]:
    """A new, empty file beside ``path`` that no other writer can have opened."""
    for _ in range(100):
        tmp = path.with_name(f".{path.name}.{secrets.token_hex(6)}{TEMP_SUFFIX}")
        try:
            return os.open(tmp, _OPEN_FLAGS, 0o666), tmp
        except FileExistsError:
            continue
    raise FileExistsError(f"no free temporary name beside {path}")


def sqlite_files(path: Path) -> list[Path]:
    """A SQLite database and the files that travel with it (WAL, shared memory, journal)."""
    return [path, Path(f"{path}-wal"), Path(f"{path}-shm"), Path(f"{path}-journal")]


def move_aside(path: Path) -> Path:
    """Rename a damaged SQLite database and its companion files to
    ``NAME.broken-<time>`` (``-2``, ``-3``... if taken) and return the new path."""
    stamp = time.strftime("%Y%m%d-%H%M%S")
    aside = path.with_name(f"{path.name}.broken-{stamp}")
    n = 1
    while aside.exists():
        n += 1
        aside = path.with_name(f"{path.name}.broken-{stamp}-{n}")
    for src, dst in zip(sqlite_files(path), sqlite_files(aside)):
        try:
            os.replace(src, dst)
        except FileNotFoundError:
            pass
    fsync_dir(path.parent)
    return aside
