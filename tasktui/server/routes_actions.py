"""The write endpoints on one task: cancel, audit (accept, reject, fix), unique id,
metadata and tags.

Each endpoint validates its body, then hands a change to ``mutate``: one read-modify-write
of the task in a ``BEGIN IMMEDIATE`` transaction, with the idempotency check, and the
callback fired once the change is stored. The changes are plain functions of the
stored document.
"""

from __future__ import annotations

import sqlite3
from functools import partial
from typing import Any, Callable

import orjson
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response

from tasktui.domain.task import Task
from tasktui.server import db as dbm
from tasktui.server import idempotency
from tasktui.server.bodies import json_response, parse_json_as, read_body, task_id_of
from tasktui.server.docs import materialize, present, touch
from tasktui.server.errors import BadRequest, Conflict
from tasktui.server.idempotency import IdempotencyKey
from tasktui.server.limits import NAME_LENGTH_MAX, TASK_BYTES_MAX
from tasktui.server.names import TAGS_SHAPE, check_name, check_tag_count, check_tags
from tasktui.server.queries import parse_bool
from tasktui.server.state import ServerContext
from tasktui.server.times import ms_to_wire, now_ms

#: Edits a stored document in place; returns the callback event to fire
#: ("completed", "error") or None.
Change = Callable[[dict[str, Any], sqlite3.Connection], "str | None"]

_AUDIT_BODY = 'the audit body must be a JSON object such as {"accepted": true, "comments": "..."}'
_UNIQUE_ID_BODY = (f"unique_id must be a non-empty string (up to {NAME_LENGTH_MAX} characters), "
                   'sent as {"unique_id": "..."}')


class ActionRoutes:
    def __init__(self, ctx: ServerContext):
        self.ctx = ctx

    async def _body(self, request: Request) -> bytes:
        return await read_body(request, self.ctx.options.max_body)

    async def mutate(self, request: Request, raw: bytes, change: Change) -> Response:
        """Read-modify-write the task of the path with ``change``; ``raw`` is the request
        body (part of the idempotency fingerprint)."""
        task_id = task_id_of(request)
        origin = self.ctx.origin
        idem = IdempotencyKey.of(request, raw)
        ctx = self.ctx

        def work() -> tuple[bytes, dict[str, Any], str | None]:
            conn = ctx.pool.get()
            with dbm.Tx(conn, write=True):
                idempotency.check(conn, idem, ctx.options.idempotency_ttl)
                rid, doc = dbm.load_doc(conn, task_id)
                doc = materialize(doc)
                event = change(doc, conn)
                touch(doc)
                size = len(orjson.dumps(doc))
                if size > TASK_BYTES_MAX:
                    raise BadRequest(f"the task would grow to {size:,} bytes; the limit is {TASK_BYTES_MAX:,} bytes "
                                     "per task")
                dbm.store_doc(conn, rid, doc)
                shown = present(doc, origin, ctx.instructions.get(conn))
                out = orjson.dumps(shown)
                idempotency.record(conn, idem, out)
            return out, shown, event

        out, shown, event = await run_in_threadpool(work)
        if event and shown.get("callback_url") and ctx.callbacks is not None:
            ctx.callbacks.fire(shown, event)
        return json_response(out)

    async def cancel(self, request: Request) -> Response:
        """POST /v1/task/{task_id}/cancel"""
        raw = await self._body(request)
        clear = request.query_params.get("clear_unique_id")
        clear_uid = parse_bool("clear_unique_id", clear) if clear is not None else False
        return await self.mutate(request, raw, partial(change_cancel, clear_uid=clear_uid))

    async def audit(self, request: Request) -> Response:
        """POST /v1/task/{task_id}/audit: accept, reject, or fix (a corrected response)."""
        raw = await self._body(request)
        body = parse_json_as(raw, dict, _AUDIT_BODY)
        accepted = body.get("accepted")
        comments = body.get("comments")
        fix = "response" in body
        response = body.get("response")
        if fix and not isinstance(response, dict):
            raise BadRequest("response must be a JSON object (the corrected response)")
        if fix and accepted is False:
            raise BadRequest("accepted is false but a response was given: a fix cannot also reject")
        if not fix and not isinstance(accepted, bool):
            raise BadRequest("accepted must be true or false")
        if comments is not None and not isinstance(comments, str):
            raise BadRequest("comments must be a string or null")
        if comments is not None and len(comments) > 10_000:
            raise BadRequest("comments is longer than 10,000 characters")
        result = "fixed" if fix else ("accepted" if accepted else "rejected")
        return await self.mutate(request, raw, partial(change_audit, result=result, response=response, comments=comments))

    async def unique_id(self, request: Request) -> Response:
        """POST (set) / DELETE (clear) /v1/task/{task_id}/unique_id"""
        raw = await self._body(request)
        if request.method == "DELETE":
            return await self.mutate(request, raw, partial(change_unique_id, uid=None))
        body = parse_json_as(raw, dict, _UNIQUE_ID_BODY)
        uid = body.get("unique_id")
        if not isinstance(uid, str):
            raise BadRequest(_UNIQUE_ID_BODY)
        check_name("unique_id", uid, NAME_LENGTH_MAX)
        return await self.mutate(request, raw, partial(change_unique_id, uid=uid))

    async def set_metadata(self, request: Request) -> Response:
        """POST /v1/task/{task_id}/setMetadata"""
        raw = await self._body(request)
        body = parse_json_as(raw, dict, "metadata must be a JSON object")
        return await self.mutate(request, raw, partial(change_metadata, metadata=body))

    async def tags(self, request: Request) -> Response:
        """POST (set) / PUT (add) / DELETE (remove) /v1/task/{task_id}/tags"""
        raw = await self._body(request)
        body = check_tags(parse_json_as(raw, list, TAGS_SHAPE))
        return await self.mutate(request, raw, partial(change_tags, method=request.method, tags=body))


