"""Writes over real HTTP: fix, concurrent audits, idempotency, callbacks to a real
receiver on loopback, and the simulated workforce."""

from __future__ import annotations

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import httpx
import orjson
import pytest

from tasktui.server import start_server_thread


class Receiver:
    """A real HTTP callback receiver on 127.0.0.1; ``fail_first`` answers 500 that many times."""

    def __init__(self, fail_first: int = 0):
        self.bodies: list[dict] = []
        self.headers: list[dict] = []
        self.attempts = 0
        self.fail_first = fail_first
        outer = self

        class H(BaseHTTPRequestHandler):
            def do_POST(self):
                n = int(self.headers.get("content-length", 0))
                data = self.rfile.read(n)
                with lock:
                    outer.attempts += 1
                    fail = outer.attempts <= outer.fail_first
                    if not fail:
                        outer.bodies.append(json.loads(data))
                        outer.headers.append(dict(self.headers))
                self.send_response(500 if fail else 200)
                self.send_header("content-length", "0")
                self.end_headers()

            def log_message(self, *a):
                pass

        lock = threading.Lock()
        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), H)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/hook"
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def wait_for(self, pred, timeout: float = 15.0):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for b in list(self.bodies):
                if pred(b):
                    return b
            time.sleep(0.02)  # polling interval
        raise AssertionError(f"no matching callback within {timeout} s; got {len(self.bodies)}")

    def close(self):
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def receiver():
    r = Receiver()
    yield r
    r.close()


def client(handle) -> httpx.Client:
    return httpx.Client(base_url=handle.url, auth=(handle.api_key, ""), timeout=30)


def one(sql, handle, where: str) -> str:
    return sql(handle, f"SELECT task_id FROM tasks WHERE {where} LIMIT 1")[0][0]


def eventually(fetch, pred, timeout: float = 15.0, what: str = "condition"):
    """Call ``fetch`` until ``pred`` holds for its result; returns that result."""
    deadline = time.monotonic() + timeout
    while True:
        got = fetch()
        if pred(got):
            return got
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}; last: {got!r}"[:2000])
        time.sleep(0.02)  # polling interval


def doc_of(sql, handle, task_id: str) -> dict:
    return orjson.loads(sql(handle, "SELECT doc FROM docs JOIN tasks USING (id) WHERE task_id=?", task_id)[0][0])


def test_fix_keeps_the_old_response(server, sql):
    tid = one(sql, server, "ostatus='completed' AND review='pending'")
    with client(server) as c:
        before = c.get(f"/task/{tid}").json()
        new = {"annotations": [{"label": "car", "left": 1, "top": 2, "width": 3, "height": 4}]}
        r = c.post(f"/task/{tid}/audit", json={"response": new, "comments": "tightened"})
        assert r.status_code == 200
        t = r.json()
    assert t["customer_review_status"] == "fixed" and t["response"] == new
    assert t["prior_responses"] == [before["response"]]
    assert t["audits"][-1]["audit_result"] == "fixed" and t["customer_review_comments"] == ["tightened"]
    assert t["updated_at"] > before["updated_at"]
    stored = doc_of(sql, server, tid)
    assert stored["prior_responses"] == [before["response"]] and stored["response"] == new
    assert sql(server, "SELECT review FROM tasks WHERE task_id=?", tid) == [("fixed",)]


def test_concurrent_fixes_lose_nothing(server, sql):
    tid = one(sql, server, "ostatus='completed' AND review='pending'")
    rounds, per_round = 5, 2
    errors: list[BaseException] = []

    def fix(k: int, barrier: threading.Barrier):
        try:
            with client(server) as c:
                barrier.wait()
                r = c.post(f"/task/{tid}/audit", json={"response": {"category": f"v{k}"}})
                assert r.status_code == 200, r.text
        except BaseException as e:  # surfaced below
            errors.append(e)

    for rnd in range(rounds):
        barrier = threading.Barrier(per_round)
        ts = [threading.Thread(target=fix, args=(rnd * per_round + k, barrier)) for k in range(per_round)]
        for t in ts:
            t.start()
        for t in ts:
            t.join()
    assert not errors
    d = doc_of(sql, server, tid)
    n = rounds * per_round
    assert len(d["audits"]) == n
    assert len(d["prior_responses"]) == n  # the original plus every fix but the last
    seen = [p.get("category") for p in d["prior_responses"][1:]] + [d["response"]["category"]]
    assert sorted(seen) == sorted(f"v{k}" for k in range(n))


