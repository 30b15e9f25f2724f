"""Filters as typed: the one set of spellings, the mapping form both ways, and what the
filters mean in a zone at an instant. Pure: every expectation is a literal."""

from datetime import datetime, timezone

import pytest

from tasktui.domain import AuditStatus, DateField, DateInputError, OperatorStatus, SortOrder, TaskQuery, Zone
from tasktui.domain.filters import KEYS, FilterError, Filters

UTC = timezone.utc
NOW = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)


@pytest.mark.parametrize("text", ["newest", "NEWEST", " new ", "newest first", "Newest-First", "newest_first",
                                  "desc"])
def test_every_spelling_of_newest(text):
    assert SortOrder.parse(text) is SortOrder.NEWEST


@pytest.mark.parametrize("text", ["oldest", "old", "oldest first", "oldest-first", "asc", "ASC"])
def test_every_spelling_of_oldest(text):
    assert SortOrder.parse(text) is SortOrder.OLDEST


@pytest.mark.parametrize("text", ["", "sideways", "newer", "first"])
def test_other_orders_are_refused_naming_the_choices(text):
    with pytest.raises(ValueError, match="choose newest or oldest"):
        SortOrder.parse(text)


def test_order_words_are_what_an_operator_types():
    assert (SortOrder.NEWEST.word, SortOrder.OLDEST.word) == ("newest", "oldest")


def test_date_field_parse():
    assert DateField.parse(" Completed ") is DateField.COMPLETED
    assert DateField.parse("created") is DateField.CREATED
    with pytest.raises(ValueError, match="unknown field 'updated'; choose created or completed"):
        DateField.parse("updated")


def test_an_empty_mapping_is_no_filter():
    assert Filters.parse({}) == Filters()
    assert Filters().resolve(Zone.UTC, NOW) == TaskQuery()


def test_parse_reads_every_key():
    f = Filters.parse({
        "date_field": "completed", "from": " -7d ", "to": "2026-11-30", "status": ["completed", "In Progress"],
        "audit": "ready_to_audit", "project": ["b", "a", "b"], "batch": "week 1", "type": ["imageannotation"],
        "tag": ["x"], "search": " 6a ", "order": "oldest first",
    })
    assert f == Filters(
        date_field=DateField.COMPLETED, from_text="-7d", to_text="2026-11-30",
        statuses=frozenset({OperatorStatus.COMPLETED, OperatorStatus.IN_PROGRESS}),
        audit_statuses=frozenset({AuditStatus.READY_TO_AUDIT}), projects=("a", "b"), batches=("week 1",),
        types=("imageannotation",), tags=("x",), search="6a", order=SortOrder.OLDEST,
    )


def test_the_mapping_form_is_canonical_and_round_trips():
    f = Filters.parse({"status": ["queued", "completed"], "audit": ["fixed", "ready to audit"],
                       "project": ["Street Scenes"], "from": "-7d", "order": "asc"})
    assert f.to_mapping() == {
        "date_field": "created", "from": "-7d", "to": "", "status": ["completed", "queued"],
        "audit": ["fixed", "ready_to_audit"], "project": ["Street Scenes"], "batch": [], "type": [], "tag": [],
        "search": "", "order": "oldest",
    }
    assert f.to_mapping(compact=True) == {
        "from": "-7d", "status": ["completed", "queued"], "audit": ["fixed", "ready_to_audit"],
        "project": ["Street Scenes"], "order": "oldest",
    }
    assert Filters.parse(f.to_mapping()) == f
    assert Filters.parse(f.to_mapping(compact=True)) == f
    assert Filters().to_mapping(compact=True) == {}
    assert tuple(Filters().to_mapping()) == KEYS


def test_resolve_reads_relative_dates_at_the_instant_in_the_zone():
    f = Filters.parse({"from": "-7d", "to": "today", "status": "error", "tag": "t", "order": "oldest"})
    assert f.resolve(Zone.UTC, NOW) == TaskQuery(
        start=datetime(2026, 11, 13, 12, 0, tzinfo=UTC), end=datetime(2026, 11, 21, 0, 0, tzinfo=UTC),
        statuses=frozenset({OperatorStatus.ERROR}), tags=("t",), order=SortOrder.OLDEST)
    # a bare date is a whole day in the zone: Pacific (PST, UTC-8) days start at 08:00 UTC
    q = Filters.parse({"from": "2026-11-20", "to": "2026-11-20"}).resolve(Zone.PACIFIC, NOW)
    assert (q.start, q.end) == (datetime(2026, 11, 20, 8, tzinfo=UTC), datetime(2026, 11, 21, 8, tzinfo=UTC))


def test_a_wall_time_missing_in_the_zone_fails_when_resolved():
    f = Filters.parse({"from": "2026-03-08 02:30"})  # valid in UTC
    with pytest.raises(DateInputError, match="does not exist in Pacific"):
        f.resolve(Zone.PACIFIC, NOW)


@pytest.mark.parametrize("mapping, key, words", [
    ({"status": ["bogus"]}, "status", "unknown task status 'bogus'"),
    ({"status": "pending"}, "status", "split in three"),
    ({"audit": "maybe"}, "audit", "unknown audit status 'maybe'"),
    ({"order": "sideways"}, "order", "choose newest or oldest"),
    ({"date_field": "updated"}, "date_field", "unknown field 'updated'"),
    ({"from": "2026-02-30"}, "from", "'2026-02-30' is not a real date"),
    ({"to": "soon"}, "to", "'soon' is not a date"),
    ({"from": "2026-03-01", "to": "2026-02-01"}, "to", "is before the start"),
    ({"project": 5}, "project", "a string or a list of strings"),
    ({"search": ["a"]}, "search", "must be a string"),
    ({"frm": "-7d"}, None, "unknown key(s) frm; known keys: date_field, from, to"),
])
def test_errors_name_the_key_at_fault(mapping, key, words):
    with pytest.raises(FilterError) as e:
        Filters.parse(mapping)
    assert e.value.key == key and words in e.value.detail
    assert str(e.value) == (f"{key}: {e.value.detail}" if key else e.value.detail)
    assert isinstance(e.value, ValueError)


def test_a_mapping_is_required():
    with pytest.raises(FilterError, match="must be a table of filters"):
        Filters.parse(["status"])  # type: ignore[arg-type]
