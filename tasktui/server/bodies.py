"""Requests in and JSON answers out: reading a body under the size cap, parsing it as
JSON of the expected shape and nesting depth, the task id in a path."""

from __future__ import annotations

import re
from typing import Any

import orjson
from starlette.requests import Request
from starlette.responses import Response

from tasktui.domain.wire import TASK_ID_PATTERN
from tasktui.server.errors import JSON, BadRequest, NotFound
from tasktui.server.limits import JSON_DEPTH_MAX

_TASK_ID = re.compile(TASK_ID_PATTERN)


def json_response(body: Any) -> Response:
    return Response(body if isinstance(body, bytes) else orjson.dumps(body), media_type=JSON)


def task_id_of(request: Request) -> str:
    """The task id in the path; 404 when it cannot name a task."""
    task_id = request.path_params["task_id"]
    if not _TASK_ID.fullmatch(task_id):
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


def _too_deep() -> BadRequest:
    return BadRequest(f"the request body is nested more than {JSON_DEPTH_MAX} levels deep; "
                      f"the limit is {JSON_DEPTH_MAX} levels of objects and arrays")


def json_depth(value: Any, limit: int = JSON_DEPTH_MAX) -> int:
    """Nesting depth of a parsed JSON value (a scalar is 0, ``[]`` is 1), counted without
    recursion and only as far as ``limit + 1``."""
    deepest = 0
    stack = [(value, 1)]
    while stack:
        v, d = stack.pop()
        if isinstance(v, dict):
            children = v.values()
        elif isinstance(v, list):
            children = v
        else:
            continue
        deepest = max(deepest, d)
        if d > limit:
            return d
        stack.extend((c, d + 1) for c in children)
    return deepest


def parse_json(raw: bytes) -> Any:
    """The body as JSON (None when empty); a 400 that says why when it is not JSON or is
    nested deeper than ``JSON_DEPTH_MAX`` (a stored task must stay writable by orjson,
    which stops at 254 levels, and readable by every client)."""
    if not raw.strip():
        return None
    try:
        body = orjson.loads(raw)
    except orjson.JSONDecodeError as e:
        if "depth" in str(e):  # orjson's own limit (1,024 levels), far past ours
            raise _too_deep() from None
        raise BadRequest(f"the request body is not valid JSON ({e})") from None
    if json_depth(body) > JSON_DEPTH_MAX:
        raise _too_deep()
    return body


def parse_json_as(raw: bytes, kind: type, error: str) -> Any:
    """The body as JSON of type ``kind`` (dict or list); a 400 with ``error`` otherwise."""
    body = parse_json(raw)
    if not isinstance(body, kind):
        raise BadRequest(error)
    return body
