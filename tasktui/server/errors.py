"""The server's refusals: exceptions that carry an HTTP status and a sentence naming
what is wrong, and the one error body ``{"status_code": N, "error": "..."}``."""

from __future__ import annotations

from typing import TYPE_CHECKING

import orjson

from tasktui.domain.wire import EXTENSIONS_HEADER, extensions_header

if TYPE_CHECKING:  # Starlette only when an answer is made: the index (``tasktui sync``)
    from starlette.responses import Response  # shares the database code, not the HTTP side

JSON = "application/json"


class BadRequest(Exception):
    """A 4xx with a message naming the parameter at fault."""

    def __init__(self, message: str, status: int = 400):
        super().__init__(message)
        self.message = message
        self.status = status


class NotFound(BadRequest):
    def __init__(self, message: str):
        super().__init__(message, 404)


class Conflict(BadRequest):
    def __init__(self, message: str):
        super().__init__(message, 409)


def error_response(status: int, message: str, headers: dict[str, str] | None = None) -> "Response":
    """The error body. It carries the extensions header itself because a 500 is sent
    from outside the middleware that adds it to every other answer."""
    from starlette.responses import Response

    h = {EXTENSIONS_HEADER: extensions_header()}
    if headers:
        h.update(headers)
    return Response(orjson.dumps({"status_code": status, "error": message}), status_code=status,
                    media_type=JSON, headers=h)
