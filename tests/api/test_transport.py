"""The Transport alone (no TaskClient): what it reports, when it may retry a write, and
the key kept out of every text it makes."""

from __future__ import annotations

import gc
import tracemalloc
from pathlib import Path

import httpx
import pytest

from tasktui.api import MalformedResponseError, NetworkError, RetryPolicy, ServerError, TaskClient
from tasktui.domain import TaskQuery
from tasktui.api.transport import Transport
from tasktui.testing import Fault

THREE = RetryPolicy(max_attempts=3, base_delay=0.001, max_delay=0.01, total_time=10, seed=1)


def _transport(url: str, key: str, *, replays: bool = False, answers: list | None = None) -> Transport:
    return Transport(httpx.URL(url), key, timeout=httpx.Timeout(5.0), retry=THREE, max_connections=2,
                     user_agent="test", on_answer=(answers.append if answers is not None else lambda r: None),
                     replays_writes=lambda: replays)


def test_scrub_hides_the_key_wherever_it_appears():
    t = _transport("http://127.0.0.1:9/v1", "sekrit-key")
    assert t.scrub("a sekrit-key b sekrit-key") == "a *** b ***"
    assert _transport("http://127.0.0.1:9/v1", "abc").scrub("abc") == "abc"  # too short to mean anything
    assert "sekrit-key" not in repr(vars(t))


def test_malformed_shows_the_start_of_the_body_cleaned_and_scrubbed():
    t = _transport("http://127.0.0.1:9/v1", "sekrit-key")
    err = t.malformed("list tasks", "not JSON", b"<<sekrit-key\x1b[2J\xe2\x80\xae>>")
    assert isinstance(err, MalformedResponseError)
    assert str(err) == "Could not list tasks: not JSON. It began: '<<*** [2J >>'."
    assert str(t.malformed("x", "empty", b"")) == "Could not x: empty. It was empty."
    assert str(t.malformed("x", "no body")) == "Could not x: no body."


async def test_api_answers_are_reported_and_parsed(shared_server):
    answers: list[httpx.Response] = []
    t = _transport(shared_server.url, shared_server.api_key, answers=answers)
    try:
        data = await t.call("GET", "tasks", what="list tasks", params=[("limit", "2")])
    finally:
        await t.aclose()
    assert len(data["docs"]) == 2
    assert len(answers) == 1 and answers[0].status_code == 200


@pytest.mark.parametrize(("replays", "tries"), [(False, 1), (True, 3)])
async def test_a_failed_write_is_retried_only_where_the_server_replays_writes(
        server, proxy_for, replays, tries):
    proxy = await proxy_for(server)
    proxy.script(Fault.error(500), times=5)
    t = _transport(proxy.url, server.api_key, replays=replays)
    try:
        with pytest.raises(ServerError):
            await t.call("POST", "task/nope/cancel", what="cancel", state_changing=True)
    finally:
        await t.aclose()
    assert proxy.stats.requests == tries


async def test_a_connection_the_server_closed_while_idle_is_not_reused():
    """A kept-alive connection the server closes while it sits idle in the pool (as
    servers with a short keep-alive do) is seen as closed before the next request and a
    new one is opened: the next request succeeds on its first attempt (no retry allowed
    here). httpcore asks the pool's streams ``is_readable``; tasktui answers it from the
    raw socket (transport._Stream). Oracle: what a raw TCP server saw. The server closes
    each connection only once the client has its answer (so it is idle in the pool), and
    the test goes on only once the server's side is closed: no fixed wait."""
    import asyncio

    seen: list[tuple[int, bytes]] = []
    served: asyncio.Queue[tuple[asyncio.Event, asyncio.Event]] = asyncio.Queue()
    conns = 0

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        nonlocal conns
        conns += 1
        me = conns
        head = await reader.readuntil(b"\r\n\r\n")
        seen.append((me, head.split(b"\r\n", 1)[0]))
        body = b'{"ok": true}'
        writer.write(b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\nconnection: keep-alive\r\n"
                     b"content-length: %d\r\n\r\n%s" % (len(body), body))
        await writer.drain()
        idle, closed = asyncio.Event(), asyncio.Event()
        await served.put((idle, closed))
        await idle.wait()  # the client has read the answer: the connection sits in its pool
        writer.close()
        await writer.wait_closed()
        closed.set()

    server = await asyncio.start_server(handle, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    one = RetryPolicy(max_attempts=1, base_delay=0.001, max_delay=0.01, total_time=10, seed=1)
    t = Transport(httpx.URL(f"http://127.0.0.1:{port}/v1"), "k" * 20, timeout=httpx.Timeout(5.0), retry=one,
                  max_connections=2, user_agent="test", on_answer=lambda r: None, replays_writes=lambda: False)
    try:
        async with server:
            for path in ("/first", "/second"):
                body = await t.call("GET", path.lstrip("/"), what="read")
                assert body == {"ok": True}
                idle, closed = await asyncio.wait_for(served.get(), 5)
                idle.set()
                try:
                    await asyncio.wait_for(closed.wait(), 5)
                except asyncio.TimeoutError:
                    raise AssertionError(f"the server never closed the idle connection after {path}") from None
    finally:
        await t.aclose()
    assert seen == [(1, b"GET /v1/first HTTP/1.1"), (2, b"GET /v1/second HTTP/1.1")]


_DATA = Path(__file__).resolve().parents[1] / "data"
#: A self-signed certificate for IP 127.0.0.1 only (no CA vouches for it; not a secret:
#: made once with ``openssl req -x509 -newkey rsa:2048 -nodes -days 36500
#: -subj "/CN=tasktui test server" -addext subjectAltName=IP:127.0.0.1``).
_CERT, _KEY = _DATA / "tls-cert.pem", _DATA / "tls-key.pem"


@pytest.fixture
async def tls_server():
    """An HTTPS server on 127.0.0.1 with the self-signed certificate, answering any GET
    with ``{"ok": true}``; yields its port and the request lines it read (a request line
    is only read after a completed handshake)."""
    import asyncio
    import ssl

    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(_CERT, _KEY)
    seen: list[bytes] = []

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                seen.append(head.split(b"\r\n", 1)[0])
                body = b'{"ok": true}'
                writer.write(b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\n"
                             b"content-length: %d\r\n\r\n%s" % (len(body), body))
                await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError, OSError):
            pass
        finally:
            writer.close()

    server = await asyncio.start_server(handle, "127.0.0.1", 0, ssl=ctx)
    async with server:
        yield server.sockets[0].getsockname()[1], seen


