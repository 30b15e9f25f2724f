"""The retry policy's arithmetic: backoff with full jitter, Retry-After in both forms."""

from __future__ import annotations

import random
from datetime import datetime, timedelta, timezone
from email.utils import format_datetime

import pytest

from tasktui.api import RETRY_STATUSES, RetryPolicy, parse_retry_after


def test_retry_after_in_seconds_and_as_an_http_date():
    now = datetime(2026, 11, 29, 12, 0, tzinfo=timezone.utc)
    assert parse_retry_after("120") == 120
    assert parse_retry_after(" 1.5 ") == 1.5
    assert parse_retry_after(format_datetime(now + timedelta(seconds=30), usegmt=True), now=now) == 30
    assert parse_retry_after(format_datetime(now - timedelta(seconds=30), usegmt=True), now=now) == 0
    assert parse_retry_after("-5") == 0
    for junk in (None, "", "soon", "nan"):
        assert parse_retry_after(junk) is None


def test_backoff_grows_exponentially_within_full_jitter_and_caps():
    p = RetryPolicy(base_delay=0.5, max_delay=4.0)
    rng = random.Random(1)
    for retry, cap in ((1, 0.5), (2, 1.0), (3, 2.0), (4, 4.0), (5, 4.0), (9, 4.0)):
        waits = [p.delay(retry, rng=rng) for _ in range(200)]
        assert all(0 <= w <= cap for w in waits)
        assert max(waits) > cap * 0.8  # the whole range is used
    # Retry-After wins over the backoff and over max_delay, capped by max_retry_after,
    # with a little jitter
    assert 3.0 <= p.delay(1, 3.0, rng) <= 3.1
    assert 60.0 <= p.delay(1, 60.0, rng) <= 60.1
    assert 120.0 <= p.delay(1, 600.0, rng) <= 120.1


def test_policy_bounds_and_statuses():
    assert {408, 429, 500, 502, 503, 504} <= RETRY_STATUSES and 404 not in RETRY_STATUSES
    assert RetryPolicy.none().max_attempts == 1
    with pytest.raises(ValueError):
        RetryPolicy(max_attempts=0)
    with pytest.raises(ValueError):
        RetryPolicy(base_delay=-1)