def test_idempotency_key_replays_and_survives_a_restart(server_factory, sql, api_key):
    h = server_factory()
    tid = one(sql, h, "ostatus='completed' AND review='pending'")
    hdr = {"Idempotency-Key": "audit-123"}
    with client(h) as c:
        a = c.post(f"/task/{tid}/audit", json={"accepted": True}, headers=hdr)
        b = c.post(f"/task/{tid}/audit", json={"accepted": True}, headers=hdr)
        assert a.status_code == b.status_code == 200
        assert a.content == b.content and b.headers.get("idempotent-replayed") == "true"
        other = c.post(f"/task/{tid}/audit", json={"accepted": False}, headers=hdr)
        assert other.status_code == 400 and "Idempotency-Key" in other.json()["error"]
    assert len(doc_of(sql, h, tid)["audits"]) == 1
    h.stop()
    h2 = start_server_thread(h.db_path, [api_key])
    try:
        with client(h2) as c:
            again = c.post(f"/task/{tid}/audit", json={"accepted": True}, headers=hdr)
        assert again.status_code == 200 and again.content == a.content
    finally:
        h2.stop()
    assert len(doc_of(sql, h, tid)["audits"]) == 1


def test_idempotent_cancel_applies_once(server, sql):
    tid = one(sql, server, "ostatus='queued'")
    with client(server) as c:
        r1 = c.post(f"/task/{tid}/cancel", headers={"Idempotency-Key": "c1"})
        r2 = c.post(f"/task/{tid}/cancel", headers={"Idempotency-Key": "c1"})
        r3 = c.post(f"/task/{tid}/cancel")
    assert r1.status_code == r2.status_code == 200 and r1.content == r2.content
    assert r3.status_code == 400 and "already canceled" in r3.json()["error"]


def create(c: httpx.Client, **body) -> dict:
    r = c.post("/task/imageannotation", json={"instruction": "draw boxes", "attachment": "https://example.invalid/a.png",
                                              "attachment_type": "image", **body})
    assert r.status_code == 200, r.text
    return r.json()


def test_callbacks_through_completion_fix_and_redo(server_factory, receiver, sql):
    h = server_factory(n=0, simulate=True, simulate_interval=0.05, callback_backoff=0.05, simulate_error_rate=0, simulate_arrivals=False)
    with client(h) as c:
        t = create(c, callback_url=receiver.url, metadata={"k": 1})
        tid = t["task_id"]
        assert t["status"] == "pending" and t["work_started"] is False
        done = receiver.wait_for(lambda b: b["task_id"] == tid and b["status"] == "completed")
        assert set(done) == {"task", "response", "task_id", "status"}
        assert done["task"]["status"] == "completed" and done["response"] == done["task"]["response"]
        assert receiver.headers[0]["scale-callback-auth"] == h.callback_auth
        first = done["response"]
        fixed = {"annotations": []}
        assert c.post(f"/task/{tid}/audit", json={"response": fixed}).status_code == 200
        cb = receiver.wait_for(lambda b: b["task_id"] == tid and b["task"].get("customer_review_status") == "fixed")
        assert cb["task"]["prior_responses"] == [first] and cb["response"] == fixed
        # reject: the workforce re-does it, and it comes back completed, ready to audit again
        assert c.post(f"/task/{tid}/audit", json={"accepted": False, "comments": "redo"}).status_code == 200
        again = receiver.wait_for(lambda b: b["task_id"] == tid and b["task"].get("customer_review_status") == "pending"
                                  and "rejected" in [a["audit_result"] for a in b["task"].get("audits", [])])
        assert again["task"]["status"] == "completed" and fixed in again["task"]["prior_responses"]
        assert "redo" not in again["task"]
        final = eventually(lambda: c.get(f"/task/{tid}").json(), lambda d: d.get("callback_completed") is True,
                           what="the last callback to be recorded")
    assert final["callback_completed"] is True
    results = [a["audit_result"] for a in final["audits"]]
    assert results == ["fixed", "rejected"]


