"""``GET /v1/tasks``: parsing the query string, and the SQL for a page and its total.

Pages use keyset pagination on ``(created_at, task_id)`` (newest first by default), so
the cost of a page does not depend on its depth. ``next_token`` is an opaque encoding of
the last row's position and the order. ``total`` is exact: for filters on status, audit
status, project, batch, type and creation date it is a sum over the ``counts`` table plus
an exact count of the partial UTC days at the edges of the range; otherwise a COUNT.
"""

from __future__ import annotations

import base64
import binascii
import re
import sqlite3
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

from tasktui.domain.statuses import OperatorStatus
from tasktui.domain.timezones import UTC
from tasktui.domain.wire import (
    COMPLETED_RANGE,
    CREATED_RANGE,
    PAGE_LIMIT_MAX,
    PAGE_SIZE_EXT_MAX,
    REPEATED_PARAMS,
    UPDATED_RANGE,
    Param,
    decode_review_filter,
    decode_status_filter,
)
from tasktui.server.errors import BadRequest
from tasktui.server.limits import REPEATED_VALUES_MAX
from tasktui.server.times import DAY_MS

ALL_OSTATUS = tuple(s.value for s in OperatorStatus)

_DATE_ONLY = re.compile(r"\d{4}-\d{2}-\d{2}")


def parse_time(name: str, value: str) -> int:
    """Loose ISO-8601 (``2020-09-08``, ``2020-09-08T10:00:00``, with ``Z`` or an offset;
    naive means UTC) to epoch milliseconds."""
    v = value.strip()
    if not v:
        raise BadRequest(f"{name} is empty; give an ISO-8601 date such as 2026-03-08 or 2026-03-08T10:00:00Z")
    try:
        if _DATE_ONLY.fullmatch(v):
            dt = datetime.fromisoformat(v).replace(tzinfo=UTC)
        else:
            dt = datetime.fromisoformat(v.replace(" ", "T", 1) if "T" not in v else v)
            if dt.tzinfo is None:
                dt = dt.replace(tzinfo=UTC)
        return round(dt.timestamp() * 1000)
    except (ValueError, OverflowError, OSError):
        raise BadRequest(
            f"{name}={value!r} is not a date; give an ISO-8601 date such as 2026-03-08 or 2026-03-08T10:00:00Z"
        ) from None


_BOOLS = {"true": True, "True": True, "1": True, "false": False, "False": False, "0": False}


def parse_bool(name: str, value: str) -> bool:
    if value in _BOOLS:
        return _BOOLS[value]
    raise BadRequest(f"{name}={value[:40]!r} is not a boolean; use true or false")


def parse_int(name: str, value: str, lo: int, hi: int, give: str) -> int:
    """A whole number from ``lo`` to ``hi``; a 400 ending with ``give`` otherwise."""
    try:
        n = int(value)
    except ValueError:
        raise BadRequest(f"{name}={value!r} is not a whole number; give {give}") from None
    if not lo <= n <= hi:
        raise BadRequest(f"{name}={value} is out of range; give {give}")
    return n


@dataclass
class ListQuery:
    statuses: tuple[str, ...] = ()  # operator status values
    reviews: tuple[str, ...] = ()  # audit column values
    projects: tuple[str, ...] = ()
    batches: tuple[str, ...] = ()
    types: tuple[str, ...] = ()
    tags: tuple[str, ...] = ()
    unique_ids: tuple[str, ...] = ()
    search: str = ""
    created_from: int | None = None
    created_to: int | None = None
    completed_from: int | None = None
    completed_to: int | None = None
    updated_from: int | None = None
    updated_to: int | None = None
    limit: int = PAGE_LIMIT_MAX
    order: str = "desc"
    after: tuple[int, str] | None = None
    limited_response: bool = False
    #: (min, max) created_at of the tasks in the completion / update ranges (set by fetch_page)
    created_window: tuple[int, int] | None = None
    #: drive the query from the completion / update range index (set by plan_ranges)
    drive_range: bool = False
    extra: dict[str, Any] = field(default_factory=dict)


