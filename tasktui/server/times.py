"""The server's time unit: instants as integer epoch milliseconds (index columns, page
tokens, the per-day counts), and their wire form ``2026-03-08T10:00:00.000Z``."""

from __future__ import annotations

import time
from datetime import datetime

from tasktui.domain.timezones import UTC

#: One UTC day: the unit of the ``counts`` tables.
DAY_MS = 86_400_000


def now_ms() -> int:
    return int(time.time() * 1000)


def ms_to_wire(ms: int) -> str:
    s, rem = divmod(int(ms), 1000)
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(s)) + f".{rem:03d}Z"


def wire_to_ms(value: str | None) -> int | None:
    if not value:
        return None
    dt = datetime.fromisoformat(value)
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=UTC)
    return int(dt.timestamp() * 1000 + (0.5 if dt.timestamp() >= 0 else -0.5))


def dt_to_ms(dt: datetime) -> int:
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=UTC)
    return round(dt.timestamp() * 1000)
