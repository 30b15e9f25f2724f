"""Parsing what an operator types, in UTC / Pacific / local time, across both 2026 DST
transitions in Pacific (2026-03-08 spring forward, 2026-11-01 fall back)."""

from datetime import datetime, timedelta, timezone

import pendulum
import pytest

from tasktui.domain import (
    DateInputError,
    Zone,
    format_instant,
    parse_instant,
    parse_range,
    parse_wire_time,
    parse_zone,
    quick_range,
    to_wire_time,
)

UTC = timezone.utc
NOW = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)


def utc(*a) -> datetime:
    return datetime(*a, tzinfo=UTC)


def test_bare_date_in_each_zone():
    assert parse_instant("2026-06-01", Zone.UTC) == utc(2026, 6, 1)
    assert parse_instant("2026-06-01", Zone.PACIFIC) == utc(2026, 6, 1, 7)  # PDT = UTC-7
    assert parse_instant("2026-01-15", Zone.PACIFIC) == utc(2026, 1, 15, 8)  # PST = UTC-8


def test_end_of_range_includes_the_whole_day():
    assert parse_instant("2026-06-01", Zone.UTC, end=True) == utc(2026, 6, 2)
    assert parse_instant("2026-06-01 10:30", Zone.UTC, end=True) == utc(2026, 6, 1, 10, 30)


def test_spring_forward_day_is_23_hours_in_pacific():
    r = parse_range("2026-03-08", "2026-03-08", Zone.PACIFIC)
    assert r.start == utc(2026, 3, 8, 8)  # midnight PST
    assert r.end == utc(2026, 3, 9, 7)  # next midnight is PDT
    assert r.end - r.start == timedelta(hours=23)


def test_fall_back_day_is_25_hours_in_pacific():
    r = parse_range("2026-11-01", "2026-11-01", Zone.PACIFIC)
    assert r.start == utc(2026, 11, 1, 7)  # midnight PDT
    assert r.end == utc(2026, 11, 2, 8)  # next midnight is PST
    assert r.end - r.start == timedelta(hours=25)


def test_missing_hour_on_spring_forward_is_an_error():
    with pytest.raises(DateInputError, match="does not exist"):
        parse_instant("2026-03-08 02:30", Zone.PACIFIC)
    # the same wall time is fine in UTC, and the hours around the gap exist
    assert parse_instant("2026-03-08 02:30", Zone.UTC) == utc(2026, 3, 8, 2, 30)
    assert parse_instant("2026-03-08 01:59", Zone.PACIFIC) == utc(2026, 3, 8, 9, 59)
    assert parse_instant("2026-03-08 03:00", Zone.PACIFIC) == utc(2026, 3, 8, 10, 0)


def test_ambiguous_hour_on_fall_back_means_the_first_occurrence():
    first = parse_instant("2026-11-01 01:30", Zone.PACIFIC)
    assert first == utc(2026, 11, 1, 8, 30)  # 01:30 PDT
    # the hour after the repeat is PST
    assert parse_instant("2026-11-01 02:00", Zone.PACIFIC) == utc(2026, 11, 1, 10, 0)
    # the second 01:30 (PST) displays as 01:30 too, with a different abbreviation
    second = utc(2026, 11, 1, 9, 30)
    assert format_instant(first, Zone.PACIFIC) == format_instant(second, Zone.PACIFIC) == "2026-11-01 01:30"
    assert format_instant(first, Zone.PACIFIC, abbrev=True).endswith("PDT")
    assert format_instant(second, Zone.PACIFIC, abbrev=True).endswith("PST")


def test_end_before_start_is_a_clear_error():
    with pytest.raises(DateInputError, match=r"end \(2026-03-01\) is before the start \(2026-03-08\)"):
        parse_range("2026-03-08", "2026-03-01", Zone.UTC)
    # a time range ending where it starts is empty, also refused
    with pytest.raises(DateInputError, match="before the start"):
        parse_range("2026-03-08 10:00", "2026-03-08 10:00", Zone.UTC)


def test_errors_name_the_field():
    with pytest.raises(DateInputError, match="^From: "):
        parse_range("yesterday-ish", "", Zone.UTC)
    with pytest.raises(DateInputError, match="^To: .*not a real date"):
        parse_range("", "2026-02-30", Zone.UTC)


@pytest.mark.parametrize("text", ["", "   ", "2026-13-01", "2026-02-30", "2026-01-01 24:00", "2026-01-01 10:60",
                                  "next tuesday", "-5y", "2026-01-01 10", "10:00", "-999999d"])
def test_rejected_inputs(text):
    with pytest.raises(DateInputError):
        parse_instant(text, Zone.UTC, now=NOW)


def test_today_yesterday_now_and_relative():
    assert parse_instant("today", Zone.UTC, now=NOW) == utc(2026, 11, 20)
    assert parse_instant("today", Zone.UTC, now=NOW, end=True) == utc(2026, 11, 21)
    assert parse_instant("yesterday", Zone.UTC, now=NOW) == utc(2026, 11, 19)
    assert parse_instant("Yesterday", Zone.UTC, now=NOW, end=True) == utc(2026, 11, 20)
    assert parse_instant("now", Zone.PACIFIC, now=NOW) == NOW
    assert parse_instant("-7d", Zone.UTC, now=NOW) == NOW - timedelta(days=7)
    assert parse_instant("-12h", Zone.UTC, now=NOW) == NOW - timedelta(hours=12)
    assert parse_instant("-2w", Zone.UTC, now=NOW) == NOW - timedelta(weeks=2)
    assert parse_instant("-30m", Zone.UTC, now=NOW) == NOW - timedelta(minutes=30)