#: The date ranges of a list query: (from, to) parameter, (from, to) ListQuery field.
_RANGES = ((CREATED_RANGE, ("created_from", "created_to")),
           (COMPLETED_RANGE, ("completed_from", "completed_to")),
           (UPDATED_RANGE, ("updated_from", "updated_to")))
#: The repeated parameters and the ListQuery field each one fills.
_REPEATED = dict(zip(REPEATED_PARAMS, ("projects", "batches", "types", "tags", "unique_ids"), strict=True))


def parse_list_query(params: list[tuple[str, str]]) -> ListQuery:
    multi: dict[str, list[str]] = {}
    for k, v in params:
        multi.setdefault(k, []).append(v)
    q = ListQuery()

    def one(name: str) -> str | None:
        vals = multi.get(name)
        if not vals:
            return None
        if len(vals) > 1:
            raise BadRequest(f"{name} was given {len(vals)} times; give it once")
        return vals[0]

    for names, fields in _RANGES:
        for name, attr in zip(names, fields):
            v = one(name)
            if v is not None:
                setattr(q, attr, parse_time(name, v))
    for (lo, hi), (a, b) in _RANGES:
        if getattr(q, a) is not None and getattr(q, b) is not None and getattr(q, b) < getattr(q, a):
            raise BadRequest(f"{hi} is before {lo}; the range would be empty")
    try:
        if Param.STATUS in multi:
            q.statuses = tuple(s.value for s in decode_status_filter(multi[Param.STATUS]))
        if Param.REVIEW_STATUS in multi:
            q.reviews = decode_review_filter(multi[Param.REVIEW_STATUS])
    except ValueError as e:
        raise BadRequest(str(e)) from None
    for name, attr in _REPEATED.items():
        vals = multi.get(name)
        if vals:
            if any(v == "" for v in vals):
                raise BadRequest(f"{name} is empty; give a value or leave the parameter out")
            if len(vals) > REPEATED_VALUES_MAX:
                raise BadRequest(f"{name} was given {len(vals):,} times; the limit is {REPEATED_VALUES_MAX} "
                                 f"values of {name} per request")
            setattr(q, attr, tuple(dict.fromkeys(vals)))
    s = one(Param.SEARCH)
    if s is not None:
        q.search = s.strip()
    lim = one(Param.LIMIT)
    if lim is not None:
        q.limit = parse_int(Param.LIMIT, lim, 1, PAGE_LIMIT_MAX, f"1 to {PAGE_LIMIT_MAX}")
    ps = one(Param.PAGE_SIZE)  # the page-size extension: bigger pages for bulk readers
    if ps is not None:
        q.limit = parse_int(Param.PAGE_SIZE, ps, 1, PAGE_SIZE_EXT_MAX, f"1 to {PAGE_SIZE_EXT_MAX}")
    o = one(Param.ORDER)
    if o is not None:
        if o.lower() not in ("asc", "desc"):
            raise BadRequest(f"order={o!r} is not an order; use asc (oldest first) or desc (newest first)")
        q.order = o.lower()
    tok = one(Param.NEXT_TOKEN)
    if tok:
        q.after = decode_token(tok, q.order)
    for name in (Param.INCLUDE_ATTACHMENT_URL, Param.LIMITED_RESPONSE):
        v = one(name)
        if v is not None:
            b = parse_bool(name, v)
            if name == Param.LIMITED_RESPONSE:
                q.limited_response = b
    off = one(Param.OFFSET)
    if off is not None and off.strip() not in ("0", ""):
        raise BadRequest("offset is not supported on tasks; follow next_token instead")
    return q


# -- tokens ---------------------------------------------------------------------

def encode_token(created: int, task_id: str, order: str) -> str:
    raw = f"t1|{order}|{created}|{task_id}".encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


_TOKEN_RE = re.compile(r"t1\|(asc|desc)\|(-?\d{1,16})\|([0-9A-Za-z_-]{1,64})")


def decode_token(token: str, order: str) -> tuple[int, str]:
    bad = BadRequest(f"next_token={token[:40]!r} is not a token this server gave out; "
                     "start again from the first page")
    if len(token) > 200:
        raise bad
    try:
        raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)).decode()
    except (binascii.Error, UnicodeDecodeError, ValueError):
        raise bad from None
    m = _TOKEN_RE.fullmatch(raw)
    if not m:
        raise bad
    if m.group(1) != order:
        raise BadRequest(f"next_token was made for order={m.group(1)}, but this request asks for "
                         f"order={order}; start again from the first page")
    return int(m.group(2)), m.group(3)


