"""Deterministic demo data: ``seed_database(db_path, n, seed=1, now=None)``.

For a given (seed, now, n) the tasks are always the same. Creation dates spread over
the 90 days before ``now``. A small, known subset carries hostile text (Rich markup, ANSI
and OSC escape sequences), unicode and very long text so that escaping is tested
downstream: task number ``i`` (0-based, in generation order) is

- hostile when ``i % 97 == 5``  (tag ``hostile-text``),
- unicode when ``i % 97 == 11`` (tag ``unicode-text``),
- very long when ``i % 293 == 17`` (tag ``long-text``).

Completed and Redo tasks are stored with their generated ``response`` (and
``prior_responses``), as the real API stores them: generating them at every read (the
``_lazy`` form, still served for databases seeded before) cost about two thirds of the
server's CPU per task of an unfiltered listing. The wire form is the same either way.

Bulk path: secondary indexes and count triggers are dropped, rows go in with
``executemany`` in one transaction, then indexes, counts and statistics are rebuilt.
"""

from __future__ import annotations

import random
import sqlite3
from datetime import datetime
from pathlib import Path
from typing import Any

import orjson

from tasktui.domain.timezones import UTC
from tasktui.server import db as dbm
from tasktui.server.content import ATTACHMENT_TYPE, MEDIA_NAME, PROJECTS
from tasktui.server.docs import materialize
from tasktui.server.times import DAY_MS, dt_to_ms, ms_to_wire

HOSTILE = [
    "[bold red]URGENT[/bold red] re-check this [/] now",
    "Fake close tags [/] [/bold] and a [link=https://evil.invalid/]link[/link]",
    "\x1b[31mred alert\x1b[0m then \x1b[2J\x1b[H clear screen",
    "\x1b]52;c;ZXZpbCBjbGlwYm9hcmQ=\x07 clipboard write",
    "\x1b]8;;https://evil.invalid/\x1b\\OSC 8 hyperlink\x1b]8;;\x1b\\",
    "controls: NUL\x00 BEL\x07 BS\x08 CR\r DEL\x7f C1\x9b31m",
    "[on magenta]{markup}[/on magenta] :warning: $(rm -rf ~) '; DROP TABLE tasks; --",
]
UNICODE = [
    "Ünïcödé ✓ — 日本語のテキスト, 中文, 한국어, العربية (RTL) עברית",
    "emoji 👩‍👩‍👧‍👦 🏳️‍🌈 🇫🇷, combining e\u0301 n\u0303, zero\u200bwidth, wide ＡＢＣ",
    "maths ∀x∈ℝ: x² ≥ 0; arrows ← → ↑ ↓; box ┌─┐│└┘",
]
TAGS = ["priority", "night", "rain", "urban", "highway", "qa-sample", "retrain", "edge-case", "vip"]
REVIEWERS = ["ana@example.com", "bo@example.com", "chen@example.com", "dee@example.com"]
ERRORS = [
    "Attachment {url} could not be fetched: HTTP 403 Forbidden",
    "Attachment {url} could not be fetched: connection timed out after 30 s",
    "Attachment is 0 bytes long; nothing to label",
    "Unsupported attachment type 'image/heic' (expected image/png or image/jpeg)",
    "The labeling deadline of 72 h passed before the task was completed",
    "Point cloud frame has no points within 80 m of the sensor",
]
REJECT_COMMENTS = ["Missed two objects on the left", "Boxes are too loose", "Wrong category",
                   "Transcription skipped a line", "Label on the truck is wrong"]
ACCEPT_COMMENTS = ["Looks good", "", "Great work", "OK"]


def instructions_for(project: dict[str, Any]) -> str:
    labels = ", ".join(f"`{x}`" for x in project["labels"]) or "every line of text"
    return (
        f"# {project['name']}\n\n"
        f"Label **{labels}** in each {ATTACHMENT_TYPE[project['kind']]} attachment.\n\n"
        "## Rules\n\n"
        "1. Draw tight boundaries; include occluded parts you can infer.\n"
        "2. Skip objects smaller than 10 px.\n"
        "3. When unsure, pick `other` and leave a comment.\n\n"
        "| case | what to do |\n|---|---|\n| blurry | label if recognisable |\n"
        "| cut off at edge | label the visible part |\n\n"
        "> Questions? Ask in #labeling-help.\n"
    )