def test_today_in_pacific_is_the_pacific_day():
    early = utc(2026, 11, 20, 5, 0)  # still 2026-11-19 21:00 PST
    assert parse_instant("today", Zone.PACIFIC, now=early) == utc(2026, 11, 19, 8)
    # "yesterday" across the fall-back day
    assert parse_instant("yesterday", Zone.PACIFIC, now=utc(2026, 11, 2, 12)) == utc(2026, 11, 1, 7)


def test_full_iso_with_offset_ignores_the_zone():
    assert parse_instant("2026-03-08T02:30:00-08:00", Zone.PACIFIC) == utc(2026, 3, 8, 10, 30)
    assert parse_instant("2026-03-08T02:30:00Z", Zone.PACIFIC) == utc(2026, 3, 8, 2, 30)


def test_seconds_and_t_separator():
    assert parse_instant("2026-06-01T10:30:15", Zone.UTC) == utc(2026, 6, 1, 10, 30, 15)
    assert parse_instant("2026-6-1 9:05", Zone.PACIFIC) == utc(2026, 6, 1, 16, 5)


def test_local_zone_follows_the_machine():
    local = pendulum.local_timezone()
    want = pendulum.datetime(2026, 7, 4, 12, 0, tz=local).in_tz("UTC")
    got = parse_instant("2026-07-04 12:00", Zone.LOCAL)
    assert got == datetime.fromtimestamp(want.timestamp(), UTC)
    assert format_instant(got, Zone.LOCAL) == "2026-07-04 12:00"


def test_wire_times_round_trip():
    t = utc(2021, 6, 17, 21, 46, 36, 359000)
    assert to_wire_time(t) == "2021-06-17T21:46:36.359Z"
    assert parse_wire_time("2021-06-17T21:46:36.359Z") == t
    assert parse_wire_time("2021-06-17T14:46:36.359-07:00") == t
    assert parse_wire_time("2021-06-17T21:46:36") == utc(2021, 6, 17, 21, 46, 36)
    assert parse_wire_time("garbage") is None and parse_wire_time(None) is None


def test_zone_names_and_cycle():
    assert parse_zone("PT") is Zone.PACIFIC and parse_zone("utc") is Zone.UTC and parse_zone("Local") is Zone.LOCAL
    with pytest.raises(ValueError, match="choose utc, pacific or local"):
        parse_zone("Mars/Olympus")
    assert [Zone.UTC.next(), Zone.PACIFIC.next(), Zone.LOCAL.next()] == [Zone.PACIFIC, Zone.LOCAL, Zone.UTC]


def test_quick_ranges():
    assert quick_range("7d", Zone.UTC) == ("-7d", "")
    assert quick_range("all", Zone.UTC) == ("", "")
    with pytest.raises(ValueError):
        quick_range("fortnight", Zone.UTC)


# --- the edges of the calendar (issue 13, item 2) -------------------------------------------

EDGE_WIRE = [
    ("0001-01-01T00:00:00Z", utc(1, 1, 1)),
    ("0001-01-01T00:00:00+05:00", datetime.min.replace(tzinfo=UTC)),  # before year 1 in UTC: clamped
    ("9999-12-31T23:59:59Z", utc(9999, 12, 31, 23, 59, 59)),
    ("9999-12-31T23:00:00-05:00", datetime.max.replace(tzinfo=UTC)),  # after year 9999 in UTC: clamped
]


@pytest.mark.parametrize("wire,expected", EDGE_WIRE)
def test_wire_times_at_the_edges_of_the_calendar_parse_without_raising(wire, expected):
    assert parse_wire_time(wire) == expected


def test_year_one_is_shown_in_utc_where_the_zone_cannot_show_it():
    # 0001-01-01T00:00Z is in year 0 in Pacific time: shown in UTC, marked as such,
    # with a four-digit year (strftime and pendulum write "1-01-01").
    assert format_instant(utc(1, 1, 1), Zone.PACIFIC, seconds=True) == "0001-01-01 00:00:00 UTC"
    assert format_instant(utc(1, 1, 1), Zone.PACIFIC, abbrev=True) == "0001-01-01 00:00 UTC"
    assert format_instant(utc(1, 1, 1), Zone.UTC, seconds=True) == "0001-01-01 00:00:00"


def test_year_9999_in_pacific_is_still_shown_in_pacific():
    assert format_instant(utc(9999, 12, 31, 23, 59), Zone.PACIFIC, abbrev=True) == "9999-12-31 15:59 PST"


def test_last_instant_east_of_utc_falls_back_to_utc(monkeypatch):
    tokyo = pendulum.timezone("Asia/Tokyo")
    monkeypatch.setattr(Zone, "tz", lambda self: tokyo)
    assert format_instant(utc(9999, 12, 31, 23, 59), Zone.LOCAL) == "9999-12-31 23:59 UTC"


def test_wire_time_and_utc_description_write_four_digit_years():
    assert to_wire_time(utc(1, 1, 1, 0, 0, 0)) == "0001-01-01T00:00:00.000Z"
    assert parse_range("0001-01-01", "0001-01-02", Zone.UTC).describe_utc() == \
        "0001-01-01 00:00 UTC → 0001-01-03 00:00 UTC"


@pytest.mark.parametrize("zone", list(Zone))
def test_a_typed_end_past_year_9999_is_an_input_error_not_a_crash(zone):
    with pytest.raises(DateInputError, match="outside the dates tasktui handles"):
        parse_range("", "9999-12-31", zone)
