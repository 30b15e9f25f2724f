"""Seeded responses are stored as served (generated once by the seeder, not at every
read): the wire bytes are those the lazy form (databases seeded before) gives."""

from __future__ import annotations

import sqlite3

import httpx
import orjson

from tasktui.server import seed_database, start_server_thread

N = 600


def _to_lazy_form(path) -> int:
    """Rewrite the stored documents into the form seeders used to write: no generated
    response, a ``_lazy`` list naming what to generate when served. Returns how many."""
    conn = sqlite3.connect(path)
    changed = 0
    try:
        rows = conn.execute("SELECT id, doc FROM docs").fetchall()
        with conn:
            for rid, blob in rows:
                d = orjson.loads(blob)
                lazy = None
                if d["status"] == "completed":
                    lazy = (["response", "fixed", "prior"] if d.get("customer_review_status") == "fixed"
                            else ["response"])
                elif d["status"] == "pending" and d.get("customer_review_status") == "rejected":
                    lazy = ["prior"]
                if lazy is None:
                    continue
                d.pop("response", None)
                d.pop("prior_responses", None)
                d["_lazy"] = lazy
                conn.execute("UPDATE docs SET doc=? WHERE id=?", (orjson.dumps(d), rid))
                changed += 1
    finally:
        conn.close()
    return changed


def _listing_bytes(path, api_key) -> list[bytes]:
    """Every page of the unfiltered listing (pages of 100) and the first 30 tasks one by
    one, as sent, with the server's own origin taken out."""
    h = start_server_thread(path, [api_key])
    try:
        origin = h.url.split("/v1")[0]
        out: list[bytes] = []
        with httpx.Client(base_url=origin, auth=(api_key, ""), timeout=30) as c:
            token = None
            while True:
                r = c.get("/v1/tasks", params={"limit": 100, **({"next_token": token} if token else {})})
                assert r.status_code == 200
                out.append(r.content.replace(origin.encode(), b"ORIGIN"))
                token = r.json()["next_token"]
                if not token:
                    break
            for d in orjson.loads(out[0])["docs"][:30]:
                out.append(c.get(f"/v1/task/{d['task_id']}").content.replace(origin.encode(), b"ORIGIN"))
        return out
    finally:
        h.stop()


def test_stored_responses_serve_the_bytes_of_the_lazy_form(tmp_path, seed_now, api_key):
    stored, lazy = tmp_path / "stored.db", tmp_path / "lazy.db"
    seed_database(stored, N, seed=3, now=seed_now)
    seed_database(lazy, N, seed=3, now=seed_now)
    # the seeder stores what it generated (nothing left to generate at a read)
    conn = sqlite3.connect(stored)
    try:
        docs = [orjson.loads(b) for (b,) in conn.execute("SELECT doc FROM docs")]
    finally:
        conn.close()
    assert not [d for d in docs if "_lazy" in d]
    completed = [d for d in docs if d["status"] == "completed"]
    assert len(completed) > 100 and all("response" in d for d in completed)
    assert _to_lazy_form(lazy) == len(completed) + sum(
        1 for d in docs if d["status"] == "pending" and d.get("customer_review_status") == "rejected")
    a, b = _listing_bytes(stored, api_key), _listing_bytes(lazy, api_key)
    assert len(a) == N // 100 + 30
    assert b"\"response\"" in a[0] and b"\"prior_responses\"" in b"".join(a)
    assert a == b
