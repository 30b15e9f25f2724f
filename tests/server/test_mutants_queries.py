"""Literal expectations that kill the mutants `make mutate` found alive in the server's
query-string parsing (queries.py: parse_*, the page tokens, the range bounds; see
RELIABILITY.md, "Mutation score"). Pure: the parser on its own, no server, no database."""

from __future__ import annotations

import base64

import pytest

from tasktui.server.errors import BadRequest
from tasktui.server.queries import (
    _range_terms,
    decode_token,
    encode_token,
    parse_bool,
    parse_int,
    parse_list_query,
    parse_time,
)

# epoch milliseconds, written out
MAR8 = 1772928000000  # 2026-03-08T00:00:00Z
MAR8_10 = 1772964000000  # 2026-03-08T10:00:00Z
MAR8_10_PLUS2 = 1772956800000  # 2026-03-08T10:00:00+02:00


def refused(fn, *args) -> str:
    with pytest.raises(BadRequest) as e:
        fn(*args)
    assert e.value.status == 400
    return e.value.message


# -- parse_time ----------------------------------------------------------------------------
@pytest.mark.parametrize(("text", "ms"), [
    ("2026-03-08", MAR8), (" 2026-03-08 ", MAR8), ("2026-03-08T10:00:00Z", MAR8_10),
    ("2026-03-08 10:00:00", MAR8_10), ("2026-03-08T10:00:00", MAR8_10), ("2026-03-08T10:00:00+02:00", MAR8_10_PLUS2),
    ("2026-03-08 10:00:00+02:00", MAR8_10_PLUS2), ("2026-03-08T10:00:00 +02:00", MAR8_10_PLUS2),
    ("2026-03-08 10:00:00 +02:00", MAR8_10_PLUS2), ("2026-03-08T10:00:00.0006Z", MAR8_10 + 1),  # rounded
])
def test_times_in_every_accepted_shape(text, ms):
    assert parse_time("start_time", text) == ms


def test_a_bad_or_empty_time_is_named():
    assert refused(parse_time, "end_time", "  ") == (
        "end_time is empty; give an ISO-8601 date such as 2026-03-08 or 2026-03-08T10:00:00Z")
    assert refused(parse_time, "end_time", "soon") == (
        "end_time='soon' is not a date; give an ISO-8601 date such as 2026-03-08 or 2026-03-08T10:00:00Z")


# -- parse_bool / parse_int ---------------------------------------------------------------------
@pytest.mark.parametrize(("text", "value"), [("true", True), ("True", True), ("1", True),
                                             ("false", False), ("False", False), ("0", False)])
def test_booleans(text, value):
    assert parse_bool("limited_response", text) is value


def test_a_bad_boolean_is_named_and_cut():
    assert refused(parse_bool, "limited_response", "yes" + "x" * 50) == (
        "limited_response='yes" + "x" * 37 + "' is not a boolean; use true or false")


def test_whole_numbers_within_bounds():
    assert parse_int("limit", "1", 1, 100, "1 to 100") == 1
    assert parse_int("limit", "100", 1, 100, "1 to 100") == 100
    assert refused(parse_int, "limit", "0", 1, 100, "1 to 100") == "limit=0 is out of range; give 1 to 100"
    assert refused(parse_int, "limit", "101", 1, 100, "1 to 100") == "limit=101 is out of range; give 1 to 100"
    assert refused(parse_int, "limit", "ten", 1, 100, "1 to 100") == (
        "limit='ten' is not a whole number; give 1 to 100")


# -- parse_list_query ---------------------------------------------------------------------------
def test_an_empty_query_string_is_the_default_query():
    q = parse_list_query([])
    assert (q.statuses, q.reviews, q.projects, q.batches, q.types, q.tags, q.unique_ids, q.search) == \
        ((), (), (), (), (), (), (), "")
    assert (q.created_from, q.created_to, q.completed_from, q.completed_to, q.updated_from, q.updated_to) == \
        (None, None, None, None, None, None)
    assert (q.limit, q.order, q.after, q.limited_response) == (100, "desc", None, False)


