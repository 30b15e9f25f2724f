"""The wire contract the client and the bundled server share: the extensions and the
header that names them, the page limits, the parameter names of ``GET /v1/tasks``, and
the status-filter vocabulary (encoded by the client, decoded by the server).

Both sides import these names, so a parameter or a limit cannot be spelled one way by
the client and another by the server. Status values come from ``domain.statuses``.
"""

from __future__ import annotations

from typing import Collection, Iterable

from tasktui.domain.statuses import (
    PENDING_SPLIT,
    WIRE_REVIEW_STATUSES,
    WIRE_STATUSES,
    AuditStatus,
    OperatorStatus,
)

# -- extensions ---------------------------------------------------------------------

#: Response header by which the bundled server names the extensions it offers,
#: comma-separated (see EXT_*). A server that does not send it offers none.
EXTENSIONS_HEADER = "x-tasktui-extensions"
EXT_OPERATOR_STATUS = "operator-status"  # status=queued,in_progress,redo (and lists)
EXT_ORDER = "order"  # order=asc
EXT_SEARCH = "search"  # search=<task id or unique id prefix>
EXT_MULTI = "multi-value"  # repeated project / batch / type keys mean "any of"
EXT_FIX = "fix"  # POST /task/{id}/audit with a "response" object
EXT_IDEMPOTENCY = "idempotency"  # Idempotency-Key replays the first answer
EXT_PAGE_SIZE = "page-size"  # page_size=N (up to PAGE_SIZE_EXT_MAX) overrides limit's 100

#: Every extension, in the order the bundled server advertises them.
ALL_EXTENSIONS = (EXT_OPERATOR_STATUS, EXT_ORDER, EXT_SEARCH, EXT_MULTI, EXT_FIX, EXT_IDEMPOTENCY,
                  EXT_PAGE_SIZE)

#: Request header of the idempotency extension.
IDEMPOTENCY_HEADER = "Idempotency-Key"


def extensions_header(extensions: Iterable[str] = ALL_EXTENSIONS) -> str:
    """The value of the extensions header that offers ``extensions``."""
    return ",".join(extensions)


def parse_extensions_header(value: str | None) -> frozenset[str]:
    """The extensions an extensions header names (case and blanks ignored)."""
    return frozenset(x.strip().lower() for x in (value or "").split(",") if x.strip())


# -- limits -------------------------------------------------------------------------

#: ``limit`` of a page of tasks or batches: 1 to 100, as on the real API.
PAGE_LIMIT_MAX = 100
#: Largest page the bundled server serves with the page-size extension (bulk readers:
#: export); the standard ``limit`` stays 1..100 for Scale compatibility.
PAGE_SIZE_EXT_MAX = 1000
#: Length of an ``Idempotency-Key``.
IDEMPOTENCY_KEY_MAX = 255
#: What a task id looks like (anything else cannot name a task).
TASK_ID_PATTERN = r"^[0-9A-Za-z_-]{1,64}$"


# -- GET /v1/tasks parameters -------------------------------------------------------

class Param:
    """The names of the ``GET /v1/tasks`` query parameters."""

    START_TIME = "start_time"
    END_TIME = "end_time"
    COMPLETED_AFTER = "completed_after"
    COMPLETED_BEFORE = "completed_before"
    UPDATED_AFTER = "updated_after"
    UPDATED_BEFORE = "updated_before"
    STATUS = "status"
    REVIEW_STATUS = "customer_review_status"
    PROJECT = "project"
    BATCH = "batch"
    TYPE = "type"
    TAGS = "tags"
    UNIQUE_ID = "unique_id"
    SEARCH = "search"
    ORDER = "order"
    LIMIT = "limit"
    PAGE_SIZE = "page_size"
    NEXT_TOKEN = "next_token"
    OFFSET = "offset"
    INCLUDE_ATTACHMENT_URL = "include_attachment_url"
    LIMITED_RESPONSE = "limited_response"


#: Every parameter ``GET /v1/tasks`` understands (others are ignored, as on the real API).
LIST_PARAMS = tuple(v for k, v in vars(Param).items() if k.isupper())
#: The parameters of the public Scale API (what the real service and the official SDK
#: know); the others are the bundled server's extensions (search, order, page_size,
#: offset), sent only to a server that advertises them.
PUBLIC_LIST_PARAMS = tuple(p for p in LIST_PARAMS
                           if p not in (Param.SEARCH, Param.ORDER, Param.PAGE_SIZE, Param.OFFSET))
