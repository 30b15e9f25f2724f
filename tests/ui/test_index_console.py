"""The console over the local index (issue 12), driven with Pilot and read off the screen:
every status and audit box of the sidebar shows the bundled server's exact count with no
listing request to the API; the header says "index · synced"; ``--offline`` sends no
request at all and refuses actions with the reason; ``tasktui open FILE`` browses an
export with every filter, exact totals and hostile text kept as data. Oracles: the
server's SQLite and the exported file."""

from __future__ import annotations

import orjson

from tasktui.domain import AuditStatus, OperatorStatus, TaskQuery
from tasktui.export import ExportFormat, Exporter
from tasktui.api import TaskClient
from tasktui.index.load import load_export
from tasktui.index.reader import IndexReader
from tasktui.testing import FaultProxy

from index.con_support import FAST, make_index  # tests/index (tests/ is on sys.path)
from .support import hostile_sequences_in_output, notifications, screen_text, settled, wait_for
from .test_tasks_filters import toggle_box

SIZE = (140, 40)
OFFLINE = "Offline: tasks cannot be accepted, rejected, fixed or canceled here"


def _listings(proxy) -> list[str]:
    return [s.request_line for s in proxy.log if "/v1/tasks" in s.request_line or "/v1/task/" in s.request_line]


async def _each_box_shows_the_count(pilot, app, list_id, values, counts):
    previous = None
    for index, value in enumerate(values):
        if previous is not None:
            await toggle_box(pilot, app, list_id, previous)
        await toggle_box(pilot, app, list_id, index)
        want = counts.get(value.value, 0)
        await wait_for(pilot, lambda: f"of {want:,}" in screen_text(app).splitlines()[0]
                       and app.store.query != TaskQuery(), what=f"{value} on screen")
        await settled(pilot, app)
        assert app.store.total == want and app.store.total_exact
        previous = index
    await toggle_box(pilot, app, list_id, previous)


async def test_every_box_of_the_sidebar_from_the_index_with_no_listing_request(
        shared_server, sql, make_app, tmp_path):
    path = await make_index(shared_server, tmp_path / "idx.sqlite")
    statuses = dict(sql(shared_server, "SELECT ostatus, COUNT(*) FROM tasks GROUP BY ostatus"))
    reviews = dict(sql(shared_server, "SELECT review, COUNT(*) FROM tasks WHERE review != '' GROUP BY review"))
    with FaultProxy(shared_server.url, public_contract=True, latency=0.05).running() as api:
        app = make_app(api.url, shared_server.api_key, kind="remote", index=IndexReader.for_index(path))
        async with app.run_test(size=SIZE) as pilot:
            await settled(pilot, app)
            header = screen_text(app).splitlines()[0]
            assert "index · synced" in header and f"of {sum(statuses.values()):,}" in header, header
            await _each_box_shows_the_count(pilot, app, "#status", list(OperatorStatus), statuses)
            await _each_box_shows_the_count(pilot, app, "#audit", list(AuditStatus), reviews)
        assert _listings(api) == []  # every view came from disk (the project list may be asked)
        assert api.refused == []


async def test_offline_sends_no_request_and_refuses_actions_with_the_reason(
        shared_server, sql, make_app, tmp_path):
    path = await make_index(shared_server, tmp_path / "idx.sqlite")
    (n,), = sql(shared_server, "SELECT COUNT(*) FROM tasks")
    with FaultProxy(shared_server.url).running() as api:
        app = make_app(api.url, shared_server.api_key, kind="offline", index=IndexReader.for_index(path),
                       offline=True)
        async with app.run_test(size=SIZE, notifications=True) as pilot:
            await settled(pilot, app)
            assert f"of {n:,}" in screen_text(app).splitlines()[0]
            await toggle_box(pilot, app, "#status", list(OperatorStatus).index(OperatorStatus.QUEUED))
            (queued,), = sql(shared_server, "SELECT COUNT(*) FROM tasks WHERE ostatus = 'queued'")
            await wait_for(pilot, lambda: f"of {queued:,}" in screen_text(app).splitlines()[0], what="Queued")
            app.tasks_screen.table.focus()
            await pilot.press("enter")
            await wait_for(pilot, lambda: "Task " in screen_text(app), what="the detail")
            footer = screen_text(app).splitlines()[-1]
            assert "c Cancel" not in footer and "a Accept" not in footer, footer
            await pilot.press("c")
            await wait_for(pilot, lambda: any(m.startswith(OFFLINE) for m in notifications(app)),
                           what="the refusal")
        assert api.stats.requests == 0  # not one request: the console never had an API client


async def _export(handle, path, fmt):
    async with TaskClient(handle.url, handle.api_key, retry=FAST) as c:
        ex = Exporter(c, TaskQuery(), path=path, format=fmt)
        ex.prepare()
        await ex.run()


async def test_open_file_every_filter_exact_and_hostile_text_stays_data(shared_server, make_app, tmp_path):
    out = tmp_path / "all.ndjson"
    await _export(shared_server, out, ExportFormat.NDJSON)
    docs = [orjson.loads(line) for line in out.read_bytes().splitlines() if line.strip()]
    hostile = [d for d in docs if "hostile-text" in (d.get("tags") or [])]
    assert hostile  # the seeded hostile tasks are in the file
    loaded = load_export(out)
    try:
        reader = IndexReader(loaded.path, label="file all.ndjson")
        app = make_app("http://opened-file.tasktui.invalid/v1", "none", kind="file", index=reader,
                       offline=True, read_only_why="file")
        async with app.run_test(size=SIZE) as pilot:
            await settled(pilot, app)
            assert f"of {len(docs):,}" in screen_text(app).splitlines()[0]
            errors = sum(1 for d in docs if d["status"] == "error")
            await toggle_box(pilot, app, "#status", list(OperatorStatus).index(OperatorStatus.ERROR))
            await wait_for(pilot, lambda: f"of {errors:,}" in screen_text(app).splitlines()[0], what="Error")
            await app.store.set_query(TaskQuery(tags=("hostile-text",)))
            await settled(pilot, app)
            assert app.store.total == len(hostile)
            assert hostile_sequences_in_output(app) == []
            assert "file all.ndjson" in screen_text(app).splitlines()[0]
    finally:
        loaded.remove()
    assert not loaded.path.exists()


async def test_offline_header_at_80_columns_keeps_the_count_and_the_order(shared_server, sql, make_app, tmp_path):
    """At 80x24 the header drops the long words ("offline · local sandbox", "synced ... ago"),
    never the count or the sort order."""
    path = await make_index(shared_server, tmp_path / "idx.sqlite")
    (n,), = sql(shared_server, "SELECT COUNT(*) FROM tasks")
    app = make_app("http://127.0.0.1:9/v1", "unused", kind="offline", index=IndexReader.for_index(path),
                   offline=True)
    async with app.run_test(size=(80, 24)) as pilot:
        await settled(pilot, app)
        header = screen_text(app).splitlines()[0]
        assert f"of {n:,}" in header and "newest first" in header, header
        assert "⊘ offline · index " in header and "synced" not in header, header