def test_every_parameter_lands_in_its_field():
    q = parse_list_query([
        ("start_time", "2026-03-08"), ("end_time", "2026-03-08T10:00:00Z"),
        ("completed_after", "2026-03-08"), ("completed_before", "2026-03-08T10:00:00Z"),
        ("updated_after", "2026-03-08"), ("updated_before", "2026-03-08T10:00:00Z"),
        ("status", "completed"), ("customer_review_status", "accepted,fixed"),
        ("project", "p1"), ("project", "p2"), ("project", "p1"), ("batch", "b"), ("type", "t"),
        ("tags", "g1"), ("tags", "g2"), ("unique_id", "u"), ("search", "  ab "), ("page_size", "500"),
        ("order", "ASC"), ("limited_response", "true"), ("include_attachment_url", "false"), ("offset", "0"),
    ])
    assert (q.created_from, q.created_to) == (MAR8, MAR8_10)
    assert (q.completed_from, q.completed_to) == (MAR8, MAR8_10)
    assert (q.updated_from, q.updated_to) == (MAR8, MAR8_10)
    assert q.statuses == ("completed",) and q.reviews == ("accepted", "fixed")
    assert q.projects == ("p1", "p2") and q.batches == ("b",) and q.types == ("t",)
    assert q.tags == ("g1", "g2") and q.unique_ids == ("u",) and q.search == "ab"
    assert (q.limit, q.order, q.limited_response) == (500, "asc", True)


def test_limit_and_its_bounds():
    assert parse_list_query([("limit", "7")]).limit == 7
    assert refused(parse_list_query, [("limit", "101")]) == "limit=101 is out of range; give 1 to 100"
    assert refused(parse_list_query, [("page_size", "1001")]) == "page_size=1001 is out of range; give 1 to 1000"
    assert parse_list_query([("limited_response", "false")]).limited_response is False
    assert parse_list_query([("include_attachment_url", "true")]).limited_response is False


def test_a_range_may_be_one_instant_wide_but_not_inverted():
    q = parse_list_query([("start_time", "2026-03-08"), ("end_time", "2026-03-08")])
    assert (q.created_from, q.created_to) == (MAR8, MAR8)
    for lo, hi in (("start_time", "end_time"), ("completed_after", "completed_before"),
                   ("updated_after", "updated_before")):
        assert refused(parse_list_query, [(lo, "2026-03-08T10:00:00Z"), (hi, "2026-03-08")]) == (
            f"{hi} is before {lo}; the range would be empty")


@pytest.mark.parametrize(("params", "message"), [
    ([("limit", "5"), ("limit", "6")], "limit was given 2 times; give it once"),
    ([("status", "bogus")], "status='bogus' is not a task status; use pending, completed, error, canceled "
                            "or (extension) queued, in_progress, redo — comma-separated for several"),
    ([("customer_review_status", "nope")], "customer_review_status='nope' is not a review status; use pending, "
                                           "accepted, fixed or rejected (comma-separated for several)"),
    ([("project", "a"), ("project", "")], "project is empty; give a value or leave the parameter out"),
    ([("order", "sideways")], "order='sideways' is not an order; use asc (oldest first) or desc (newest first)"),
    ([("offset", "10")], "offset is not supported on tasks; follow next_token instead"),
    ([("limited_response", "maybe")], "limited_response='maybe' is not a boolean; use true or false"),
    ([("include_attachment_url", "maybe")], "include_attachment_url='maybe' is not a boolean; use true or false"),
])
def test_what_each_refusal_says(params, message):
    assert refused(parse_list_query, params) == message


def test_a_blank_offset_or_token_is_no_offset_or_token():
    assert parse_list_query([("offset", " "), ("next_token", "")]).after is None