def long_text(rng: random.Random) -> str:
    para = ("This paragraph is deliberately long so that wrapping, scrolling and truncation "
            "are exercised; it goes on and on without any markup at all. ")
    parts = [f"## Section {k + 1}\n\n" + para * rng.randint(8, 14) for k in range(24)]
    return "# A very long instruction\n\n" + "\n\n".join(parts)


def _project_rows(now_ms: int) -> tuple[list[tuple], list[tuple]]:
    projects, batches = [], []
    created = now_ms - 120 * DAY_MS
    for p in PROJECTS:
        pdoc = {
            "name": p["name"], "type": p["type"], "created_at": ms_to_wire(created),
            "instruction": instructions_for(p),
            "param_history": [
                {"version": 0, "created_at": ms_to_wire(created), "instruction": "(first draft)"},
                {"version": 1, "created_at": ms_to_wire(created + DAY_MS), "instruction": instructions_for(p)},
            ],
            "params": {"objects_to_annotate": p["labels"]} if p["labels"] else {},
            "metadata": {"owner": "demo", "kind": p["kind"]},
        }
        projects.append((p["name"], p["type"], pdoc["created_at"], orjson.dumps(pdoc)))
        for k in range(3):
            name = batch_name(p, k)
            bcreated = now_ms - (90 - 30 * k) * DAY_MS
            bdoc = {
                "name": name, "project": p["name"], "created_at": ms_to_wire(bcreated),
                "status": "completed" if k == 0 else ("in_progress" if k == 1 else "staging"),
                "metadata": {"window_days": [30 * k, 30 * (k + 1)]},
            }
            batches.append((name, p["name"], bdoc["created_at"], orjson.dumps(bdoc)))
    return projects, batches


def batch_name(project: dict[str, Any], k: int) -> str:
    return f"{project['slug']}-batch-{k + 1:02d}"


def seed_database(db_path: str | Path, n: int, *, seed: int = 1, now: datetime | None = None) -> int:
    """Add ``n`` deterministic demo tasks (plus the demo projects and batches) to the
    database at ``db_path`` (created if missing). Returns the number of tasks added."""
    now = now or datetime.now(UTC)
    now_ms = dt_to_ms(now)
    conn = dbm.connect(db_path)
    try:
        dbm.init_schema(conn)
        start_id = conn.execute("SELECT COALESCE(MAX(id), 0) FROM tasks").fetchone()[0] + 1
        bulk = n >= 5000
        if bulk:
            # One big write: skip the WAL (which would write everything twice) and sort
            # index entries with a helper thread; back to WAL when done.
            conn.execute("PRAGMA journal_mode=DELETE")
            conn.execute("PRAGMA synchronous=OFF")
            conn.execute("PRAGMA threads=2")
            conn.execute("PRAGMA cache_size=-262144")
        conn.execute("BEGIN IMMEDIATE")
        try:
            if bulk:
                dbm.drop_for_bulk(conn)
            projects, batches = _project_rows(now_ms)
            conn.executemany("INSERT OR IGNORE INTO projects VALUES (?,?,?,?)", projects)
            conn.executemany("INSERT OR IGNORE INTO batches VALUES (?,?,?,?)", batches)
            added = _insert_tasks(conn, n, seed, now_ms, start_id)
            if bulk:
                for stmt in dbm.INDEXES.strip().split(";"):
                    if stmt.strip():
                        conn.execute(stmt)
                for stmt in _split_triggers(dbm.TRIGGERS):
                    conn.execute(stmt)
                dbm.rebuild_counts(conn)
                dbm.rebuild_tag_counts(conn)
            conn.execute("INSERT OR REPLACE INTO meta VALUES ('seeded_at', ?)", (ms_to_wire(now_ms),))
            conn.execute("COMMIT")
        except BaseException:
            # SQLite may already have rolled back (a full disk does): a second ROLLBACK
            # would raise "no transaction is active" and hide the real error
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            raise
        if bulk:
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute("PRAGMA synchronous=NORMAL")
        conn.execute("PRAGMA analysis_limit=2000")
        conn.execute("ANALYZE")
        return added
    finally:
        conn.close()


