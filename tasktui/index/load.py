"""``tasktui open FILE``: a previous export (a JSON array or NDJSON written by ``tasktui
export``, see ``tasktui.export.format``) loaded into a temporary index, so the console
browses it with every filter and exact totals, read-only, through the same reader as the
synced index (:class:`~tasktui.index.reader.IndexReader`).

The temporary index lives in a private folder (0700, file 0600) under the system's
temporary directory and is removed when the console ends (``TemporaryIndex.remove``,
also at interpreter exit). The file is checked record by record; one that is not an
export is refused with a sentence naming the line and what is wrong, and nothing is
opened. Task text stays data: it is stored and shown exactly as the file has it.
"""

from __future__ import annotations

import atexit
import shutil
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterator

import orjson

from tasktui.domain import MalformedTaskError, Task
from tasktui.index.db import open_index, upsert
from tasktui.server import db as sdb
from tasktui.server.docs import index_row

__all__ = ["LoadError", "TemporaryIndex", "load_export"]

#: Tasks written per transaction while loading.
CHUNK = 2_000


class LoadError(ValueError):
    """The file cannot be opened as an export; ``str()`` says why in the operator's words."""


@dataclass
class TemporaryIndex:
    """An index made from an export file: ``path`` (the SQLite file), ``source`` (the
    file it was read from), ``tasks`` (how many distinct tasks it holds)."""

    path: Path
    source: Path
    tasks: int
    _dir: Path = field(repr=False, default=Path())

    def remove(self) -> None:
        """Delete the temporary index (idempotent)."""
        shutil.rmtree(self._dir, ignore_errors=True)

    def __enter__(self) -> "TemporaryIndex":
        return self

    def __exit__(self, *exc: object) -> None:
        self.remove()


def _what(path: Path) -> str:
    return f"{path} is not an export written by `tasktui export`"


def _records(path: Path) -> Iterator[tuple[int, Any]]:
    """(line number, decoded record) of a JSON array or NDJSON file."""
    try:
        with open(path, "rb") as f:
            head = f.read(4096).lstrip()
    except IsADirectoryError:
        raise LoadError(f"{path} is a folder; give the file an export wrote") from None
    except OSError as e:
        raise LoadError(f"cannot read {path}: {e.strerror or e}") from None
    if not head:
        raise LoadError(f"{_what(path)}: the file is empty")
    if head[:1] == b"[":  # a JSON array (one task per line inside it)
        try:
            data = orjson.loads(path.read_bytes())
        except orjson.JSONDecodeError as e:
            raise LoadError(f"{_what(path)}: it starts like a JSON array but is not valid JSON ({e}); "
                            "an export that was interrupted is completed by `tasktui export --resume`") from None
        if not isinstance(data, list):
            raise LoadError(f"{_what(path)}: it is not a JSON array of tasks")
        for i, rec in enumerate(data, start=1):
            yield i + 1, rec  # the opening bracket is line 1
        return
    if head[:1] != b"{":
        raise LoadError(f"{_what(path)}: it is neither a JSON array nor NDJSON (one task object per line)")
    with open(path, "rb") as f:
        for n, line in enumerate(f, start=1):
            if not line.strip():
                continue
            try:
                yield n, orjson.loads(line)
            except orjson.JSONDecodeError:
                raise LoadError(f"{_what(path)}: line {n:,} is not JSON (NDJSON holds one task object "
                                "per line)") from None


def _checked(path: Path, n: int, rec: Any) -> dict[str, Any]:
    try:
        task = Task.from_wire(rec)
    except MalformedTaskError as e:
        raise LoadError(f"{_what(path)}: the record on line {n:,} is not a task ({e})") from None
    try:
        index_row(task.raw)
    except (KeyError, TypeError, ValueError):
        raise LoadError(f"{_what(path)}: the task on line {n:,} has no valid created_at (or another "
                        "date is not an ISO-8601 instant)") from None
    return task.raw


def load_export(path: str | Path, *, tmp_root: str | Path | None = None) -> TemporaryIndex:
    """Load the export at ``path`` into a new temporary index. Raises LoadError in words
    (nothing is left behind then)."""
    source = Path(path).expanduser()
    if not source.exists():
        raise LoadError(f"there is no file {source}")
    folder = Path(tempfile.mkdtemp(prefix="tasktui-open-", dir=tmp_root))  # 0700
    out = TemporaryIndex(folder / "export.sqlite", source, 0, folder)
    atexit.register(out.remove)
    try:
        conn = open_index(out.path)
        try:
            batch: list[dict[str, Any]] = []
            conn.execute("BEGIN IMMEDIATE")
            for n, rec in _records(source):
                batch.append(_checked(source, n, rec))
                if len(batch) >= CHUNK:
                    upsert(conn, batch)
                    batch.clear()
            upsert(conn, batch)
            conn.execute("COMMIT")
            out.tasks = sdb.task_count(conn)
        finally:
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            conn.close()
    except BaseException:
        out.remove()
        raise
    return out
