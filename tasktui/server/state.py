"""What one running server holds (``ServerContext``) and the middleware that guards
every request (``Guard``: one copy of each single-valued header, the query-parameter
cap, Basic auth by API key, a per-key rate limit, the body size cap, the extensions
header on every answer, and the server's own origin in place of the client's Host)."""

from __future__ import annotations

import base64
import binascii
import hashlib
import math
import secrets
import time

from tasktui.domain.wire import EXTENSIONS_HEADER, extensions_header
from tasktui.server import db as dbm
from tasktui.server.callbacks import Dispatcher
from tasktui.server.errors import error_response
from tasktui.server.limits import QUERY_PARAMS_MAX
from tasktui.server.options import ServerOptions


class ApiKeys:
    """The API keys the server accepts, kept as digests and compared in constant time."""

    def __init__(self, keys: list[str]):
        if not keys:
            raise ValueError("at least one API key is needed")
        self._digests = [hashlib.sha256(k.encode()).digest() for k in keys]

    def match(self, header: str | None) -> bytes | None:
        """The digest of the API key in an Authorization header, or None."""
        if not header:
            return None
        scheme, _, value = header.partition(" ")
        if scheme.lower() != "basic":
            return None
        try:
            user = base64.b64decode(value.strip(), validate=True).decode("utf-8").partition(":")[0]
        except (binascii.Error, UnicodeDecodeError, ValueError):
            return None
        d = hashlib.sha256(user.encode()).digest()
        ok = False
        for k in self._digests:
            ok |= secrets.compare_digest(d, k)
        return d if ok else None


class RateLimiter:
    """A token bucket per API key; ``rate`` requests per second, 0 = off."""

    def __init__(self, rate: float):
        self.rate = rate
        self._buckets: dict[bytes, list[float]] = {}

    def wait(self, key: bytes) -> float:
        """0 when the request may proceed, else seconds to wait."""
        rate = self.rate
        if rate <= 0:
            return 0.0
        now = time.monotonic()
        b = self._buckets.get(key)
        cap = max(1.0, rate)
        if b is None:
            b = self._buckets[key] = [cap, now]
        tokens = min(cap, b[0] + (now - b[1]) * rate)
        b[1] = now
        if tokens >= 1:
            b[0] = tokens - 1
            return 0.0
        b[0] = tokens
        return (1 - tokens) / rate


class ServerContext:
    """Everything one running server holds: its options, database pool, keys, rate
    limiter, the projects' instructions, its own origin (the base of every URL it
    writes; set once its socket is bound), and (once started) the callback dispatcher."""

    def __init__(self, db_path: str, api_keys: list[str], options: ServerOptions):
        self.keys = ApiKeys(api_keys)
        self.options = options
        if not options.callback_auth:
            options.callback_auth = secrets.token_urlsafe(24)
        self.pool = dbm.ConnectionPool(db_path)
        self.limiter = RateLimiter(options.rate_limit)
        self.instructions = dbm.InstructionCache()
        self.origin = "http://127.0.0.1"
        self.callbacks: Dispatcher | None = None  # set while the app runs (lifespan)


#: Headers a request may carry once: two copies make it ambiguous (which key, which
#: length, which body type), so it is refused rather than one copy silently winning.
SINGLE_HEADERS = (b"authorization", b"host", b"content-length", b"content-type", b"idempotency-key",
                  b"transfer-encoding")
_HEADER_NAMES = {b"authorization": "Authorization", b"host": "Host", b"content-length": "Content-Length",
                 b"content-type": "Content-Type", b"idempotency-key": "Idempotency-Key",
                 b"transfer-encoding": "Transfer-Encoding"}


def query_param_count(query_string: bytes) -> int:
    return sum(1 for part in query_string.split(b"&") if part)


class Guard:
    """Pure ASGI middleware: extensions header on every response; a 400 for a repeated
    single-valued header or too many query parameters; Basic auth on every route;
    per-key rate limit (429 + Retry-After); body size cap by Content-Length (413).

    The request's Host header and scheme are replaced by those of the server's own
    origin (``ServerContext.origin``), so that nothing a client sends decides the URLs
    the server writes (attachments, redirects, the OpenAPI server URL)."""

    def __init__(self, app, ctx: ServerContext):
        self.app = app
        self.ctx = ctx
        self._header = (EXTENSIONS_HEADER.encode(), extensions_header().encode())

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)

        async def send_with_header(message):
            if message["type"] == "http.response.start":
                headers = [(k, v) for k, v in message.get("headers", []) if k.lower() != self._header[0]]
                headers.append(self._header)
                message = {**message, "headers": headers}
            await send(message)

        options = self.ctx.options
        raw_headers = scope.get("headers", [])
        headers: dict[bytes, bytes] = {}
        for k, v in raw_headers:
            k = k.lower()
            if k in headers and k in SINGLE_HEADERS:
                return await error_response(
                    400, f"the request carries the {_HEADER_NAMES[k]} header more than once; send it once"
                )(scope, receive, send_with_header)
            headers[k] = v
        n = query_param_count(scope.get("query_string", b""))
        if n > QUERY_PARAMS_MAX:
            return await error_response(
                400, f"the request has {n:,} query parameters; the limit is {QUERY_PARAMS_MAX:,} parameters"
            )(scope, receive, send_with_header)
        auth = headers.get(b"authorization")
        key = self.ctx.keys.match(auth.decode("latin-1") if auth else None)
        if key is None:
            resp = error_response(
                401, "missing or wrong API key: use HTTP Basic auth with the API key as the user name "
                     "and an empty password",
                {"www-authenticate": 'Basic realm="tasktui"'})
            return await resp(scope, receive, send_with_header)
        wait = self.ctx.limiter.wait(key)
        if wait > 0:
            resp = error_response(
                429, f"too many requests for this API key (limit {options.rate_limit:g} per second); "
                     f"retry after {math.ceil(wait)} s", {"retry-after": str(max(1, math.ceil(wait)))})
            return await resp(scope, receive, send_with_header)
        cl = headers.get(b"content-length")
        if cl is not None:
            try:
                n = int(cl)
            except ValueError:
                return await error_response(400, "Content-Length is not a number")(scope, receive, send_with_header)
            if n > options.max_body:
                return await error_response(
                    413, f"the request body is {n} bytes; the limit is {options.max_body} bytes"
                )(scope, receive, send_with_header)
        scope.setdefault("state", {})["api_key_digest"] = key
        scheme, _, netloc = self.ctx.origin.partition("://")
        scope = {**scope, "scheme": scheme,
                 "headers": [(k, v) for k, v in raw_headers if k.lower() != b"host"] + [(b"host", netloc.encode())]}
        await self.app(scope, receive, send_with_header)