def _split_triggers(script: str) -> list[str]:
    out, cur = [], []
    for line in script.strip().splitlines():
        cur.append(line)
        if line.strip() == "END;":
            out.append("\n".join(cur))
            cur = []
    return out


def _insert_tasks(conn: sqlite3.Connection, n: int, seed: int, now_ms: int, start_id: int) -> int:
    rng = random.Random(seed)
    weights = [p["weight"] for p in PROJECTS]
    cum = []
    acc = 0
    for w in weights:
        acc += w
        cum.append(acc)
    total_w = acc
    dumps = orjson.dumps
    rows: list[tuple] = []
    docs: list[tuple] = []
    tags_rows: list[tuple] = []
    rand = rng.random

    def randint(a: int, b: int) -> int:
        return a + int(rand() * (b - a + 1))

    day_cache: dict[int, str] = {}

    def wire(ms: int) -> str:
        day, rem = divmod(ms, DAY_MS)
        d = day_cache.get(day)
        if d is None:
            d = day_cache[day] = ms_to_wire(day * DAY_MS)[:11]
        s, milli = divmod(rem, 1000)
        h, s = divmod(s, 3600)
        m, s = divmod(s, 60)
        return f"{d}{h:02d}:{m:02d}:{s:02d}.{milli:03d}Z"
    getrandbits = rng.getrandbits
    span = 90 * DAY_MS
    added = 0
    chunk = 20000
    uid_base = f"s{seed}"

    def flush() -> None:
        conn.executemany("INSERT INTO tasks VALUES (?,?,?,?,?,?,?,?,?,?,?)", rows)
        conn.executemany("INSERT INTO docs VALUES (?,?)", docs)
        if tags_rows:
            # plain staging table: appends are cheap; sorted into task_tags at the end
            conn.executemany("INSERT INTO temp.seed_tags VALUES (?,?)", tags_rows)
        rows.clear()
        docs.clear()
        tags_rows.clear()

    conn.execute("CREATE TEMP TABLE IF NOT EXISTS seed_tags (tag TEXT, id INTEGER)")
    conn.execute("DELETE FROM temp.seed_tags")

    def generate() -> None:
        nonlocal added
        for i in range(n):
            rid = start_id + i
            x = rand() * total_w
            pi = 0
            while cum[pi] <= x:
                pi += 1
            p = PROJECTS[pi]
            # a jittered grid: creation times rise with i (rows are stored in creation
            # order, which keeps index builds and range scans local) at a uniform rate
            age = span - int(span * (i + rand()) / n)
            created = now_ms - age
            window = min(2, (span - age) * 3 // span)
            batch = batch_name(p, window)
            tid = f"{created // 1000:08x}{rid & 0xFFFFFF:06x}{getrandbits(40):010x}"
            tseed = getrandbits(31)
            kind = p["kind"]
            r = rand()
            recent = age < 7 * DAY_MS
            if recent:
                status = ("completed" if r < 0.30 else "queued" if r < 0.58 else "in_progress" if r < 0.83
                          else "redo" if r < 0.87 else "error" if r < 0.94 else "canceled")
            else:
                status = ("completed" if r < 0.74 else "queued" if r < 0.80 else "in_progress" if r < 0.86
                          else "redo" if r < 0.89 else "error" if r < 0.95 else "canceled")
            updated = created + randint(1000, 3_600_000)
            doc: dict[str, Any] = {
                "task_id": tid,
                "created_at": wire(created),
                "type": p["type"],
                "project": p["name"],
                "batch": batch,
                "params": {"attachment": f"/v1/media/{tid}/{MEDIA_NAME[kind]}",
                           "attachment_type": ATTACHMENT_TYPE[kind]},
                "metadata": {"source": f"{p['slug']}-feed-{tseed % 7}", "frame": tseed % 10000},
                "_seed": tseed,
            }
            if p["labels"] and kind in ("boxes", "polygons", "lidar"):
                doc["params"]["objects_to_annotate"] = p["labels"]
            elif p["labels"]:
                doc["params"]["categories"] = p["labels"]
            if rand() < 0.45:
                doc["unique_id"] = f"{p['slug']}-{uid_base}-{rid:07d}"
            ntags = randint(0, 3) if rand() < 0.5 else 0
            tags = sorted({TAGS[randint(0, len(TAGS) - 1)] for _ in range(ntags)})
            review = ""
            completed = None
            if status == "completed":
                completed = created + randint(600_000, 5 * DAY_MS)
                if completed >= now_ms:
                    completed = created + int((now_ms - created) * rand())
                updated = completed
                doc["completed_at"] = wire(completed)
                doc["work_started"] = True
                rr = rand()
                review = ("pending" if rr < 0.40 else "accepted" if rr < 0.75 else "fixed" if rr < 0.87 else "rejected")
                if review == "pending":
                    doc["customer_review_status"] = "pending"
                    doc["_lazy"] = ["response"]
                else:
                    audited = completed + randint(60_000, DAY_MS)
                    if audited >= now_ms:
                        audited = completed + int((now_ms - completed) * rand())
                    updated = audited
                    result = review
                    comment = (ACCEPT_COMMENTS[tseed % len(ACCEPT_COMMENTS)] if review == "accepted"
                               else REJECT_COMMENTS[tseed % len(REJECT_COMMENTS)])
                    doc["customer_review_status"] = review
                    doc["audits"] = [{"audited_by": REVIEWERS[tseed % len(REVIEWERS)], "audited_at": wire(audited),
                                      "audit_time_secs": 20 + tseed % 300, "audit_result": result,
                                      "audit_source": "customer"}]
                    if comment:
                        doc["customer_review_comments"] = [comment]
                    doc["_lazy"] = ["response", "fixed", "prior"] if review == "fixed" else ["response"]
            elif status in ("queued", "in_progress", "redo"):
                doc["status"] = "pending"
                doc["work_started"] = status != "queued"
                if status == "redo":
                    doc["customer_review_status"] = "rejected"
                    doc["customer_review_comments"] = [REJECT_COMMENTS[tseed % len(REJECT_COMMENTS)]]
                    doc["audits"] = [{"audited_by": REVIEWERS[tseed % len(REVIEWERS)],
                                      "audited_at": wire(updated), "audit_time_secs": 45,
                                      "audit_result": "rejected", "audit_source": "customer"}]
                    doc["_lazy"] = ["prior"]
                    review = "rejected"
            elif status == "error":
                # where Scale keeps the detail of an error: in the task's response
                doc["response"] = {"error": ERRORS[tseed % len(ERRORS)].format(
                    url=f"https://media.invalid/{p['slug']}/{tid}.bin")}
            if "status" not in doc:
                doc["status"] = "completed" if status == "completed" else status
            doc["updated_at"] = wire(updated)
            special = i % 97
            if special == 5:
                h = HOSTILE[(i // 97) % len(HOSTILE)]
                doc["instruction"] = f"# Careful\n\n{h}\n\nLabel as usual. {HOSTILE[(i // 97 + 1) % len(HOSTILE)]}"
                doc["metadata"]["note"] = h
                doc["metadata"][HOSTILE[(i // 97 + 2) % len(HOSTILE)][:30]] = "hostile key"
                tags.append("hostile-text")
            elif special == 11:
                u = UNICODE[(i // 97) % len(UNICODE)]
                doc["instruction"] = f"# Ünïcödé instructions\n\n{u}\n\n{UNICODE[(i // 97 + 1) % len(UNICODE)]}"
                doc["metadata"]["note"] = u
                tags.append("unicode-text")
            if i % 293 == 17:
                doc["instruction"] = long_text(rng)
                doc["metadata"]["long_note"] = "long " * 2000
                tags.append("long-text")
            if tags:
                doc["tags"] = tags
                for t in tags:
                    tags_rows.append((t, rid))
            rows.append((rid, tid, created, updated, completed, status, review, p["name"], batch, p["type"],
                         doc.get("unique_id")))
            if "_lazy" in doc:
                materialize(doc)  # stored as served: generated once here, not at every read
            docs.append((rid, dumps(doc)))
            added += 1
            if len(rows) >= chunk:
                flush()
        if rows:
            flush()

    generate()
    conn.execute("INSERT OR IGNORE INTO task_tags SELECT tag, id FROM temp.seed_tags ORDER BY tag, id")
    conn.execute("DELETE FROM temp.seed_tags")
    return added
