"""Transport: one request to the task server, tried as often as the RetryPolicy allows,
its answer turned into JSON or a typed ApiError.

It owns the ``httpx.AsyncClient`` (keep-alive pool, timeouts, HTTP Basic auth with the
API key as user name) and everything that keeps the key safe: the key goes only to the
API's own origin, and no message, repr or log line shows it. It knows nothing of tasks
or extensions; the client tells it whether the server replays writes (so a write may be
retried) and is told of every successful answer (to learn extensions and the clock).
"""

from __future__ import annotations

import asyncio
import base64
import logging
import select
import time
import uuid
from datetime import datetime, timezone
from email.utils import parsedate_to_datetime
from typing import Any, Callable
from urllib.parse import quote, quote_plus, urlencode
from urllib.request import getproxies

import httpcore
import httpx
import orjson

from tasktui.api import errors
from tasktui.api.retry import RetryPolicy, parse_retry_after
from tasktui.domain.text import clean_for_error
from tasktui.domain.wire import IDEMPOTENCY_HEADER

log = logging.getLogger("tasktui.api")


#: Failures that happen before any byte of the request left: safe to retry even a write.
_SAFE_BEFORE_SEND = (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout)


def origin_of(url: httpx.URL) -> tuple[str, str, int | None]:
    """Scheme, host and port (the default one when implicit): who may get the key."""
    port = url.port or {"http": 80, "https": 443}.get(url.scheme)
    return (url.scheme, url.host.lower(), port)


def display_url(url: httpx.URL) -> str:
    """A URL for messages: no user info, no query string (which may hold signatures)."""
    port = f":{url.port}" if url.port else ""
    return f"{url.scheme}://{url.host}{port}{url.path}"


def server_date(response: httpx.Response) -> datetime | None:
    """The server's clock from the answer's ``Date`` header (UTC), None if absent or unreadable."""
    date = response.headers.get("date")
    if not date:
        return None
    try:
        return parsedate_to_datetime(date).astimezone(timezone.utc)
    except (TypeError, ValueError, IndexError):
        return None


class _Secret:
    """Holds the API key so that no repr, ``vars()`` dump or traceback shows it.

    ``forms`` are the ways the key can come back in a server's or proxy's text: as is,
    percent-encoded, and in base64 as HTTP Basic auth carries it (``key:``, padded or not,
    standard or URL-safe alphabet) — longest first, so a longer form is masked whole.
    """

    __slots__ = ("value", "forms")

    def __init__(self, value: str):
        self.value = value
        forms = {value, quote(value, safe=""), quote_plus(value)}
        for raw in (f"{value}:".encode(), value.encode()):
            for enc in (base64.b64encode(raw), base64.urlsafe_b64encode(raw)):
                text = enc.decode("ascii")
                forms |= {text, text.rstrip("=")}
        self.forms = tuple(sorted((f for f in forms if len(f) >= 4), key=len, reverse=True))

    def __repr__(self) -> str:
        return "<hidden>"

    __str__ = __repr__


class LazyTLSTransport(httpx.AsyncBaseTransport):
    """httpx's own transport for ``https://`` URLs, made (with its verifying SSL context:
    loading the CA bundle costs ~0.1 s of CPU) on the first request that needs it."""

    def __init__(self, limits: httpx.Limits):
        self._limits = limits
        self._inner: httpx.AsyncHTTPTransport | None = None

    @property
    def made(self) -> bool:
        return self._inner is not None

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        if self._inner is None:
            self._inner = _http_transport(verify=True, trust_env=True, limits=self._limits)
        return await self._inner.handle_async_request(request)

    async def aclose(self) -> None:
        if self._inner is not None:
            await self._inner.aclose()


def _is_readable(sock: Any) -> bool:
    """Whether a socket has something to read (at rest, on a kept-alive connection:
    the server closed it), without waiting."""
    try:
        p = select.poll()
        p.register(sock, select.POLLIN)
        return bool(p.poll(0))
    except (OSError, ValueError):
        return True  # a socket that cannot be polled is not worth reusing


