"""``tasktui --offline``: with no index for the chosen API it says how to make one (and
touches nothing); the store offline answers from the index only and refuses every
action with the offline reason, never reaching the API. Oracles: the proxy's request
count, literal sentences, the server's SQLite."""

from __future__ import annotations

import pytest

from tasktui.domain import OperatorStatus, TaskQuery
from tasktui.index.reader import IndexReader
from tasktui.store import ActionRefused, TaskStore
from tasktui.testing import FaultProxy

from .con_support import make_index


def test_offline_without_an_index_says_how_to_make_one(tmp_path, monkeypatch, capsys):
    from tasktui.cli.main import main

    monkeypatch.setenv("TASKTUI_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("TASKTUI_CONFIG", str(tmp_path / "none.toml"))
    code = main(["--offline", "--api-url", "https://api.example.com/v1"])
    err = capsys.readouterr().err
    assert code == 1
    assert "there is no local index at" in err and "api.example.com" in err and "`tasktui sync`" in err
    assert not (tmp_path / "data" / "index").exists()  # nothing was made


async def test_the_offline_store_never_reaches_the_api_and_refuses_actions(shared_server, sql, tmp_path):
    path = await make_index(shared_server, tmp_path / "idx.sqlite")
    (queued_id,), = sql(shared_server, "SELECT task_id FROM tasks WHERE ostatus = 'queued' LIMIT 1")
    (queued,), = sql(shared_server, "SELECT COUNT(*) FROM tasks WHERE ostatus = 'queued'")
    reader = IndexReader.for_index(path)
    with FaultProxy(shared_server.url).running() as api:
        store = TaskStore(reader.client(), index=reader, offline=True)
        try:
            await store.set_query(TaskQuery(statuses=frozenset({OperatorStatus.QUEUED})))
            assert store.total == queued and store.from_index
            assert store.refusal("cancel") == (
                "Offline: tasks cannot be canceled in this session (the console reads the local index, never "
                "the API: start without --offline to change tasks).")
            with pytest.raises(ActionRefused, match="^Offline: tasks cannot be canceled"):
                await store.cancel(queued_id)
            assert (await store.get_task(queued_id)).task_id == queued_id
            assert await store.poll_once() == 0
        finally:
            await store.close()
            await reader.aclose()
        assert api.stats.requests == 0
    assert sql(shared_server, "SELECT ostatus FROM tasks WHERE task_id = ?", queued_id) == [("queued",)]