# -- SQL ------------------------------------------------------------------------

def _in(col: str, values: tuple[str, ...], where: list[str], args: list[Any], prefix: str = "") -> None:
    if len(values) == 1:
        where.append(f"{prefix}{col} = ?")
    else:
        where.append(f"{prefix}{col} IN ({','.join('?' * len(values))})")
    args.extend(values)


def _active_ranges(q: ListQuery) -> list[tuple[str, int | None, int | None]]:
    """The completion / update ranges that are set, as (column, from, to)."""
    return [(col, a, b) for col, a, b in (("completed_at", q.completed_from, q.completed_to),
                                          ("updated_at", q.updated_from, q.updated_to))
            if a is not None or b is not None]


def _range_terms(col: str, a: int | None, b: int | None, prefix: str = "") -> tuple[list[str], list[Any]]:
    """WHERE terms of one range: ``from`` inclusive, ``to`` exclusive."""
    where: list[str] = []
    args: list[Any] = []
    if a is not None:
        where.append(f"{prefix}{col} >= ?")
        args.append(a)
    if b is not None:
        where.append(f"{prefix}{col} < ?")
        args.append(b)
    return where, args


def base_where(q: ListQuery, *, with_created: bool = True, statuses: tuple[str, ...] | None = None,
               scan: bool = False) -> tuple[list[str], list[Any]]:
    """WHERE terms for ``q``. ``scan=False`` writes the secondary filters (completion and
    update ranges, tags, search) so that SQLite drives the query from their indexes (cost
    grows with the number of matches: right for counting and for few matches);
    ``scan=True`` hides them from the planner (unary ``+``, correlated EXISTS) so that it
    walks an index in page order and stops after one page (right for many matches)."""
    where: list[str] = []
    args: list[Any] = []
    sts = q.statuses if statuses is None else statuses
    # drive_range: let the completion / update range index drive (the other filters
    # are checked per row), chosen when that range holds fewer tasks than the rest
    e = "+" if q.drive_range and not scan else ""
    if sts and len(sts) < len(ALL_OSTATUS):
        _in("ostatus", sts, where, args, e)
    if q.reviews:
        _in("review", q.reviews, where, args, e)
    if q.projects:
        _in("project", q.projects, where, args, e)
    if q.batches:
        _in("batch", q.batches, where, args, e)
    if q.types:
        _in("type", q.types, where, args, e)
    if with_created:
        if q.created_from is not None:
            where.append(f"{e}created_at >= ?")
            args.append(q.created_from)
        if q.created_to is not None:
            where.append(f"{e}created_at < ?")
            args.append(q.created_to)
    p = "+" if scan else ""
    if scan and with_created and q.created_window is not None:
        # the creation times of the tasks in the completion / update range (found from
        # their covering indexes): the ordered walk starts and ends there
        where.append("created_at >= ? AND created_at <= ?")
        args.extend(q.created_window)
    for col, lo, hi in _active_ranges(q):
        terms, values = _range_terms(col, lo, hi, p)
        where += terms
        args += values
    for t in q.tags:
        if scan:
            where.append("EXISTS (SELECT 1 FROM task_tags g WHERE g.tag = ? AND g.id = tasks.id)")
        else:
            where.append("id IN (SELECT id FROM task_tags WHERE tag = ?)")
        args.append(t)
    if q.unique_ids:
        _in("unique_id", q.unique_ids, where, args)
    if q.search:
        s = q.search.lower()
        hi = s + "\U0010ffff"
        if scan:
            where.append("(+task_id >= ? AND +task_id < ? OR (unique_id IS NOT NULL AND lower(unique_id) >= ? "
                         "AND lower(unique_id) < ?))")
        else:
            # task ids are lower-case hex (a range on their unique index); unique ids
            # through the index on lower(unique_id)
            where.append("id IN (SELECT id FROM tasks WHERE task_id >= ? AND task_id < ? UNION ALL "
                         "SELECT id FROM tasks WHERE unique_id IS NOT NULL AND lower(unique_id) >= ? "
                         "AND lower(unique_id) < ?)")
        args.extend([s, hi, s, hi])
    return where, args


