"""Requests in and JSON answers out: reading a body under the size cap, parsing it as
JSON of the expected shape, the task id in a path, the origin a client reaches us at."""

from __future__ import annotations

import re
from typing import Any

import orjson
from starlette.requests import Request
from starlette.responses import Response

from tasktui.domain.wire import TASK_ID_PATTERN
from tasktui.server.errors import JSON, BadRequest, NotFound

_TASK_ID = re.compile(TASK_ID_PATTERN)


def json_response(body: Any) -> Response:
    return Response(body if isinstance(body, bytes) else orjson.dumps(body), media_type=JSON)


def origin_of(request: Request) -> str:
    return str(request.base_url).rstrip("/")


def task_id_of(request: Request) -> str:
    """The task id in the path; 404 when it cannot name a task."""
    task_id = request.path_params["task_id"]
    if not _TASK_ID.match(task_id):
        raise NotFound(f"no task with id {task_id[:80]!r}")
    return task_id


async def read_body(request: Request, limit: int) -> bytes:
    """The request body; 413 past ``limit`` bytes (whatever Content-Length said)."""
    chunks = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise BadRequest(f"the request body is larger than the limit of {limit} bytes", 413)
        chunks.append(chunk)
    return b"".join(chunks)


def parse_json(raw: bytes) -> Any:
    """The body as JSON (None when empty); a 400 that says why when it is not JSON."""
    if not raw.strip():
        return None
    try:
        return orjson.loads(raw)
    except orjson.JSONDecodeError as e:
        raise BadRequest(f"the request body is not valid JSON ({e})") from None


def parse_json_as(raw: bytes, kind: type, error: str) -> Any:
    """The body as JSON of type ``kind`` (dict or list); a 400 with ``error`` otherwise."""
    body = parse_json(raw)
    if not isinstance(body, kind):
        raise BadRequest(error)
    return body