def test_failing_receiver_is_retried(server_factory, sql):
    rec = Receiver(fail_first=2)
    try:
        h = server_factory(n=0, simulate=True, simulate_interval=0.05, callback_backoff=0.05, callback_attempts=4,
                           simulate_error_rate=0, simulate_arrivals=False)
        with client(h) as c:
            tid = create(c, callback_url=rec.url)["task_id"]
            rec.wait_for(lambda b: b["task_id"] == tid)
            assert rec.attempts == 3
            eventually(lambda: c.get(f"/task/{tid}").json(), lambda t: t.get("callback_completed"),
                       what="callback_completed")
    finally:
        rec.close()


def test_receiver_that_never_answers_gives_up(server_factory):
    rec = Receiver(fail_first=10**6)
    try:
        h = server_factory(n=0, simulate=True, simulate_interval=0.05, callback_backoff=0.02, callback_attempts=3,
                           simulate_error_rate=0, simulate_arrivals=False)
        with client(h) as c:
            tid = create(c, callback_url=rec.url)["task_id"]
            eventually(lambda: rec.attempts, lambda n: n >= 3, what="three attempts")
            # deliberate: an observation window (> the next backoff) for "no fourth attempt"; the
            # server has no outward sign of giving up, so only time can show nothing more comes
            time.sleep(0.3)
            assert rec.attempts == 3  # bounded
            assert "callback_completed" not in c.get(f"/task/{tid}").json()
    finally:
        rec.close()


def test_callback_url_must_be_http(server):
    with client(server) as c:
        for bad in ("file:///etc/passwd", "gopher://x", "javascript:alert(1)", "ftp://h/x", 12):
            r = c.post("/task/imageannotation", json={"callback_url": bad})
            assert r.status_code == 400 and "callback_url" in r.json()["error"]


def test_simulated_workforce_moves_tasks_and_bumps_updated_at(server_factory, sql):
    h = server_factory(n=300, simulate=True, simulate_interval=0.05, simulate_batch=5)
    before = dict(sql(h, "SELECT ostatus, COUNT(*) FROM tasks GROUP BY ostatus"))
    max_updated = sql(h, "SELECT MAX(updated_at) FROM tasks")[0][0]
    eventually(lambda: dict(sql(h, "SELECT ostatus, COUNT(*) FROM tasks GROUP BY ostatus")),
               lambda after: after.get("completed", 0) > before.get("completed", 0)
               and after.get("queued", 0) < before.get("queued", 0), what=f"the workforce to move tasks from {before}")
    moved = sql(h, "SELECT COUNT(*) FROM tasks WHERE updated_at > ?", max_updated)[0][0]
    assert moved > 0
    assert sql(h, "SELECT COUNT(*) FROM tasks")[0][0] > 300  # new work arrived
    # the maintained counts still agree with the rows (checked on a quiet server)
    h.stop()
    h = start_server_thread(h.db_path, h.api_keys)
    with client(h) as c:
        for st in ("queued", "in_progress", "completed", "redo", "error"):
            assert c.get("/tasks", params={"status": st, "limit": 1}).json()["total"] == \
                sql(h, "SELECT COUNT(*) FROM tasks WHERE ostatus=?", st)[0][0]
    h.stop()
    errors = [orjson.loads(d) for (d,) in sql(h, "SELECT doc FROM docs JOIN tasks USING (id) WHERE ostatus='error'")]
    assert errors and all(e["response"]["error"] for e in errors)  # where Scale keeps it
