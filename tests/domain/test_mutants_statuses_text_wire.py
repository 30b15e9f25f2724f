"""Literal expectations that kill the mutants `make mutate` found alive in statuses.py,
text.py and wire.py (see RELIABILITY.md, "Mutation score"): the status mapping of a raw
task document, the audit spellings, the C1 boundary of ``visible``, ``shorten`` at width 1
and the exact error sentences of the wire filters."""

from __future__ import annotations

import pytest

from tasktui.domain.statuses import (
    AuditStatus,
    OperatorStatus,
    audit_status,
    audit_status_of,
    operator_status_of,
    parse_audit_status,
)
from tasktui.domain.text import shorten, visible
from tasktui.domain.wire import decode_review_filter, decode_status_filter


# -- statuses: the mapping of a wire document, one literal row each ----------------------
@pytest.mark.parametrize(("doc", "expected"), [
    # the row the issue found missing: pending, started, rejected -> Redo
    ({"status": "pending", "work_started": True, "customer_review_status": "rejected"}, OperatorStatus.REDO),
    ({"status": "pending", "work_started": False, "customer_review_status": "rejected"}, OperatorStatus.REDO),
    ({"status": "pending", "work_started": True, "customer_review_status": "accepted"}, OperatorStatus.IN_PROGRESS),
    ({"status": "pending", "redo": True}, OperatorStatus.QUEUED),  # a bundled-only field: ignored (issue 11.7)
    ({"status": "pending"}, OperatorStatus.QUEUED),
    ({"status": "completed", "customer_review_status": "rejected"}, OperatorStatus.COMPLETED),
])
def test_operator_status_of_a_document_reads_every_field(doc, expected):
    assert operator_status_of(doc) is expected


@pytest.mark.parametrize(("doc", "expected"), [
    ({"status": "completed"}, AuditStatus.READY_TO_AUDIT),
    ({"status": "completed", "customer_review_status": "pending"}, AuditStatus.READY_TO_AUDIT),
    ({"status": "pending"}, None),
    ({"status": "error", "customer_review_status": "pending"}, None),
    ({"status": "pending", "customer_review_status": "fixed"}, AuditStatus.FIXED),
])
def test_audit_status_of_a_document_depends_on_its_status(doc, expected):
    assert audit_status_of(doc) is expected


def test_an_empty_review_status_on_a_completed_task_is_ready_to_audit():
    assert audit_status("completed", "") is AuditStatus.READY_TO_AUDIT
    assert audit_status("completed", "XXXX") is None


@pytest.mark.parametrize("text", ["ready-to-audit", "Ready-To-Audit", " ready to audit "])
def test_audit_status_spellings_with_hyphens_or_spaces(text):
    assert parse_audit_status(text) is AuditStatus.READY_TO_AUDIT


# -- text ---------------------------------------------------------------------------------
@pytest.mark.parametrize(("char", "shown"), [
    ("\x1f", "\u241f"), ("\x7f", "\u2421"), ("\x80", "⟨80⟩"), ("\x9e", "⟨9E⟩"), ("\x9f", "⟨9F⟩"),
    ("\u202e", "⟨U+202E⟩"), ("\u2028", "⟨U+2028⟩"),
])
def test_visible_stand_ins_at_the_edges_of_each_range(char, shown):
    assert visible(char) == shown


@pytest.mark.parametrize(("text", "width", "expected"), [
    ("abc", 1, "…"), ("a", 1, "a"), ("abc", 0, ""), ("abc", 2, "a…"), ("abc", 3, "abc"), ("", 1, ""),
])
def test_shorten_at_the_smallest_widths(text, width, expected):
    assert shorten(text, width) == expected


# -- wire: the sentences a 400 carries ----------------------------------------------------
def test_a_bad_status_word_is_named_with_the_choices():
    with pytest.raises(ValueError) as e:
        decode_status_filter(["completed,bogus"])
    assert str(e.value) == (
        "status='bogus' is not a task status; use pending, completed, error, canceled "
        "or (extension) queued, in_progress, redo — comma-separated for several")


def test_an_empty_status_filter_says_so():
    with pytest.raises(ValueError) as e:
        decode_status_filter([" , ", ""])
    assert str(e.value) == "status is empty; give a task status such as completed"


def test_a_bad_review_word_is_named_with_the_choices():
    with pytest.raises(ValueError) as e:
        decode_review_filter(["accepted,nope"])
    assert str(e.value) == ("customer_review_status='nope' is not a review status; use pending, "
                            "accepted, fixed or rejected (comma-separated for several)")


def test_an_empty_review_filter_says_so():
    with pytest.raises(ValueError) as e:
        decode_review_filter([","])
    assert str(e.value) == "customer_review_status is empty; give a review status such as accepted"


def test_operator_status_defaults_to_not_started_and_no_redo():
    from tasktui.domain.statuses import operator_status
    assert operator_status("pending") is OperatorStatus.QUEUED


def test_pending_is_refused_with_the_three_choices():
    from tasktui.domain.statuses import parse_operator_status
    with pytest.raises(ValueError) as e:
        parse_operator_status("Pending")
    assert str(e.value) == "'pending' is split in three here: use queued, in_progress or redo"


def test_adjacent_one_byte_unsafe_characters_are_each_escaped():
    from tasktui.domain.text import json_escape_unsafe_utf8
    assert json_escape_unsafe_utf8(b'"\x7f\x7f\xc2\x85"') == b'"\\u007f\\u007f\\u0085"'


def test_an_error_text_of_exactly_the_limit_is_not_cut():
    from tasktui.domain.text import clean_for_error
    assert clean_for_error("a" * 10, 10) == "a" * 10
    assert clean_for_error("a" * 11, 10) == "a" * 9 + "…"


def test_every_status_at_once_is_an_exact_filter():
    from tasktui.domain.wire import status_filter_is_exact
    assert status_filter_is_exact(set(OperatorStatus)) is True
    assert status_filter_is_exact(set()) is True
