"""Retry policy: which failures are retried, and how long to wait between tries."""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import datetime, timezone
from email.utils import parsedate_to_datetime

#: HTTP statuses worth another try: request timeout, rate limit, server side trouble.
RETRY_STATUSES = frozenset({408, 429, *range(500, 600)})


@dataclass(frozen=True)
class RetryPolicy:
    """Exponential backoff with full jitter, bounded in count and in total time.

    ``max_attempts`` counts every try (1 = never retry). The wait before retry ``n``
    (1-based) is ``uniform(0, min(max_delay, base_delay * 2 ** (n - 1)))`` — or, when the
    server sent ``Retry-After``, that many seconds plus a little jitter. No retry starts
    once ``total_time`` seconds have passed since the first try, and a backoff wait that
    would end after it is not begun.

    ``Retry-After`` is honoured up to ``max_retry_after`` seconds (default 120: a rate
    limit window of the real API), whatever ``max_delay`` and ``total_time`` say — the
    server said when it will answer again. A longer ``Retry-After`` fails at once with
    a ``RateLimitedError`` saying so.
    """

    max_attempts: int = 5
    base_delay: float = 0.5
    max_delay: float = 20.0
    total_time: float = 60.0
    max_retry_after: float = 120.0
    retry_statuses: frozenset[int] = field(default=RETRY_STATUSES)
    #: Seed for the jitter (tests); None uses the system's randomness.
    seed: int | None = None

    def __post_init__(self) -> None:
        if self.max_attempts < 1:
            raise ValueError("RetryPolicy.max_attempts must be at least 1")
        if self.base_delay < 0 or self.max_delay < 0 or self.total_time < 0 or self.max_retry_after < 0:
            raise ValueError("RetryPolicy delays must not be negative")

    @classmethod
    def none(cls) -> "RetryPolicy":
        """Never retry."""
        return cls(max_attempts=1)

    def rng(self) -> random.Random:
        return random.Random(self.seed)

    def delay(self, retry: int, retry_after: float | None = None, rng: random.Random | None = None) -> float:
        """Seconds to wait before retry number ``retry`` (1 = the first retry)."""
        r = rng or random
        if retry_after is not None and retry_after >= 0:
            return min(self.max_retry_after, retry_after) + r.uniform(0, min(0.1, self.base_delay))
        cap = min(self.max_delay, self.base_delay * (2 ** max(0, retry - 1)))
        return r.uniform(0, cap)


def parse_retry_after(value: str | None, now: datetime | None = None) -> float | None:
    """``Retry-After`` as seconds: either delta-seconds or an HTTP date. None if absent
    or unreadable."""
    if not value:
        return None
    value = value.strip()
    try:
        secs = float(value)
    except ValueError:
        try:
            when = parsedate_to_datetime(value)
        except (TypeError, ValueError, IndexError):
            return None
        if when.tzinfo is None:
            when = when.replace(tzinfo=timezone.utc)
        secs = (when - (now or datetime.now(timezone.utc))).total_seconds()
    if secs != secs:  # NaN
        return None
    return max(0.0, secs)
