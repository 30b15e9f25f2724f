"""Literal expectations that kill the mutants `make mutate` found alive in query.py and
timezones.py (see RELIABILITY.md, "Mutation score"): every filter of the local matcher
failing on its own, the filter descriptions word for word, and the exact bounds and
sentences of date parsing, also on a machine whose clock is not on UTC."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pendulum
import pytest

from tasktui.domain.query import DateField, SortOrder, TaskQuery, matches_search
from tasktui.domain.statuses import AuditStatus, OperatorStatus
from tasktui.domain.task import Task
from tasktui.domain.timezones import (
    DateInputError,
    DateRange,
    Zone,
    format_instant,
    parse_instant,
    parse_zone,
    quick_range,
)

UTC = timezone.utc
NOW = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)
IST = timezone(timedelta(hours=5, minutes=30))




def task(**kw) -> Task:
    base = {"task_id": "t1", "status": "completed", "created_at": "2026-11-01T08:30:00.000Z",
            "type": "imageannotation", "project": "P", "batch": "B", "tags": ["a", "b"],
            "customer_review_status": "fixed"}
    base.update(kw)
    return Task(base)


# -- TaskQuery.matches: each filter failing alone, and passing at its edge -------------
@pytest.mark.parametrize(("query", "expected"), [
    (TaskQuery(start=datetime(2026, 11, 1, 8, 30, tzinfo=UTC)), True),  # no completed_at needed
    (TaskQuery(start=datetime(2026, 11, 2, tzinfo=UTC)), False),
    (TaskQuery(end=datetime(2026, 11, 1, 8, 30, 0, 1000, tzinfo=UTC)), True),
    (TaskQuery(end=datetime(2026, 11, 1, 8, 30, tzinfo=UTC)), False),
    (TaskQuery(date_field=DateField.COMPLETED, end=datetime(2030, 1, 1, tzinfo=UTC)), False),
    (TaskQuery(statuses=frozenset({OperatorStatus.ERROR})), False),
    (TaskQuery(audit_statuses=frozenset({AuditStatus.ACCEPTED})), False),
    (TaskQuery(audit_statuses=frozenset({AuditStatus.FIXED})), True),
    (TaskQuery(projects=("Q",)), False),
    (TaskQuery(batches=("C",)), False),
    (TaskQuery(batches=("B",)), True),
    (TaskQuery(types=("textcollection",)), False),
    (TaskQuery(types=("imageannotation",)), True),
    (TaskQuery(tags=("a", "b")), True),  # all of the task's tags: still a subset
    (TaskQuery(tags=("c",)), False),
    (TaskQuery(search="zz"), False),
])
def test_each_filter_of_the_matcher_on_its_own(query, expected):
    assert query.matches(task()) is expected


def test_a_blank_search_matches_everything_and_no_unique_id_matches_no_prefix():
    t = task(task_id="abc")
    assert matches_search(t, "   ") is True
    assert matches_search(t, "xx") is False
    assert matches_search(task(task_id="abc", unique_id="XXL-1"), "xx") is True


def test_cleared_keeps_the_date_field_and_the_order():
    q = TaskQuery(date_field=DateField.COMPLETED, order=SortOrder.OLDEST, projects=("P",))
    assert q.cleared() == TaskQuery(date_field=DateField.COMPLETED, order=SortOrder.OLDEST)


# -- TaskQuery.active_filters, word for word ------------------------------------------
def test_every_active_filter_is_described():
    q = TaskQuery(
        date_field=DateField.COMPLETED,
        start=datetime(2026, 11, 1, 8, 30, 59, tzinfo=UTC), end=datetime(2026, 11, 2, tzinfo=UTC),
        statuses=frozenset({OperatorStatus.ERROR, OperatorStatus.COMPLETED}),
        audit_statuses=frozenset({AuditStatus.FIXED, AuditStatus.ACCEPTED}),
        projects=("P1", "P2"), batches=("B1", "B2"), types=("t1", "t2"), tags=("a", "b"), search="x",
    )
    assert q.active_filters() == [
        "Completed 2026-11-01 08:30 → 2026-11-02 00:00 UTC",
        "Status: Completed, Error",
        "Audit: Accepted, Fixed",
        "Project: P1, P2",
        "Batch: B1, B2",
        "Type: t1, t2",
        "Tags: a, b",
        "Search: x",
    ]


def test_an_open_range_is_described_with_an_ellipsis():
    assert TaskQuery(start=datetime(2026, 11, 1, 8, 30, tzinfo=UTC)).active_filters() == [
        "Created 2026-11-01 08:30 → … UTC"]
    assert TaskQuery(end=datetime(2026, 11, 2, tzinfo=UTC)).active_filters() == [
        "Created … → 2026-11-02 00:00 UTC"]


# -- time zones ---------------------------------------------------------------------------
@pytest.mark.parametrize(("text", "zone"), [
    ("UTC", Zone.UTC), ("Z", Zone.UTC), ("z", Zone.UTC), ("PACIFIC", Zone.PACIFIC), ("pt", Zone.PACIFIC),
    ("America/Los_Angeles", Zone.PACIFIC), (" Local ", Zone.LOCAL),
])
def test_zone_spellings(text, zone):
    assert parse_zone(text) is zone


@pytest.mark.parametrize(("name", "texts"), [
    ("today", ("today", "")), ("7d", ("-7d", "")), ("30d", ("-30d", "")), ("all", ("", "")),
])
def test_quick_ranges(name, texts):
    assert quick_range(name, Zone.UTC) == texts


def test_an_unknown_quick_range_is_named():
    with pytest.raises(ValueError) as e:
        quick_range("TODAY", Zone.UTC)
    assert str(e.value) == "unknown quick range 'TODAY'"


@pytest.mark.parametrize(("text", "message"), [
    ("  ", "empty date"),
    ("-100001d", "'-100001d' reaches too far back"),
    ("2026-01-01 24:00", "'2026-01-01 24:00' is not a real time of day"),
    ("2026-01-01 10:60", "'2026-01-01 10:60' is not a real time of day"),
    ("2026-01-01 10:00:60", "'2026-01-01 10:00:60' is not a real time of day"),
    ("2026-01-01T10:00:00.5", "'2026-01-01T10:00:00.5' is not a date: use YYYY-MM-DD, YYYY-MM-DD HH:MM, "
                              "today, yesterday, now or -7d / -12h / -2w"),
])
def test_what_a_bad_date_is_told(text, message):
    with pytest.raises(DateInputError) as e:
        parse_instant(text, Zone.UTC, now=NOW)
    assert str(e.value) == message


def test_a_date_that_does_not_exist_is_quoted():
    with pytest.raises(DateInputError) as e:
        parse_instant("2026-02-30 10:00", Zone.UTC, now=NOW)
    assert str(e.value).startswith("'2026-02-30 10:00' is not a real date: ")
    with pytest.raises(DateInputError) as e:
        parse_instant("2026-03-08 02:30", Zone.PACIFIC, now=NOW)
    assert str(e.value) == ("'2026-03-08 02:30' does not exist in Pacific time "
                            "(clocks jump forward that night)")


def test_a_skipped_midnight_is_quoted_for_dates_and_today():
    # Chile moves its clocks from 00:00 to 01:00 on 2026-09-06: that day has no midnight.
    with pendulum.test_local_timezone(pendulum.timezone("America/Santiago")):
        with pytest.raises(DateInputError) as e:
            parse_instant("2026-09-06", Zone.LOCAL, now=NOW)
        assert str(e.value) == ("'2026-09-06' does not exist in Local time "
                                "(clocks jump forward that night)")
        with pytest.raises(DateInputError) as e:
            parse_instant(" Today ", Zone.LOCAL, now=datetime(2026, 9, 6, 12, tzinfo=UTC))
        assert str(e.value) == "'Today' does not exist in Local time (clocks jump forward that night)"


@pytest.mark.parametrize(("text", "expected"), [
    ("-100000d", datetime(1753, 2, 4, 12, 0, tzinfo=UTC)),  # the farthest back allowed (stdlib: NOW - 100,000 days)
    ("2026-01-01 23:59:59", datetime(2026, 1, 1, 23, 59, 59, tzinfo=UTC)),
    ("2026-01-01 23:00", datetime(2026, 1, 1, 23, 0, tzinfo=UTC)),
])
def test_the_last_accepted_values(text, expected):
    assert parse_instant(text, Zone.UTC, now=NOW) == expected


def test_instants_are_utc_even_when_the_machine_is_not(clock_not_on_utc):
    now = datetime(2026, 11, 20, 17, 30, tzinfo=IST)
    for text in ("now", "-1h", "2026-11-01T10:00:00+02:00"):
        got = parse_instant(text, Zone.UTC, now=now)
        assert got.utcoffset() == timedelta(0), text
    assert parse_instant("2026-11-01T10:00:00+02:00", Zone.UTC).hour == 8


def test_range_and_fallback_texts_are_utc_even_when_the_machine_is_not(clock_not_on_utc):
    r = DateRange(start=datetime(2026, 11, 1, 14, 0, tzinfo=IST), end=None)
    assert r.describe_utc() == "2026-11-01 08:30 UTC → …"
    assert DateRange(start=None, end=datetime(2026, 11, 2, 5, 30, tzinfo=IST)).describe_utc() == \
        "… → 2026-11-02 00:00 UTC"
    assert DateRange().describe_utc() == "all time"
    # year 1 at midnight UTC is year 0 in Pacific time: shown in UTC, whatever the machine's zone
    assert format_instant(datetime(1, 1, 1, tzinfo=UTC), Zone.PACIFIC) == "0001-01-01 00:00 UTC"


def test_no_instant_is_the_empty_string():
    assert format_instant(None, Zone.UTC) == ""


def test_wire_times_are_utc_even_when_the_machine_is_not(clock_not_on_utc):
    from tasktui.domain.timezones import parse_wire_time, to_wire_time
    got = parse_wire_time("2026-01-01T10:00:00+02:00")
    assert got == datetime(2026, 1, 1, 8, tzinfo=UTC) and got.utcoffset() == timedelta(0)
    assert to_wire_time(datetime(2026, 1, 1, 10, 0, 0, 123456, tzinfo=IST)) == "2026-01-01T04:30:00.123Z"


@pytest.mark.parametrize(("query", "local"), [
    (TaskQuery(projects=("a",)), False), (TaskQuery(batches=("a",)), False), (TaskQuery(types=("a",)), False),
    (TaskQuery(projects=("a", "b")), True), (TaskQuery(batches=("a", "b")), True), (TaskQuery(types=("a", "b")), True),
])
def test_several_values_of_one_name_need_local_filtering_without_the_extension(query, local):
    assert query.needs_local_filter() is local
    assert query.needs_local_filter({"multi-value"}) is False


def test_the_page_size_parameter_only_above_the_standard_limit():
    assert TaskQuery().wire_params({"page-size"}, limit=100) == [("limit", "100")]
    assert TaskQuery().wire_params({"page-size"}, limit=101) == [("limit", "100"), ("page_size", "101")]
    assert TaskQuery().wire_params(limit=1) == [("limit", "1")]
    assert TaskQuery().wire_params(limit=0) == [("limit", "1")]
