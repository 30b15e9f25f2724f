"""The bundled Scale-compatible task server (Starlette + uvicorn + SQLite).

Public API:

- ``start_server_thread(db_path, api_keys, *, host="127.0.0.1", port=0, simulate=False, **opts)
  -> ServerHandle``: run the server in a background thread (used by tests, benchmarks and
  the embedded sandbox). ``opts`` are fields of ``ServerOptions``.
- ``seed_database(db_path, n, *, seed=1, now=None) -> int``: add ``n`` deterministic demo tasks.
- ``create_app(db_path, api_keys, options) -> (app, ServerContext)`` for embedding the
  ASGI app elsewhere; ``ServerOptions`` are its tunables.
"""


from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from tasktui.server.options import ServerOptions
    from tasktui.server.runner import ServerHandle, create_app, start_server_thread
    from tasktui.server.seed import seed_database

#: name -> module: loaded on first use, so that a user of ``tasktui.server.db`` alone (the
#: local index) does not import uvicorn, Starlette and the demo content to start.
_EXPORTS = {"seed_database": "tasktui.server.seed", "ServerHandle": "tasktui.server.runner",
            "create_app": "tasktui.server.runner", "start_server_thread": "tasktui.server.runner",
            "ServerOptions": "tasktui.server.options"}

__all__ = ["ServerHandle", "ServerOptions", "create_app", "seed_database", "start_server_thread"]


def __getattr__(name: str) -> Any:
    if name in _EXPORTS:
        value = getattr(importlib.import_module(_EXPORTS[name]), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'tasktui.server' has no attribute {name!r}")
