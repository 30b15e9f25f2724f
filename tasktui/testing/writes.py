"""Writers that audit and cancel over real HTTP, a record of every write the server
acknowledged with a 200, and the check that each one is in the SQLite database.

Shared by ``bench/bench_load.py``, ``bench/bench_crash.py`` and the fast versions in
``tests/reliability`` (through ``tasktui.testing.crash``). Talks HTTP with plain httpx (no retries, so that every error is
seen and counted), builds list parameters with ``tasktui.domain.TaskQuery`` exactly as
the app's client does, and reads the database with the standard ``sqlite3`` module.
"""

from __future__ import annotations

import random
import sqlite3
import time
import uuid
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import httpx
import orjson

from tasktui.domain import EXTENSIONS_HEADER, AuditStatus, OperatorStatus, TaskQuery

OPS = ("accept", "reject", "fix", "cancel")


@dataclass
class Ack:
    """A write the server answered with 200."""

    task_id: str
    op: str
    marker: str
    prior_before: int = 0
    audits_before: int = 0


@dataclass
class Stats:
    latency: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    ok: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    #: 400s for a transition the server legitimately refused (not errors)
    refused: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    #: anything else: unexpected status, connection error, timeout, bad body
    errors: list[str] = field(default_factory=list)
    #: writes whose answer never arrived (the server died mid-request): outcome unknown
    unknown: list[tuple[str, str]] = field(default_factory=list)

    def merge(self, other: "Stats") -> None:
        for k, v in other.latency.items():
            self.latency[k].extend(v)
        for k, v in other.ok.items():
            self.ok[k] += v
        for k, v in other.refused.items():
            self.refused[k] += v
        self.errors.extend(other.errors)
        self.unknown.extend(other.unknown)


def auth(api_key: str) -> tuple[str, str]:
    return (api_key, "")


def slices(n: int, *, days: int = 95, now: datetime | None = None) -> list[tuple[datetime, datetime]]:
    """``n`` disjoint creation-date windows covering the last ``days`` days, so that
    writers given different windows never touch the same task."""
    end = (now or datetime.now(timezone.utc)) + timedelta(days=1)
    start = end - timedelta(days=days + 1)
    step = (end - start) / n
    return [(start + step * i, start + step * (i + 1)) for i in range(n)]


class Writer:
    """Audits (accept / reject / fix) Ready-to-Audit tasks and cancels Queued ones,
    each task at most once, all inside its own creation-date window."""

    def __init__(self, client: httpx.AsyncClient, url: str, api_key: str, window: tuple[datetime, datetime],
                 *, rng: random.Random, weights: dict[str, int] | None = None,
                 extensions: frozenset[str] = frozenset({"operator-status"}),
                 stats: Stats | None = None, acks: list[Ack] | None = None, idempotency: bool = True):
        self.client = client
        self.url = url
        self.auth = auth(api_key)
        self.window = window
        self.rng = rng
        self.weights = weights or {"accept": 3, "reject": 1, "fix": 2, "cancel": 3}
        self.ext = extensions
        self.stats = stats or Stats()
        self.acks = acks if acks is not None else []
        self.idempotency = idempotency
        self.pools: dict[str, list[dict]] = {"audit": [], "cancel": []}
        self.tokens: dict[str, str | None] = {"audit": None, "cancel": None}
        self.exhausted: set[str] = set()
        self.used: set[str] = set()

    def _query(self, pool: str) -> TaskQuery:
        start, end = self.window
        if pool == "audit":
            return TaskQuery(start=start, end=end, statuses=frozenset({OperatorStatus.COMPLETED}),
                             audit_statuses=frozenset({AuditStatus.READY_TO_AUDIT}))
        return TaskQuery(start=start, end=end, statuses=frozenset({OperatorStatus.QUEUED}))

    async def _refill(self, pool: str) -> None:
        if pool in self.exhausted:
            return
        params = self._query(pool).wire_params(self.ext, limit=100, next_token=self.tokens[pool])
        t0 = time.perf_counter()
        r = await self.client.get(f"{self.url}/tasks", params=params, auth=self.auth)
        self.stats.latency["writer_list"].append(time.perf_counter() - t0)
        if r.status_code != 200:
            self.stats.errors.append(f"writer list {pool}: HTTP {r.status_code} {r.text[:200]}")
            return
        body = orjson.loads(r.content)
        docs = [d for d in body["docs"] if d["task_id"] not in self.used]
        self.rng.shuffle(docs)
        self.pools[pool].extend(docs)
        self.tokens[pool] = body.get("next_token")
        if not body.get("next_token"):
            self.exhausted.add(pool)

    async def _pick(self, pool: str) -> dict | None:
        if not self.pools[pool]:
            await self._refill(pool)
        while self.pools[pool]:
            doc = self.pools[pool].pop()
            if doc["task_id"] not in self.used:
                self.used.add(doc["task_id"])
                return doc
        return None

    def choose_op(self) -> str:
        ops = [o for o in OPS if not ((o == "cancel" and "cancel" in self.exhausted and not self.pools["cancel"])
                                      or (o != "cancel" and "audit" in self.exhausted and not self.pools["audit"]))]
        if not ops:
            return ""
        return self.rng.choices(ops, weights=[self.weights[o] for o in ops])[0]

    async def step(self) -> bool:
        """One write. False when there is nothing left to write."""
        op = self.choose_op()
        if not op:
            return False
        doc = await self._pick("cancel" if op == "cancel" else "audit")
        if doc is None:
            return True
        tid = doc["task_id"]
        marker = f"rel-{uuid.uuid4().hex[:12]}"
        path = f"{self.url}/task/{tid}/" + ("cancel" if op == "cancel" else "audit")
        body: dict[str, Any] | None
        if op == "accept":
            body = {"accepted": True, "comments": marker}
        elif op == "reject":
            body = {"accepted": False, "comments": marker}
        elif op == "fix":
            old = doc.get("response")
            new = dict(old) if isinstance(old, dict) else {"value": old}
            new["reliability_fix"] = marker
            body = {"accepted": True, "comments": marker, "response": new}
        else:
            body = None
        ack = Ack(tid, op, marker, prior_before=len(doc.get("prior_responses") or []),
                  audits_before=len(doc.get("audits") or []))
        headers = {"Idempotency-Key": marker} if self.idempotency else {}
        t0 = time.perf_counter()
        try:
            if body is None:
                r = await self.client.post(path, headers=headers, auth=self.auth)
            else:
                r = await self.client.post(path, json=body, headers=headers, auth=self.auth)
        except httpx.HTTPError as e:
            self.stats.unknown.append((tid, op))
            raise WriteInterrupted(f"{op} {tid}: {type(e).__name__}: {e}") from e
        dt = time.perf_counter() - t0
        self.stats.latency[op].append(dt)
        if r.status_code == 200:
            self.stats.ok[op] += 1
            self.acks.append(ack)
        elif r.status_code == 400:
            self.stats.refused[op] += 1
        else:
            self.stats.errors.append(f"{op} {tid}: HTTP {r.status_code} {r.text[:200]}")
        return True


