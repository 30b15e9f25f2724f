"""The catalogue around tasks: projects (list, one, task template), batches (list, one,
status counts, create, finalize, metadata), the media this server generates, and its
OpenAPI description. Answers have the shapes the official SDK reads."""

from __future__ import annotations

import hashlib
import sqlite3
from typing import Any
from urllib.parse import unquote_to_bytes

import orjson
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response

from tasktui.domain.statuses import OperatorStatus
from tasktui.domain.wire import PAGE_LIMIT_MAX
from tasktui.server import db as dbm
from tasktui.server import media
from tasktui.server.bodies import json_response, parse_json_as, read_body, task_id_of
from tasktui.server.errors import BadRequest, NotFound
from tasktui.server.limits import NAME_LENGTH_MAX
from tasktui.server.names import check_name
from tasktui.server.openapi import spec
from tasktui.server.queries import parse_bool, parse_int, parse_time
from tasktui.server.state import ServerContext
from tasktui.server.times import ms_to_wire, now_ms, wire_to_ms

BATCH_STATUSES = ("staging", "in_progress", "completed")
_OFFSET_MAX = 10**9
#: Project types that have task templates on Scale (the SDK's ``get_project_template``).
TEMPLATE_TYPES = ("textcollection", "chat")
_NEW_BATCH = ('the batch body must be a JSON object such as {"project": "...", "name": "...", '
              '"callback": "", "metadata": {}}')


def _project_doc(conn: sqlite3.Connection, name: str) -> dict[str, Any]:
    row = conn.execute("SELECT doc FROM projects WHERE name = ?", (name,)).fetchone()
    if row is None:
        raise NotFound(f"no project named {name[:200]!r}")
    return orjson.loads(row[0])


def task_template(project: dict[str, Any]) -> dict[str, Any]:
    """The task template of a textcollection or chat project: the project's parameters
    as template variables, versioned with the project (deterministic)."""
    history = project.get("param_history") or [{}]
    latest = history[-1]
    return {"id": "tmpl_" + hashlib.sha256(project["name"].encode()).hexdigest()[:20],
            "version": int(latest.get("version", 0)) + 1,
            "created_at": project.get("created_at"),
            "updated_at": latest.get("created_at") or project.get("created_at"),
            "template_variables": dict(project.get("params") or {})}


def _batch_doc(conn: sqlite3.Connection, name: str) -> dict[str, Any]:
    row = conn.execute("SELECT doc FROM batches WHERE name = ?", (name,)).fetchone()
    if row is None:
        raise NotFound(f"no batch named {name[:200]!r}")
    return orjson.loads(row[0])


def path_segments(request: Request) -> list[str]:
    """The segments of the request's path, each percent-decoded on its own, so that a
    name holding ``/`` (sent as ``%2F``, as the SDK quotes names) stays one segment."""
    raw = request.scope.get("raw_path") or request.url.path.encode()
    try:
        return [unquote_to_bytes(seg).decode("utf-8") for seg in raw.split(b"?", 1)[0].split(b"/")]
    except UnicodeDecodeError:
        raise NotFound(f"no such route: {request.method} {request.url.path[:200]}") from None


async def _dispatch(request: Request, collection: str, table: dict[str | None, dict[str, Any]]) -> Response:
    """Route ``/v1/{collection}/{name}[/{action}]`` by the raw path's segments."""
    parts = path_segments(request)[3:]
    action = parts[1] if len(parts) == 2 else None
    methods = table.get(action) if 1 <= len(parts) <= 2 and parts[0] else None
    if methods is None:
        raise NotFound(f"no such route: {request.method} {request.url.path[:200]}")
    handler = methods.get("GET" if request.method == "HEAD" else request.method)
    if handler is None:
        raise HTTPException(405, headers={"Allow": ", ".join(methods)})
    return await handler(request, parts[0])


