"""SyncScope: parsing, the listings a sync reads, and which console queries it covers
(pure values, checked against literals)."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest

from tasktui.domain import DateField, TaskQuery
from tasktui.index.scope import ScopeError, SyncScope


def utc(*a) -> datetime:
    return datetime(*a, tzinfo=timezone.utc)


JAN = SyncScope.parse(["B", "A"], "2026-01-01", "2026-01-31")


def test_parse_makes_the_window_fixed_and_inclusive_of_the_last_day():
    assert JAN.projects == ("A", "B")
    assert JAN.created_from == utc(2026, 1, 1)
    assert JAN.created_to == utc(2026, 2, 1)  # the 31st included
    assert JAN.describe() == "projects A, B; created from 2026-01-01 to 2026-02-01 (end excluded)"
    assert SyncScope().describe() == "all tasks"


@pytest.mark.parametrize("frm, to, words", [
    ("-30d", "", "relative date"),
    ("today", "", "relative date"),
    ("2026-13-01", "", "not a real date"),
    ("soon", "", "not a date"),
    ("2026-03-01", "2026-02-01", "is empty"),
])
def test_parse_refuses_in_words(frm, to, words):
    with pytest.raises(ScopeError, match=words):
        SyncScope.parse([], frm, to)


def test_one_listing_per_project_each_with_the_window():
    parts = JAN.parts()
    assert [q.projects for _, q in parts] == [("A",), ("B",)]
    assert all(q.start == utc(2026, 1, 1) and q.end == utc(2026, 2, 1) for _, q in parts)
    assert len({k for k, _ in parts}) == 2
    (key, q), = SyncScope().parts()
    assert q == TaskQuery()


@pytest.mark.parametrize("query, covered", [
    (TaskQuery(projects=("A",), start=utc(2026, 1, 5), end=utc(2026, 1, 6)), True),
    (TaskQuery(projects=("A", "B"), start=utc(2026, 1, 1), end=utc(2026, 2, 1)), True),
    (TaskQuery(projects=("A", "C"), start=utc(2026, 1, 5), end=utc(2026, 1, 6)), False),
    (TaskQuery(start=utc(2026, 1, 5), end=utc(2026, 1, 6)), False),  # every project
    (TaskQuery(projects=("A",), start=utc(2025, 12, 31), end=utc(2026, 1, 6)), False),
    (TaskQuery(projects=("A",), start=utc(2026, 1, 5)), False),  # open end
    (TaskQuery(projects=("A",), end=utc(2026, 1, 6)), False),  # open start
    (TaskQuery(projects=("A",), start=utc(2026, 1, 5), end=utc(2026, 2, 1, 0, 0, 1)), False),
    (TaskQuery(projects=("A",), date_field=DateField.COMPLETED, start=utc(2026, 1, 5), end=utc(2026, 1, 6)),
     False),  # a completion window says nothing about creation
])
def test_covers(query, covered):
    assert JAN.covers(query) is covered


def test_everything_covers_every_query():
    assert SyncScope().covers(TaskQuery(search="ab", date_field=DateField.COMPLETED, start=utc(2020, 1, 1)))
    assert SyncScope(("A",)).covers(TaskQuery(projects=("A",), search="x"))
    assert not SyncScope(("A",)).covers(TaskQuery(batches=("a-1",)))


def test_stored_form_round_trips_and_damage_is_named():
    assert SyncScope.from_json(JAN.to_json()) == JAN
    assert SyncScope.from_json(SyncScope().to_json()) == SyncScope()
    with pytest.raises(ScopeError, match="damaged"):
        SyncScope.from_json('{"projects": 3}')


def test_sql_where_selects_the_scope():
    assert JAN.sql_where() == ("project IN (?,?) AND created_at >= ? AND created_at < ?",
                               ["A", "B", 1767225600000, 1769904000000])
    assert SyncScope().sql_where() == ("1", [])
