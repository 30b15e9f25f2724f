"""Callback delivery: ``POST callback_url`` with ``{"task", "response", "task_id", "status"}``
and the ``scale-callback-auth`` header, in the background, retried on failure (non-2xx or
no connection) with exponential backoff a bounded number of times. A delivered callback
sets ``callback_completed: true`` on the task. Only http(s) URLs are ever called.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any
from urllib.parse import urlsplit

import httpx
import orjson
from starlette.concurrency import run_in_threadpool

from tasktui.server import db as dbm
from tasktui.server.options import ServerOptions

log = logging.getLogger("tasktui.server.callbacks")


class Dispatcher:
    """Delivers callbacks on ``loop`` (the server's event loop) and records deliveries
    in the database of ``pool``."""

    def __init__(self, options: ServerOptions, pool: dbm.ConnectionPool, loop: asyncio.AbstractEventLoop):
        self.options = options
        self.pool = pool
        self.loop = loop
        self.client = httpx.AsyncClient(timeout=options.callback_timeout, follow_redirects=False,
                                        trust_env=False)
        self.tasks: set[asyncio.Task] = set()
        self.delivered = 0
        self.failed = 0

    def fire(self, task: dict[str, Any], status: str) -> None:
        """Schedule a callback for ``task`` (its wire form). Safe from any thread."""
        url = task.get("callback_url")
        if not isinstance(url, str):
            return
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            return
        body = {"task": task, "response": task.get("response", {}), "task_id": task["task_id"], "status": status}
        loop = self.loop
        if loop.is_closed():
            return

        def start() -> None:
            t = loop.create_task(self._deliver(url, body))
            self.tasks.add(t)
            t.add_done_callback(self.tasks.discard)

        try:
            running = asyncio.get_running_loop()
        except RuntimeError:
            running = None
        if running is loop:
            start()
        else:
            loop.call_soon_threadsafe(start)

    async def _deliver(self, url: str, body: dict[str, Any]) -> None:
        opts = self.options
        payload = orjson.dumps(body)
        headers = {"content-type": "application/json", "scale-callback-auth": opts.callback_auth,
                   "user-agent": "tasktui-server-callbacks"}
        delay = opts.callback_backoff
        for attempt in range(1, max(1, opts.callback_attempts) + 1):
            try:
                r = await self.client.post(url, content=payload, headers=headers)
                if 200 <= r.status_code < 300:
                    self.delivered += 1
                    await self._mark_completed(body["task_id"])
                    return
                log.info("callback for %s got HTTP %s (attempt %d)", body["task_id"], r.status_code, attempt)
            except httpx.HTTPError as e:
                log.info("callback for %s failed: %s (attempt %d)", body["task_id"], type(e).__name__, attempt)
            if attempt < opts.callback_attempts:
                await asyncio.sleep(delay)
                delay *= 2
        self.failed += 1

    async def _mark_completed(self, task_id: str) -> None:
        def work() -> None:
            conn = self.pool.get()
            with dbm.Tx(conn, write=True):
                found = dbm.find_doc(conn, task_id)
                if found is None:
                    return
                rid, doc = found
                if doc.get("callback_completed") is True:
                    return
                doc["callback_completed"] = True
                dbm.write_doc(conn, rid, doc)

        try:
            await run_in_threadpool(work)
        except Exception:  # the server may be shutting down
            log.exception("could not record callback_completed for %s", task_id)

    async def close(self) -> None:
        for t in list(self.tasks):
            t.cancel()
        if self.tasks:
            await asyncio.gather(*self.tasks, return_exceptions=True)
        await self.client.aclose()
