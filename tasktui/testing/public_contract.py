"""The public Scale API v1 as a gate: which requests the real service would accept.

``FaultProxy(..., public_contract=True)`` puts this gate in front of the bundled server, so
the whole product (client, store, UI, export, benchmarks) can be run against a server that
speaks only the public contract: no extensions header, standard list parameters only,
``limit`` at most 100, the four wire statuses, no Fix. A request the gate refuses gets the
Scale error shape (``{"status_code": 400, "error": ...}``) and is recorded by the proxy, so
tests can fail on any request the public API would refuse.

The rules come from the official SDK and Scale's public docs
(``shared/reference/scale-api.md``); where the public contract is loose (timestamps), the
gate is loose too and leaves the check to the server behind it.
"""

from __future__ import annotations

import orjson

from tasktui.domain.statuses import WIRE_REVIEW_STATUSES, WIRE_STATUSES
from tasktui.domain.wire import PAGE_LIMIT_MAX, PUBLIC_LIST_PARAMS, PUBLIC_REPEATED_PARAMS, Param

LIST_PARAMS = frozenset(PUBLIC_LIST_PARAMS)
REPEATABLE = frozenset(PUBLIC_REPEATED_PARAMS)
BOOLEAN_PARAMS = frozenset({Param.INCLUDE_ATTACHMENT_URL, Param.LIMITED_RESPONSE})
BOOLEANS = frozenset({"True", "False", "true", "false"})
LIMIT_MAX = PAGE_LIMIT_MAX
#: GET /v1/batches parameters (offset paging).
BATCH_PARAMS = frozenset({"start_time", "end_time", "exclude_archived", "status", "project", "limit", "offset"})


def refusal(method: str, path: str, params: list[tuple[str, str]], body: bytes) -> str | None:
    """Why the public API would refuse this request (a sentence), or ``None``.

    ``path`` is the path below the API base (``tasks``, ``task/ID/audit``), without query.
    """
    parts = [p for p in path.split("/") if p]
    if method == "GET" and parts == ["tasks"]:
        return _list_refusal(params)
    if method == "GET" and parts == ["batches"]:
        return _unknown(params, BATCH_PARAMS, "GET /v1/batches")
    if method == "GET" and len(parts) == 2 and parts[0] == "task":
        return _unknown(params, frozenset(), "GET /v1/task/{id}")
    if method == "POST" and len(parts) == 3 and parts[0] == "task" and parts[2] == "cancel":
        return _unknown(params, frozenset({"clear_unique_id"}), "POST /v1/task/{id}/cancel")
    if method == "POST" and len(parts) == 3 and parts[0] == "task" and parts[2] == "audit":
        try:
            doc = orjson.loads(body or b"{}")
        except orjson.JSONDecodeError:
            return None  # the server behind says what is wrong with the body
        if isinstance(doc, dict) and "response" in doc:
            return "fixing a response is not part of the public API (audit takes accepted and comments)"
    return None


def _unknown(params: list[tuple[str, str]], allowed: frozenset[str], where: str) -> str | None:
    for k, _ in params:
        if k not in allowed:
            return f"{k} is not a parameter of {where}"
    return None


def _list_refusal(params: list[tuple[str, str]]) -> str | None:
    bad = _unknown(params, LIST_PARAMS, "GET /v1/tasks")
    if bad:
        return bad
    seen: dict[str, int] = {}
    for k, v in params:
        seen[k] = seen.get(k, 0) + 1
        if seen[k] > 1 and k not in REPEATABLE:
            return f"{k} may be given once"
        if k == Param.LIMIT:
            if not v.isdigit() or not 1 <= int(v) <= LIMIT_MAX:
                return f"limit must be a whole number from 1 to {LIMIT_MAX}, not {v[:20]!r}"
        elif k == Param.STATUS:
            if v not in WIRE_STATUSES:
                return f"status must be one of {', '.join(WIRE_STATUSES)}, not {v[:40]!r}"
        elif k == Param.REVIEW_STATUS:
            for part in v.split(","):
                if part not in WIRE_REVIEW_STATUSES:
                    return f"customer_review_status {part[:40]!r} is not a review status"
        elif k in BOOLEAN_PARAMS and v not in BOOLEANS:
            return f"{k} must be True or False, not {v[:20]!r}"
    return None