class WriteInterrupted(Exception):
    """The connection failed mid-write (expected when the server is killed)."""


async def discover_extensions(client: httpx.AsyncClient, url: str, api_key: str) -> frozenset[str]:
    r = await client.get(f"{url}/tasks", params={"limit": "1"}, auth=auth(api_key))
    r.raise_for_status()
    return frozenset(x.strip() for x in r.headers.get(EXTENSIONS_HEADER, "").split(",") if x.strip())


# verification ---------------------------------------------------------------------

def read_docs(db: Path | str, task_ids: list[str]) -> dict[str, dict]:
    """The stored wire documents of these tasks, read straight from SQLite."""
    con = sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=30)
    try:
        out: dict[str, dict] = {}
        for i in range(0, len(task_ids), 500):
            chunk = task_ids[i:i + 500]
            q = ("SELECT t.task_id, t.ostatus, t.review, d.doc FROM tasks t JOIN docs d ON d.id = t.id "
                 f"WHERE t.task_id IN ({','.join('?' * len(chunk))})")
            for tid, ostatus, review, blob in con.execute(q, chunk):
                doc = orjson.loads(blob)
                doc["_row"] = {"ostatus": ostatus, "review": review}
                out[tid] = doc
        return out
    finally:
        con.close()


def check_ack(ack: Ack, doc: dict | None) -> str | None:
    """None when the acknowledged write is in the stored document, else what is wrong."""
    if doc is None:
        return f"{ack.op} {ack.task_id}: task missing from the database"
    row = doc["_row"]
    if ack.op == "cancel":
        if doc.get("status") != "canceled" or row["ostatus"] != "canceled":
            return f"cancel {ack.task_id}: status {doc.get('status')!r} / {row['ostatus']!r}, not canceled"
        return None
    want = {"accept": "accepted", "reject": "rejected", "fix": "fixed"}[ack.op]
    if doc.get("customer_review_status") != want or row["review"] != want:
        return (f"{ack.op} {ack.task_id}: review {doc.get('customer_review_status')!r} / "
                f"{row['review']!r}, expected {want!r}")
    if len(doc.get("audits") or []) < ack.audits_before + 1:
        return f"{ack.op} {ack.task_id}: audits not appended"
    if ack.op == "fix":
        resp = doc.get("response")
        if not (isinstance(resp, dict) and resp.get("reliability_fix") == ack.marker):
            return f"fix {ack.task_id}: stored response is not the fixed one"
        if len(doc.get("prior_responses") or []) != ack.prior_before + 1:
            return (f"fix {ack.task_id}: prior_responses {len(doc.get('prior_responses') or [])}, "
                    f"expected {ack.prior_before + 1}")
    if ack.op in ("reject", "accept", "fix"):
        comments = doc.get("customer_review_comments") or []
        if ack.marker not in [str(c) for c in comments]:
            return f"{ack.op} {ack.task_id}: comment not stored"
    return None


def verify_acks(db: Path | str, acks: list[Ack]) -> list[str]:
    """Every acknowledged write, checked against the database. Returns the problems."""
    docs = read_docs(db, [a.task_id for a in acks])
    problems = [p for a in acks if (p := check_ack(a, docs.get(a.task_id)))]
    return problems


def check_counts(db: Path | str) -> list[str]:
    """The server's per-day ``counts`` table (kept by triggers, used for ``total``)
    must equal a fresh count of ``tasks``."""
    con = sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=30)
    try:
        q = ("SELECT ostatus, review, SUM(n) FROM counts GROUP BY 1, 2 HAVING SUM(n) != 0")
        kept = {(a, b): n for a, b, n in con.execute(q)}
        real = {(a, b): n for a, b, n in con.execute("SELECT ostatus, review, COUNT(*) FROM tasks GROUP BY 1, 2")}
    finally:
        con.close()
    if kept != real:
        return [f"counts table {kept} != tasks {real}"]
    return []
