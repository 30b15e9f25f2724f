"""Schemathesis, driven by the server's own ``/v1/openapi.json``: over a bounded number of
generated requests per operation (positive and negative), no 5xx, and every answer matches
the documented status codes, content types and schemas. A larger run lives in
``bench/bench_server_fuzz.py``."""

from __future__ import annotations

import base64

import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, settings

from schemathesis.specs.openapi.checks import positive_data_acceptance

from tasktui.server import seed_database, start_server_thread

MAX_EXAMPLES = 20


@pytest.fixture(scope="module")
def fuzz_server(tmp_path_factory, api_key, seed_now):
    path = tmp_path_factory.mktemp("fuzz") / "fuzz.db"
    seed_database(path, 200, seed=3, now=seed_now)
    handle = start_server_thread(path, [api_key])
    yield handle
    handle.stop()


@pytest.fixture(scope="module")
def fuzz_schema(fuzz_server, api_key):
    spec = httpx.get(fuzz_server.url + "/openapi.json", auth=(api_key, "")).json()
    loaded = schemathesis.openapi.from_dict(spec)
    loaded.config.update(base_url=fuzz_server.url)
    # The server ignores query parameters it does not declare, by design (a client such as
    # the official SDK may send one this server does not know; see
    # test_an_undeclared_query_parameter_is_ignored). Schemathesis's negative cases may add
    # one to a case whose only other flaw is the missing Authorization header, which the
    # test supplies: a valid request, flagged "accepted" (schemathesis #4762, fixed after
    # the newest release the registry holds). So negative cases get no undeclared parameters.
    loaded.config.generation.update(allow_extra_parameters=False)
    return loaded


schema = schemathesis.pytest.from_fixture("fuzz_schema")


@schema.parametrize()
@settings(max_examples=MAX_EXAMPLES, deadline=None, derandomize=True, database=None,
          suppress_health_check=list(HealthCheck))
def test_openapi_contract(case, api_key):
    token = base64.b64encode(f"{api_key}:".encode()).decode()
    # positive_data_acceptance is left out on purpose: business rules answer 400 to
    # schema-valid requests by contract (cancel of a completed task, audit of a queued one,
    # a project that does not exist) and no schema can express them.
    case.call_and_validate(headers={"Authorization": f"Basic {token}"},
                           excluded_checks=[positive_data_acceptance])


def test_an_undeclared_query_parameter_is_ignored(fuzz_server, api_key):
    """The decision the schema check above relies on: a listing with a parameter the server
    does not declare (an empty name, an unknown one) answers as if it were not there."""
    auth = (api_key, "")
    with httpx.Client(auth=auth) as h:
        plain = h.get(fuzz_server.url + "/tasks", params={"limit": "5"}).json()
        for extra in ("=true", "foo=1", "%20=x"):
            r = h.get(fuzz_server.url + "/tasks?limit=5&" + extra)
            assert r.status_code == 200, extra
            assert [d["task_id"] for d in r.json()["docs"]] == [d["task_id"] for d in plain["docs"]]
    assert len(plain["docs"]) == 5
