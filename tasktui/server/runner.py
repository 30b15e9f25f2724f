"""Running the server: in a background thread (``start_server_thread``), or in the
foreground by ``tasktui serve`` with the same ``uvicorn_config`` and ``bind_socket``."""

from __future__ import annotations

import socket
import threading
import time
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

import uvicorn

from tasktui.server.app import build_app
from tasktui.server.options import ServerOptions
from tasktui.server.protocol import ScaleHttpProtocol
from tasktui.server.state import ServerContext


def make_options(simulate: bool = False, **opts: Any) -> ServerOptions:
    names = {f.name for f in fields(ServerOptions)}
    unknown = set(opts) - names
    if unknown:
        raise TypeError(f"unknown server option(s): {', '.join(sorted(unknown))}; known: {', '.join(sorted(names))}")
    return ServerOptions(simulate=simulate, **opts)


def create_app(db_path: str | Path, api_keys: list[str], options: ServerOptions | None = None):
    """The ASGI app and its ServerContext for a database and a set of API keys."""
    ctx = ServerContext(str(db_path), list(api_keys), options or ServerOptions())
    return build_app(ctx), ctx


def uvicorn_config(app) -> uvicorn.Config:
    """How every server runs under uvicorn (the test thread and ``tasktui serve``): quiet,
    30 s keep-alive, and the protocol that answers unparseable requests in the Scale
    error shape."""
    return uvicorn.Config(app, http=ScaleHttpProtocol, log_level="warning", access_log=False, lifespan="on",
                          timeout_graceful_shutdown=3, timeout_keep_alive=30)


def bind_socket(host: str, port: int) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    # proto=IPPROTO_TCP: asyncio sets TCP_NODELAY only on accepted sockets whose proto is
    # TCP; with proto 0 Nagle + delayed ACK add ~40 ms to every keep-alive request.
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    sock.listen(2048)
    sock.setblocking(False)
    return sock


def _url_host(host: str) -> str:
    if host in ("0.0.0.0", ""):
        return "127.0.0.1"
    if host == "::":
        return "[::1]"
    return f"[{host}]" if ":" in host else host


@dataclass
class ServerHandle:
    """A server running in a background thread. ``url`` is the API base
    (``http://127.0.0.1:PORT/v1``); ``api_key`` the first key; ``stop()`` shuts it down."""

    host: str
    port: int
    api_keys: list[str]
    db_path: str
    context: ServerContext
    _server: uvicorn.Server = field(repr=False)
    _thread: threading.Thread = field(repr=False)

    @property
    def origin(self) -> str:
        return f"http://{_url_host(self.host)}:{self.port}"

    @property
    def url(self) -> str:
        return self.origin + "/v1"

    @property
    def api_key(self) -> str:
        return self.api_keys[0]

    @property
    def callback_auth(self) -> str:
        """The value sent in the ``scale-callback-auth`` header of callbacks."""
        return self.context.options.callback_auth

    @property
    def options(self) -> ServerOptions:
        return self.context.options

    def stop(self, timeout: float = 10.0) -> None:
        self._server.should_exit = True
        self._thread.join(timeout)

    def __enter__(self) -> "ServerHandle":
        return self

    def __exit__(self, *exc) -> None:
        self.stop()


def start_server_thread(db_path: str | Path, api_keys: list[str] | str, *, host: str = "127.0.0.1", port: int = 0,
                        simulate: bool = False, **opts: Any) -> ServerHandle:
    """Start uvicorn in a daemon thread and return once it accepts connections."""
    keys = [api_keys] if isinstance(api_keys, str) else list(api_keys)
    app, ctx = create_app(db_path, keys, make_options(simulate, **opts))
    sock = bind_socket(host, port)
    real_port = sock.getsockname()[1]
    ctx.origin = f"http://{_url_host(host)}:{real_port}"
    server = uvicorn.Server(uvicorn_config(app))
    errors: list[BaseException] = []

    def run() -> None:
        try:
            server.run(sockets=[sock])
        except BaseException as e:  # pragma: no cover - surfaced below
            errors.append(e)
        finally:
            try:
                sock.close()
            except OSError:
                pass

    thread = threading.Thread(target=run, name=f"tasktui-server-{real_port}", daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        if errors or not thread.is_alive():
            raise RuntimeError(f"the server did not start: {errors[0] if errors else 'thread exited'}")
        if time.monotonic() > deadline:
            server.should_exit = True
            raise RuntimeError("the server did not start within 30 s")
        time.sleep(0.01)
    return ServerHandle(host, real_port, keys, str(db_path), ctx, server, thread)