class CatalogRoutes:
    def __init__(self, ctx: ServerContext):
        self.ctx = ctx

    async def projects(self, request: Request) -> Response:
        """GET /v1/projects"""
        def work() -> bytes:
            conn = self.ctx.pool.get()
            return orjson.dumps([orjson.loads(d) for (d,) in conn.execute("SELECT doc FROM projects ORDER BY name")])
        return json_response(await run_in_threadpool(work))

    async def project_item(self, request: Request) -> Response:
        """/v1/projects/{name}[/taskTemplates]"""
        return await _dispatch(request, "projects", {
            None: {"GET": self.get_project}, "taskTemplates": {"GET": self.project_template}})

    async def batch_item(self, request: Request) -> Response:
        """/v1/batches/{name}[/status | /finalize | /setMetadata]"""
        return await _dispatch(request, "batches", {
            None: {"GET": self.get_batch}, "status": {"GET": self.batch_status},
            "finalize": {"POST": self.finalize_batch}, "setMetadata": {"POST": self.set_batch_metadata}})

    async def get_project(self, request: Request, name: str) -> Response:
        """GET /v1/projects/{name}"""
        def work() -> bytes:
            return orjson.dumps(_project_doc(self.ctx.pool.get(), name))
        return json_response(await run_in_threadpool(work))

    async def project_template(self, request: Request, name: str) -> Response:
        """GET /v1/projects/{name}/taskTemplates"""

        def work() -> bytes:
            project = _project_doc(self.ctx.pool.get(), name)
            if project.get("type") not in TEMPLATE_TYPES:
                raise BadRequest(f"project {name[:200]!r} is of type {project.get('type')}; task templates exist "
                                 f"only for {' and '.join(TEMPLATE_TYPES)} projects")
            return orjson.dumps(task_template(project))
        return json_response(await run_in_threadpool(work))

    async def batches(self, request: Request) -> Response:
        """GET (list) or POST (create) /v1/batches"""
        if request.method == "POST":
            return await self.create_batch(request)
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

    async def get_batch(self, request: Request, name: str) -> Response:
        """GET /v1/batches/{name}"""

        def work() -> bytes:
            return orjson.dumps(_batch_doc(self.ctx.pool.get(), name))
        return json_response(await run_in_threadpool(work))

    async def create_batch(self, request: Request) -> Response:
        """POST /v1/batches: a new batch of a project, in status ``staging``."""
        body = parse_json_as(await read_body(request, self.ctx.options.max_body), dict, _NEW_BATCH)
        project = check_name("project", body.get("project"), NAME_LENGTH_MAX)
        name = check_name("name", body.get("name"), NAME_LENGTH_MAX)
        metadata = body.get("metadata") if body.get("metadata") is not None else {}
        if not isinstance(metadata, dict):
            raise BadRequest("metadata must be a JSON object")
        callback = body.get("callback") or ""
        if not isinstance(callback, str) or len(callback) > 2000:
            raise BadRequest("callback must be an email address or a URL (a string)")
        for flag in ("calibration_batch", "self_label_batch"):
            if body.get(flag) is not None and not isinstance(body[flag], bool):
                raise BadRequest(f"{flag} must be true or false")
        doc: dict[str, Any] = {"name": name, "project": project, "created_at": ms_to_wire(now_ms()),
                               "status": "staging", "metadata": metadata}
        if callback:
            doc["callback"] = callback

        def work() -> bytes:
            conn = self.ctx.pool.get()
            with dbm.Tx(conn, write=True):
                if not conn.execute("SELECT 1 FROM projects WHERE name = ?", (project,)).fetchone():
                    raise BadRequest(f"project {project[:200]!r} does not exist")
                if conn.execute("SELECT 1 FROM batches WHERE name = ?", (name,)).fetchone():
                    raise BadRequest(f"a batch named {name[:200]!r} already exists; batch names are unique")
                out = orjson.dumps(doc)
                conn.execute("INSERT INTO batches VALUES (?,?,?,?)", (name, project, doc["created_at"], out))
            return out
        return json_response(await run_in_threadpool(work))

    async def _change_batch(self, name: str, change) -> Response:
        def work() -> bytes:
            conn = self.ctx.pool.get()
            with dbm.Tx(conn, write=True):
                doc = _batch_doc(conn, name)
                change(doc)
                out = orjson.dumps(doc)
                conn.execute("UPDATE batches SET doc = ? WHERE name = ?", (out, name))
            return out
        return json_response(await run_in_threadpool(work))

    async def finalize_batch(self, request: Request, name: str) -> Response:
        """POST /v1/batches/{name}/finalize: a staging batch goes in progress (once)."""
        await read_body(request, self.ctx.options.max_body)

        def change(doc: dict[str, Any]) -> None:
            if doc.get("status", "staging") == "staging":
                doc["status"] = "in_progress"
        return await self._change_batch(name, change)

    async def set_batch_metadata(self, request: Request, name: str) -> Response:
        """POST /v1/batches/{name}/setMetadata: replace the batch's metadata."""
        metadata = parse_json_as(await read_body(request, self.ctx.options.max_body), dict,
                                 "metadata must be a JSON object")

        def change(doc: dict[str, Any]) -> None:
            doc["metadata"] = metadata
        return await self._change_batch(name, change)

    async def batch_status(self, request: Request, name: str) -> Response:
        """GET /v1/batches/{name}/status: the batch's status and its tasks per wire status."""

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
