"""``--simulate``: a background workforce that moves tasks along, so that a live list
changes under the operator's eyes.

Every ``simulate_interval`` seconds it takes up to ``simulate_batch`` tasks for each step:

- Queued -> In Progress (``work_started`` true),
- In Progress -> Completed with a response (review status pending), or Error with a
  message saying what failed in its response (about one in ten),
- Completed and Rejected -> Redo (pending, review status still rejected; the rejected
  response goes to ``prior_responses``),
- Redo -> Completed with a new response, review status back to pending,

and about half as many new Queued tasks arrive (``simulate_arrivals``), so there is always
work to cancel and the top of the list keeps moving.

Each change bumps ``updated_at``; completions and errors fire callbacks. Tasks are taken
newest first, so the top of the default list is where things move.
"""

from __future__ import annotations

import asyncio
import logging
import random
import secrets
from typing import Any

import orjson
from starlette.concurrency import run_in_threadpool

from tasktui.server import db as dbm
from tasktui.server.content import ATTACHMENT_TYPE, MEDIA_NAME, PROJECT_BY_NAME, PROJECTS, response_for
from tasktui.server.docs import materialize, present, touch
from tasktui.server.seed import batch_name
from tasktui.server.state import ServerContext
from tasktui.server.times import ms_to_wire, now_ms

log = logging.getLogger("tasktui.server.simulate")

SIM_ERRORS = [
    "Attachment could not be fetched: HTTP 404 Not Found",
    "The labeler flagged the attachment as unreadable (too dark)",
    "Attachment could not be decoded: truncated PNG data",
]


def synthetic_response(doc: dict[str, Any]) -> dict[str, Any]:
    project = PROJECT_BY_NAME.get(doc.get("project") or "")
    seed = doc.get("_seed")
    if project is not None and isinstance(seed, int):
        return response_for(project, seed)
    params = doc.get("params") if isinstance(doc.get("params"), dict) else {}
    cats = params.get("categories")
    if doc.get("type") == "categorization" and isinstance(cats, list) and cats:
        return {"category": cats[0]}
    if doc.get("type") in ("transcription", "textcollection"):
        return {"text": "transcribed by the simulated workforce"}
    return {"annotations": [{"label": "object", "left": 10, "top": 10, "width": 50, "height": 40}]}


class Workforce:
    def __init__(self, ctx: ServerContext):
        self.ctx = ctx
        self.task: asyncio.Task | None = None
        self.rng = random.Random()
        self.steps = 0

    def start(self) -> None:
        self._stop = asyncio.Event()
        self.task = asyncio.get_running_loop().create_task(self._run())

    async def stop(self) -> None:
        """Stop after the step in progress (a step runs in a worker thread and is never
        abandoned half-way)."""
        if self.task:
            self._stop.set()
            try:
                await self.task
            except Exception:
                log.exception("simulated workforce stopped with an error")

    async def _run(self) -> None:
        while not self._stop.is_set():
            try:
                await asyncio.wait_for(self._stop.wait(), self.ctx.options.simulate_interval)
                return
            except asyncio.TimeoutError:
                pass
            try:
                fired = await asyncio.shield(run_in_threadpool(self.step))
            except asyncio.CancelledError:
                return
            except Exception:
                log.exception("simulated workforce step failed")
                continue
            self.steps += 1
            if self.ctx.callbacks is not None:
                for task, event in fired:
                    self.ctx.callbacks.fire(task, event)

    def step(self) -> list[tuple[dict[str, Any], str]]:
        """One round of work in one write transaction; returns callbacks to fire."""
        k = max(1, self.ctx.options.simulate_batch)
        conn = self.ctx.pool.get()
        fired: list[tuple[dict[str, Any], str]] = []
        with dbm.Tx(conn, write=True):
            instr = self.ctx.instructions.get(conn)

            def take(where: str) -> list[tuple[int, dict[str, Any]]]:
                rows = conn.execute(
                    f"SELECT t.id, d.doc FROM tasks t JOIN docs d ON d.id = t.id WHERE {where} "
                    f"ORDER BY t.created_at DESC, t.task_id DESC LIMIT {k}").fetchall()
                return [(rid, materialize(orjson.loads(doc))) for rid, doc in rows]

            def save(rid: int, doc: dict[str, Any], event: str | None) -> None:
                touch(doc)
                dbm.store_doc(conn, rid, doc)
                if event and doc.get("callback_url"):
                    fired.append((present(doc, self.ctx.origin, instr), event))

            # customers keep sending work: new Queued tasks appear at the top of the list
            if self.ctx.options.simulate_arrivals:
                for _ in range(max(1, k // 2)):
                    dbm.insert_doc(conn, self._new_task())
            for rid, doc in take("t.ostatus = 'in_progress'"):
                if self.rng.random() < self.ctx.options.simulate_error_rate:
                    doc["status"] = "error"
                    doc["response"] = {"error": self.rng.choice(SIM_ERRORS)}
                    save(rid, doc, "error")
                else:
                    self._complete(doc)
                    save(rid, doc, "completed")
            for rid, doc in take("t.ostatus = 'redo'"):
                self._complete(doc)
                save(rid, doc, "completed")
            for rid, doc in take("t.ostatus = 'queued'"):
                doc["work_started"] = True
                save(rid, doc, None)
            for rid, doc in take("t.ostatus = 'completed' AND t.review = 'rejected'"):
                doc["status"] = "pending"  # customer_review_status stays "rejected": that is Redo
                doc["work_started"] = True
                if "response" in doc:
                    doc["prior_responses"] = [*(doc.get("prior_responses") or []), doc.pop("response")]
                doc.pop("completed_at", None)
                save(rid, doc, None)
        return fired

    def _new_task(self) -> dict[str, Any]:
        """A fresh Queued demo task (its media and response come from its seed)."""
        p = self.rng.choices(PROJECTS, weights=[x["weight"] for x in PROJECTS])[0]
        t = now_ms()
        tid = f"{t // 1000:08x}{secrets.token_hex(8)}"
        seed = self.rng.getrandbits(31)
        params: dict[str, Any] = {"attachment": f"/v1/media/{tid}/{MEDIA_NAME[p['kind']]}",
                                  "attachment_type": ATTACHMENT_TYPE[p["kind"]]}
        if p["labels"]:
            params["objects_to_annotate" if p["kind"] in ("boxes", "polygons", "lidar") else "categories"] = p["labels"]
        return {"task_id": tid, "created_at": ms_to_wire(t), "updated_at": ms_to_wire(t), "type": p["type"],
                "project": p["name"], "batch": batch_name(p, 2), "params": params, "status": "pending",
                "work_started": False, "metadata": {"source": f"{p['slug']}-feed-{seed % 7}", "frame": seed % 10000},
                "_seed": seed}

    def _complete(self, doc: dict[str, Any]) -> None:
        doc["status"] = "completed"
        doc["work_started"] = True
        doc["response"] = synthetic_response(doc)
        doc["completed_at"] = ms_to_wire(now_ms())
        doc["customer_review_status"] = "pending"  # awaiting the customer's review
