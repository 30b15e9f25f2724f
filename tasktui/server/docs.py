"""Stored task documents: the index columns derived from them and the wire form
served to clients (stored document -> wire document).

A stored document is the wire document plus internal keys starting with ``_``
(``_seed``: the demo content seed; ``_lazy``: the response is generated from the seed
when served, so that seeding a million tasks does not store a million responses).
Attachments of media this server generates are stored as paths (``/v1/media/...``)
and served as absolute URLs built from the request's own origin.
"""

from __future__ import annotations

from typing import Any

import msgspec
import orjson

from tasktui.domain.statuses import audit_status_of, operator_status_of
from tasktui.server.times import ms_to_wire, now_ms, wire_to_ms


def index_row(doc: dict[str, Any]) -> tuple:
    """(task_id, created_at, updated_at, completed_at, ostatus, review, project, batch, type, unique_id)."""
    ostatus = operator_status_of(doc)
    audit = audit_status_of(doc)
    return (
        doc["task_id"],
        wire_to_ms(doc["created_at"]),
        wire_to_ms(doc.get("updated_at") or doc["created_at"]),
        wire_to_ms(doc.get("completed_at")),
        ostatus.value if ostatus else str(doc.get("status")),
        audit.value if audit else "",
        doc.get("project") or "",
        doc.get("batch") or "",
        doc.get("type") or "",
        doc.get("unique_id"),
    )


def materialize(doc: dict[str, Any]) -> dict[str, Any]:
    """Replace lazily generated parts with their values, in the public form (before a
    write stores the doc)."""
    lazy = doc.pop("_lazy", None)
    public_form(doc)
    if not lazy:
        return doc
    # the demo content (tables of projects and answers) only where a lazy document is
    # served: the local index, which imports this module for index_row, never needs it
    from tasktui.server.content import PROJECT_BY_NAME, fixed_response, response_for

    project = PROJECT_BY_NAME.get(doc.get("project") or "")
    seed = doc.get("_seed")
    if project is None or seed is None:
        return doc
    if "response" in lazy and "response" not in doc:
        doc["response"] = response_for(project, seed) if "fixed" not in lazy else fixed_response(project, seed)
    if "prior" in lazy and "prior_responses" not in doc:
        doc["prior_responses"] = [response_for(project, seed)]
    return doc


def public_form(doc: dict[str, Any]) -> dict[str, Any]:
    """A stored document with only the fields the real API sends, in the places it sends
    them. Databases written by earlier versions held a ``redo`` flag (Redo is a pending
    task with ``customer_review_status: rejected``), the error of a failed task at the top
    level (Scale keeps it in the response) and no review status on completed tasks awaiting
    review (Scale says ``pending``)."""
    doc.pop("redo", None)
    err = doc.pop("error", None)
    if isinstance(err, str) and doc.get("status") == "error" and "response" not in doc:
        doc["response"] = {"error": err}
    if doc.get("status") == "completed" and not doc.get("customer_review_status"):
        doc["customer_review_status"] = "pending"
    return doc


def present(doc: dict[str, Any], origin: str, instructions: dict[str, str]) -> dict[str, Any]:
    """The wire form of a stored document, for a client reaching us at ``origin``."""
    out = dict(doc)
    if "_lazy" in out:
        out = materialize(out)
    out.pop("_seed", None)
    public_form(out)
    if "instruction" not in out:
        instr = instructions.get(out.get("project") or "")
        if instr:
            out["instruction"] = instr
    params = out.get("params")
    if isinstance(params, dict):
        att = params.get("attachment")
        if isinstance(att, str) and att.startswith("/"):
            out["params"] = {**params, "attachment": origin + att}
    return out


_Raw = msgspec.Raw
_split_top = msgspec.json.Decoder(dict[str, _Raw]).decode
_COMPLETED = b'"completed"'
_ATTACHMENT_PATH = b'"attachment":"/'
_ATTACHMENT_FIRST = b'{' + _ATTACHMENT_PATH


def present_all(stored: list[bytes], origin: str, instructions: dict[str, str]) -> list[Any]:
    """``present`` over stored documents (their JSON bytes) for a page, as values that
    ``encode`` turns into the same bytes as ``orjson.dumps`` of ``present``'s documents
    — without parsing the parts ``present`` leaves alone: a document's top level is
    split into the JSON text of each value (``msgspec.Raw``), copied as it is."""
    out: list[Any] = []
    instruction_text: dict[bytes, _Raw | None] = {}
    origin_text = orjson.dumps(origin)[1:-1]
    for blob in stored:
        try:
            top = _split_top(blob)
        except msgspec.DecodeError:
            top = None
        # lazy parts, an old database's fields, a completed task without its review
        # status: the whole treatment (the keys only ``present`` handles)
        if top is None or "_lazy" in top or "redo" in top or "error" in top or (
                bytes(top.get("status", b"")) == _COMPLETED and not _nonempty_string(top.get("customer_review_status"))):
            out.append(_Raw(orjson.dumps(present(orjson.loads(blob), origin, instructions))))
            continue
        top.pop("_seed", None)
        if "instruction" not in top:
            project = bytes(top.get("project", b"null"))
            if project not in instruction_text:
                name = orjson.loads(project) or ""
                text = instructions.get(name) if isinstance(name, str) else None
                instruction_text[project] = _Raw(orjson.dumps(text)) if text else None
            instr = instruction_text[project]
            if instr is not None:
                top["instruction"] = instr
        params = top.get("params")
        params_text = b"" if params is None else bytes(params)
        if params_text.startswith(_ATTACHMENT_FIRST):
            # the first key of params is an attachment path: JSON escapes each character
            # on its own, so the URL's text is the origin's followed by the path's
            top["params"] = _Raw(_ATTACHMENT_FIRST[:-1] + origin_text + params_text[len(_ATTACHMENT_FIRST) - 1:])
        elif _ATTACHMENT_PATH in params_text:
            values = orjson.loads(params_text)
            att = values.get("attachment") if isinstance(values, dict) else None
            if isinstance(att, str) and att.startswith("/"):
                top["params"] = _Raw(orjson.dumps({**values, "attachment": origin + att}))
        out.append(top)
    return out


def _nonempty_string(text: _Raw | None) -> bool:
    """Whether a JSON value's text is a string other than ``""``."""
    if text is None:
        return False
    b = bytes(text)
    return b[:1] == b'"' and b != b'""'


#: JSON bytes of values holding ``present_all``'s (``msgspec.Raw`` is copied as it is)
encode = msgspec.json.Encoder().encode


def limited(doc: dict[str, Any]) -> dict[str, Any]:
    """``limited_response=true``: the fields the real API keeps."""
    return {k: doc[k] for k in ("task_id", "status", "metadata", "project") if k in doc}


def touch(doc: dict[str, Any]) -> int:
    """Set ``updated_at`` to now; returns now in milliseconds."""
    t = now_ms()
    doc["updated_at"] = ms_to_wire(t)
    return t
