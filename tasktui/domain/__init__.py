"""Pure domain model: tasks, statuses, filters, time zones and the wire contract. No I/O,
no Textual."""

from tasktui.domain.query import DateField, SortOrder, TaskQuery, matches_search
from tasktui.domain.statuses import (
    AuditStatus,
    OperatorStatus,
    audit_status,
    audit_status_of,
    operator_status,
    operator_status_of,
    parse_audit_status,
    parse_operator_status,
)
from tasktui.domain.task import MalformedTaskError, Task
from tasktui.domain.timezones import (
    DateInputError,
    DateRange,
    Zone,
    format_instant,
    parse_instant,
    parse_range,
    parse_wire_time,
    parse_zone,
    quick_range,
    to_wire_time,
)
from tasktui.domain.wire import (
    ALL_EXTENSIONS,
    EXT_FIX,
    EXT_IDEMPOTENCY,
    EXT_MULTI,
    EXT_OPERATOR_STATUS,
    EXT_ORDER,
    EXT_PAGE_SIZE,
    EXT_SEARCH,
    EXTENSIONS_HEADER,
    IDEMPOTENCY_HEADER,
    PAGE_LIMIT_MAX,
    PAGE_SIZE_EXT_MAX,
)

__all__ = [name for name in dir() if not name.startswith("_")]