async def _fetch(api: str, url: str) -> object:
    """GET ``url`` (a path under ``api``, or an absolute link) with a Transport made now
    (with the environment as it is now), once (no retries)."""
    one = RetryPolicy(max_attempts=1, base_delay=0.001, max_delay=0.01, total_time=10, seed=1)
    t = Transport(httpx.URL(api), "k" * 20, timeout=httpx.Timeout(5.0), retry=one, max_connections=2,
                  user_agent="test", on_answer=lambda r: None, replays_writes=lambda: False)
    try:
        _, data = await t.send("GET", url, what="read")
    finally:
        await t.aclose()
    return data


@pytest.mark.parametrize("where", ["https api", "https link from an http api"])
async def test_https_is_verified_whatever_the_api_scheme(tls_server, monkeypatch, where):
    """Certificates and host names are checked on every https request: by the API's own
    transport when the API is https, by the one made on the first https link (an
    attachment) when the API is plain http. Oracle: a local TLS server with a self-signed
    certificate — refused (no request reaches it) while untrusted, reached once the
    certificate is trusted (``SSL_CERT_FILE``, honoured as by default), and refused again
    under a host name the certificate does not name."""
    port, seen = tls_server

    def request(host: str) -> tuple[str, str]:
        if where == "https api":
            return f"https://{host}:{port}/v1", "tasks"
        return "http://127.0.0.1:9/v1", f"https://{host}:{port}/media/a.png"

    with pytest.raises(NetworkError) as err:
        await _fetch(*request("127.0.0.1"))
    assert "certificate verify failed" in str(err.value).lower(), str(err.value)
    assert seen == []

    monkeypatch.setenv("SSL_CERT_FILE", str(_CERT))
    monkeypatch.delenv("SSL_CERT_DIR", raising=False)
    assert await _fetch(*request("127.0.0.1")) == {"ok": True}
    assert len(seen) == 1

    with pytest.raises(NetworkError) as err:  # trusted, but not for this name
        await _fetch(*request("localhost"))
    assert "certificate verify failed: hostname mismatch" in str(err.value).lower(), str(err.value)
    assert len(seen) == 1


async def test_a_read_answer_does_not_keep_its_body_until_the_gc_runs(shared_server, api_key):
    """httpx keeps a body read with ``aread()`` on the response, which sits in reference
    cycles: with the bulk commands' rare collections every page's bytes stayed in memory
    (an export of 100,000 tasks peaked at 140 MiB). Oracle: memory traced by tracemalloc
    with the cyclic GC off, against the size of the bodies read."""
    pages = 30
    async with TaskClient(shared_server.url, api_key) as c:
        await c.list_tasks(TaskQuery(), limit=100)  # connection, discovery: not measured
        gc.collect()
        gc.disable()
        tracemalloc.start()
        try:
            before = tracemalloc.get_traced_memory()[0]
            body = 0
            for _ in range(pages):
                page = await c.list_tasks(TaskQuery(), limit=100)
                body = max(body, sum(len(bytes(t.json_text())) for t in page.tasks))
                del page
            grown = tracemalloc.get_traced_memory()[0] - before
        finally:
            tracemalloc.stop()
            gc.enable()
    assert body > 50_000, "pages of real size"
    assert grown < 3 * body, f"{grown:,} bytes still held after {pages} pages of about {body:,}"
