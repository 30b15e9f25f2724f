"""Reading a page of a task listing without building its tasks.

A listing's answer is mostly task documents. Parsing each one into Python objects costs
more than everything else an export or a sync does with it, and an export only copies
it to a file. So a page is read with msgspec into its envelope and each document's JSON
text (``msgspec.Raw``, a view into the answer), checked to be one well-formed object
with a ``task_id`` and a ``status``; a task then keeps that text and parses it when
something first reads a field (``Task.from_json``).

Anything this fast path does not take (not UTF-8, not the expected shape, a document
without an id) is read again the plain way, which says precisely what is wrong.
"""

from __future__ import annotations

from typing import Any

import msgspec
import orjson

from tasktui.domain import Task
from tasktui.domain.task import parse_json_object


class _Envelope(msgspec.Struct):
    """The fields of a listing's answer the client reads; any others are ignored."""

    docs: list[msgspec.Raw]
    total: Any = None
    next_token: Any = None
    has_more: Any = msgspec.UNSET


class _Head(msgspec.Struct):
    """What every task must have (the rest of the document is skipped, not parsed)."""

    task_id: Any = None
    status: Any = None


_decode_envelope = msgspec.json.Decoder(_Envelope).decode
_decode_head = msgspec.json.Decoder(_Head).decode


class RawListing:
    """A listing's answer read by ``decode_listing``: the envelope as values, each task
    document still as its JSON text."""

    __slots__ = ("envelope", "text")

    def __init__(self, envelope: _Envelope, text: bytes):
        self.envelope = envelope
        self.text = text

    def get(self, key: str, default: Any = None) -> Any:
        """The envelope's field as ``dict.get`` would give it from the parsed answer."""
        v = getattr(self.envelope, key, default)
        return default if v is msgspec.UNSET else v

    def tasks(self) -> list[Task] | None:
        """The tasks, unparsed; None when a document is not an object with a non-empty
        string ``task_id`` and a string ``status`` (read the answer the plain way then,
        for the precise complaint)."""
        out: list[Task] = []
        for doc in self.envelope.docs:
            try:
                head = _decode_head(doc)
            except msgspec.DecodeError:  # ValidationError too: not an object
                return None
            tid = head.task_id
            if type(tid) is not str or not tid or type(head.status) is not str:
                return None
            out.append(Task.from_json(doc, tid))
        return out

    def parsed(self) -> dict[str, Any]:
        """The whole answer as objects (the plain way). It is well-formed (msgspec read it)
        but may hold what orjson refuses, a number beyond a double's range: the task's
        own reader (orjson, then the stdlib) takes it."""
        return parse_json_object(self.text)[0]


def decode_listing(text: bytes) -> Any:
    """A listing's answer (``Transport.send(decode=...)``): a ``RawListing`` when it has
    the expected shape, else the parsed JSON as ``orjson.loads`` gives it (which raises
    a ValueError for text that is not JSON)."""
    try:
        envelope = _decode_envelope(text)
        for doc in envelope.docs:
            # msgspec skips over strings without checking their encoding; a document at a
            # time (a whole page as one str costs several times more: it widens all of it)
            str(memoryview(doc), "utf-8")
    except (msgspec.DecodeError, UnicodeDecodeError):
        return orjson.loads(text)
    return RawListing(envelope, text)