# -- tokens -----------------------------------------------------------------------------------
def test_a_token_is_unpadded_urlsafe_base64_of_its_position():
    assert encode_token(1772964000000, "task_1", "desc") == "dDF8ZGVzY3wxNzcyOTY0MDAwMDAwfHRhc2tfMQ"
    assert decode_token("dDF8ZGVzY3wxNzcyOTY0MDAwMDAwfHRhc2tfMQ", "desc") == (1772964000000, "task_1")
    assert decode_token("dDF8YXNjfC01fGFi", "asc") == (-5, "ab")
    q = parse_list_query([("order", "asc"), ("next_token", "dDF8YXNjfC01fGFi")])
    assert q.after == (-5, "ab")


BAD = ("next_token={!r} is not a token this server gave out; start again from the first page")


@pytest.mark.parametrize("token", [
    "!!!!",  # not base64
    base64.urlsafe_b64encode(b"\xff\xfe").decode(),  # not UTF-8
    base64.urlsafe_b64encode(b"t2|desc|1|a").decode(),  # another version
    base64.urlsafe_b64encode(b"t1|desc|1|a b").decode(),  # not a task id
    "A" * 201,  # too long
])
def test_a_token_not_given_out_is_refused(token):
    assert refused(decode_token, token, "desc") == BAD.format(token[:40])


def test_a_token_of_the_longest_allowed_length_is_read():
    token = base64.urlsafe_b64encode(b"t1|desc|1|" + b"a" * 64).decode().rstrip("=")
    assert len(token) <= 200
    assert decode_token(token, "desc") == (1, "a" * 64)


def test_a_token_for_the_other_order_is_refused():
    assert refused(decode_token, "dDF8YXNjfC01fGFi", "desc") == (
        "next_token was made for order=asc, but this request asks for order=desc; start again from the first page")


# -- range bounds ------------------------------------------------------------------------------
def test_a_range_includes_its_start_and_excludes_its_end():
    assert _range_terms("created_at", 1, 2) == (["created_at >= ?", "created_at < ?"], [1, 2])
    assert _range_terms("completed_at", None, 5, "t.") == (["t.completed_at < ?"], [5])
    assert _range_terms("updated_at", 0, None) == (["updated_at >= ?"], [0])
    assert _range_terms("updated_at", None, None) == ([], [])


@pytest.mark.parametrize(("token", "task_id"), [
    ("dDF8ZGVzY3wxfGFiY2RlZmdoaWprbA", "abcdefghijkl"),  # 30 characters: two '=' of padding restored
    ("dDF8ZGVzY3wxfGFiY2RlZmdoaWo", "abcdefghij"),  # 27 characters: one '=' restored
])
def test_tokens_of_every_padding_are_read(token, task_id):
    assert decode_token(token, "desc") == (1, task_id)




def test_times_without_an_offset_are_utc_whatever_the_machine_says(clock_not_on_utc):
    assert parse_time("start_time", "2026-03-08") == MAR8
    assert parse_time("start_time", "2026-03-08T10:00:00") == MAR8_10


def test_a_token_ending_in_x_keeps_it():
    assert encode_token(7, "aW", "desc") == "dDF8ZGVzY3w3fGFX"


def test_the_smallest_page_size_and_an_explicit_newest_first_are_accepted():
    assert parse_list_query([("page_size", "1")]).limit == 1
    assert parse_list_query([("order", "DESC")]).order == "desc"
    assert refused(parse_list_query, [("start_time", "soon")]) == (
        "start_time='soon' is not a date; give an ISO-8601 date such as 2026-03-08 or 2026-03-08T10:00:00Z")


def test_a_repeated_parameter_takes_a_hundred_values_and_refuses_the_hundred_and_first():
    hundred = [("tags", f"g{i}") for i in range(100)]  # the limit, a literal: REPEATED_VALUES_MAX
    assert parse_list_query(hundred).tags == tuple(f"g{i}" for i in range(100))
    assert refused(parse_list_query, [*hundred, ("tags", "g100")]) == (
        "tags was given 101 times; the limit is 100 values of tags per request")
