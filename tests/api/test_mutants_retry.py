"""Literal expectations that kill the mutants `make mutate` found alive in retry.py (see
RELIABILITY.md, "Mutation score"): which policies are refused, with which sentence, and
that zero waits are allowed. Pure: no server."""

from __future__ import annotations

import pytest

from tasktui.api import RetryPolicy


@pytest.mark.parametrize("kw", [
    {"base_delay": 0, "max_delay": 0, "total_time": 0},
    {"base_delay": 0.5, "max_delay": 0.5, "total_time": 0.5},
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
