"""TaskClient: the async client for the Scale v1 wire contract (and the bundled server's
extensions), with paging, prefetch, retries and typed errors.

One ``httpx.AsyncClient`` per TaskClient (keep-alive connection pool, connect / read
timeouts), HTTP Basic auth with the API key as user name and an empty password.
The key never appears in logs, reprs or error messages.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import logging
import time
import uuid
from collections import deque
from dataclasses import dataclass, replace
from datetime import datetime, timedelta, timezone
from email.utils import parsedate_to_datetime
from typing import Any, AsyncIterator
from urllib.parse import quote, urlencode

import httpx
import orjson

from tasktui import __version__
from tasktui.api.errors import (
    ApiError,
    AttachmentTooLargeError,
    AuthError,
    ConflictError,
    InvalidRequestError,
    MalformedResponseError,
    NetworkError,
    NotFoundError,
    RateLimitedError,
    ServerError,
    UnsupportedError,
    clean_text,
)
from tasktui.api.retry import RetryPolicy, parse_retry_after
from tasktui.domain import (
    ALL_EXTENSIONS,
    EXT_FIX,
    EXT_IDEMPOTENCY,
    EXT_ORDER,
    EXT_PAGE_SIZE,
    EXTENSIONS_HEADER,
    IDEMPOTENCY_HEADER,
    PAGE_LIMIT_MAX,
    DateField,
    MalformedTaskError,
    SortOrder,
    Task,
    TaskQuery,
)

log = logging.getLogger("tasktui.api")

USER_AGENT = f"tasktui/{__version__}"
DEFAULT_MAX_ATTACHMENT = 25 * 1024 * 1024
#: How many wire pages one ``list_tasks`` call may read while filtering locally
#: (the real API cannot express the query) before it returns an empty page that
#: still ``has_more`` — so a rare status never makes one call read the whole queue.
DEFAULT_MAX_SCAN_PAGES = 20
#: ``iter_tasks`` reads listings longer than this with several page chains at once.
PARALLEL_MIN_TASKS = 1_000
#: Chains times page size stays within this many tasks (pages of 100: 3 chains;
#: pages of 1,000: two chains).
PARALLEL_PAGE_BUDGET = 2_000
#: At most this many creation-time slices (whole UTC days each) per listing.
MAX_SLICES = 64
#: Tasks a slice being read may run ahead of the caller (in whole pages, at least one):
#: enough for the chains to keep the server busy, bounded whatever the listing's length.
SLICE_LOOKAHEAD_TASKS = 1_600
#: Page size ``iter_tasks`` uses by default where the server offers ``page-size``.
BULK_PAGE_SIZE = 1_000
#: Prefix of the cursors ``iter_pages_sliced`` hands out (a plain server token never has it).
SLICED_CURSOR_PREFIX = "tasktui-slices."
#: Upper bound on batches read by ``batches()`` (offset paging).
MAX_BATCHES = 20_000

_SAFE_BEFORE_SEND = (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout)


@dataclass(frozen=True, slots=True)
class TaskPage:
    """One page of a task listing.

    ``token`` is the token this page was fetched with (None for the first page) and
    ``next_token`` the one that fetches the next; both can be kept to come back later
    (export resumes from ``next_token``; the store re-fetches pages it dropped).
    ``total`` is the server's count for the query; when rows are filtered locally
    (a server without the extensions the query needs) it counts the wider wire query
    and ``total_exact`` is False. ``scanned`` is how many wire tasks were read.
    """

    tasks: list[Task]
    total: int
    next_token: str | None
    has_more: bool
    token: str | None = None
    total_exact: bool = True
    scanned: int = 0
    #: The server's clock when it answered (its ``Date`` header), if it sent one.
    server_time: datetime | None = None

    def __len__(self) -> int:
        return len(self.tasks)


@dataclass(frozen=True, slots=True)
class Attachment:
    """The bytes of an attachment, with the content type the server declared."""

    url: str
    content: bytes
    content_type: str | None

    def __repr__(self) -> str:
        return f"Attachment({self.url!r}, {len(self.content)} bytes, {self.content_type!r})"


def _origin(url: httpx.URL) -> tuple[str, str, int | None]:
    port = url.port or {"http": 80, "https": 443}.get(url.scheme)
    return (url.scheme, url.host.lower(), port)


def _display_url(url: httpx.URL) -> str:
    """A URL for messages: no user info, no query string (which may hold signatures)."""
    port = f":{url.port}" if url.port else ""
    return f"{url.scheme}://{url.host}{port}{url.path}"


class TaskClient:
    """Async client for ``/v1`` of a Scale-compatible task server.

    Use as ``async with TaskClient(url, key) as client: ...`` or call ``aclose()``.
    ``ignore_extensions=True`` makes the client behave as against the real Scale API
    (no bundled-server extensions assumed even when advertised) — used by tests.
    """

    def __init__(
        self,
        base_url: str,
        api_key: str,
        *,
        timeout: float | httpx.Timeout = 30.0,
        connect_timeout: float = 10.0,
        retry: RetryPolicy | None = None,
        ignore_extensions: bool = False,
        max_scan_pages: int = DEFAULT_MAX_SCAN_PAGES,
        max_connections: int = 16,
        parallel: int = 3,
        user_agent: str | None = None,
    ):
        url = httpx.URL(str(base_url).strip().rstrip("/"))
        if url.scheme not in ("http", "https") or not url.host:
            raise ValueError(f"the API URL must start with http:// or https://, got {_display_url(url)!r}")
        if not isinstance(api_key, str):
            raise TypeError("api_key must be a string")
        # User info in the URL would be a second, unscrubbed copy of a secret: drop it.
        self._base = url.copy_with(username=None, password=None, query=None, fragment=None)
        self._base_str = str(self._base).rstrip("/")
        self._key = _Secret(api_key)
        self.retry = retry or RetryPolicy()
        self.ignore_extensions = ignore_extensions
        self.max_scan_pages = max(1, max_scan_pages)
        #: Page chains ``iter_tasks`` may run at once on long listings (1: never more).
        self.parallel = max(1, parallel)
        #: ... on listings longer than this.
        self.parallel_min_tasks = PARALLEL_MIN_TASKS
        self._extensions: frozenset[str] = frozenset()
        self._extensions_known = False
        self._discover_lock = asyncio.Lock()
        self._rng = self.retry.rng()
        #: Server clock at the last answer (from its ``Date`` header), or None.
        self.server_time: datetime | None = None
        if isinstance(timeout, httpx.Timeout):
            to = timeout
        else:
            to = httpx.Timeout(timeout, connect=connect_timeout)
        self._timeout = to
        self._http = httpx.AsyncClient(
            base_url=str(self._base),
            auth=httpx.BasicAuth(api_key, ""),
            headers={"User-Agent": user_agent or USER_AGENT, "Accept": "application/json"},
            timeout=to,
            limits=httpx.Limits(max_connections=max_connections, max_keepalive_connections=max_connections),
            follow_redirects=False,
        )

    # lifecycle -------------------------------------------------------------------
    async def __aenter__(self) -> "TaskClient":
        return self

    async def __aexit__(self, *exc) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        await self._http.aclose()

    @property
    def closed(self) -> bool:
        return self._http.is_closed

    def __repr__(self) -> str:
        ext = ",".join(sorted(self._extensions)) if self._extensions_known else "?"
        return f"TaskClient({self.base_url!r}, extensions={ext})"

    # identity --------------------------------------------------------------------
    @property
    def base_url(self) -> str:
        return str(self._base)

    @property
    def origin(self) -> str:
        port = f":{self._base.port}" if self._base.port else ""
        return f"{self._base.scheme}://{self._base.host}{port}"

    # extensions ------------------------------------------------------------------
    @property
    def extensions(self) -> frozenset[str]:
        """Extensions the server advertised (empty for the real Scale API, or until
        the first answer arrives — see ``discover``)."""
        return frozenset() if self.ignore_extensions else self._extensions

    @property
    def extensions_known(self) -> bool:
        return self._extensions_known or self.ignore_extensions

    def supports(self, extension: str) -> bool:
        return extension in self.extensions

    def _learn(self, response: httpx.Response) -> None:
        # Learn only from successful answers: an error page from a proxy in between
        # says nothing about the server behind it.
        header = response.headers.get(EXTENSIONS_HEADER)
        if header is not None:
            self._extensions = frozenset(x.strip().lower() for x in header.split(",") if x.strip())
        self._extensions_known = True
        when = _date_of(response)
        if when is not None:
            self.server_time = when

    async def discover(self) -> frozenset[str]:
        """Learn which extensions the server offers, with a cheap ``GET /tasks?limit=1``
        if no answer has been seen yet. Returns ``extensions``."""
        if self.extensions_known:
            return self.extensions
        async with self._discover_lock:
            if not self.extensions_known:
                await self._call("GET", "tasks", params=[("limit", "1")], what="connect to the task server")
        return self.extensions

    async def _ensure_extensions_for(self, query: TaskQuery, limit: int = PAGE_LIMIT_MAX) -> None:
        if self.extensions_known:
            return
        # Only ask first when the answer changes the request we would send.
        if (query.wire_params(ALL_EXTENSIONS, limit=limit) != query.wire_params((), limit=limit)
                or query.needs_local_filter(())):
            await self.discover()

    # the request loop ------------------------------------------------------------
    def _scrub(self, text: str) -> str:
        key = self._key.value
        if key and len(key) >= 4:
            text = text.replace(key, "***")
        return text

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
                msg = body[:300].decode("utf-8", "replace")
        return clean_text(self._scrub(msg))

    def _status_error(self, response: httpx.Response, body: bytes, what: str, attempts: int) -> ApiError:
        code = response.status_code
        smsg = self._server_message(response, body)
        said = f": {smsg}" if smsg else ""
        tries = f" ({attempts} tries)" if attempts > 1 else ""
        retry_after = parse_retry_after(response.headers.get("retry-after"))
        kw = dict(status_code=code, server_message=smsg or None, attempts=attempts, retry_after=retry_after)
        if code in (401, 403):
            return AuthError(
                f"Could not {what}: the server at {self.origin} did not accept the API key "
                f"(HTTP {code}{said}). Check the key you configured.", **kw)
        if code == 404:
            return NotFoundError(f"Could not {what}: not found on the server (HTTP 404{said}).", **kw)
        if code == 409:
            return ConflictError(f"Could not {what}: conflict (HTTP 409{said}).", **kw)
        if code == 429:
            wait = f" The server asks to wait {retry_after:.0f} s." if retry_after else ""
            return RateLimitedError(
                f"Could not {what}: the server is limiting how fast we may ask (HTTP 429){tries}."
                f"{wait} Wait a little and try again.", **kw)
        if code == 408 or code >= 500:
            return ServerError(
                f"Could not {what}: the server failed (HTTP {code}{said}){tries}. "
                "It may be overloaded or down; try again later.", **kw)
        if 400 <= code < 500:
            return InvalidRequestError(f"Could not {what}: the server refused the request (HTTP {code}{said}).", **kw)
        return MalformedResponseError(f"Could not {what}: unexpected answer HTTP {code}{said}.", **kw)

    def _network_error(self, exc: Exception, url: httpx.URL, what: str, attempts: int) -> NetworkError:
        where = f"{url.scheme}://{url.host}{f':{url.port}' if url.port else ''}" if url.host else self.origin
        tries = f" ({attempts} tries)" if attempts > 1 else ""
        if isinstance(exc, httpx.ConnectTimeout):
            reason = f"could not connect to {where} within {self._timeout.connect or 0:g} s"
        elif isinstance(exc, httpx.ConnectError):
            detail = clean_text(self._scrub(str(exc)), 120) or "connection failed"
            if "refused" in detail.lower():
                detail = "connection refused"
            reason = f"cannot reach the server at {where} ({detail}); is it running and is the URL right?"
        elif isinstance(exc, httpx.ReadTimeout):
            reason = f"the server at {where} did not answer within {self._timeout.read or 0:g} s"
        elif isinstance(exc, httpx.PoolTimeout):
            reason = "too many requests were already waiting for a connection"
        elif isinstance(exc, (httpx.WriteError, httpx.WriteTimeout)):
            reason = f"the connection to {where} broke while sending the request"
        elif isinstance(exc, (httpx.RemoteProtocolError, httpx.ReadError)):
            reason = f"the connection to {where} was dropped before the answer was complete"
        else:
            reason = f"network problem talking to {where} ({clean_text(self._scrub(str(exc)), 120) or type(exc).__name__})"
        return NetworkError(f"Could not {what}: {reason}{tries}.", attempts=attempts)

    async def _send(
        self,
        method: str,
        url: str,
        *,
        what: str,
        params: list[tuple[str, str]] | None = None,
        body: Any = None,
        state_changing: bool = False,
        auth_mode: Any = httpx.USE_CLIENT_DEFAULT,
        follow_redirects: bool = False,
        max_bytes: int | None = None,
        parse_json: bool = True,
        learn: bool = True,
    ) -> tuple[httpx.Response, Any]:
        """Send with retries. Returns the (closed) response and the parsed JSON (or the
        raw bytes when ``parse_json`` is false). Raises an ``ApiError``."""
        policy = self.retry
        headers: dict[str, str] = {}
        content: bytes | None = None
        if body is not None:
            content = orjson.dumps(body)
            headers["Content-Type"] = "application/json"
        if state_changing:
            # One key per logical action, reused by its retries: the server replays the
            # first answer instead of applying the action twice.
            headers[IDEMPOTENCY_HEADER] = str(uuid.uuid4())
        if "://" not in url:
            url = f"{self._base_str}/{url}"
        if params:
            # Encoded here once: httpx would parse the URL again for each merge.
            url = f"{url}?{urlencode(params, quote_via=quote)}"
        start = time.monotonic()
        attempt = 0
        while True:
            attempt += 1
            err: ApiError
            retry_after: float | None = None
            request = self._http.build_request(method, url, content=content, headers=headers)
            try:
                response = await self._http.send(request, auth=auth_mode, stream=True,
                                                 follow_redirects=follow_redirects)
                try:
                    if max_bytes is not None and response.status_code < 300:
                        raw = await self._read_capped(response, max_bytes, what)
                    else:
                        raw = await response.aread()
                finally:
                    await response.aclose()
            except httpx.TransportError as exc:
                err = self._network_error(exc, request.url, what, attempt)
                retryable = (not state_changing or isinstance(exc, _SAFE_BEFORE_SEND)
                             or EXT_IDEMPOTENCY in self.extensions)
            except httpx.DecodingError:
                err = self._malformed(what, "the answer's compressed body could not be decoded", None, attempt)
                retryable = not state_changing or EXT_IDEMPOTENCY in self.extensions
            except httpx.HTTPError as exc:  # anything else httpx may raise: never a crash
                err = self._network_error(exc, request.url, what, attempt)
                retryable = False
            else:
                code = response.status_code
                if 200 <= code < 300:
                    if learn:
                        self._learn(response)
                    if not parse_json:
                        return response, raw
                    if not raw.strip():
                        return response, None
                    try:
                        return response, orjson.loads(raw)
                    except orjson.JSONDecodeError:
                        err = self._malformed(
                            what, "the answer is not valid JSON (garbled or cut short)", raw, attempt)
                        retryable = not state_changing or EXT_IDEMPOTENCY in self.extensions
                elif auth_mode is None and code in (401, 403):
                    # Not our key being refused (none was sent): the link itself is refused.
                    err = InvalidRequestError(
                        f"Could not {what}: its server refused access (HTTP {code}); the link may have "
                        "expired or need credentials tasktui does not send to other sites.",
                        status_code=code, attempts=attempt)
                    retryable = False
                else:
                    err = self._status_error(response, raw, what, attempt)
                    retry_after = err.retry_after
                    retryable = code in policy.retry_statuses and (
                        not state_changing or code in (408, 429) or EXT_IDEMPOTENCY in self.extensions)
            if not retryable or attempt >= policy.max_attempts:
                raise err
            if retry_after is not None and retry_after > policy.max_delay:
                raise err  # the server wants a longer pause than we are allowed to wait
            delay = policy.delay(attempt, retry_after, self._rng)
            if time.monotonic() - start + delay > policy.total_time:
                raise err
            log.info("retrying %s %s in %.2f s (try %d of %d): %s", method, request.url.path, delay,
                     attempt + 1, policy.max_attempts, err)
            await asyncio.sleep(delay)

    def _malformed(self, what: str, reason: str, raw: bytes | None = None, attempts: int = 1) -> MalformedResponseError:
        head = ""
        if raw is not None:
            head = clean_text(self._scrub(raw[:80].decode("utf-8", "replace")), 80)
            head = f" It began: {head!r}." if head else " It was empty."
        return MalformedResponseError(f"Could not {what}: {reason}.{head}", attempts=attempts)

    async def _read_capped(self, response: httpx.Response, max_bytes: int, what: str) -> bytes:
        declared = response.headers.get("content-length")
        if declared and declared.isdigit() and int(declared) > max_bytes:
            raise AttachmentTooLargeError(
                f"Could not {what}: it is {int(declared) / 1048576:.1f} MiB, more than the "
                f"{max_bytes / 1048576:.1f} MiB allowed for a preview.", status_code=response.status_code)
        chunks = []
        size = 0
        async for chunk in response.aiter_bytes():
            size += len(chunk)
            if size > max_bytes:
                raise AttachmentTooLargeError(
                    f"Could not {what}: it is larger than the {max_bytes / 1048576:.1f} MiB allowed "
                    "for a preview.", status_code=response.status_code)
            chunks.append(chunk)
        return b"".join(chunks)

    async def _call(self, method: str, path: str, *, what: str, params=None, body=None,
                    state_changing: bool = False) -> Any:
        _, data = await self._send(method, path, what=what, params=params, body=body,
                                   state_changing=state_changing)
        return data

    # tasks -----------------------------------------------------------------------
    def _parse_page(self, data: Any, what: str, token: str | None) -> tuple[list[Task], int, bool, str | None]:
        if not isinstance(data, dict):
            raise self._malformed(what, f"expected a JSON object with 'docs' and 'total', got {_kind(data)}")
        docs = data.get("docs")
        if not isinstance(docs, list):
            raise self._malformed(what, f"the answer has no 'docs' list (got {_kind(docs)})")
        total = data.get("total")
        if not isinstance(total, int) or isinstance(total, bool) or total < 0:
            raise self._malformed(what, f"the answer's 'total' is not a count (got {_kind(total)})")
        nxt = data.get("next_token")
        if nxt is not None and not isinstance(nxt, str):
            raise self._malformed(what, f"the answer's 'next_token' is not a string (got {_kind(nxt)})")
        has_more = data.get("has_more", bool(nxt))
        if not isinstance(has_more, bool):
            raise self._malformed(what, f"the answer's 'has_more' is not true/false (got {_kind(has_more)})")
        if has_more and not nxt:
            raise self._malformed(what, "the server says more tasks follow but gave no token to fetch them")
        if has_more and token is not None and nxt == token:
            raise self._malformed(what, "the server sent the same page token again: paging would never end")
        try:
            tasks = [Task.from_wire(d) for d in docs]
        except MalformedTaskError as e:
            raise self._malformed(what, f"a task in the answer is malformed ({clean_text(e, 120)})") from None
        return tasks, total, has_more, (nxt or None) if has_more else None

    async def list_tasks(
        self,
        query: TaskQuery | None = None,
        next_token: str | None = None,
        *,
        limit: int = PAGE_LIMIT_MAX,
        updated_after: datetime | None = None,
    ) -> TaskPage:
        """One page of tasks matching ``query``, starting at ``next_token``.

        ``limit`` is the page size: 1–100 on the wire contract, up to 1,000 where the
        server offers the ``page-size`` extension (bulk readers; capped otherwise).

        Against a server without the extensions the query needs, the rows are filtered
        here (``TaskQuery.matches``) and further wire pages are read until some rows
        match or the listing ends, at most ``max_scan_pages`` of them; the page returned
        may then be empty while ``has_more`` is still true.
        """
        query = query or TaskQuery()
        await self._ensure_extensions_for(query, limit)
        ext = self.extensions
        local = query.needs_local_filter(ext)
        what = "list tasks"
        token = next_token
        scanned = 0
        when: datetime | None = None
        for _ in range(self.max_scan_pages if local else 1):
            params = query.wire_params(ext, limit=limit, next_token=token, updated_after=updated_after)
            response, data = await self._send("GET", "tasks", params=params, what=what)
            if when is None:
                when = _date_of(response)
            tasks, total, has_more, nxt = self._parse_page(data, what, token)
            scanned += len(tasks)
            if local:
                tasks = [t for t in tasks if query.matches(t)]
            if not local or tasks or not has_more:
                return TaskPage(tasks, total, nxt, has_more, token=next_token, total_exact=not local,
                                scanned=scanned, server_time=when)
            token = nxt
        return TaskPage([], total, token, True, token=next_token, total_exact=False, scanned=scanned,
                        server_time=when)

    async def count(self, query: TaskQuery | None = None) -> tuple[int, bool]:
        """The server's count of tasks for ``query`` and whether it is exact (it counts a
        wider set when the server cannot express the whole query)."""
        page = await self.list_tasks(query, limit=1)
        return page.total, page.total_exact

    async def iter_pages(
        self,
        query: TaskQuery | None = None,
        *,
        start_token: str | None = None,
        limit: int = PAGE_LIMIT_MAX,
        updated_after: datetime | None = None,
        prefetch: bool = True,
    ) -> AsyncIterator[TaskPage]:
        """Every page of the listing from ``start_token`` (None: the beginning).

        While the caller works on one page the next is already being fetched
        (``prefetch``), so at most two pages are held at a time. Each page carries the
        token that fetched it and ``next_token``: resuming from a page's ``next_token``
        continues right after it.
        """
        query = query or TaskQuery()
        recent: deque[str] = deque(maxlen=64)

        def fetch(token: str | None) -> asyncio.Task[TaskPage]:
            return asyncio.ensure_future(
                self.list_tasks(query, token, limit=limit, updated_after=updated_after))

        pending: asyncio.Task[TaskPage] | None = fetch(start_token)
        try:
            while pending is not None:
                page = await pending
                pending = None
                if page.has_more:
                    if page.next_token in recent:
                        raise self._malformed("list tasks", "the server sent a page token it had sent before: "
                                              "paging would never end")
                    recent.append(page.next_token)
                    if prefetch:
                        pending = fetch(page.next_token)
                yield page
                if page.has_more and not prefetch:
                    pending = fetch(page.next_token)
        finally:
            if pending is not None and not pending.done():
                pending.cancel()
                pending.add_done_callback(_consume_result)

    async def iter_tasks(
        self,
        query: TaskQuery | None = None,
        *,
        start_token: str | None = None,
        limit: int | None = None,
        parallel: int | None = None,
    ) -> AsyncIterator[Task]:
        """Every task matching ``query``, once each, in the listing's order, fetching
        ahead while the caller consumes. Memory stays bounded whatever the count.

        A long listing (more than ``parallel_min_tasks``) on a server that can list
        oldest-first is cut into slices of whole UTC days of creation time, read by up
        to ``parallel`` page chains at once (each a few pages ahead at most) and yielded
        slice after slice, so the order is the same as one chain's. Otherwise — and
        always when resuming from ``start_token``, or when the page budget allows one — one
        chain with one page prefetched.

        ``limit`` (page size) defaults to ``BULK_PAGE_SIZE`` where the server offers the
        ``page-size`` extension (fewer round trips), else the wire maximum of 100.
        """
        query = query or TaskQuery()
        if limit is None:
            limit = BULK_PAGE_SIZE if EXT_PAGE_SIZE in await self.discover() else PAGE_LIMIT_MAX
        async with contextlib.aclosing(self.iter_pages_sliced(
                query, start_cursor=start_token, limit=limit, parallel=parallel)) as pages:
            async for page in pages:
                for task in page.tasks:
                    yield task

    async def iter_pages_sliced(
        self,
        query: TaskQuery | None = None,
        *,
        start_cursor: str | None = None,
        limit: int = PAGE_LIMIT_MAX,
        parallel: int | None = None,
        min_tasks: int | None = None,
    ) -> AsyncIterator[TaskPage]:
        """Every page of the listing, in its order, like :meth:`iter_pages` — but a long
        listing is read by up to ``parallel`` page chains over creation-time slices (the
        way :meth:`iter_tasks` reads too), each at most ``SLICE_LOOKAHEAD_TASKS`` ahead.

        Each page's ``next_token`` is a cursor that resumes right after that page: pass
        it back as ``start_cursor``. A sliced cursor carries the slices it was planned
        with, so a resume reads exactly the same slices; a plain server token (when the
        listing was read by one chain) resumes one chain. ``total`` is the whole
        listing's on every page. Listings shorter than ``min_tasks`` (default
        ``parallel_min_tasks``) are read by one chain.
        """
        query = query or TaskQuery()
        par = self.parallel if parallel is None else max(1, parallel)
        # Big pages already amortise the per-request cost; more chains of them would
        # only hold more in memory.
        par = min(par, max(1, PARALLEL_PAGE_BUDGET // max(1, limit)))
        if start_cursor is not None and start_cursor.startswith(SLICED_CURSOR_PREFIX):
            bounds, index, token, total = decode_slice_cursor(start_cursor)
            slices = [query.replace(start=a, end=b) for a, b in bounds]
        else:
            planned = (await self._plan_slices(query, par, min_tasks)
                       if start_cursor is None and par > 1 else None)
            if not planned:
                async with contextlib.aclosing(
                        self.iter_pages(query, start_token=start_cursor, limit=limit)) as pages:
                    async for page in pages:
                        yield page
                return
            slices, total = planned
            bounds = [(q.start, q.end) for q in slices]
            index, token = 0, None
        lookahead = max(1, SLICE_LOOKAHEAD_TASKS // max(1, limit))
        done = object()
        running: dict[int, tuple[asyncio.Task, asyncio.Queue]] = {}

        async def produce(i: int, queue: asyncio.Queue) -> None:
            try:
                start = token if i == index else None
                async with contextlib.aclosing(
                        self.iter_pages(slices[i], start_token=start, limit=limit)) as pages:
                    async for page in pages:
                        await queue.put(page)
                await queue.put(done)
            except asyncio.CancelledError:
                raise
            except BaseException as e:  # handed to the consumer, in order
                await queue.put(e)

        previous = start_cursor
        started = index
        try:
            for i in range(index, len(slices)):
                while started < len(slices) and started < i + par:
                    q: asyncio.Queue = asyncio.Queue(maxsize=lookahead)
                    running[started] = (asyncio.ensure_future(produce(started, q)), q)
                    started += 1
                _, queue = running[i]
                while True:
                    item = await queue.get()
                    if item is done:
                        break
                    if isinstance(item, BaseException):
                        raise item
                    if item.has_more:
                        cursor = encode_slice_cursor(bounds, i, item.next_token, total)
                    elif i + 1 < len(slices):
                        cursor = encode_slice_cursor(bounds, i + 1, None, total)
                    else:
                        cursor = None
                    yield replace(item, next_token=cursor, has_more=cursor is not None,
                                  token=previous, total=total)
                    previous = cursor
                del running[i]
        finally:
            for task, _ in running.values():
                task.cancel()
            if running:
                await asyncio.gather(*(t for t, _ in running.values()), return_exceptions=True)

    async def _plan_slices(self, query: TaskQuery, parallel: int,
                           min_tasks: int | None = None) -> tuple[list[TaskQuery], int] | None:
        """Disjoint creation-time slices covering the query, in listing order, and the
        query's total; None when one chain is the better (or the only correct) way."""
        if query.date_field is not DateField.CREATED:
            return None
        ext = await self.discover()
        if EXT_ORDER not in ext or query.needs_local_filter(ext):
            return None
        head = await self.list_tasks(query, limit=1)
        if head.total < (self.parallel_min_tasks if min_tasks is None else min_tasks) or not head.tasks:
            return None
        flipped = SortOrder.OLDEST if query.order is SortOrder.NEWEST else SortOrder.NEWEST
        tail = await self.list_tasks(query.replace(order=flipped), limit=1)
        ends = [t.created_at for t in (*head.tasks, *tail.tasks) if t.created_at is not None]
        if len(ends) < 2:
            return None
        lo = min(ends)
        hi = max(ends) + timedelta(milliseconds=1)
        if query.start is not None:
            lo = max(lo, query.start)
        if query.end is not None:
            hi = min(hi, query.end)
        d0 = lo.replace(hour=0, minute=0, second=0, microsecond=0)
        days = (hi - d0 + timedelta(days=1) - timedelta(microseconds=1)).days
        if days < 2:
            return None
        step = -(-days // min(MAX_SLICES, days))
        bounds = [d0 + timedelta(days=i) for i in range(0, days, step)] + [d0 + timedelta(days=days)]
        bounds[0] = lo
        bounds[-1] = hi
        slices = [query.replace(start=a, end=b) for a, b in zip(bounds, bounds[1:]) if a < b]
        if query.order is SortOrder.NEWEST:
            slices.reverse()
        return slices, head.total

    async def get_task(self, task_id: str) -> Task:
        what = f"get task {clean_text(task_id, 80)}"
        data = await self._call("GET", f"task/{_q(task_id)}", what=what)
        return self._task_from(data, what)

    def _task_from(self, data: Any, what: str) -> Task:
        try:
            return Task.from_wire(data)
        except MalformedTaskError as e:
            raise self._malformed(what, f"the answer is not a task ({clean_text(e, 120)})") from None

    async def _task_after_action(self, data: Any, task_id: str, what: str) -> Task:
        # The cancel answer is the task; the real API's audit answer may be anything.
        if isinstance(data, dict) and data.get("task_id") == task_id:
            try:
                return Task.from_wire(data)
            except MalformedTaskError:
                pass
        return await self.get_task(task_id)

    # actions ---------------------------------------------------------------------
    async def cancel(self, task_id: str, clear_unique_id: bool = False) -> Task:
        """Cancel a task (only Queued tasks can be; the server answers 400 otherwise).
        Returns the task as it is after the cancel."""
        await self.discover()
        what = f"cancel task {clean_text(task_id, 80)}"
        params = [("clear_unique_id", "true")] if clear_unique_id else None
        data = await self._call("POST", f"task/{_q(task_id)}/cancel", params=params, what=what,
                                state_changing=True)
        return await self._task_after_action(data, task_id, what)

    async def accept(self, task_id: str, comments: str | None = None) -> Task:
        return await self._audit(task_id, True, comments, "accept")

    async def reject(self, task_id: str, comments: str | None) -> Task:
        return await self._audit(task_id, False, comments, "reject")

    async def _audit(self, task_id: str, accepted: bool, comments: str | None, verb: str,
                     response: dict | None = None) -> Task:
        await self.discover()
        what = f"{verb} task {clean_text(task_id, 80)}"
        body: dict[str, Any] = {"accepted": accepted, "comments": comments or None}
        if response is not None:
            body["response"] = response
        data = await self._call("POST", f"task/{_q(task_id)}/audit", body=body, what=what,
                                state_changing=True)
        return await self._task_after_action(data, task_id, what)

    async def fix(self, task_id: str, response: dict[str, Any], comments: str | None = None) -> Task:
        """Fix a completed task: replace its response (the old one is appended to
        ``prior_responses``) and mark it Fixed. A bundled-server extension."""
        await self.discover()
        if EXT_FIX not in self.extensions:
            raise UnsupportedError(
                f"Could not fix task {clean_text(task_id, 80)}: this server does not offer Fix "
                "(editing a task's response); only Accept and Reject are available here.")
        if not isinstance(response, dict):
            raise InvalidRequestError(
                f"Could not fix task {clean_text(task_id, 80)}: the new response must be a JSON object "
                f"({{...}}), not {_kind(response)}.")
        return await self._audit(task_id, True, comments, "fix", response=response)

    # projects and batches ----------------------------------------------------------
    async def projects(self) -> list[dict[str, Any]]:
        """Every project (each a dict with at least ``name``)."""
        what = "list projects"
        data = await self._call("GET", "projects", what=what)
        if isinstance(data, dict) and isinstance(data.get("docs"), list):
            data = data["docs"]
        if not isinstance(data, list):
            raise self._malformed(what, f"expected a list of projects, got {_kind(data)}")
        return [_named(p, what, self) for p in data]

    async def batches(self, project: str | None = None, *, limit: int = 100) -> list[dict[str, Any]]:
        """Every batch (of ``project`` if given), following the offset paging."""
        what = "list batches"
        out: list[dict[str, Any]] = []
        offset = 0
        while len(out) < MAX_BATCHES:
            params = [("limit", str(limit)), ("offset", str(offset))]
            if project:
                params.append(("project", project))
            data = await self._call("GET", "batches", params=params, what=what)
            if isinstance(data, list):  # a server that answers with a bare array
                out.extend(_named(b, what, self) for b in data)
                break
            if not isinstance(data, dict) or not isinstance(data.get("docs"), list):
                raise self._malformed(what, f"expected an object with a 'docs' list, got {_kind(data)}")
            docs = [_named(b, what, self) for b in data["docs"]]
            out.extend(docs)
            if not data.get("has_more") or not docs:
                break
            offset += len(docs)
        return out

    # attachments -----------------------------------------------------------------
    async def fetch_attachment(self, url: str, *, max_bytes: int = DEFAULT_MAX_ATTACHMENT) -> Attachment:
        """The bytes of an attachment (at most ``max_bytes``). The API key is sent only
        when the URL is on the API's own origin; redirects are followed (and httpx drops
        the credentials when a redirect leaves the origin)."""
        if not isinstance(url, str) or not url.strip():
            raise InvalidRequestError("Could not fetch the attachment: the task has no attachment URL.")
        try:
            target = httpx.URL(url.strip())
            if target.is_relative_url:
                target = httpx.URL(self.origin).join(target)
        except (httpx.InvalidURL, TypeError, ValueError):
            raise InvalidRequestError(
                f"Could not fetch the attachment: {clean_text(url, 100)!r} is not a URL.") from None
        if target.scheme not in ("http", "https") or not target.host:
            raise UnsupportedError(
                f"Could not fetch the attachment: only http:// and https:// URLs can be fetched, "
                f"not {clean_text(url, 100)!r}.")
        what = f"fetch the attachment {_display_url(target)}"
        same = _origin(target) == _origin(self._base)
        response, raw = await self._send(
            "GET", str(target), what=what, auth_mode=httpx.USE_CLIENT_DEFAULT if same else None,
            follow_redirects=True, max_bytes=max_bytes, parse_json=False, learn=False)
        ctype = response.headers.get("content-type")
        return Attachment(url=str(target), content=raw, content_type=ctype.split(";")[0].strip() if ctype else None)


class _Secret:
    """Holds the API key so that no repr, ``vars()`` dump or traceback shows it."""

    __slots__ = ("value",)

    def __init__(self, value: str):
        self.value = value

    def __repr__(self) -> str:
        return "<hidden>"

    __str__ = __repr__


def _q(task_id: str) -> str:
    if not isinstance(task_id, str) or not task_id.strip():
        raise InvalidRequestError("A task id is needed (it was empty).")
    return quote(task_id.strip(), safe="")


def _kind(value: Any) -> str:
    if value is None:
        return "nothing"
    if isinstance(value, bool):
        return "true/false"
    if isinstance(value, (int, float)):
        return "a number"
    if isinstance(value, str):
        return "text"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "an object"
    return type(value).__name__


def _named(doc: Any, what: str, client: TaskClient) -> dict[str, Any]:
    if not isinstance(doc, dict) or not isinstance(doc.get("name"), str):
        raise client._malformed(what, "an entry has no name")
    return doc


def _date_of(response: httpx.Response) -> datetime | None:
    date = response.headers.get("date")
    if not date:
        return None
    try:
        return parsedate_to_datetime(date).astimezone(timezone.utc)
    except (TypeError, ValueError, IndexError):
        return None


def encode_slice_cursor(bounds: list[tuple[datetime | None, datetime | None]], index: int,
                   token: str | None, total: int) -> str:
    doc = {"b": [[a.isoformat() if a else None, b.isoformat() if b else None] for a, b in bounds],
           "i": index, "t": token, "n": total}
    return SLICED_CURSOR_PREFIX + base64.urlsafe_b64encode(orjson.dumps(doc)).decode("ascii")


def decode_slice_cursor(cursor: str) -> tuple[list[tuple[datetime | None, datetime | None]], int, str | None, int]:
    """Inverse of ``encode_slice_cursor``; a ValueError naming the cursor when it is damaged."""
    try:
        doc = orjson.loads(base64.urlsafe_b64decode(cursor[len(SLICED_CURSOR_PREFIX):].encode("ascii")))
        bounds = [(datetime.fromisoformat(a) if a else None, datetime.fromisoformat(b) if b else None)
                  for a, b in doc["b"]]
        index, token, total = int(doc["i"]), doc["t"], int(doc["n"])
        if not bounds or not 0 <= index < len(bounds) or not (token is None or isinstance(token, str)):
            raise ValueError
    except (ValueError, TypeError, KeyError, orjson.JSONDecodeError):
        raise ValueError("the saved export position (cursor) is damaged") from None
    return bounds, index, token, total


def _consume_result(task: asyncio.Task) -> None:
    if not task.cancelled():
        task.exception()
