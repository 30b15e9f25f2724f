"""The task endpoints: ``GET /v1/tasks`` (a page), ``GET /v1/task/{id}`` (one task)
and ``POST /v1/task/{type}`` (create a Queued task, as the SDK's ``create_task`` does)."""

from __future__ import annotations

import re
import secrets
from typing import Any

import orjson
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response

from tasktui.server import db as dbm
from tasktui.server import idempotency
from tasktui.server.bodies import json_response, parse_json_as, read_body, task_id_of
from tasktui.server.docs import encode, limited, present, present_all
from tasktui.server.errors import BadRequest, Conflict, NotFound
from tasktui.server.idempotency import IdempotencyKey
from tasktui.server.limits import NAME_LENGTH_MAX
from tasktui.server.names import bad_character, check_name, check_tags, is_task_type
from tasktui.server.queries import count_total, encode_token, fetch_page, parse_list_query
from tasktui.server.state import ServerContext
from tasktui.server.times import ms_to_wire, now_ms

_URL_RE = re.compile(r"https?://[^\s/?#]+\S*", re.I)


class TaskRoutes:
    def __init__(self, ctx: ServerContext):
        self.ctx = ctx

    async def list_tasks(self, request: Request) -> Response:
        """GET /v1/tasks"""
        q = parse_list_query(list(request.query_params.multi_items()))
        origin = self.ctx.origin
        ctx = self.ctx

        def work() -> bytes:
            conn = ctx.pool.get()
            with dbm.Tx(conn):
                total = count_total(conn, q)
                rows, more = fetch_page(conn, q, total)
                ids = [r[0] for r in rows]
                instructions = ctx.instructions.get(conn)
                if q.limited_response:
                    out = [limited(present(d, origin, instructions)) for d in dbm.docs_by_ids(conn, ids)]
                else:
                    out = present_all(dbm.doc_texts_by_ids(conn, ids), origin, instructions)
            token = encode_token(rows[-1][1], rows[-1][2], q.order) if more and rows else None
            return encode({"docs": out, "total": total, "limit": q.limit, "offset": 0,
                           "has_more": token is not None, "next_token": token})

        return json_response(await run_in_threadpool(work))

    async def task_or_create(self, request: Request) -> Response:
        """GET (one task) or POST (create one) on /v1/task/{task_id}: one route, so that a
        405 lists every method of the path in Allow."""
        return await (self.get_task if request.method in ("GET", "HEAD") else self.create_task)(request)

    async def get_task(self, request: Request) -> Response:
        """GET /v1/task/{task_id}"""
        task_id = task_id_of(request)
        origin = self.ctx.origin
        ctx = self.ctx

        def work() -> bytes:
            conn = ctx.pool.get()
            _, doc = dbm.load_doc(conn, task_id)
            return orjson.dumps(present(doc, origin, ctx.instructions.get(conn)))

        return json_response(await run_in_threadpool(work))

    async def create_task(self, request: Request) -> Response:
        """POST /v1/task/{type}"""
        ttype = request.path_params["task_id"]
        if not is_task_type(ttype):
            raise NotFound(f"no such route: POST /v1/task/{ttype[:60]}")
        raw = await read_body(request, self.ctx.options.max_body)
        if not raw.strip():
            raise BadRequest("the request body is empty; send a JSON object")
        body = parse_json_as(raw, dict, "the request body must be a JSON object")
        idem = IdempotencyKey.of(request, raw)
        origin = self.ctx.origin
        doc = new_task_doc(ttype, body)
        ctx = self.ctx

        def work() -> bytes:
            conn = ctx.pool.get()
            with dbm.Tx(conn, write=True):
                idempotency.check(conn, idem, ctx.options.idempotency_ttl)
                _check_references(conn, doc)
                dbm.insert_doc(conn, doc)
                out = orjson.dumps(present(doc, origin, ctx.instructions.get(conn)))
                idempotency.record(conn, idem, out)
            return out

        return json_response(await run_in_threadpool(work))


def _check_references(conn, doc: dict[str, Any]) -> None:
    """The project and batch a new task names exist and agree; its unique id is free.
    A task that names only a batch joins the batch's project."""
    if doc.get("project") and not conn.execute("SELECT 1 FROM projects WHERE name=?",
                                               (doc["project"],)).fetchone():
        raise BadRequest(f"project {doc['project']!r} does not exist")
    if doc.get("batch"):
        row = conn.execute("SELECT project FROM batches WHERE name=?", (doc["batch"],)).fetchone()
        if row is None:
            raise BadRequest(f"batch {doc['batch']!r} does not exist")
        if doc.get("project") and row[0] != doc["project"]:
            raise BadRequest(f"batch {doc['batch']!r} belongs to project {row[0]!r}, not {doc['project']!r}")
        doc.setdefault("project", row[0])
    if doc.get("unique_id"):
        other = conn.execute("SELECT task_id FROM tasks WHERE unique_id=?", (doc["unique_id"],)).fetchone()
        if other:
            raise Conflict(f"unique_id {doc['unique_id']!r} is already used by task {other[0]}")


def new_task_doc(ttype: str, body: dict[str, Any]) -> dict[str, Any]:
    """A Queued task from a create-task body (validated; 400 naming the bad field)."""
    t = now_ms()
    tid = f"{t // 1000:08x}{secrets.token_hex(8)}"
    doc: dict[str, Any] = {"task_id": tid, "created_at": ms_to_wire(t), "updated_at": ms_to_wire(t),
                           "type": ttype, "status": "pending", "work_started": False}
    params: dict[str, Any] = {}
    for k, v in body.items():
        if v is None:  # null means unset: omitted, never stored as null
            continue
        if k == "instruction":
            if not isinstance(v, str):
                raise BadRequest("instruction must be a string")
            doc["instruction"] = v
        elif k == "callback_url":
            if not isinstance(v, str) or not _URL_RE.fullmatch(v) or len(v) > 2000 or bad_character(v):
                raise BadRequest("callback_url must be an http:// or https:// URL")
            doc["callback_url"] = v
        elif k == "metadata":
            if not isinstance(v, dict):
                raise BadRequest("metadata must be a JSON object")
            doc["metadata"] = v
        elif k in ("project", "batch", "unique_id"):
            doc[k] = check_name(k, v, NAME_LENGTH_MAX)
        elif k == "tags":
            tags = check_tags(v)
            if tags:
                doc["tags"] = tags
        elif k == "params":
            if not isinstance(v, dict):
                raise BadRequest("params must be a JSON object")
            params.update(v)
        else:
            params[k] = v
    if "attachment" in params and not isinstance(params["attachment"], str):
        raise BadRequest("attachment must be a URL string")
    if params:
        doc["params"] = params
    doc.setdefault("metadata", {})
    return doc