class _Stream(httpcore.AsyncNetworkStream):
    """httpcore's stream, with ``is_readable`` asked of the raw socket found once.
    httpcore asks it of every pooled connection each time a request starts or ends, and
    the default answer rebuilds anyio's attribute table (a ``getpeername`` system call
    included) on each: with 16 connections in flight, a tenth of the CPU of a bulk read."""

    def __init__(self, inner: httpcore.AsyncNetworkStream):
        self._inner = inner
        self._sock = inner.get_extra_info("socket")

    async def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        return await self._inner.read(max_bytes, timeout)

    async def write(self, buffer: bytes, timeout: float | None = None) -> None:
        await self._inner.write(buffer, timeout)

    async def aclose(self) -> None:
        await self._inner.aclose()

    async def start_tls(self, ssl_context: Any, server_hostname: str | None = None,
                        timeout: float | None = None) -> httpcore.AsyncNetworkStream:
        return _Stream(await self._inner.start_tls(ssl_context, server_hostname, timeout))

    def get_extra_info(self, info: str) -> Any:
        if info == "is_readable" and self._sock is not None:
            return _is_readable(self._sock)
        return self._inner.get_extra_info(info)


class _Backend(httpcore.AsyncNetworkBackend):
    """httpcore's own network backend, its streams wrapped in ``_Stream``."""

    def __init__(self) -> None:
        self._inner = httpcore.AnyIOBackend()

    async def connect_tcp(self, host: str, port: int, timeout: float | None = None,
                          local_address: str | None = None, socket_options: Any = None) -> httpcore.AsyncNetworkStream:
        return _Stream(await self._inner.connect_tcp(host, port, timeout, local_address, socket_options))

    async def connect_unix_socket(self, path: str, timeout: float | None = None,
                                  socket_options: Any = None) -> httpcore.AsyncNetworkStream:
        return _Stream(await self._inner.connect_unix_socket(path, timeout, socket_options))

    async def sleep(self, seconds: float) -> None:
        await self._inner.sleep(seconds)


def _http_transport(**kw: Any) -> httpx.AsyncHTTPTransport:
    """httpx's transport over ``_Backend`` (its pool's backend is not a parameter of
    httpx: it is set on the pool httpx made; left as it is if that ever changes)."""
    transport = httpx.AsyncHTTPTransport(**kw)
    pool = getattr(transport, "_pool", None)
    if isinstance(pool, httpcore.AsyncConnectionPool) and hasattr(pool, "_network_backend"):
        pool._network_backend = _Backend()
    return transport


def _transports(base: httpx.URL, limits: httpx.Limits) -> dict[str, Any]:
    """The client's transports. An ``https`` API gets httpx's own (TLS verified against the
    CA bundle, ``SSL_CERT_FILE`` / ``SSL_CERT_DIR`` honoured as by default) over
    ``_Backend``. A plain ``http`` API (the sandbox, a local server) needs no TLS to start:
    its transport never speaks TLS (``verify=False`` only spares loading the CA bundle),
    and ``https`` URLs (attachments on other hosts) go to a LazyTLSTransport, which
    verifies as usual. With a proxy in the environment, httpx's defaults as they are."""
    if getproxies() or base.scheme not in ("http", "https"):
        return {"limits": limits}
    if base.scheme == "https":
        return {"transport": _http_transport(verify=True, trust_env=True, limits=limits)}
    return {"transport": _http_transport(verify=False, limits=limits),
            "mounts": {"https://": LazyTLSTransport(limits)}}


