"""The output format of an export: ExportFormat (JSON array or NDJSON), how task
documents are framed as its records, and :func:`terminal_safe`.

Task text is data: JSON escapes C0 controls, and the output also escapes C1 controls
(which some terminals obey as escape sequences), bidirectional overrides and
U+2028/U+2029 as ``\\uXXXX`` — the same JSON, but ``cat`` of an export or an export to a
terminal cannot drive the terminal, reorder text or split a line. The JSON array stays
valid at every page boundary: the separator is written *before* each record and the
closing bracket only at the end.
"""

from __future__ import annotations

import json
import os
from enum import StrEnum
from typing import Any, Sequence

import orjson

from tasktui.domain import Task
from tasktui.domain.text import json_escape_unsafe_utf8

__all__ = ["ExportFormat", "terminal_safe"]


class ExportFormat(StrEnum):
    JSON = "json"  # one JSON array, one task per line inside it
    NDJSON = "ndjson"  # one task per line, nothing else

    @property
    def suffix(self) -> str:
        return ".json" if self is ExportFormat.JSON else ".ndjson"

    @property
    def label(self) -> str:
        return "JSON array" if self is ExportFormat.JSON else "NDJSON (one task per line)"

    @classmethod
    def parse(cls, text: str) -> "ExportFormat":
        key = text.strip().lower()
        if key in ("json", "array"):
            return cls.JSON
        if key in ("ndjson", "jsonl", "jsonlines", "json-lines"):
            return cls.NDJSON
        raise ValueError(f"unknown format {text!r}; choose json or ndjson")

    @classmethod
    def for_path(cls, path: str | os.PathLike[str] | None) -> "ExportFormat | None":
        """The format a file name suggests (``.ndjson`` / ``.jsonl`` / ``.json``), if any."""
        if path is None:
            return None
        name = str(path).lower()
        if name.endswith((".ndjson", ".jsonl")):
            return cls.NDJSON
        if name.endswith(".json"):
            return cls.JSON
        return None

    @property
    def opening(self) -> bytes:
        """What the output starts with, before any record."""
        return _JSON_OPEN if self is ExportFormat.JSON else b""

    def closing(self, empty: bool) -> bytes:
        """What the output ends with, after the last record (``empty``: there is none)."""
        if self is ExportFormat.NDJSON:
            return b""
        return _JSON_CLOSE_EMPTY if empty else _JSON_CLOSE

    def frame(self, docs: Sequence[Any], after_records: bool) -> bytes:
        """``docs`` (wire documents, or tasks: the JSON text a task came as is copied
        as it is) as this format's records, one per line, terminal safe;
        ``after_records``: the output already holds records (a JSON array then needs a
        separator first)."""
        if not docs:
            return b""
        sep = b"\n" if self is ExportFormat.NDJSON else _JSON_SEP
        texts = list(map(_text, docs))
        flat = b"".join(texts)
        if b"\n" in flat or b"\r" in flat:
            # a server that indents: a text as received spans lines. A line break (or a
            # tab) in well-formed JSON can only be whitespace between tokens — inside a
            # string it would be escaped — and JSON never needs whitespace: drop them.
            texts = [bytes(t).translate(None, b"\r\n\t") for t in texts]
        if self is ExportFormat.NDJSON:
            texts.append(b"")  # each line ends with a newline
        elif after_records:
            texts.insert(0, b"")  # a separator after the records already written
        return terminal_safe(sep.join(texts))


_JSON_OPEN = b"[\n"
_JSON_SEP = b",\n"
_JSON_CLOSE = b"\n]\n"
_JSON_CLOSE_EMPTY = b"]\n"


def terminal_safe(data: bytes) -> bytes:
    """JSON text with the characters a terminal may act on written as ``\\uXXXX``
    escapes (an equivalent JSON document): the hostile-text policy of ``domain.text``."""
    return json_escape_unsafe_utf8(data)


def _text(doc: Any) -> Any:
    """A record's JSON text: a task's as received while it is unparsed (a buffer)."""
    if isinstance(doc, Task):
        text = doc.json_text()
        return text if text is not None else _dumps(doc.raw)
    return _dumps(doc)


def _dumps(doc: Any) -> bytes:
    try:
        return orjson.dumps(doc)
    except (orjson.JSONEncodeError, TypeError):
        # integers beyond 64 bits and other things orjson refuses: the stdlib copes
        return json.dumps(doc, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
