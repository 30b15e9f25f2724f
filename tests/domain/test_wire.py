"""The wire contract shared by client and server, against literal expectations."""

import pytest

from tasktui.domain import AuditStatus, OperatorStatus
from tasktui.domain.wire import (
    ALL_EXTENSIONS,
    COMPLETED_RANGE,
    CREATED_RANGE,
    EXT_OPERATOR_STATUS,
    EXTENSIONS_HEADER,
    LIST_PARAMS,
    PAGE_LIMIT_MAX,
    PAGE_SIZE_EXT_MAX,
    REPEATED_PARAMS,
    STATUS_FILTER_VALUES,
    UPDATED_RANGE,
    decode_review_filter,
    decode_status_filter,
    encode_review_filter,
    encode_status_filter,
    extensions_header,
    parse_extensions_header,
    status_filter_is_exact,
)

S = OperatorStatus
A = AuditStatus


def test_the_extensions_header_names_every_extension_in_advertised_order():
    assert EXTENSIONS_HEADER == "x-tasktui-extensions"
    assert extensions_header() == "operator-status,order,search,multi-value,fix,idempotency,page-size"
    assert extensions_header(()) == ""
    assert len(set(ALL_EXTENSIONS)) == len(ALL_EXTENSIONS) == 7


def test_an_extensions_header_is_read_case_and_blank_insensitively():
    assert parse_extensions_header(" Order, ,SEARCH,page-size ") == frozenset({"order", "search", "page-size"})
    assert parse_extensions_header(None) == frozenset()
    assert parse_extensions_header("") == frozenset()
    assert parse_extensions_header(extensions_header()) == frozenset(ALL_EXTENSIONS)


def test_limits():
    assert (PAGE_LIMIT_MAX, PAGE_SIZE_EXT_MAX) == (100, 1000)


def test_the_list_parameters():
    assert set(LIST_PARAMS) == {
        "start_time", "end_time", "completed_after", "completed_before", "updated_after", "updated_before",
        "status", "customer_review_status", "project", "batch", "type", "tags", "unique_id", "search",
        "order", "limit", "page_size", "next_token", "offset", "include_attachment_url", "limited_response"}
    assert len(LIST_PARAMS) == 21
    assert CREATED_RANGE == ("start_time", "end_time")
    assert COMPLETED_RANGE == ("completed_after", "completed_before")
    assert UPDATED_RANGE == ("updated_after", "updated_before")
    assert REPEATED_PARAMS == ("project", "batch", "type", "tags", "unique_id")


@pytest.mark.parametrize("statuses,extensions,want", [
    (set(), (), None),
    (set(S), (), None),  # every status: no filter
    ({S.COMPLETED}, (), "completed"),
    ({S.QUEUED}, (), "pending"),  # the wire cannot tell queued from in progress
    ({S.QUEUED, S.IN_PROGRESS, S.REDO}, (), "pending"),
    ({S.QUEUED, S.ERROR}, (), None),  # two wire statuses: the real API takes one
    ({S.REDO, S.QUEUED, S.ERROR}, (EXT_OPERATOR_STATUS,), "queued,error,redo"),
    ({S.ERROR, S.COMPLETED}, (EXT_OPERATOR_STATUS,), "completed,error"),
])
def test_encoding_the_status_filter(statuses, extensions, want):
    assert encode_status_filter(statuses, extensions) == want


@pytest.mark.parametrize("statuses,extensions,exact", [
    (set(), (), True),
    ({S.COMPLETED}, (), True),
    ({S.QUEUED}, (), False),  # sent as pending: in progress and redo come back too
    ({S.QUEUED, S.IN_PROGRESS, S.REDO}, (), True),
    ({S.COMPLETED, S.ERROR}, (), False),
    ({S.QUEUED}, (EXT_OPERATOR_STATUS,), True),
])
def test_whether_the_server_applies_the_whole_status_filter(statuses, extensions, exact):
    assert status_filter_is_exact(statuses, extensions) is exact


@pytest.mark.parametrize("values,want", [
    (["completed"], (S.COMPLETED,)),
    (["pending"], (S.IN_PROGRESS, S.QUEUED, S.REDO)),
    (["Queued,REDO"], (S.QUEUED, S.REDO)),
    (["error", "error,canceled"], (S.ERROR, S.CANCELED)),
    (["cancelled"], (S.CANCELED,)),
    (["in-progress", "inprogress"], (S.IN_PROGRESS,)),
    (["pending,queued"], (S.IN_PROGRESS, S.QUEUED, S.REDO)),
])
def test_decoding_the_status_filter(values, want):
    assert decode_status_filter(values) == want


def test_a_bad_status_word_is_named():
    with pytest.raises(ValueError, match="status='done' is not a task status"):
        decode_status_filter(["completed,done"])
    with pytest.raises(ValueError, match="status is empty"):
        decode_status_filter([" , "])


def test_the_status_words_a_client_may_send():
    assert STATUS_FILTER_VALUES == ("pending", "completed", "error", "canceled", "in_progress", "queued", "redo")


def test_every_encoded_status_filter_decodes_to_what_it_selects_on_the_wire():
    for s in S:
        assert decode_status_filter([encode_status_filter({s}, (EXT_OPERATOR_STATUS,))]) == (s,)
        assert s in decode_status_filter([encode_status_filter({s})])


@pytest.mark.parametrize("audits,want", [
    (set(), None),
    (set(A), None),
    ({A.READY_TO_AUDIT}, "pending"),
    ({A.REJECTED, A.ACCEPTED}, "accepted,rejected"),
])
def test_encoding_the_review_filter(audits, want):
    assert encode_review_filter(audits) == want


@pytest.mark.parametrize("values,want", [
    (["accepted"], ("accepted",)),
    (["Ready_To_Audit,ready", "pending"], ("pending",)),
    (["fixed,rejected", "fixed"], ("fixed", "rejected")),
    (["commented,skipped"], ("commented", "skipped")),
])
def test_decoding_the_review_filter(values, want):
    assert decode_review_filter(values) == want


def test_a_bad_review_word_is_named():
    with pytest.raises(ValueError, match="customer_review_status='great' is not a review status"):
        decode_review_filter(["great"])
    with pytest.raises(ValueError, match="customer_review_status is empty"):
        decode_review_filter([""])


def test_the_public_parameters_are_the_sdks_and_only_tags_and_unique_id_repeat():
    from tasktui.domain.wire import PUBLIC_LIST_PARAMS, PUBLIC_REPEATED_PARAMS

    # shared/reference/scale-api.md, "GET /v1/tasks": the SDK's allowed keywords
    assert set(PUBLIC_LIST_PARAMS) == {
        "start_time", "end_time", "status", "type", "project", "batch", "limit", "completed_before",
        "completed_after", "updated_before", "updated_after", "next_token", "customer_review_status",
        "tags", "unique_id", "include_attachment_url", "limited_response"}
    assert set(PUBLIC_REPEATED_PARAMS) == {"tags", "unique_id"}
