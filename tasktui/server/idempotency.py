"""The idempotency extension: a request with an ``Idempotency-Key`` that was already
answered gets the first answer again (``Idempotent-Replayed: true``), within the key's
time-to-live; the same key on a different request is refused.

Checked and recorded inside the write transaction of the request, so that two
concurrent requests with one key cannot both apply.
"""

from __future__ import annotations

import hashlib
import sqlite3
from dataclasses import dataclass

from starlette.requests import Request

from tasktui.domain.wire import IDEMPOTENCY_HEADER, IDEMPOTENCY_KEY_MAX
from tasktui.server.errors import BadRequest
from tasktui.server.times import now_ms


class Replay(Exception):
    """The stored answer to send instead of applying the request again."""

    def __init__(self, status: int, body: bytes):
        self.status = status
        self.body = body


@dataclass(frozen=True)
class IdempotencyKey:
    key_hash: str  # the caller's API key digest: keys are per caller
    key: str
    fingerprint: str  # method, path, query and body of the request

    @classmethod
    def of(cls, request: Request, body: bytes) -> IdempotencyKey | None:
        """The request's key, or None when it sends none; 400 when it is malformed."""
        key = request.headers.get(IDEMPOTENCY_HEADER)
        if key is None:
            return None
        if not key.strip() or len(key) > IDEMPOTENCY_KEY_MAX:
            raise BadRequest(f"{IDEMPOTENCY_HEADER} must be 1 to {IDEMPOTENCY_KEY_MAX} characters")
        digest = request.scope.get("state", {}).get("api_key_digest", b"")
        fp = hashlib.sha256(b"\0".join([request.method.encode(), request.url.path.encode(),
                                        request.url.query.encode(), body])).hexdigest()
        return cls(digest.hex(), key, fp)


def check(conn: sqlite3.Connection, idem: IdempotencyKey | None, ttl: float) -> None:
    """Raise Replay when ``idem`` was answered within ``ttl`` seconds; BadRequest when it
    was used for a different request."""
    if idem is None:
        return
    row = conn.execute("SELECT fingerprint, status, body, created_at FROM idempotency WHERE api_key_hash=? AND key=?",
                       (idem.key_hash, idem.key)).fetchone()
    if row is None:
        return
    if (now_ms() - row[3]) / 1000 > ttl:
        conn.execute("DELETE FROM idempotency WHERE api_key_hash=? AND key=?", (idem.key_hash, idem.key))
        return
    if row[0] != idem.fingerprint:
        raise BadRequest(
            f"{IDEMPOTENCY_HEADER} {idem.key[:64]!r} was already used for a different request; "
            "use a new key for a new request")
    raise Replay(row[1], row[2])


def record(conn: sqlite3.Connection, idem: IdempotencyKey | None, body: bytes) -> None:
    """Keep the answer to ``idem`` for its replays."""
    if idem is None:
        return
    conn.execute("INSERT OR REPLACE INTO idempotency VALUES (?,?,?,?,?,?)",
                 (idem.key_hash, idem.key, idem.fingerprint, 200, body, now_ms()))


def purge(conn: sqlite3.Connection, ttl: float) -> None:
    """Forget the answers older than ``ttl`` seconds."""
    conn.execute("DELETE FROM idempotency WHERE created_at < ?", (now_ms() - int(ttl * 1000),))
