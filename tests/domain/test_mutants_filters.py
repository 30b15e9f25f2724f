"""Literal expectations that kill the mutants `make mutate` found alive in filters.py (see
RELIABILITY.md, "Mutation score"): ``resolve`` carries every filter over, the unknown-key
sentence, a null text, and the last day a range may end on."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest

from tasktui.domain.filters import FilterError, Filters
from tasktui.domain.query import DateField, SortOrder, TaskQuery
from tasktui.domain.statuses import AuditStatus, OperatorStatus
from tasktui.domain.timezones import Zone

UTC = timezone.utc


def test_resolve_carries_every_filter_into_the_query():
    f = Filters(
        date_field=DateField.COMPLETED, from_text="2026-11-01", to_text="2026-11-02",
        statuses=frozenset({OperatorStatus.ERROR}), audit_statuses=frozenset({AuditStatus.FIXED}),
        projects=("p",), batches=("b",), types=("t",), tags=("g",), search="s", order=SortOrder.OLDEST,
    )
    assert f.resolve(Zone.UTC, datetime(2026, 11, 20, 12, tzinfo=UTC)) == TaskQuery(
        date_field=DateField.COMPLETED,
        start=datetime(2026, 11, 1, tzinfo=UTC), end=datetime(2026, 11, 3, tzinfo=UTC),  # the whole 2nd
        statuses=frozenset({OperatorStatus.ERROR}), audit_statuses=frozenset({AuditStatus.FIXED}),
        projects=("p",), batches=("b",), types=("t",), tags=("g",), search="s", order=SortOrder.OLDEST,
    )


def test_unknown_keys_are_listed_with_the_known_ones():
    with pytest.raises(FilterError) as e:
        Filters.parse({"zz": 1, "aa": 2})
    assert str(e.value) == ("unknown key(s) aa, zz; known keys: date_field, from, to, status, audit, "
                            "project, batch, type, tag, search, order")
    assert e.value.key is None


def test_a_null_text_is_no_filter():
    assert Filters.parse({"search": None, "from": None}) == Filters()


def test_the_last_day_is_a_start_but_not_an_end():
    # as a start, 9999-12-31 is a real instant; as an end it means "up to 10000-01-01": too far
    assert Filters.parse({"from": "9999-12-31"}).from_text == "9999-12-31"
    with pytest.raises(FilterError) as e:
        Filters.parse({"to": "9999-12-31"})
    assert str(e.value) == "to: '9999-12-31' is outside the dates tasktui handles (years 0001 to 9999)"
