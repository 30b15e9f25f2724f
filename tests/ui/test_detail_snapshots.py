"""Snapshots of the detail tabs, the fix editor, and the previews of an image task and a
lidar task (fixed seed data, UTC, half-block images). Tabs that show the attachment URL
(Summary, JSON) carry the server's random port and are checked as text in
test_detail_tabs.py instead."""

from __future__ import annotations

from tasktui.ui.modals.fix_editor import FixEditor
from tasktui.ui.widgets.preview import MediaPreview

from .support import DetailHost, find_task, wait_for, wait_loaded


def _tab_snapshot(snap_compare, server, tid, key, size=(120, 40), after=None):
    app = DetailHost(server, tid)

    async def run_before(pilot):
        await wait_loaded(pilot, app, tid)
        await pilot.press(key)
        if key == "6":
            preview = app.detail.query_one(MediaPreview)
            await wait_for(pilot, lambda: preview.state not in ("empty", "loading"))
        if after is not None:
            await after(pilot, app)
        await pilot.pause()
        await pilot.pause()

    return snap_compare(app, terminal_size=size, run_before=run_before)


def test_snapshot_instructions_tab(shared_server, sql, snap_compare):
    tid = find_task(sql, shared_server, "ostatus = 'completed' AND review = 'fixed' AND type = 'imageannotation'")
    assert _tab_snapshot(snap_compare, shared_server, tid, "2")


def test_snapshot_response_tab_with_the_fix_diff(shared_server, sql, snap_compare):
    tid = find_task(sql, shared_server, "ostatus = 'completed' AND review = 'fixed' AND type = 'imageannotation'")
    assert _tab_snapshot(snap_compare, shared_server, tid, "4")


def test_snapshot_audit_tab(shared_server, sql, snap_compare):
    tid = find_task(sql, shared_server, "ostatus = 'completed' AND review = 'rejected'")
    assert _tab_snapshot(snap_compare, shared_server, tid, "5")


def test_snapshot_image_preview(shared_server, sql, snap_compare):
    tid = find_task(sql, shared_server, "ostatus = 'completed' AND project = 'Street Scenes'")
    assert _tab_snapshot(snap_compare, shared_server, tid, "6")


def test_snapshot_lidar_preview(shared_server, sql, snap_compare):
    tid = find_task(sql, shared_server, "ostatus = 'completed' AND type = 'lidarannotation'")
    assert _tab_snapshot(snap_compare, shared_server, tid, "6")


def test_snapshot_lidar_preview_80x24(shared_server, sql, snap_compare):
    tid = find_task(sql, shared_server, "ostatus = 'completed' AND type = 'lidarannotation'")
    assert _tab_snapshot(snap_compare, shared_server, tid, "6", size=(80, 24))


def test_snapshot_fix_editor_with_an_error(shared_server, sql, snap_compare):
    tid = find_task(sql, shared_server, "ostatus = 'completed' AND review = 'pending' AND project = 'Street Scenes'")

    async def after(pilot, app):
        await pilot.press("e")
        editor = await wait_for(pilot, lambda: app.screen if isinstance(app.screen, FixEditor) else None)
        from textual.widgets import TextArea
        ta = editor.query_one(TextArea)
        line = ta.document.get_line(3)
        assert line.endswith(",")
        ta.move_cursor((3, len(line)))
        await pilot.press("backspace")  # drop a comma: invalid JSON, the error is shown

    assert _tab_snapshot(snap_compare, shared_server, tid, "1", after=after)
