"""The HTTP/1.1 protocol the server runs under uvicorn: uvicorn's httptools protocol,
except that a request it cannot parse (a request line over 64 KB, a malformed header,
Content-Length together with chunked encoding, not HTTP at all) is answered in the Scale
error shape ``{"status_code": 400, "error": "..."}`` like every other error, instead of
uvicorn's plain-text "Invalid HTTP request received."

Passed to uvicorn as ``uvicorn.Config(http=ScaleHttpProtocol)`` (see ``runner.uvicorn_config``).
"""

from __future__ import annotations

import sys

import orjson
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

from tasktui.domain.wire import EXTENSIONS_HEADER, extensions_header


def bad_request_bytes(detail: str | None) -> bytes:
    """A complete ``400`` answer (status line, headers, JSON body) that closes the connection."""
    why = f" ({detail[:200]})" if detail else ""
    body = orjson.dumps({"status_code": 400, "error": (
        f"the request is not valid HTTP/1.1{why}; the request line may be at most 64 KB long, "
        "and nothing was applied")})
    head = [b"HTTP/1.1 400 Bad Request", b"content-type: application/json",
            b"content-length: " + str(len(body)).encode(), b"connection: close",
            EXTENSIONS_HEADER.encode() + b": " + extensions_header().encode()]
    return b"\r\n".join(head) + b"\r\n\r\n" + body


class ScaleHttpProtocol(HttpToolsProtocol):
    def send_400_response(self, msg: str) -> None:
        # called by uvicorn from inside its ``except HttpParserError`` block: the parser's
        # own words say what was wrong
        exc = sys.exc_info()[1]
        self.transport.write(bad_request_bytes(str(exc) if exc is not None else None))
        self.transport.close()