class Transport:
    """Requests to one API base URL (``base``, already free of user info and query).

    ``on_answer`` is called with every successful (2xx) answer from the API;
    ``replays_writes`` says whether the server replays a repeated ``Idempotency-Key``
    (then a write whose answer was lost may be sent again).
    """

    def __init__(
        self,
        base: httpx.URL,
        api_key: str,
        *,
        timeout: httpx.Timeout,
        retry: RetryPolicy,
        max_connections: int,
        user_agent: str,
        on_answer: Callable[[httpx.Response], None],
        replays_writes: Callable[[], bool],
        http_transport: httpx.AsyncBaseTransport | None = None,
    ):
        self.base = base
        self._base_str = str(base).rstrip("/")
        self._key = _Secret(api_key)
        self.retry = retry
        self._rng = retry.rng()
        self.timeout = timeout
        self._on_answer = on_answer
        self._replays_writes = replays_writes
        #: Told ``(seconds, why)`` before a wait the server asked for (``Retry-After``) or
        #: any backoff of a second or more, so a view can count down.
        self.on_wait: Callable[[float, str], None] | None = None
        #: Told of every 429 (the sliced reader runs fewer chains after one).
        self.on_rate_limited: Callable[[], None] | None = None
        limits = httpx.Limits(max_connections=max_connections, max_keepalive_connections=max_connections)
        self._http = httpx.AsyncClient(
            base_url=str(base),
            auth=httpx.BasicAuth(api_key, ""),
            headers={"User-Agent": user_agent, "Accept": "application/json"},
            timeout=timeout,
            follow_redirects=False,
            # a transport given by the caller (the local index's in-process ASGI app) is used
            # as it is; otherwise the ones that fit the API's scheme
            **({"transport": http_transport} if http_transport is not None else _transports(base, limits)),
        )

    # lifecycle -------------------------------------------------------------------
    async def aclose(self) -> None:
        await self._http.aclose()

    @property
    def closed(self) -> bool:
        return self._http.is_closed

    @property
    def origin(self) -> str:
        port = f":{self.base.port}" if self.base.port else ""
        return f"{self.base.scheme}://{self.base.host}{port}"

    @property
    def default_headers(self) -> httpx.Headers:
        """Headers sent with every request (the key is not among them: it is added per
        request, and only towards the API's origin)."""
        return self._http.headers

    # text that leaves ----------------------------------------------------------------
    def scrub(self, text: str) -> str:
        """``text`` with the API key, in every encoding it travels in, replaced by ``***``."""
        for form in self._key.forms:
            text = text.replace(form, "***")
        return text

    def excerpt(self, raw: bytes, chars: int) -> str:
        """The first ``chars`` characters of an answer's body, scrubbed BEFORE it is cut, so
        a key straddling the cut cannot leave a piece of itself behind."""
        longest = max((len(f) for f in self._key.forms), default=0)
        window = raw[: chars * 4 + 4 * longest]
        text = self.scrub(window.decode("utf-8", "replace"))
        if len(window) < len(raw) and longest:
            # the window's own end may cut a key in two: its last characters are dropped,
            # however many whole keys the scrubbing took out before them
            text = text[: max(0, len(text) - (longest - 1))]
        return text[:chars]

    def malformed(self, what: str, reason: str, raw: bytes | None = None,
                  attempts: int = 1) -> errors.MalformedResponseError:
        began = None if raw is None else clean_for_error(self.excerpt(raw, 80), 80)
        return errors.malformed(what, reason, began=began, attempts=attempts)

    # requests --------------------------------------------------------------------
    async def call(self, method: str, path: str, *, what: str, params: list[tuple[str, str]] | None = None,
                   body: Any = None, state_changing: bool = False) -> Any:
        """``send`` for an API path; only the parsed JSON."""
        _, data = await self.send(method, path, what=what, params=params, body=body,
                                  state_changing=state_changing)
        return data

    async def send(
        self,
        method: str,
        url: str,
        *,
        what: str,
        params: list[tuple[str, str]] | None = None,
        body: Any = None,
        state_changing: bool = False,
        follow_redirects: bool = False,
        max_bytes: int | None = None,
        parse_json: bool = True,
        decode: Callable[[bytes], Any] = orjson.loads,
    ) -> tuple[httpx.Response, Any]:
        """Send with retries. ``url`` is a path under the base URL (an API request) or
        an absolute URL (anything else, e.g. an attachment); the key goes only with
        requests to the API's origin, and only successful API answers are reported to
        ``on_answer``. Returns the (closed) response and the parsed JSON (or
        the raw bytes when ``parse_json`` is false, at most ``max_bytes`` of them).
        ``decode`` reads a JSON answer (a ValueError: not JSON, which a retry may mend).
        Raises an ``ApiError``."""
        api = "://" not in url
        if api:
            url = f"{self._base_str}/{url}"
        own = api or origin_of(httpx.URL(url)) == origin_of(self.base)
        headers: dict[str, str] = {}
        content: bytes | None = None
        if body is not None:
            content = orjson.dumps(body)
            headers["Content-Type"] = "application/json"
        if state_changing:
            # One key per logical action, reused by its retries: the server replays the
            # first answer instead of applying the action twice.
            headers[IDEMPOTENCY_HEADER] = str(uuid.uuid4())
        if params:
            # Encoded here once: httpx would parse the URL again for each merge.
            url = f"{url}?{urlencode(params, quote_via=quote)}"
        auth = httpx.USE_CLIENT_DEFAULT if own else None
        policy = self.retry
        start = time.monotonic()
        attempt = 0
        while True:
            attempt += 1
            request = self._http.build_request(method, url, content=content, headers=headers)
            outcome = await self._try(request, auth, what=what, attempt=attempt, state_changing=state_changing,
                                      follow_redirects=follow_redirects, max_bytes=max_bytes,
                                      parse_json=parse_json, decode=decode, api=api)
            if not isinstance(outcome, _Failure):
                return outcome
            err, retryable = outcome.error, outcome.retryable
            if isinstance(err, errors.RateLimitedError) and self.on_rate_limited is not None:
                self.on_rate_limited()
            if not retryable or attempt >= policy.max_attempts:
                raise err
            retry_after = err.retry_after
            if retry_after is not None and retry_after > policy.max_retry_after:
                raise errors.RateLimitedError(
                    f"Could not {what}: the server asks to wait {retry_after:.0f} s before the next "
                    f"request, longer than the {policy.max_retry_after:.0f} s tasktui waits. "
                    "Try again later.", status_code=err.status_code, server_message=err.server_message,
                    attempts=attempt, retry_after=retry_after)
            delay = policy.delay(attempt, retry_after, self._rng)
            if retry_after is None and time.monotonic() - start + delay > policy.total_time:
                raise err
            log.info("retrying %s %s in %.2f s (try %d of %d): %s", method, request.url.path, delay,
                     attempt + 1, policy.max_attempts, err)
            if self.on_wait is not None and (retry_after is not None or delay >= 1.0):
                self.on_wait(delay, str(err))
            await asyncio.sleep(delay)

    async def _try(self, request: httpx.Request, auth: Any, *, what: str, attempt: int, state_changing: bool,
                   follow_redirects: bool, max_bytes: int | None, parse_json: bool,
                   decode: Callable[[bytes], Any], api: bool) -> "tuple[httpx.Response, Any] | _Failure":
        """One try: the answer, or the error it amounts to and whether another try may help."""

        def may_repeat() -> bool:
            return not state_changing or self._replays_writes()

        try:
            response = await self._http.send(request, auth=auth, stream=True, follow_redirects=follow_redirects)
            try:
                if max_bytes is not None and response.status_code < 300:
                    raw = await self._read_capped(response, max_bytes, what)
                else:
                    # not aread(): it keeps the body on the response, which sits in a
                    # reference cycle, so every page's bytes would wait for the GC
                    raw = b"".join([part async for part in response.aiter_bytes()])
            finally:
                await response.aclose()
        except httpx.TransportError as exc:
            return _Failure(self._network_error(exc, request.url, what, attempt),
                            isinstance(exc, _SAFE_BEFORE_SEND) or may_repeat())
        except httpx.DecodingError:
            return _Failure(self.malformed(what, "the answer's compressed body could not be decoded", None, attempt),
                            may_repeat())
        except httpx.HTTPError as exc:  # anything else httpx may raise: never a crash
            return _Failure(self._network_error(exc, request.url, what, attempt), False)
        code = response.status_code
        if 200 <= code < 300:
            if api:
                self._on_answer(response)
            if not parse_json:
                return response, raw
            if not raw.strip():
                return response, None
            try:
                return response, decode(raw)
            except ValueError:  # orjson.JSONDecodeError is one
                return _Failure(self.malformed(what, "the answer is not valid JSON (garbled or cut short)",
                                               raw, attempt), may_repeat())
        if auth is None and code in (401, 403):
            # Not our key being refused (none was sent): the link itself is refused.
            return _Failure(errors.InvalidRequestError(
                f"Could not {what}: its server refused access (HTTP {code}); the link may have "
                "expired or need credentials tasktui does not send to other sites.",
                status_code=code, attempts=attempt), False)
        err = self._status_error(response, raw, what, attempt)
        return _Failure(err, code in self.retry.retry_statuses and (code in (408, 429) or may_repeat()))

    async def _read_capped(self, response: httpx.Response, max_bytes: int, what: str) -> bytes:
        declared = response.headers.get("content-length")
        if declared and declared.isdigit() and int(declared) > max_bytes:
            raise errors.AttachmentTooLargeError(
                f"Could not {what}: it is {int(declared) / 1048576:.1f} MiB, more than the "
                f"{max_bytes / 1048576:.1f} MiB allowed for a preview.", status_code=response.status_code)
        chunks = []
        size = 0
        async for chunk in response.aiter_bytes():
            size += len(chunk)
            if size > max_bytes:
                raise errors.AttachmentTooLargeError(
                    f"Could not {what}: it is larger than the {max_bytes / 1048576:.1f} MiB allowed "
                    "for a preview.", status_code=response.status_code)
            chunks.append(chunk)
        return b"".join(chunks)

    # status -> error -------------------------------------------------------------------
    def _server_message(self, response: httpx.Response, body: bytes) -> str:
        try:
            data = orjson.loads(body)
        except orjson.JSONDecodeError:
            data = None
        msg = ""
        if isinstance(data, dict):
            for key in ("error", "message", "detail"):
                if isinstance(data.get(key), str) and data[key].strip():
                    msg = data[key]
                    break
        elif body:
            ctype = response.headers.get("content-type", "")
            head = body[:200].lstrip().lower()
            if "html" in ctype or head.startswith((b"<!doctype", b"<html")):
                msg = "the answer was an HTML page, not JSON: a proxy or gateway in between may be failing"
            else:
                msg = self.excerpt(body, 300)
        return clean_for_error(self.scrub(msg))

    def _status_error(self, response: httpx.Response, body: bytes, what: str, attempts: int) -> errors.ApiError:
        code = response.status_code
        smsg = self._server_message(response, body)
        said = f": {smsg}" if smsg else ""
        tries = f" ({attempts} tries)" if attempts > 1 else ""
        retry_after = parse_retry_after(response.headers.get("retry-after"))
        kw = dict(status_code=code, server_message=smsg or None, attempts=attempts, retry_after=retry_after)
        if code in (401, 403):
            return errors.AuthError(
                f"Could not {what}: the server at {self.origin} did not accept the API key "
                f"(HTTP {code}{said}). Check the key you configured.", **kw)
        if code == 404:
            return errors.NotFoundError(f"Could not {what}: not found on the server (HTTP 404{said}).", **kw)
        if code == 409:
            return errors.ConflictError(f"Could not {what}: conflict (HTTP 409{said}).", **kw)
        if code == 429:
            wait = f" The server asks to wait {retry_after:.0f} s." if retry_after else ""
            return errors.RateLimitedError(
                f"Could not {what}: the server is limiting how fast we may ask (HTTP 429){tries}."
                f"{wait} Wait a little and try again.", **kw)
        if code == 408 or code >= 500:
            return errors.ServerError(
                f"Could not {what}: the server failed (HTTP {code}{said}){tries}. "
                "It may be overloaded or down; try again later.", **kw)
        if 400 <= code < 500:
            return errors.InvalidRequestError(f"Could not {what}: the server refused the request (HTTP {code}{said}).", **kw)
        return errors.MalformedResponseError(f"Could not {what}: unexpected answer HTTP {code}{said}.", **kw)

    def _network_error(self, exc: Exception, url: httpx.URL, what: str, attempts: int) -> errors.NetworkError:
        where = f"{url.scheme}://{url.host}{f':{url.port}' if url.port else ''}" if url.host else self.origin
        tries = f" ({attempts} tries)" if attempts > 1 else ""
        if isinstance(exc, httpx.ConnectTimeout):
            reason = f"could not connect to {where} within {self.timeout.connect or 0:g} s"
        elif isinstance(exc, httpx.ConnectError):
            detail = clean_for_error(self.scrub(str(exc)), 120) or "connection failed"
            if "refused" in detail.lower():
                detail = "connection refused"
            reason = f"cannot reach the server at {where} ({detail}): check that it is running and that the URL is right"
        elif isinstance(exc, httpx.ReadTimeout):
            reason = f"the server at {where} did not answer within {self.timeout.read or 0:g} s"
        elif isinstance(exc, httpx.PoolTimeout):
            reason = "too many requests were already waiting for a connection"
        elif isinstance(exc, (httpx.WriteError, httpx.WriteTimeout)):
            reason = f"the connection to {where} broke while sending the request"
        elif isinstance(exc, (httpx.RemoteProtocolError, httpx.ReadError)):
            reason = f"the connection to {where} was dropped before the answer was complete"
        else:
            detail = clean_for_error(self.scrub(str(exc)), 120) or type(exc).__name__
            reason = f"network problem talking to {where} ({detail})"
        return errors.NetworkError(f"Could not {what}: {reason}{tries}.", attempts=attempts)


class _Failure:
    """One failed try: the error it amounts to and whether another try may help."""

    __slots__ = ("error", "retryable")

    def __init__(self, error: errors.ApiError, retryable: bool):
        self.error = error
        self.retryable = retryable
