"""Literal expectations that kill the mutants `make mutate` found alive in retry.py (see
RELIABILITY.md, "Mutation score"): which policies are refused, with which sentence, and
that zero waits are allowed. Pure: no server."""

from __future__ import annotations

import pytest

from tasktui.api import RetryPolicy


@pytest.mark.parametrize("kw", [
    {"base_delay": 0, "max_delay": 0, "total_time": 0, "max_retry_after": 0},
    {"base_delay": 0.5, "max_delay": 0.5, "total_time": 0.5, "max_retry_after": 0.5},
    {"max_attempts": 1},
])
def test_zero_and_small_waits_are_allowed(kw):
    policy = RetryPolicy(**kw)
    for name, value in kw.items():
        assert getattr(policy, name) == value


def test_no_attempt_at_all_is_refused():
    with pytest.raises(ValueError) as e:
        RetryPolicy(max_attempts=0)
    assert str(e.value) == "RetryPolicy.max_attempts must be at least 1"


@pytest.mark.parametrize("kw", [{"base_delay": -0.1}, {"max_delay": -1}, {"total_time": -1}])
def test_each_negative_wait_alone_is_refused(kw):
    with pytest.raises(ValueError) as e:
        RetryPolicy(**kw)
    assert str(e.value) == "RetryPolicy delays must not be negative"


def test_a_retry_after_date_without_a_zone_is_utc():
    from datetime import datetime, timezone

    from tasktui.api.retry import parse_retry_after
    now = datetime(2026, 12, 1, 20, 0, 0, tzinfo=timezone.utc)
    assert parse_retry_after("Tue, 01 Dec 2026 20:00:10 -0000", now=now) == 10.0  # -0000: no zone given
    assert parse_retry_after("Tue, 01 Dec 2026 20:00:10 GMT", now=now) == 10.0


def test_the_jitter_comes_from_the_rng_given_and_the_policy_seed():
    import random
    p = RetryPolicy(base_delay=0.5, max_delay=20, seed=3)
    # oracle: the standard library's generator with the same seed, written out
    assert p.rng().random() == 0.23796462709189137
    assert p.delay(3, None, random.Random(5)) == 1.2458033897794039  # uniform(0, 0.5 * 2**2)
    assert p.delay(3, 0, random.Random(5)) == 0.0622901694889702  # Retry-After: 0 -> 0 + uniform(0, 0.1)
