"""The bundled Scale-compatible task server (Starlette + uvicorn + SQLite).

Public API:

- ``start_server_thread(db_path, api_keys, *, host="127.0.0.1", port=0, simulate=False, **opts)
  -> ServerHandle``: run the server in a background thread (used by tests, benchmarks and
  the embedded sandbox). ``opts`` are fields of ``ServerOptions``.
- ``seed_database(db_path, n, *, seed=1, now=None) -> int``: add ``n`` deterministic demo tasks.
- ``create_app(db_path, api_keys, options) -> (app, ServerContext)`` for embedding the
  ASGI app elsewhere; ``ServerOptions`` are its tunables.
"""

from tasktui.server.seed import seed_database
from tasktui.server.runner import ServerHandle, create_app, start_server_thread
from tasktui.server.options import ServerOptions

__all__ = ["ServerHandle", "ServerOptions", "create_app", "seed_database", "start_server_thread"]