#: The public parameters that may be repeated; on the real API every other one is single.
PUBLIC_REPEATED_PARAMS = (Param.TAGS, Param.UNIQUE_ID)
#: (from, to) of each date range: ``from`` inclusive, ``to`` exclusive.
CREATED_RANGE = (Param.START_TIME, Param.END_TIME)
COMPLETED_RANGE = (Param.COMPLETED_AFTER, Param.COMPLETED_BEFORE)
UPDATED_RANGE = (Param.UPDATED_AFTER, Param.UPDATED_BEFORE)
#: Parameters sent once per value (``project=a&project=b``); a list means any of them.
REPEATED_PARAMS = (Param.PROJECT, Param.BATCH, Param.TYPE, Param.TAGS, Param.UNIQUE_ID)


# -- the status filters -------------------------------------------------------------

#: The ``status`` filter's words and the operator statuses each one selects: the wire
#: statuses, the operator statuses (extension ``operator-status``) and a few spellings.
STATUS_FILTER: dict[str, tuple[OperatorStatus, ...]] = {
    **{w: tuple(s for s in OperatorStatus if s.wire == w) for w in WIRE_STATUSES},
    **{s.value: (s,) for s in OperatorStatus},
    "cancelled": (OperatorStatus.CANCELED,),
    "in-progress": (OperatorStatus.IN_PROGRESS,),
    "inprogress": (OperatorStatus.IN_PROGRESS,),
}
#: The ``status`` words a client may send: wire statuses, then the operator statuses.
STATUS_FILTER_VALUES = tuple(dict.fromkeys([*WIRE_STATUSES, *(s.value for s in OperatorStatus)]))
#: The ``customer_review_status`` words, and the spellings of Ready to Audit.
REVIEW_FILTER_VALUES = WIRE_REVIEW_STATUSES
_READY_SPELLINGS = ("ready_to_audit", "ready")


def encode_status_filter(statuses: Collection[OperatorStatus], extensions: Iterable[str] = ()) -> str | None:
    """The ``status`` value that selects ``statuses``, or None to send none: no filter,
    or one the wire cannot express without the extension (several wire statuses)."""
    if not statuses or len(statuses) == len(OperatorStatus):
        return None
    if EXT_OPERATOR_STATUS in extensions:
        return ",".join(s.value for s in OperatorStatus if s in statuses)
    wire = {s.wire for s in statuses}
    if len(wire) == 1:
        return wire.pop()
    return None


def status_filter_is_exact(statuses: Collection[OperatorStatus], extensions: Iterable[str] = ()) -> bool:
    """Whether the server selects exactly ``statuses`` from what ``encode_status_filter``
    sends (otherwise rows must be filtered again on the client)."""
    if not statuses or len(statuses) == len(OperatorStatus) or EXT_OPERATOR_STATUS in extensions:
        return True
    wire = {s.wire for s in statuses}
    if len(wire) > 1:
        return False
    return "pending" not in wire or PENDING_SPLIT <= set(statuses)


def _words(values: Iterable[str]) -> list[str]:
    return [w.strip() for v in values for w in v.split(",") if w.strip()]


def decode_status_filter(values: Iterable[str]) -> tuple[OperatorStatus, ...]:
    """The operator statuses that ``status`` values select (each comma-separated, case
    ignored). Raises ValueError with a sentence naming the bad word."""
    out: list[OperatorStatus] = []
    for word in _words(values):
        selected = STATUS_FILTER.get(word.lower())
        if selected is None:
            raise ValueError(
                f"status={word!r} is not a task status; use pending, completed, error, canceled "
                "or (extension) queued, in_progress, redo — comma-separated for several")
        out.extend(s for s in selected if s not in out)
    if not out:
        raise ValueError("status is empty; give a task status such as completed")
    return tuple(out)


def encode_review_filter(audits: Collection[AuditStatus]) -> str | None:
    """The ``customer_review_status`` value that selects ``audits``, or None for all."""
    if not audits or len(audits) == len(AuditStatus):
        return None
    return ",".join(a.value for a in AuditStatus if a in audits)


def decode_review_filter(values: Iterable[str]) -> tuple[str, ...]:
    """The wire review statuses that ``customer_review_status`` values select (each
    comma-separated, case ignored; ``ready`` and ``ready_to_audit`` mean ``pending``).
    Raises ValueError with a sentence naming the bad word."""
    out: list[str] = []
    for word in _words(values):
        key = word.lower()
        if key in _READY_SPELLINGS:
            key = AuditStatus.READY_TO_AUDIT.value
        if key not in REVIEW_FILTER_VALUES:
            raise ValueError(
                f"customer_review_status={word!r} is not a review status; use pending, accepted, "
                "fixed or rejected (comma-separated for several)")
        if key not in out:
            out.append(key)
    if not out:
        raise ValueError("customer_review_status is empty; give a review status such as accepted")
    return tuple(out)
