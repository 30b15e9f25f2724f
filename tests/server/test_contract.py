"""The server's OpenAPI description and its list parsing follow the shared wire contract."""

from tasktui.domain.wire import LIST_PARAMS, PAGE_LIMIT_MAX, PAGE_SIZE_EXT_MAX, Param
from tasktui.server.openapi import build
from tasktui.server.queries import parse_list_query


def test_the_description_documents_every_list_parameter_but_offset():
    documented = [p["name"] for p in build("http://x/v1")["paths"]["/tasks"]["get"]["parameters"]]
    assert sorted(documented) == sorted(set(LIST_PARAMS) - {"offset"})  # offset is refused unless 0


def test_the_documented_page_limits_are_the_contract_limits():
    params = {p["name"]: p["schema"] for p in build("http://x/v1")["paths"]["/tasks"]["get"]["parameters"]}
    assert params[Param.LIMIT]["maximum"] == PAGE_LIMIT_MAX == 100
    assert params[Param.PAGE_SIZE]["maximum"] == PAGE_SIZE_EXT_MAX == 1000


def test_the_status_filter_decodes_to_operator_status_columns():
    q = parse_list_query([("status", "pending"), ("status", "error"), ("customer_review_status", "ready")])
    assert sorted(q.statuses) == ["error", "in_progress", "queued", "redo"]
    assert q.reviews == ("pending",)
