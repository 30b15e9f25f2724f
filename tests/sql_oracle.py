"""An oracle for task filters that does not use the code under test: a ``TaskQuery`` is
translated here, by hand, into SQL over the server's ``tasks`` / ``task_tags`` tables, and
the ids are read straight from the database. ``TaskQuery.matches`` and the server's query
builder are both checked against this, so neither can move with a bug in the other.

Columns: ``created_at`` / ``completed_at`` epoch ms, ``project``, ``batch``, ``type``,
``unique_id``. The operator and audit statuses are NOT read from the server's ``ostatus`` /
``review`` columns (the server fills them with the domain's own mapping, so they would move
with a bug in it): ``WIRE_OSTATUS`` and ``WIRE_REVIEW`` derive them here from the stored
wire fields (``status``, ``work_started``, ``customer_review_status``, and an old
database's ``redo`` flag), by DESIGN.md's table.
"""

from __future__ import annotations

import sqlite3
from datetime import datetime, timezone
from pathlib import Path

from tasktui.domain import DateField, SortOrder, TaskQuery

EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)


def epoch_ms(dt: datetime) -> int:
    delta = dt - EPOCH
    return (delta.days * 86_400 + delta.seconds) * 1000 + delta.microseconds // 1000


def _wire(field: str) -> str:
    return f"json_extract((SELECT doc FROM docs WHERE docs.id = tasks.id), '$.{field}')"


#: The operator status of a task from its wire fields (DESIGN.md, "Status mapping"): a
#: pending task is Redo when re-done after a customer rejection, In Progress when work
#: started, else Queued; completed, error and canceled are themselves.
WIRE_OSTATUS = (
    f"(CASE {_wire('status')} "
    f"WHEN 'pending' THEN (CASE WHEN {_wire('customer_review_status')} = 'rejected' OR {_wire('redo')} "
    f"THEN 'redo' WHEN {_wire('work_started')} THEN 'in_progress' ELSE 'queued' END) "
    f"WHEN 'completed' THEN 'completed' WHEN 'error' THEN 'error' WHEN 'canceled' THEN 'canceled' END)")
#: The audit status: accepted / fixed / rejected as the review says, Ready to Audit
#: ('pending') for a completed task with a pending review or none, else none ('').
WIRE_REVIEW = (
    f"(CASE WHEN {_wire('customer_review_status')} IN ('accepted', 'fixed', 'rejected') "
    f"THEN {_wire('customer_review_status')} "
    f"WHEN {_wire('status')} = 'completed' AND coalesce({_wire('customer_review_status')}, '') IN ('', 'pending') "
    f"THEN 'pending' ELSE '' END)")


def _in(column: str, values) -> tuple[str, list]:
    values = list(values)
    return f"{column} IN ({','.join('?' * len(values))})", values


def expected_ids(db_path: Path | str, q: TaskQuery) -> list[str]:
    """The task ids the query selects, in its order (created_at, then task_id)."""
    where: list[str] = []
    args: list = []
    column = "created_at" if q.date_field is DateField.CREATED else "completed_at"
    if q.start is not None:
        where.append(f"{column} IS NOT NULL AND {column} >= ?")
        args.append(epoch_ms(q.start))
    if q.end is not None:
        where.append(f"{column} IS NOT NULL AND {column} < ?")
        args.append(epoch_ms(q.end))
    for col, values in ((WIRE_OSTATUS, [str(s) for s in q.statuses]),
                        (WIRE_REVIEW, [str(a) for a in q.audit_statuses]),
                        ("project", q.projects), ("batch", q.batches), ("type", q.types)):
        if values:
            clause, vals = _in(col, values)
            where.append(clause)
            args += vals
    for tag in q.tags:
        where.append("id IN (SELECT id FROM task_tags WHERE tag = ?)")
        args.append(tag)
    s = q.search.strip().lower()
    if s:
        where.append("(substr(lower(task_id), 1, ?) = ? OR substr(lower(coalesce(unique_id, '')), 1, ?) = ?)")
        args += [len(s), s, len(s), s]
    direction = "DESC" if q.order is SortOrder.NEWEST else "ASC"
    sql = (f"SELECT task_id FROM tasks {'WHERE ' + ' AND '.join(where) if where else ''} "
           f"ORDER BY created_at {direction}, task_id {direction}")
    conn = sqlite3.connect(db_path, timeout=30)
    try:
        return [r[0] for r in conn.execute(sql, args)]
    finally:
        conn.close()