def _page_sql(q: ListQuery, statuses: tuple[str, ...] | None, fetch: int, scan: bool = False
              ) -> tuple[str, list[Any]]:
    where, args = base_where(q, statuses=statuses, scan=scan)
    if q.after is not None:
        op = "<" if q.order == "desc" else ">"
        where.append(f"(created_at, task_id) {op} (?, ?)")
        args.extend(q.after)
    d = "DESC" if q.order == "desc" else "ASC"
    sql = (f"SELECT id, created_at, task_id FROM tasks {'WHERE ' + ' AND '.join(where) if where else ''} "
           f"ORDER BY created_at {d}, task_id {d} LIMIT {fetch}")
    return sql, args


#: Above this many matches, secondary filters are checked while walking an index in
#: page order; below it, the matches are found through their own index and sorted.
SCAN_THRESHOLD = 3000


def fetch_page(conn: sqlite3.Connection, q: ListQuery, total: int | None = None
               ) -> tuple[list[tuple[int, int, str]], bool]:
    """Rows (id, created_at, task_id) of the page, and whether more follow. ``total``
    (the exact number of matches, when known) picks the plan for secondary filters."""
    fetch = q.limit + 1
    scan = needs_exact_count(q) and (total is None or total > SCAN_THRESHOLD)
    if scan:
        window = _created_window(conn, q)
        if window is None:
            return [], False
        q = replace(q, created_window=window)
    else:
        q = plan_ranges(conn, q)
    sts = q.statuses if q.statuses and len(q.statuses) < len(ALL_OSTATUS) else ()
    if len(sts) > 1:
        # One index range per status, merged: SQLite would otherwise read and sort every
        # matching row to honour ORDER BY ... LIMIT.
        rows: list[tuple[int, int, str]] = []
        for s in sts:
            sql, args = _page_sql(q, (s,), fetch, scan)
            rows.extend(conn.execute(sql, args).fetchall())
        rows.sort(key=lambda r: (r[1], r[2]), reverse=q.order == "desc")
        rows = rows[:fetch]
    else:
        sql, args = _page_sql(q, None, fetch, scan)
        rows = conn.execute(sql, args).fetchall()
    more = len(rows) > q.limit
    return rows[: q.limit], more


def _created_window(conn: sqlite3.Connection, q: ListQuery) -> tuple[int, int] | None:
    """Bounds on created_at implied by the completion and update ranges (each read from
    an index on (completed_at | updated_at, created_at) without touching the table);
    None when a range holds no task."""
    lo, hi = -(2**62), 2**62
    for col, a, b in _active_ranges(q):
        terms, args = _range_terms(col, a, b)
        where = [f"{col} IS NOT NULL", *terms]
        mn, mx = conn.execute(f"SELECT MIN(created_at), MAX(created_at) FROM tasks WHERE {' AND '.join(where)}",
                              args).fetchone()
        if mn is None:
            return None
        lo, hi = max(lo, mn), min(hi, mx)
    if lo > hi:
        return None
    return lo, hi


def plan_ranges(conn: sqlite3.Connection, q: ListQuery) -> ListQuery:
    """Choose what drives a query with a completion / update range: that range's index
    (when it holds fewer tasks) or the other filters' indexes. Estimates are bounded
    index-only counts, so choosing costs little."""
    ranges = _active_ranges(q)
    if not ranges or q.tags or q.search or q.unique_ids:
        return q
    cap = 50_000
    est_range = cap
    for col, a, b in ranges:
        terms, args = _range_terms(col, a, b)
        where = [f"{col} IS NOT NULL", *terms]
        n = conn.execute(f"SELECT COUNT(*) FROM (SELECT 1 FROM tasks WHERE {' AND '.join(where)} LIMIT {cap})",
                         args).fetchone()[0]
        est_range = min(est_range, n)
    est_rest = count_total(conn, replace(q, completed_from=None, completed_to=None, updated_from=None,
                                         updated_to=None))
    return replace(q, drive_range=est_range < est_rest)


