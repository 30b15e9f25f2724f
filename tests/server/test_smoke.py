"""The fixtures start a real server that answers the wire contract."""

import httpx


def test_shared_server_lists_the_seeded_tasks(shared_server, api_key, sql):
    r = httpx.get(shared_server.url + "/tasks", params={"limit": 5}, auth=(api_key, ""))
    assert r.status_code == 200
    body = r.json()
    assert set(body) == {"docs", "total", "limit", "offset", "has_more", "next_token"}
    assert body["total"] == sql(shared_server, "SELECT COUNT(*) FROM tasks")[0][0] == 1500
    assert len(body["docs"]) == 5 and body["has_more"] and body["next_token"]


def test_server_fixture_is_a_private_copy(server, shared_server):
    assert server.port != shared_server.port
    assert server.db_path != shared_server.db_path
