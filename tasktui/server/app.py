"""The Starlette application: the Scale v1 wire contract plus the advertised extensions.

``build_app`` holds the route table, the error handlers and the lifespan (callback
dispatcher, idempotency purge, simulated workforce). Every route requires HTTP Basic auth
with an API key as the user name (401 otherwise, see ``state.Guard``); every response
carries ``X-Tasktui-Extensions``; every error is
``{"status_code": N, "error": "a sentence naming what is wrong"}``; every success is 200.
Blocking SQLite work runs in worker threads (one connection per thread), never on the
event loop.
"""

from __future__ import annotations

import asyncio
from contextlib import asynccontextmanager

import anyio.to_thread
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from tasktui.server import db as dbm
from tasktui.server import idempotency
from tasktui.server.callbacks import Dispatcher
from tasktui.server.errors import JSON, BadRequest, error_response
from tasktui.server.idempotency import Replay
from tasktui.server.routes_actions import ActionRoutes
from tasktui.server.routes_catalog import CatalogRoutes
from tasktui.server.routes_tasks import TaskRoutes
from tasktui.server.simulate import Workforce
from tasktui.server.state import Guard, ServerContext


async def _refused(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, BadRequest)
    return error_response(exc.status, exc.message)


async def _replayed(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, Replay)
    return Response(exc.body, status_code=exc.status, media_type=JSON, headers={"idempotent-replayed": "true"})


async def _http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    if exc.status_code == 405:
        allow = (exc.headers or {}).get("Allow") or (exc.headers or {}).get("allow") or ""
        return error_response(405, f"{request.method[:20]} is not allowed on {request.url.path[:200]}",
                              {"allow": allow} if allow else None)
    if exc.status_code == 404:
        return error_response(404, f"no such route: {request.method} {request.url.path[:200]}")
    return error_response(exc.status_code, str(exc.detail))


async def _server_error(request: Request, exc: Exception) -> Response:
    return error_response(500, "internal server error; the request was not applied")


#: Routes that dispatch by themselves take every method and answer 405 with their own Allow.
_EVERY_METHOD = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"]


def build_app(ctx: ServerContext) -> Starlette:
    tasks, actions, catalog = TaskRoutes(ctx), ActionRoutes(ctx), CatalogRoutes(ctx)
    routes = [
        Route("/v1/tasks", tasks.list_tasks, methods=["GET"]),
        Route("/v1/task/{task_id}", tasks.task_or_create, methods=["GET", "POST"]),
        Route("/v1/task/{task_id}/cancel", actions.cancel, methods=["POST"]),
        Route("/v1/task/{task_id}/audit", actions.audit, methods=["POST"]),
        Route("/v1/task/{task_id}/unique_id", actions.unique_id, methods=["POST", "DELETE"]),
        Route("/v1/task/{task_id}/setMetadata", actions.set_metadata, methods=["POST"]),
        Route("/v1/task/{task_id}/tags", actions.tags, methods=["POST", "PUT", "DELETE"]),
        Route("/v1/projects", catalog.projects, methods=["GET"]),
        # names may hold "/" (sent as %2F): these route on the raw path's segments
        Route("/v1/projects/{rest:path}", catalog.project_item, methods=_EVERY_METHOD),
        Route("/v1/batches", catalog.batches, methods=["GET", "POST"]),
        Route("/v1/batches/{rest:path}", catalog.batch_item, methods=_EVERY_METHOD),
        Route("/v1/media/{task_id}/{name}", catalog.get_media, methods=["GET"]),
        Route("/v1/openapi.json", catalog.openapi, methods=["GET"]),
    ]

    @asynccontextmanager
    async def lifespan(app):
        # one SQLite connection per worker thread: 16 are plenty on a small machine and
        # bound the memory the page caches take
        anyio.to_thread.current_default_thread_limiter().total_tokens = 16
        ctx.callbacks = Dispatcher(ctx.options, ctx.pool, asyncio.get_running_loop())

        def purge() -> None:  # idempotency records past their time-to-live
            conn = ctx.pool.get()
            with dbm.Tx(conn, write=True):
                idempotency.purge(conn, ctx.options.idempotency_ttl)
        await run_in_threadpool(purge)
        force = None
        if ctx.options.simulate:
            force = Workforce(ctx)
            force.start()
        try:
            yield
        finally:
            if force is not None:
                await force.stop()
            await ctx.callbacks.close()
            ctx.pool.close()

    app = Starlette(routes=routes, lifespan=lifespan,
                    exception_handlers={BadRequest: _refused, Replay: _replayed, HTTPException: _http_error,
                                        Exception: _server_error})
    app.add_middleware(Guard, ctx=ctx)
    app.state.tasktui = ctx
    return app
