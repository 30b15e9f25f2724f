"""A fault-injecting HTTP/1.1 proxy for tests and benchmarks.

It listens on 127.0.0.1, forwards each request to a real upstream server (the bundled
server) over keep-alive connections, and on a script ("the next 3 requests matching
``POST /v1/task/`` get a 500 after being applied") or at a chosen rate (seeded RNG)
answers with a fault instead:

- ``status``: an error status with a JSON error body (500, 502, 503, ...);
- ``rate_limit``: 429 with ``Retry-After``;
- ``html``: a 502 HTML error page, as a failing gateway sends;
- ``delay``: the real answer, late;
- ``drop_before``: the connection closed without an answer;
- ``drop_after_headers``: the real status line and headers, then the connection closed;
- ``drop_mid_body``: the real headers and half the body, then closed;
- ``truncate``: a well-formed HTTP answer whose JSON body is cut in half;
- ``garbage``: 200 with a body that is not JSON;
- ``custom``: an answer given in full (status, body, content type), e.g. a JSON
  envelope with a key missing;
- ``indent``: the real answer, its JSON written again indented over many lines (with
  tabs and CRLF line ends), as a server that pretty-prints sends it — not a fault
  but a legal answer a client must read the same;
- ``hold``: the request is forwarded at once (the server answers as of that moment), and
  the answer kept until the test opens the ``Gate`` (``gate.release()``), then written
  as it was or replaced by the fault ``then`` — how a test makes an answer arrive late,
  after whatever the client did meanwhile, with no timing to guess.

With ``forward=True`` (always so for the kinds that need the real answer) the request
reaches the server first: the action is applied, and only the answer is lost — the case
idempotency keys exist for.

``public_contract=True`` makes it stand for the real Scale API: answers lose the
``X-Tasktui-Extensions`` header, and a request the public API would refuse
(``tasktui.testing.public_contract``) gets a Scale-style 400 and is recorded in
``proxy.refused``. ``latency`` adds that many seconds before every request is forwarded
(a remote API).

Use it in the running loop (``await proxy.start()`` / ``await proxy.stop()``, or
``async with``), or in a thread of its own (``proxy.start_in_thread()`` /
``proxy.stop_in_thread()``, or ``with proxy.running():``) when the caller is synchronous.
``proxy.stats`` counts requests seen, passed and injected per kind; ``proxy.log`` holds
the last requests as ``Seen(at, request_line, fault)`` with the proxy's monotonic clock,
so a test can measure what a client did between two requests (lower bounds only: load
can only make a client later, never earlier).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import random
import threading
import time
from collections import Counter, deque
from dataclasses import dataclass, field
from typing import Iterator
from urllib.parse import parse_qsl, urlsplit

import orjson

from tasktui.domain import EXTENSIONS_HEADER
from tasktui.testing import public_contract

KINDS = ("status", "rate_limit", "html", "delay", "drop_before", "drop_after_headers",
         "drop_mid_body", "truncate", "garbage", "custom", "indent", "hold")
_NEEDS_UPSTREAM = {"delay", "drop_after_headers", "drop_mid_body", "truncate", "indent", "hold"}


class Gate:
    """Where a ``hold`` fault keeps its answers: ``held`` counts the answers that reached
    it, ``release()`` lets every one (held or still to come) through. Thread-safe: the
    proxy may run in a thread of its own."""

    def __init__(self) -> None:
        self._open = threading.Event()
        self._lock = threading.Lock()
        self._held = 0

    @property
    def held(self) -> int:
        with self._lock:
            return self._held

    def release(self) -> None:
        self._open.set()

    async def until_held(self, n: int = 1, timeout: float = 30.0) -> None:
        """Wait until ``n`` answers are held (AssertionError after ``timeout`` seconds)."""
        deadline = time.monotonic() + timeout
        while self.held < n:
            if time.monotonic() > deadline:
                raise AssertionError(f"{self.held} answers held, not {n}, after {timeout:g} s")
            await asyncio.sleep(0.005)

    async def _keep(self) -> None:
        with self._lock:
            self._held += 1
        while not self._open.is_set():
            await asyncio.sleep(0.005)
_REASONS = {200: "OK", 400: "Bad Request", 404: "Not Found", 408: "Request Timeout",
            429: "Too Many Requests", 500: "Internal Server Error", 502: "Bad Gateway",
            503: "Service Unavailable", 504: "Gateway Timeout"}
_MAX_HEAD = 256 * 1024


@dataclass(frozen=True)
class Fault:
    """One fault to inject. ``match``: a substring of the request line
    (``"POST /v1/task/"``, ``"status=completed"``) the request must contain."""

    kind: str
    status: int = 500
    retry_after: float | None = None
    delay: float = 0.0
    forward: bool = False
    match: str | None = None
    body: bytes = b""
    content_type: str = "application/json"
    headers: tuple[tuple[str, str], ...] = ()  # extra response headers of a ``custom`` answer
    gate: Gate | None = field(default=None, compare=False)  # where a ``hold`` keeps its answer
    then: "Fault | None" = None  # what a ``hold`` answers once released (None: the real answer)

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"unknown fault kind {self.kind!r}; one of {', '.join(KINDS)}")
        if self.kind in _NEEDS_UPSTREAM and not self.forward:
            object.__setattr__(self, "forward", True)

    # constructors
    @classmethod
    def error(cls, status: int = 500, *, forward: bool = False, match: str | None = None) -> "Fault":
        return cls("status", status=status, forward=forward, match=match)

    @classmethod
    def rate_limit(cls, retry_after: float = 1, *, forward: bool = False, match: str | None = None) -> "Fault":
        return cls("rate_limit", status=429, retry_after=retry_after, forward=forward, match=match)

    @classmethod
    def html(cls, *, status: int = 502, forward: bool = False, match: str | None = None) -> "Fault":
        return cls("html", status=status, forward=forward, match=match)

    @classmethod
    def slow(cls, seconds: float, *, match: str | None = None) -> "Fault":
        return cls("delay", delay=seconds, match=match)

    @classmethod
    def drop(cls, when: str = "before", *, forward: bool = False, match: str | None = None) -> "Fault":
        kind = {"before": "drop_before", "headers": "drop_after_headers", "body": "drop_mid_body"}[when]
        return cls(kind, forward=forward, match=match)

    @classmethod
    def truncate(cls, *, match: str | None = None) -> "Fault":
        return cls("truncate", match=match)

    @classmethod
    def custom(cls, body: bytes | str, *, status: int = 200, content_type: str = "application/json",
               headers: dict[str, str] | None = None, forward: bool = False, match: str | None = None) -> "Fault":
        data = body.encode() if isinstance(body, str) else body
        return cls("custom", status=status, body=data, content_type=content_type, forward=forward, match=match,
                   headers=tuple((headers or {}).items()))

    @classmethod
    def garbage(cls, *, forward: bool = False, match: str | None = None) -> "Fault":
        return cls("garbage", forward=forward, match=match)

    @classmethod
    def indent(cls, *, match: str | None = None) -> "Fault":
        return cls("indent", match=match)

    @classmethod
    def hold(cls, gate: Gate, *, then: "Fault | None" = None, match: str | None = None) -> "Fault":
        """The real answer (the request reaches the server at once), kept until
        ``gate.release()``; then written, or replaced by ``then`` (e.g. ``Fault.error(503)``)."""
        if then is not None and then.kind == "hold":
            raise ValueError("a hold cannot be followed by another hold")
        return cls("hold", gate=gate, then=then, match=match)


#: The mix used by ``rate`` when no kinds are given: every fault a client must survive
#: (no delays, which only slow things down).
DEFAULT_MIX = (
    Fault.error(500), Fault.error(503), Fault.rate_limit(0), Fault.html(),
    Fault.drop("before"), Fault.drop("headers"), Fault.drop("body"), Fault.truncate(), Fault.garbage(),
)


@dataclass
class ProxyStats:
    requests: int = 0  # requests read from clients
    forwarded: int = 0  # requests sent to the upstream server
    passed: int = 0  # answered with the upstream's answer, untouched
    injected: Counter = field(default_factory=Counter)  # fault kind -> count (when decided)
    in_flight: int = 0  # requests read and not yet answered
    max_in_flight: int = 0  # the most at any moment: how many a client runs at once

    @property
    def faults(self) -> int:
        return sum(self.injected.values())


@dataclass(frozen=True)
class Seen:
    """One request as the proxy read it: when (``time.monotonic()``), its request line,
    and the kind of fault it got (``None``: passed through)."""

    at: float
    request_line: str
    fault: str | None


class _Closed(Exception):
    pass


@dataclass
class _Message:
    head: bytes  # start line + headers, ending with the blank line
    body: bytes  # decoded body
    first_line: str
    headers: list[tuple[str, str]]
    chunked: bool

    def header(self, name: str) -> str | None:
        name = name.lower()
        for k, v in self.headers:
            if k.lower() == name:
                return v
        return None


async def _read_message(reader: asyncio.StreamReader, *, is_response: bool, method: str = "") -> _Message:
    try:
        head = await reader.readuntil(b"\r\n\r\n")
    except asyncio.IncompleteReadError as e:
        raise _Closed from e
    except asyncio.LimitOverrunError as e:
        raise _Closed from e
    lines = head.decode("latin-1").split("\r\n")
    first = lines[0]
    headers = []
    for line in lines[1:]:
        if ":" in line:
            k, v = line.split(":", 1)
            headers.append((k.strip(), v.strip()))
    msg = _Message(head, b"", first, headers, False)
    te = (msg.header("transfer-encoding") or "").lower()
    cl = msg.header("content-length")
    status = 0
    if is_response:
        try:
            status = int(first.split(" ", 2)[1])
        except (IndexError, ValueError):
            raise _Closed from None
    try:
        if is_response and (method == "HEAD" or status in (204, 304) or 100 <= status < 200):
            body = b""
        elif "chunked" in te:
            msg.chunked = True
            parts = []
            while True:
                size_line = await reader.readuntil(b"\r\n")
                size = int(size_line.split(b";")[0].strip() or b"0", 16)
                if size == 0:
                    # trailers up to the blank line
                    while (await reader.readuntil(b"\r\n")) != b"\r\n":
                        pass
                    break
                parts.append(await reader.readexactly(size))
                await reader.readexactly(2)
            body = b"".join(parts)
        elif cl is not None:
            body = await reader.readexactly(int(cl))
        elif is_response:
            body = await reader.read()  # until the server closes
        else:
            body = b""
    except (asyncio.IncompleteReadError, ValueError) as e:
        raise _Closed from e
    msg.body = body
    return msg


def _rebuild(first_line: str, headers: list[tuple[str, str]], body: bytes, *,
             content_length: int | None = None, extra: list[tuple[str, str]] = ()) -> bytes:
    out = [first_line]
    for k, v in headers:
        if k.lower() in ("content-length", "transfer-encoding"):
            continue
        out.append(f"{k}: {v}")
    for k, v in extra:
        out.append(f"{k}: {v}")
    out.append(f"content-length: {len(body) if content_length is None else content_length}")
    return ("\r\n".join(out) + "\r\n\r\n").encode("latin-1")


def _response(status: int, body: bytes, content_type: str, extra: list[tuple[str, str]] = ()) -> bytes:
    first = f"HTTP/1.1 {status} {_REASONS.get(status, 'Error')}"
    return _rebuild(first, [("content-type", content_type)], body, extra=list(extra)) + body


class FaultProxy:
    """See the module docstring. ``upstream``: the server's URL (``http://127.0.0.1:PORT/v1``
    or just its origin); ``url`` is the same URL through the proxy."""

    def __init__(self, upstream: str, *, seed: int = 0, rate: float = 0.0,
                 kinds: tuple[Fault, ...] = DEFAULT_MIX, rate_match: str | None = None,
                 host: str = "127.0.0.1", port: int = 0, public_contract: bool = False,
                 latency: float = 0.0):
        parts = urlsplit(upstream)
        if parts.scheme != "http" or not parts.hostname:
            raise ValueError("the fault proxy forwards to plain http:// upstreams only")
        self.upstream_host = parts.hostname
        self.upstream_port = parts.port or 80
        self.path = parts.path.rstrip("/")
        self.host = host
        self.port = port
        self._rng = random.Random(seed)
        self.rate = rate
        self.kinds = tuple(kinds)
        self.rate_match = rate_match
        self._script: deque[Fault] = deque()
        self._lock = threading.Lock()
        self.stats = ProxyStats()
        self._log: deque[Seen] = deque(maxlen=10_000)
        self.public_contract = public_contract
        self.latency = latency
        self._refused: list[str] = []
        self._server: asyncio.base_events.Server | None = None
        self._conns: set[asyncio.Task] = set()
        self._thread: threading.Thread | None = None
        self._loop: asyncio.AbstractEventLoop | None = None

    # addresses ---------------------------------------------------------------------
    @property
    def origin(self) -> str:
        return f"http://{self.host}:{self.port}"

    @property
    def url(self) -> str:
        return self.origin + self.path

    # control -----------------------------------------------------------------------
    def script(self, *faults: Fault, times: int = 1) -> "FaultProxy":
        """Queue faults for the next requests (each applies to the next request that
        matches it), in order; ``times`` repeats the list."""
        with self._lock:
            for _ in range(times):
                self._script.extend(faults)
        return self

    def set_rate(self, rate: float, kinds: tuple[Fault, ...] | None = None, *, match: str | None = None) -> None:
        with self._lock:
            self.rate = rate
            if kinds is not None:
                self.kinds = tuple(kinds)
            self.rate_match = match

    def clear(self) -> None:
        """No more faults: empty the script, rate 0."""
        with self._lock:
            self._script.clear()
            self.rate = 0.0

    def reset_stats(self) -> None:
        with self._lock:
            self.stats = ProxyStats()
            self._log.clear()

    @property
    def refused(self) -> list[str]:
        """Requests the public-contract gate refused: ``"GET /v1/tasks?... -> reason"``."""
        with self._lock:
            return list(self._refused)

    def _public_refusal(self, req: "_Message") -> str | None:
        method, _, rest = req.first_line.partition(" ")
        target = rest.rsplit(" ", 1)[0]
        parts = urlsplit(target)
        path = parts.path
        if self.path and path.startswith(self.path + "/"):
            path = path[len(self.path):]
        why = public_contract.refusal(method.upper(), path, parse_qsl(parts.query, keep_blank_values=True),
                                      req.body)
        if why is not None:
            with self._lock:
                self._refused.append(f"{method} {target} -> {why}")
        return why

    @property
    def log(self) -> list[Seen]:
        """The last 10,000 requests, oldest first."""
        with self._lock:
            return list(self._log)

    @property
    def scripted_left(self) -> int:
        with self._lock:
            return len(self._script)

    def _choose(self, request_line: str) -> Fault | None:
        with self._lock:
            self.stats.requests += 1
            chosen = None
            for i, f in enumerate(self._script):
                if f.match is None or f.match in request_line:
                    del self._script[i]
                    chosen = f
                    break
            else:
                if self.rate > 0 and self.kinds and (self.rate_match is None or self.rate_match in request_line):
                    if self._rng.random() < self.rate:
                        chosen = self._rng.choice(self.kinds)
            if chosen is not None:  # counted when decided, whatever happens next
                self.stats.injected[chosen.kind] += 1
            self._log.append(Seen(time.monotonic(), request_line, chosen.kind if chosen else None))
            return chosen

    def _count_passed(self) -> None:
        with self._lock:
            self.stats.passed += 1

    # lifecycle in the running loop -------------------------------------------------
    async def start(self) -> "FaultProxy":
        self._server = await asyncio.start_server(self._handle, self.host, self.port, limit=_MAX_HEAD)
        self.port = self._server.sockets[0].getsockname()[1]
        return self

    async def stop(self) -> None:
        if self._server is not None:
            self._server.close()
            for t in list(self._conns):
                t.cancel()
            if self._conns:
                await asyncio.gather(*self._conns, return_exceptions=True)
            with contextlib.suppress(Exception):
                await self._server.wait_closed()
            self._server = None

    async def __aenter__(self) -> "FaultProxy":
        return await self.start()

    async def __aexit__(self, *exc) -> None:
        await self.stop()

    # lifecycle in a thread of its own ----------------------------------------------
    def start_in_thread(self) -> "FaultProxy":
        ready = threading.Event()
        error: list[BaseException] = []

        def run() -> None:
            loop = asyncio.new_event_loop()
            self._loop = loop
            try:
                loop.run_until_complete(self.start())
            except BaseException as e:  # noqa: BLE001 - reported to the starting thread
                error.append(e)
                ready.set()
                return
            ready.set()
            loop.run_forever()
            loop.run_until_complete(self.stop())
            loop.close()

        self._thread = threading.Thread(target=run, name="fault-proxy", daemon=True)
        self._thread.start()
        ready.wait(10)
        if error:
            raise error[0]
        return self

    def stop_in_thread(self) -> None:
        if self._loop is not None and self._thread is not None:
            self._loop.call_soon_threadsafe(self._loop.stop)
            self._thread.join(10)
            self._thread = None
            self._loop = None

    @contextlib.contextmanager
    def running(self) -> Iterator["FaultProxy"]:
        self.start_in_thread()
        try:
            yield self
        finally:
            self.stop_in_thread()

    @contextlib.contextmanager
    def _counting_in_flight(self) -> Iterator[None]:
        with self._lock:
            self.stats.in_flight += 1
            self.stats.max_in_flight = max(self.stats.max_in_flight, self.stats.in_flight)
        try:
            yield
        finally:
            with self._lock:
                self.stats.in_flight -= 1

    # the proxying ------------------------------------------------------------------
    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        self._conns.add(task)
        up: tuple[asyncio.StreamReader, asyncio.StreamWriter] | None = None
        try:
            while True:
                try:
                    req = await _read_message(reader, is_response=False)
                except _Closed:
                    return
                method = req.first_line.split(" ", 1)[0].upper()
                if self.public_contract:
                    why = self._public_refusal(req)
                    if why is not None:
                        body = orjson.dumps({"status_code": 400, "error": why})
                        writer.write(_response(400, body, "application/json"))
                        await writer.drain()
                        continue
                with self._counting_in_flight():
                    if self.latency > 0:
                        await asyncio.sleep(self.latency)
                    fault = self._choose(req.first_line)
                    resp: _Message | None = None
                    if fault is None or fault.forward:
                        if up is None:
                            up = await asyncio.open_connection(self.upstream_host, self.upstream_port, limit=_MAX_HEAD)
                        up[1].write(req.head + (_encode_chunked(req.body) if req.chunked else req.body))
                        await up[1].drain()
                        with self._lock:
                            self.stats.forwarded += 1
                        try:
                            resp = await _read_message(up[0], is_response=True, method=method)
                        except _Closed:
                            return  # upstream went away: so do we
                        if (resp.header("connection") or "").lower() == "close":
                            up[1].close()
                            up = None
                        if self.public_contract:
                            drop = EXTENSIONS_HEADER.lower()
                            resp.headers = [(k, v) for k, v in resp.headers if k.lower() != drop]
                    keep = await self._answer(writer, fault, resp)
                if not keep or (req.header("connection") or "").lower() == "close":
                    return
        except (ConnectionError, OSError, asyncio.CancelledError):
            return
        finally:
            self._conns.discard(task)
            for w in (writer, up[1] if up else None):
                if w is not None:
                    with contextlib.suppress(Exception):
                        w.close()

    async def _answer(self, writer: asyncio.StreamWriter, fault: Fault | None, resp: _Message | None) -> bool:
        """Write the answer (or the fault); False when the connection must close."""
        if fault is None:
            assert resp is not None
            writer.write(_rebuild(resp.first_line, resp.headers, resp.body) + resp.body)
            await writer.drain()
            self._count_passed()
            return True
        k = fault.kind
        if k == "status":
            body = b'{"status_code": %d, "error": "injected fault: server error"}' % fault.status
            writer.write(_response(fault.status, body, "application/json"))
        elif k == "rate_limit":
            body = b'{"status_code": 429, "error": "injected fault: too many requests"}'
            extra = [("retry-after", f"{fault.retry_after:g}")] if fault.retry_after is not None else []
            writer.write(_response(429, body, "application/json", extra))
        elif k == "html":
            body = (b"<!DOCTYPE html><html><head><title>502 Bad Gateway</title></head>"
                    b"<body><h1>Bad Gateway</h1><p>injected fault</p></body></html>")
            writer.write(_response(fault.status, body, "text/html; charset=utf-8"))
        elif k == "garbage":
            writer.write(_response(200, b"\x00<<this is not json>> {\"docs\": [", "application/json"))
        elif k == "custom":
            writer.write(_response(fault.status, fault.body, fault.content_type, fault.headers))
        elif k == "delay":
            await asyncio.sleep(fault.delay)
            writer.write(_rebuild(resp.first_line, resp.headers, resp.body) + resp.body)
        elif k == "drop_before":
            return False
        elif k == "drop_after_headers":
            writer.write(_rebuild(resp.first_line, resp.headers, resp.body))
            await writer.drain()
            return False
        elif k == "drop_mid_body":
            writer.write(_rebuild(resp.first_line, resp.headers, resp.body) + resp.body[: len(resp.body) // 2])
            await writer.drain()
            return False
        elif k == "truncate":
            cut = resp.body[: max(1, len(resp.body) // 2)]
            writer.write(_rebuild(resp.first_line, resp.headers, cut) + cut)
        elif k == "indent":
            body = _indented(resp.body)
            writer.write(_rebuild(resp.first_line, resp.headers, body) + body)
        elif k == "hold":
            assert fault.gate is not None, "Fault.hold needs a Gate"
            await fault.gate._keep()
            if fault.then is not None:
                with self._lock:
                    self.stats.injected[fault.then.kind] += 1
                return await self._answer(writer, fault.then, resp)
            writer.write(_rebuild(resp.first_line, resp.headers, resp.body) + resp.body)
        await writer.drain()
        return True


def _indented(body: bytes) -> bytes:
    """A JSON body written again over many lines (tab indents, CRLF line ends, a space
    after each colon); a body that is not JSON is left as it is."""
    try:
        doc = json.loads(body)
    except ValueError:
        return body
    return json.dumps(doc, indent="\t", ensure_ascii=False).replace("\n", "\r\n").encode("utf-8")


def _encode_chunked(body: bytes) -> bytes:
    if not body:
        return b"0\r\n\r\n"
    return b"%x\r\n" % len(body) + body + b"\r\n0\r\n\r\n"