# -- the changes ------------------------------------------------------------------

def change_cancel(doc: dict[str, Any], conn: sqlite3.Connection, *, clear_uid: bool) -> None:
    ok, why = Task(doc).can_cancel()
    if not ok:
        raise BadRequest(f"cannot cancel: {why}")
    doc["status"] = "canceled"
    doc["work_started"] = False
    if clear_uid:
        doc.pop("unique_id", None)


def change_audit(doc: dict[str, Any], conn: sqlite3.Connection, *, result: str, response: dict | None,
          comments: str | None) -> str:
    """Record a customer audit ("accepted", "rejected" or "fixed" with ``response``)."""
    ok, why = Task(doc).can_audit()
    if not ok:
        raise BadRequest(f"cannot audit: {why}")
    if result == "fixed":
        prior = doc.get("prior_responses")
        prior = list(prior) if isinstance(prior, list) else []
        if "response" in doc:
            prior.append(doc["response"])
        doc["prior_responses"] = prior
        doc["response"] = response
    doc["customer_review_status"] = result
    audits = doc.get("audits") if isinstance(doc.get("audits"), list) else []
    doc["audits"] = [*audits, {"audited_by": "customer", "audited_at": ms_to_wire(now_ms()), "audit_time_secs": 0,
                               "audit_result": result, "audit_source": "customer"}]
    if comments:
        doc["customer_review_comments"] = [*(doc.get("customer_review_comments") or []), comments]
    return "completed"


def change_unique_id(doc: dict[str, Any], conn: sqlite3.Connection, *, uid: str | None) -> None:
    """Set the unique id (409 when another task holds it), or clear it (``uid`` None)."""
    if uid is None:
        doc.pop("unique_id", None)
        return
    other = conn.execute("SELECT task_id FROM tasks WHERE unique_id = ?", (uid,)).fetchone()
    if other and other[0] != doc["task_id"]:
        raise Conflict(f"unique_id {uid!r} is already used by task {other[0]}")
    doc["unique_id"] = uid


def change_metadata(doc: dict[str, Any], conn: sqlite3.Connection, *, metadata: dict[str, Any]) -> None:
    doc["metadata"] = metadata


def change_tags(doc: dict[str, Any], conn: sqlite3.Connection, *, method: str, tags: list[str]) -> None:
    """POST replaces the tags, PUT adds to them, DELETE removes from them."""
    cur = list(doc.get("tags") or [])
    if method == "POST":
        new = list(dict.fromkeys(tags))
    elif method == "PUT":
        new = list(dict.fromkeys([*cur, *tags]))
    else:
        new = [t for t in cur if t not in set(tags)]
    check_tag_count(len(new))
    if new:
        doc["tags"] = new
    else:
        doc.pop("tags", None)
