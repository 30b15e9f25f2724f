"""The Starlette application: the Scale v1 wire contract plus the advertised extensions.

Every route requires HTTP Basic auth with an API key as the user name (401 otherwise);
every response carries ``X-Tasktui-Extensions``; every error is
``{"status_code": N, "error": "a sentence naming what is wrong"}``; every success is 200.
Blocking SQLite work runs in worker threads (one connection per thread), never on the
event loop.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import hashlib
import math
import re
import secrets
import sqlite3
import threading
import time
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any, Callable

import orjson
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from tasktui.domain.wire import (
    EXT_FIX,
    EXT_IDEMPOTENCY,
    EXT_MULTI,
    EXT_OPERATOR_STATUS,
    EXT_ORDER,
    EXT_PAGE_SIZE,
    EXT_SEARCH,
)
from tasktui.domain.statuses import OperatorStatus
from tasktui.domain.task import Task
from tasktui.server import db as dbm
from tasktui.server.model import index_row, limited, materialize, ms_to_wire, now_ms, present, wire_to_ms
from tasktui.server.queries import (
    BadRequest,
    count_total,
    encode_token,
    fetch_page,
    parse_bool,
    parse_list_query,
    parse_time,
)

EXTENSIONS = ",".join([EXT_OPERATOR_STATUS, EXT_ORDER, EXT_SEARCH, EXT_MULTI, EXT_FIX, EXT_IDEMPOTENCY,
                       EXT_PAGE_SIZE])
JSON = "application/json"
_ID_RE = re.compile(r"^[0-9A-Za-z_-]{1,64}$")
_TYPE_RE = re.compile(r"^[a-z][a-z0-9_]{0,39}$")


class NotFound(BadRequest):
    def __init__(self, message: str):
        super().__init__(message, 404)


class Conflict(BadRequest):
    def __init__(self, message: str):
        super().__init__(message, 409)


@dataclass
class ServerOptions:
    """Tunables of one server instance (``start_server_thread(**opts)`` / CLI flags)."""

    simulate: bool = False
    simulate_interval: float = 2.0  # seconds between workforce steps
    simulate_batch: int = 3  # tasks moved per transition per step
    simulate_error_rate: float = 0.1  # share of in-progress tasks that end in Error
    simulate_arrivals: bool = True  # new Queued tasks arrive each step
    callback_attempts: int = 6  # deliveries tried per callback (1 + retries)
    callback_backoff: float = 1.0  # first retry delay in seconds; doubles each time
    callback_timeout: float = 10.0
    callback_auth: str = ""  # value of the scale-callback-auth header ("" = generated)
    rate_limit: float = 0.0  # requests per second per key; 0 = off
    max_body: int = 1_048_576  # bytes
    idempotency_ttl: float = 24 * 3600.0


def error_response(status: int, message: str, headers: dict[str, str] | None = None) -> Response:
    h = {"x-tasktui-extensions": EXTENSIONS}
    if headers:
        h.update(headers)
    return Response(orjson.dumps({"status_code": status, "error": message}), status_code=status,
                    media_type=JSON, headers=h)


def json_response(body: Any) -> Response:
    return Response(body if isinstance(body, bytes) else orjson.dumps(body), media_type=JSON)


class State:
    """Everything one running server holds."""

    def __init__(self, db_path: str, api_keys: list[str], options: ServerOptions):
        if not api_keys:
            raise ValueError("at least one API key is needed")
        self.db_path = str(db_path)
        self.pool = dbm.ConnectionPool(db_path)
        self.api_keys = list(api_keys)
        self._key_digests = [hashlib.sha256(k.encode()).digest() for k in api_keys]
        self.options = options
        if not options.callback_auth:
            options.callback_auth = secrets.token_urlsafe(24)
        self.origin = "http://127.0.0.1"
        self._instructions: dict[str, str] = {}
        self._instr_loaded = 0.0
        self._instr_lock = threading.Lock()
        self.loop: asyncio.AbstractEventLoop | None = None
        self.background: set[asyncio.Task] = set()
        self._buckets: dict[bytes, list[float]] = {}
        self.callbacks = None  # set in lifespan (tasktui.server.callbacks.Dispatcher)

    # auth -------------------------------------------------------------------
    def key_of(self, header: str | None) -> bytes | None:
        """The digest of the API key in an Authorization header, or None."""
        if not header:
            return None
        scheme, _, value = header.partition(" ")
        if scheme.lower() != "basic":
            return None
        try:
            user = base64.b64decode(value.strip(), validate=True).decode("utf-8").partition(":")[0]
        except (binascii.Error, UnicodeDecodeError, ValueError):
            return None
        d = hashlib.sha256(user.encode()).digest()
        ok = False
        for k in self._key_digests:
            ok |= secrets.compare_digest(d, k)
        return d if ok else None

    def rate_check(self, key: bytes) -> float:
        """0 when the request may proceed, else seconds to wait (token bucket per key)."""
        rate = self.options.rate_limit
        if rate <= 0:
            return 0.0
        now = time.monotonic()
        b = self._buckets.get(key)
        cap = max(1.0, rate)
        if b is None:
            b = self._buckets[key] = [cap, now]
        tokens = min(cap, b[0] + (now - b[1]) * rate)
        b[1] = now
        if tokens >= 1:
            b[0] = tokens - 1
            return 0.0
        b[0] = tokens
        return (1 - tokens) / rate

    # projects' instructions -----------------------------------------------------
    def instructions(self, conn: sqlite3.Connection) -> dict[str, str]:
        if time.monotonic() - self._instr_loaded > 5.0:
            with self._instr_lock:
                out = {}
                for name, doc in conn.execute("SELECT name, doc FROM projects"):
                    d = orjson.loads(doc)
                    if d.get("instruction"):
                        out[name] = d["instruction"]
                self._instructions = out
                self._instr_loaded = time.monotonic()
        return self._instructions


# -- middleware -----------------------------------------------------------------------

class Guard:
    """Pure ASGI middleware: extensions header on every response, Basic auth on every
    route, per-key rate limit (429 + Retry-After), body size cap by Content-Length (413)."""

    def __init__(self, app, state: State):
        self.app = app
        self.state = state

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)

        async def send_with_header(message):
            if message["type"] == "http.response.start":
                headers = [(k, v) for k, v in message.get("headers", []) if k.lower() != b"x-tasktui-extensions"]
                headers.append((b"x-tasktui-extensions", EXTENSIONS.encode()))
                message = {**message, "headers": headers}
            await send(message)

        headers = {k.lower(): v for k, v in scope.get("headers", [])}
        auth = headers.get(b"authorization")
        key = self.state.key_of(auth.decode("latin-1") if auth else None)
        if key is None:
            resp = error_response(
                401, "missing or wrong API key: use HTTP Basic auth with the API key as the user name "
                     "and an empty password",
                {"www-authenticate": 'Basic realm="tasktui"'})
            return await resp(scope, receive, send_with_header)
        wait = self.state.rate_check(key)
        if wait > 0:
            resp = error_response(
                429, f"too many requests for this API key (limit {self.state.options.rate_limit:g} per second); "
                     f"retry after {math.ceil(wait)} s", {"retry-after": str(max(1, math.ceil(wait)))})
            return await resp(scope, receive, send_with_header)
        cl = headers.get(b"content-length")
        if cl is not None:
            try:
                n = int(cl)
            except ValueError:
                return await error_response(400, "Content-Length is not a number")(scope, receive, send_with_header)
            if n > self.state.options.max_body:
                return await error_response(
                    413, f"the request body is {n} bytes; the limit is {self.state.options.max_body} bytes"
                )(scope, receive, send_with_header)
        scope.setdefault("state", {})["api_key_digest"] = key
        await self.app(scope, receive, send_with_header)


# -- helpers --------------------------------------------------------------------------

def origin_of(request: Request) -> str:
    return str(request.base_url).rstrip("/")


async def read_body(request: Request, state: State) -> bytes:
    limit = state.options.max_body
    chunks = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise BadRequest(f"the request body is larger than the limit of {limit} bytes", 413)
        chunks.append(chunk)
    return b"".join(chunks)


def parse_json_body(raw: bytes) -> Any:
    """The request body as JSON (None when empty); a 400 that says why when it is not JSON."""
    if not raw.strip():
        return None
    try:
        return orjson.loads(raw)
    except orjson.JSONDecodeError as e:
        raise BadRequest(f"the request body is not valid JSON ({e})") from None


def check_id(task_id: str) -> None:
    if not _ID_RE.match(task_id):
        raise NotFound(f"no task with id {task_id[:80]!r}")


def load_doc(conn: sqlite3.Connection, task_id: str) -> tuple[int, dict[str, Any]]:
    row = conn.execute(
        "SELECT t.id, d.doc FROM tasks t JOIN docs d ON d.id = t.id WHERE t.task_id = ?", (task_id,)
    ).fetchone()
    if row is None:
        raise NotFound(f"no task with id {task_id!r}")
    return row[0], orjson.loads(row[1])


def store_doc(conn: sqlite3.Connection, rid: int, doc: dict[str, Any]) -> None:
    cols = index_row(doc)
    conn.execute(
        "UPDATE tasks SET created_at=?, updated_at=?, completed_at=?, ostatus=?, review=?, project=?, batch=?, "
        "type=?, unique_id=? WHERE id=?", (*cols[1:], rid))
    conn.execute("UPDATE docs SET doc=? WHERE id=?", (orjson.dumps(doc), rid))
    conn.execute("DELETE FROM task_tags WHERE id=?", (rid,))
    tags = doc.get("tags") or []
    if tags:
        conn.executemany("INSERT OR IGNORE INTO task_tags VALUES (?,?)", [(t, rid) for t in tags])


def insert_doc(conn: sqlite3.Connection, doc: dict[str, Any]) -> int:
    cols = index_row(doc)
    cur = conn.execute(
        "INSERT INTO tasks (task_id, created_at, updated_at, completed_at, ostatus, review, project, batch, "
        "type, unique_id) VALUES (?,?,?,?,?,?,?,?,?,?)", cols)
    rid = cur.lastrowid
    conn.execute("INSERT INTO docs VALUES (?, ?)", (rid, orjson.dumps(doc)))
    for t in doc.get("tags") or []:
        conn.execute("INSERT OR IGNORE INTO task_tags VALUES (?,?)", (t, rid))
    return rid


def touch(doc: dict[str, Any]) -> int:
    t = now_ms()
    doc["updated_at"] = ms_to_wire(t)
    return t


@dataclass
class Idem:
    key_hash: str
    key: str
    fingerprint: str


class Replay(Exception):
    def __init__(self, status: int, body: bytes):
        self.status = status
        self.body = body


def idem_check(conn: sqlite3.Connection, idem: Idem | None, state: State) -> None:
    if idem is None:
        return
    row = conn.execute("SELECT fingerprint, status, body, created_at FROM idempotency WHERE api_key_hash=? AND key=?",
                       (idem.key_hash, idem.key)).fetchone()
    if row is None:
        return
    if (now_ms() - row[3]) / 1000 > state.options.idempotency_ttl:
        conn.execute("DELETE FROM idempotency WHERE api_key_hash=? AND key=?", (idem.key_hash, idem.key))
        return
    if row[0] != idem.fingerprint:
        raise BadRequest(
            f"Idempotency-Key {idem.key[:64]!r} was already used for a different request; "
            "use a new key for a new request")
    raise Replay(row[1], row[2])


def idem_store(conn: sqlite3.Connection, idem: Idem | None, body: bytes) -> None:
    if idem is None:
        return
    conn.execute("INSERT OR REPLACE INTO idempotency VALUES (?,?,?,?,?,?)",
                 (idem.key_hash, idem.key, idem.fingerprint, 200, body, now_ms()))


async def idem_of(request: Request, body: bytes) -> Idem | None:
    key = request.headers.get("idempotency-key")
    if key is None:
        return None
    if not key.strip() or len(key) > 255:
        raise BadRequest("Idempotency-Key must be 1 to 255 characters")
    digest = request.scope.get("state", {}).get("api_key_digest", b"")
    fp = hashlib.sha256(b"\0".join([request.method.encode(), request.url.path.encode(),
                                    request.url.query.encode(), body])).hexdigest()
    return Idem(digest.hex(), key, fp)


# -- the endpoints ----------------------------------------------------------------------

def build_app(state: State) -> Starlette:
    from tasktui.server import media
    from tasktui.server.callbacks import Dispatcher
    from tasktui.server.openapi import spec
    from tasktui.server.simulate import Workforce

    def handler(fn: Callable) -> Callable:
        async def wrapped(request: Request) -> Response:
            try:
                return await fn(request)
            except Replay as r:
                return Response(r.body, status_code=r.status, media_type=JSON,
                                headers={"idempotent-replayed": "true"})
            except BadRequest as e:
                return error_response(e.status, e.message)
        wrapped.__name__ = fn.__name__
        return wrapped

    def present_all(conn, docs, origin):
        instr = state.instructions(conn)
        return [present(d, origin, instr) for d in docs]

    # GET /v1/tasks
    @handler
    async def list_tasks(request: Request) -> Response:
        q = parse_list_query(list(request.query_params.multi_items()))
        origin = origin_of(request)

        def work() -> bytes:
            conn = state.pool.get()
            with dbm.Tx(conn):
                total = count_total(conn, q)
                rows, more = fetch_page(conn, q, total)
                docs = []
                if rows:
                    ids = [r[0] for r in rows]
                    got = dict(conn.execute(
                        f"SELECT id, doc FROM docs WHERE id IN ({','.join('?' * len(ids))})", ids).fetchall())
                    docs = [orjson.loads(got[i]) for i in ids]
                out = present_all(conn, docs, origin)
            if q.limited_response:
                out = [limited(d) for d in out]
            token = encode_token(rows[-1][1], rows[-1][2], q.order) if more and rows else None
            return orjson.dumps({"docs": out, "total": total, "limit": q.limit, "offset": 0,
                                 "has_more": token is not None, "next_token": token})

        return json_response(await run_in_threadpool(work))

    # GET /v1/task/{task_id}
    @handler
    async def get_task(request: Request) -> Response:
        task_id = request.path_params["task_id"]
        check_id(task_id)
        origin = origin_of(request)

        def work() -> bytes:
            conn = state.pool.get()
            _, doc = load_doc(conn, task_id)
            return orjson.dumps(present(doc, origin, state.instructions(conn)))

        return json_response(await run_in_threadpool(work))

    async def mutate(request: Request, change: Callable[[dict[str, Any], sqlite3.Connection], str | None],
                     *, body: bytes = b"") -> Response:
        """Read-modify-write one task in a BEGIN IMMEDIATE transaction. ``change`` edits the
        document and returns the callback event to fire ("completed", "error") or None."""
        task_id = request.path_params["task_id"]
        check_id(task_id)
        origin = origin_of(request)
        idem = await idem_of(request, body)

        def work() -> tuple[bytes, dict[str, Any], str | None]:
            conn = state.pool.get()
            with dbm.Tx(conn, write=True):
                idem_check(conn, idem, state)
                rid, doc = load_doc(conn, task_id)
                doc = materialize(doc)
                event = change(doc, conn)
                touch(doc)
                store_doc(conn, rid, doc)
                pres = present(doc, origin, state.instructions(conn))
                out = orjson.dumps(pres)
                idem_store(conn, idem, out)
            return out, pres, event

        out, pres, event = await run_in_threadpool(work)
        if event and pres.get("callback_url") and state.callbacks is not None:
            state.callbacks.fire(pres, event)
        return json_response(out)

    # POST /v1/task/{task_id}/cancel
    @handler
    async def cancel(request: Request) -> Response:
        body = await read_body(request, state)
        clear = request.query_params.get("clear_unique_id")
        clear_uid = False
        if clear is not None:
            clear_uid = parse_bool("clear_unique_id", clear)

        def change(doc, conn):
            ok, why = Task(doc).can_cancel()
            if not ok:
                raise BadRequest(f"cannot cancel: {why}")
            doc["status"] = "canceled"
            doc["work_started"] = False
            if clear_uid:
                doc.pop("unique_id", None)
            return None

        return await mutate(request, change, body=body)

    # POST /v1/task/{task_id}/audit
    @handler
    async def audit(request: Request) -> Response:
        raw = await read_body(request, state)
        body = parse_json_body(raw)
        if not isinstance(body, dict):
            raise BadRequest('the audit body must be a JSON object such as {"accepted": true, "comments": "..."}')
        accepted = body.get("accepted")
        comments = body.get("comments")
        response = body.get("response", None)
        fix = "response" in body
        if fix and not isinstance(response, dict):
            raise BadRequest("response must be a JSON object (the corrected response)")
        if fix and accepted is False:
            raise BadRequest("accepted is false but a response was given: a fix cannot also reject")
        if not fix and not isinstance(accepted, bool):
            raise BadRequest("accepted must be true or false")
        if comments is not None and not isinstance(comments, str):
            raise BadRequest("comments must be a string or null")
        if comments is not None and len(comments) > 10_000:
            raise BadRequest("comments is longer than 10,000 characters")

        def change(doc, conn):
            ok, why = Task(doc).can_audit()
            if not ok:
                raise BadRequest(f"cannot audit: {why}")
            result = "fixed" if fix else ("accepted" if accepted else "rejected")
            t = now_ms()
            if fix:
                prior = doc.get("prior_responses")
                prior = list(prior) if isinstance(prior, list) else []
                if "response" in doc:
                    prior.append(doc["response"])
                doc["prior_responses"] = prior
                doc["response"] = response
            doc["customer_review_status"] = result
            doc.pop("redo", None)
            audits = doc.get("audits") if isinstance(doc.get("audits"), list) else []
            audits = [*audits, {"audited_by": "customer", "audited_at": ms_to_wire(t), "audit_time_secs": 0,
                                "audit_result": result, "audit_source": "customer"}]
            doc["audits"] = audits
            if comments:
                doc["customer_review_comments"] = [*(doc.get("customer_review_comments") or []), comments]
            return "completed"

        return await mutate(request, change, body=raw)

    # POST / DELETE /v1/task/{task_id}/unique_id
    @handler
    async def unique_id(request: Request) -> Response:
        raw = await read_body(request, state)
        if request.method == "DELETE":
            def change(doc, conn):
                doc.pop("unique_id", None)
                return None
            return await mutate(request, change, body=raw)
        body = parse_json_body(raw)
        uid = body.get("unique_id") if isinstance(body, dict) else None
        if not isinstance(uid, str) or not uid.strip() or len(uid) > 500:
            raise BadRequest('unique_id must be a non-empty string (up to 500 characters), sent as {"unique_id": "..."}')

        def change(doc, conn):
            other = conn.execute("SELECT task_id FROM tasks WHERE unique_id = ?", (uid,)).fetchone()
            if other and other[0] != doc["task_id"]:
                raise Conflict(f"unique_id {uid!r} is already used by task {other[0]}")
            doc["unique_id"] = uid
            return None

        return await mutate(request, change, body=raw)

    # POST /v1/task/{task_id}/setMetadata
    @handler
    async def set_metadata(request: Request) -> Response:
        raw = await read_body(request, state)
        body = parse_json_body(raw)
        if not isinstance(body, dict):
            raise BadRequest("metadata must be a JSON object")

        def change(doc, conn):
            doc["metadata"] = body
            return None

        return await mutate(request, change, body=raw)

    # POST (set) / PUT (add) / DELETE (remove) /v1/task/{task_id}/tags
    @handler
    async def tags(request: Request) -> Response:
        raw = await read_body(request, state)
        body = parse_json_body(raw)
        if not isinstance(body, list) or not all(isinstance(t, str) and t and len(t) <= 200 for t in body):
            raise BadRequest('tags must be a JSON array of non-empty strings, e.g. ["night", "rain"]')
        if len(body) > 100:
            raise BadRequest("tags may hold at most 100 tags")
        method = request.method

        def change(doc, conn):
            cur = list(doc.get("tags") or [])
            if method == "POST":
                new = list(dict.fromkeys(body))
            elif method == "PUT":
                new = list(dict.fromkeys([*cur, *body]))
            else:
                new = [t for t in cur if t not in set(body)]
            if new:
                doc["tags"] = new
            else:
                doc.pop("tags", None)
            return None

        return await mutate(request, change, body=raw)

    # POST /v1/task/{type}  (create a task, as the SDK's create_task does)
    @handler
    async def create_task(request: Request) -> Response:
        ttype = request.path_params["task_id"]
        if not _TYPE_RE.match(ttype):
            raise NotFound(f"no such route: POST /v1/task/{ttype[:60]}")
        raw = await read_body(request, state)
        body = await _parse_obj(raw)
        idem = await idem_of(request, raw)
        origin = origin_of(request)
        doc = new_task_doc(ttype, body)

        def work() -> tuple[bytes, dict]:
            conn = state.pool.get()
            with dbm.Tx(conn, write=True):
                idem_check(conn, idem, state)
                if doc.get("project") and not conn.execute("SELECT 1 FROM projects WHERE name=?",
                                                           (doc["project"],)).fetchone():
                    raise BadRequest(f"project {doc['project']!r} does not exist")
                if doc.get("batch"):
                    row = conn.execute("SELECT project FROM batches WHERE name=?", (doc["batch"],)).fetchone()
                    if row is None:
                        raise BadRequest(f"batch {doc['batch']!r} does not exist")
                    if doc.get("project") and row[0] != doc["project"]:
                        raise BadRequest(f"batch {doc['batch']!r} belongs to project {row[0]!r}, not {doc['project']!r}")
                    doc.setdefault("project", row[0])
                if doc.get("unique_id"):
                    other = conn.execute("SELECT task_id FROM tasks WHERE unique_id=?", (doc["unique_id"],)).fetchone()
                    if other:
                        raise Conflict(f"unique_id {doc['unique_id']!r} is already used by task {other[0]}")
                insert_doc(conn, doc)
                pres = present(doc, origin, state.instructions(conn))
                out = orjson.dumps(pres)
                idem_store(conn, idem, out)
            return out, pres

        out, _ = await run_in_threadpool(work)
        return json_response(out)

    async def _parse_obj(raw: bytes) -> dict:
        if not raw.strip():
            raise BadRequest("the request body is empty; send a JSON object")
        body = parse_json_body(raw)
        if not isinstance(body, dict):
            raise BadRequest("the request body must be a JSON object")
        return body

    # GET /v1/projects
    @handler
    async def projects(request: Request) -> Response:
        def work() -> bytes:
            conn = state.pool.get()
            docs = [orjson.loads(d) for (d,) in conn.execute("SELECT doc FROM projects ORDER BY name")]
            return orjson.dumps(docs)
        return json_response(await run_in_threadpool(work))

    # GET /v1/batches
    @handler
    async def batches(request: Request) -> Response:
        qp = request.query_params
        for k in qp.keys():
            if len(qp.getlist(k)) > 1:
                raise BadRequest(f"{k} was given {len(qp.getlist(k))} times; give it once")
        try:
            limit = int(qp.get("limit", "100"))
        except ValueError:
            raise BadRequest(f"limit={qp.get('limit')!r} is not a whole number; give 1 to 100") from None
        if not 1 <= limit <= 100:
            raise BadRequest(f"limit={limit} is out of range; give 1 to 100")
        try:
            offset = int(qp.get("offset", "0"))
        except ValueError:
            raise BadRequest(f"offset={qp.get('offset')!r} is not a whole number") from None
        if offset < 0 or offset > 10**9:
            raise BadRequest(f"offset={offset} is out of range; give 0 or more")
        where, args = [], []
        if qp.get("project") is not None:
            where.append("project = ?")
            args.append(qp["project"])
        if qp.get("status") is not None:
            if qp["status"] not in ("staging", "in_progress", "completed"):
                raise BadRequest(f"status={qp['status']!r} is not a batch status; use staging, in_progress or completed")
        st = qp.get("status")
        bounds = []
        for name in ("start_time", "end_time"):
            if qp.get(name) is not None:
                bounds.append((name, parse_time(name, qp[name])))
        if qp.get("exclude_archived") is not None:
            parse_bool("exclude_archived", qp["exclude_archived"])

        def work() -> bytes:
            conn = state.pool.get()
            rows = conn.execute(
                f"SELECT doc FROM batches {'WHERE ' + ' AND '.join(where) if where else ''} ORDER BY created_at DESC, name",
                args).fetchall()
            docs = [orjson.loads(d) for (d,) in rows]
            if st:
                docs = [d for d in docs if d.get("status") == st]
            for name, ms in bounds:
                if name == "start_time":
                    docs = [d for d in docs if wire_to_ms(d["created_at"]) >= ms]
                else:
                    docs = [d for d in docs if wire_to_ms(d["created_at"]) < ms]
            page = docs[offset: offset + limit]
            return orjson.dumps({"docs": page, "totalDocs": len(docs), "limit": limit, "offset": offset,
                                 "has_more": offset + len(page) < len(docs)})
        return json_response(await run_in_threadpool(work))

    def _batch_doc(conn, name: str) -> dict:
        row = conn.execute("SELECT doc FROM batches WHERE name = ?", (name,)).fetchone()
        if row is None:
            raise NotFound(f"no batch named {name[:200]!r}")
        return orjson.loads(row[0])

    # GET /v1/batches/{name}
    @handler
    async def get_batch(request: Request) -> Response:
        name = request.path_params["name"]

        def work() -> bytes:
            return orjson.dumps(_batch_doc(state.pool.get(), name))
        return json_response(await run_in_threadpool(work))

    # GET /v1/batches/{name}/status
    @handler
    async def batch_status(request: Request) -> Response:
        name = request.path_params["name"]

        def work() -> bytes:
            conn = state.pool.get()
            doc = _batch_doc(conn, name)
            out: dict[str, Any] = {"status": doc.get("status", "in_progress")}
            for ost, n in conn.execute("SELECT ostatus, SUM(n) FROM counts WHERE batch = ? GROUP BY ostatus", (name,)):
                if not n:
                    continue
                wire = OperatorStatus(ost).wire if ost in OperatorStatus._value2member_map_ else ost
                out[wire] = out.get(wire, 0) + n
            return orjson.dumps(out)
        return json_response(await run_in_threadpool(work))

    # GET /v1/media/{task_id}/{name}
    @handler
    async def get_media(request: Request) -> Response:
        task_id = request.path_params["task_id"]
        name = request.path_params["name"]
        check_id(task_id)

        def work() -> tuple[bytes, str]:
            conn = state.pool.get()
            _, doc = load_doc(conn, task_id)
            return media.render(doc, name)
        data, ctype = await run_in_threadpool(work)
        return Response(data, media_type=ctype, headers={"cache-control": "private, max-age=3600"})

    # GET /v1/openapi.json
    async def openapi(request: Request) -> Response:
        return json_response(spec(origin_of(request) + "/v1"))

    async def not_found(request: Request, exc: HTTPException) -> Response:
        if exc.status_code == 405:
            allow = (exc.headers or {}).get("Allow") or (exc.headers or {}).get("allow") or ""
            return error_response(405, f"{request.method[:20]} is not allowed on {request.url.path[:200]}",
                                  {"allow": allow} if allow else None)
        if exc.status_code == 404:
            return error_response(404, f"no such route: {request.method} {request.url.path[:200]}")
        return error_response(exc.status_code, str(exc.detail))

    async def server_error(request: Request, exc: Exception) -> Response:
        return error_response(500, "internal server error; the request was not applied")

    @asynccontextmanager
    async def lifespan(app):
        import anyio.to_thread

        state.loop = asyncio.get_running_loop()
        # one SQLite connection per worker thread: 16 are plenty on a small machine and
        # bound the memory the page caches take
        anyio.to_thread.current_default_thread_limiter().total_tokens = 16
        state.callbacks = Dispatcher(state)

        def purge() -> None:  # idempotency records past their time-to-live
            conn = state.pool.get()
            with dbm.Tx(conn, write=True):
                conn.execute("DELETE FROM idempotency WHERE created_at < ?",
                             (now_ms() - int(state.options.idempotency_ttl * 1000),))
        await run_in_threadpool(purge)
        force = None
        if state.options.simulate:
            force = Workforce(state)
            force.start()
        try:
            yield
        finally:
            if force is not None:
                await force.stop()
            await state.callbacks.close()
            state.pool.close()

    async def task_or_create(request: Request) -> Response:
        # one route, so that a 405 lists every method of the path in Allow
        return await (get_task if request.method in ("GET", "HEAD") else create_task)(request)

    routes = [
        Route("/v1/tasks", list_tasks, methods=["GET"]),
        Route("/v1/task/{task_id}", task_or_create, methods=["GET", "POST"]),
        Route("/v1/task/{task_id}/cancel", cancel, methods=["POST"]),
        Route("/v1/task/{task_id}/audit", audit, methods=["POST"]),
        Route("/v1/task/{task_id}/unique_id", unique_id, methods=["POST", "DELETE"]),
        Route("/v1/task/{task_id}/setMetadata", set_metadata, methods=["POST"]),
        Route("/v1/task/{task_id}/tags", tags, methods=["POST", "PUT", "DELETE"]),
        Route("/v1/projects", projects, methods=["GET"]),
        Route("/v1/batches", batches, methods=["GET"]),
        Route("/v1/batches/{name}", get_batch, methods=["GET"]),
        Route("/v1/batches/{name}/status", batch_status, methods=["GET"]),
        Route("/v1/media/{task_id}/{name}", get_media, methods=["GET"]),
        Route("/v1/openapi.json", openapi, methods=["GET"]),
    ]
    app = Starlette(routes=routes, lifespan=lifespan,
                    exception_handlers={HTTPException: not_found, Exception: server_error})
    app.add_middleware(Guard, state=state)
    app.state.tasktui = state
    return app


def new_task_doc(ttype: str, body: dict[str, Any]) -> dict[str, Any]:
    """A Queued task from a create-task body (validated; 400 naming the bad field)."""
    t = now_ms()
    tid = f"{t // 1000:08x}{secrets.token_hex(8)}"
    doc: dict[str, Any] = {"task_id": tid, "created_at": ms_to_wire(t), "updated_at": ms_to_wire(t),
                           "type": ttype, "status": "pending", "work_started": False}
    params: dict[str, Any] = {}
    for k, v in body.items():
        if v is None:  # null means unset: omitted, never stored as null
            continue
        if k == "instruction":
            if not isinstance(v, str):
                raise BadRequest("instruction must be a string")
            doc["instruction"] = v
        elif k == "callback_url":
            if not isinstance(v, str) or not re.match(r"^https?://[^\s/?#]+", v, re.I) or len(v) > 2000:
                raise BadRequest("callback_url must be an http:// or https:// URL")
            doc["callback_url"] = v
        elif k == "metadata":
            if not isinstance(v, dict):
                raise BadRequest("metadata must be a JSON object")
            doc["metadata"] = v
        elif k in ("project", "batch", "unique_id"):
            if v is None:
                continue
            if not isinstance(v, str) or not v.strip() or len(v) > 500:
                raise BadRequest(f"{k} must be a non-empty string")
            doc[k] = v
        elif k == "tags":
            if not isinstance(v, list) or not all(isinstance(x, str) and x for x in v):
                raise BadRequest("tags must be an array of non-empty strings")
            if v:
                doc["tags"] = list(dict.fromkeys(v))
        elif k == "params":
            if not isinstance(v, dict):
                raise BadRequest("params must be a JSON object")
            params.update(v)
        else:
            params[k] = v
    if "attachment" in params and not isinstance(params["attachment"], str):
        raise BadRequest("attachment must be a URL string")
    if params:
        doc["params"] = params
    doc.setdefault("metadata", {})
    return doc