def needs_exact_count(q: ListQuery) -> bool:
    """Filters the counts table cannot answer."""
    return bool(q.tags or q.unique_ids or q.search) or any(
        v is not None for v in (q.completed_from, q.completed_to, q.updated_from, q.updated_to))


def _count_where(conn: sqlite3.Connection, q: ListQuery) -> int:
    if q.search and replace(q, search="", order="desc", limit=PAGE_LIMIT_MAX, after=None,
                            limited_response=False) == ListQuery():
        # search alone: two index-only range counts, minus the tasks both ranges hold
        s = q.search.lower()
        hi = s + "\U0010ffff"
        if s.strip("0123456789abcdef"):
            a = 0  # not hex: no task id starts with it
        else:
            a = conn.execute("SELECT COUNT(*) FROM tasks WHERE task_id >= ? AND task_id < ?", (s, hi)).fetchone()[0]
        b = conn.execute("SELECT COUNT(*) FROM tasks WHERE unique_id IS NOT NULL AND lower(unique_id) >= ? "
                         "AND lower(unique_id) < ?", (s, hi)).fetchone()[0]
        both = conn.execute("SELECT COUNT(*) FROM tasks WHERE unique_id IS NOT NULL AND lower(unique_id) >= ? "
                            "AND lower(unique_id) < ? AND task_id >= ? AND task_id < ?",
                            (s, hi, s, hi)).fetchone()[0] if a and b else 0
        return a + b - both
    sts = q.statuses if q.statuses and len(q.statuses) < len(ALL_OSTATUS) else ()
    if len(sts) > 1:
        # one indexed range per status instead of an IN that defeats the index order
        return sum(_count_where(conn, replace(q, statuses=(s,))) for s in sts)
    where, args = base_where(q)
    sql = f"SELECT COUNT(*) FROM tasks {'WHERE ' + ' AND '.join(where) if where else ''}"
    return conn.execute(sql, args).fetchone()[0]


def count_total(conn: sqlite3.Connection, q: ListQuery) -> int:
    """Exact number of tasks matching ``q`` (ignores the page position)."""
    table = "counts"
    cwhere: list[str] = []
    cargs: list[Any] = []
    one_tag = len(q.tags) == 1 and not needs_exact_count(replace(q, tags=()))
    if one_tag:
        # one tag and count-table filters: the per-tag counts answer it
        table = "tag_counts"
        cwhere.append("tag = ?")
        cargs.append(q.tags[0])
    elif needs_exact_count(q):
        return _count_where(conn, plan_ranges(conn, q))
    lo, hi = q.created_from, q.created_to
    sts = q.statuses if q.statuses and len(q.statuses) < len(ALL_OSTATUS) else ()
    if sts:
        _in("ostatus", sts, cwhere, cargs)
    for col, vals in (("review", q.reviews), ("project", q.projects), ("batch", q.batches), ("type", q.types)):
        if vals:
            _in(col, vals, cwhere, cargs)
    day_lo = None if lo is None else -(-lo // DAY_MS)  # first whole day inside the range
    day_hi = None if hi is None else hi // DAY_MS  # first day not wholly inside
    if day_lo is not None and day_hi is not None and day_lo >= day_hi:
        return _count_where(conn, q)  # within a day or two partial days: count exactly
    total = 0
    edges: list[tuple[int | None, int | None]] = []
    if day_lo is not None:
        cwhere.append("day >= ?")
        cargs.append(day_lo)
        if lo < day_lo * DAY_MS:
            edges.append((lo, day_lo * DAY_MS))
    if day_hi is not None:
        cwhere.append("day < ?")
        cargs.append(day_hi)
        if hi > day_hi * DAY_MS:
            edges.append((day_hi * DAY_MS, hi))
    sql = f"SELECT COALESCE(SUM(n), 0) FROM {table} {'WHERE ' + ' AND '.join(cwhere) if cwhere else ''}"
    total += conn.execute(sql, cargs).fetchone()[0]
    for a, b in edges:
        total += _count_where(conn, replace(q, created_from=a, created_to=b))
    return total
