"""The read-only catalogue around tasks: projects, batches (list, one, status counts),
the media this server generates, and its OpenAPI description."""

from __future__ import annotations

import sqlite3
from typing import Any

import orjson
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response

from tasktui.domain.statuses import OperatorStatus
from tasktui.domain.wire import PAGE_LIMIT_MAX
from tasktui.server import db as dbm
from tasktui.server import media
from tasktui.server.bodies import json_response, task_id_of
from tasktui.server.errors import BadRequest, NotFound
from tasktui.server.openapi import spec
from tasktui.server.queries import parse_bool, parse_int, parse_time
from tasktui.server.state import ServerContext
from tasktui.server.times import wire_to_ms

BATCH_STATUSES = ("staging", "in_progress", "completed")
_OFFSET_MAX = 10**9


def _batch_doc(conn: sqlite3.Connection, name: str) -> dict[str, Any]:
    row = conn.execute("SELECT doc FROM batches WHERE name = ?", (name,)).fetchone()
    if row is None:
        raise NotFound(f"no batch named {name[:200]!r}")
    return orjson.loads(row[0])


class CatalogRoutes:
    def __init__(self, ctx: ServerContext):
        self.ctx = ctx

    async def projects(self, request: Request) -> Response:
        """GET /v1/projects"""
        def work() -> bytes:
            conn = self.ctx.pool.get()
            return orjson.dumps([orjson.loads(d) for (d,) in conn.execute("SELECT doc FROM projects ORDER BY name")])
        return json_response(await run_in_threadpool(work))

    async def batches(self, request: Request) -> Response:
        """GET /v1/batches"""
        qp = request.query_params
        for k in qp.keys():
            if len(qp.getlist(k)) > 1:
                raise BadRequest(f"{k} was given {len(qp.getlist(k))} times; give it once")
        limit = parse_int("limit", qp.get("limit", str(PAGE_LIMIT_MAX)), 1, PAGE_LIMIT_MAX, f"1 to {PAGE_LIMIT_MAX}")
        offset = parse_int("offset", qp.get("offset", "0"), 0, _OFFSET_MAX, "0 or more")
        project = qp.get("project")
        status = qp.get("status")
        if status is not None and status not in BATCH_STATUSES:
            raise BadRequest(f"status={status!r} is not a batch status; use staging, in_progress or completed")
        start = parse_time("start_time", qp["start_time"]) if qp.get("start_time") is not None else None
        end = parse_time("end_time", qp["end_time"]) if qp.get("end_time") is not None else None
        if qp.get("exclude_archived") is not None:
            parse_bool("exclude_archived", qp["exclude_archived"])

        def work() -> bytes:
            conn = self.ctx.pool.get()
            if project is not None:
                rows = conn.execute("SELECT doc FROM batches WHERE project = ? ORDER BY created_at DESC, name",
                                    (project,)).fetchall()
            else:
                rows = conn.execute("SELECT doc FROM batches ORDER BY created_at DESC, name").fetchall()
            docs = [orjson.loads(d) for (d,) in rows]
            if status:
                docs = [d for d in docs if d.get("status") == status]
            if start is not None:
                docs = [d for d in docs if wire_to_ms(d["created_at"]) >= start]
            if end is not None:
                docs = [d for d in docs if wire_to_ms(d["created_at"]) < end]
            page = docs[offset: offset + limit]
            return orjson.dumps({"docs": page, "totalDocs": len(docs), "limit": limit, "offset": offset,
                                 "has_more": offset + len(page) < len(docs)})
        return json_response(await run_in_threadpool(work))

    async def get_batch(self, request: Request) -> Response:
        """GET /v1/batches/{name}"""
        name = request.path_params["name"]

        def work() -> bytes:
            return orjson.dumps(_batch_doc(self.ctx.pool.get(), name))
        return json_response(await run_in_threadpool(work))

    async def batch_status(self, request: Request) -> Response:
        """GET /v1/batches/{name}/status: the batch's status and its tasks per wire status."""
        name = request.path_params["name"]

        def work() -> bytes:
            conn = self.ctx.pool.get()
            doc = _batch_doc(conn, name)
            out: dict[str, Any] = {"status": doc.get("status", "in_progress")}
            for ost, n in conn.execute("SELECT ostatus, SUM(n) FROM counts WHERE batch = ? GROUP BY ostatus", (name,)):
                if not n:
                    continue
                wire = OperatorStatus(ost).wire if ost in OperatorStatus._value2member_map_ else ost
                out[wire] = out.get(wire, 0) + n
            return orjson.dumps(out)
        return json_response(await run_in_threadpool(work))

    async def get_media(self, request: Request) -> Response:
        """GET /v1/media/{task_id}/{name}"""
        task_id = task_id_of(request)
        name = request.path_params["name"]

        def work() -> tuple[bytes, str]:
            _, doc = dbm.load_doc(self.ctx.pool.get(), task_id)
            return media.render(doc, name)
        data, ctype = await run_in_threadpool(work)
        return Response(data, media_type=ctype, headers={"cache-control": "private, max-age=3600"})

    async def openapi(self, request: Request) -> Response:
        """GET /v1/openapi.json"""
        return json_response(spec(self.ctx.origin + "/v1"))
