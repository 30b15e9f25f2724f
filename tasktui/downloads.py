"""Download one task's JSON to a file, atomically. No Textual here.

``download_task(doc, directory) -> Path`` writes ``<task_id>.json`` (pretty-printed,
UTF-8, exactly the document the server sent) into ``directory``, creating it if
needed. The file appears whole or not at all (:func:`tasktui.files.write_atomic`), and
only its owner may read it (``0600``, whatever the umask: tasks can hold customers'
data). Task text is data: the file is escaped as an export is
(:func:`tasktui.domain.text.json_escape_unsafe_utf8`, as export writes it), so ``cat`` of it cannot drive the
terminal, and it parses to the same JSON. A task id is reduced to a safe file name
first (no path separators, no leading dots, no control characters).
"""

from __future__ import annotations

import json
import os
import re
from pathlib import Path
from typing import Any, Mapping

from tasktui.domain.text import json_escape_unsafe_utf8
from tasktui.files import write_atomic

__all__ = ["DownloadError", "download_task", "safe_filename", "task_json"]

_UNSAFE = re.compile(r"[^A-Za-z0-9._-]")


class DownloadError(OSError):
    """The file could not be written; ``str()`` says why in operator's words."""


def safe_filename(task_id: str) -> str:
    """A file name for ``task_id``: letters, digits, ``.``, ``_`` and ``-`` only."""
    name = _UNSAFE.sub("_", str(task_id)).lstrip(".")[:200]
    return (name or "task") + ".json"


def task_json(doc: Mapping[str, Any]) -> str:
    """The task document as pretty-printed JSON (key order as sent)."""
    return json.dumps(doc, indent=2, ensure_ascii=False) + "\n"


def download_task(doc: Mapping[str, Any], directory: str | os.PathLike[str]) -> Path:
    """Write ``doc`` to ``directory/<task_id>.json`` atomically, terminal safe and owner
    only, and return the path."""
    target_dir = Path(directory).expanduser()
    data = json_escape_unsafe_utf8(task_json(doc).encode("utf-8"))
    try:
        target_dir.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise DownloadError(f"cannot create the downloads folder {target_dir}: {e.strerror or e}") from e
    target = target_dir / safe_filename(str(doc.get("task_id", "task")))
    try:
        write_atomic(target, data, mode=0o600)
    except OSError as e:
        raise DownloadError(f"cannot write {target}: {e.strerror or e}") from e
    return target
