"""Download JSON: ``<task_id>.json`` written atomically to the downloads folder."""

from __future__ import annotations

import json
import os

import pytest

from tasktui.downloads import DownloadError, download_task, safe_filename

from .support import DetailHost, api_get, find_task, notifications, wait_for, wait_loaded


def test_download_writes_pretty_json_and_leaves_no_temp_file(tmp_path):
    doc = {"task_id": "abc123", "status": "completed", "note": "café \x1b[31m"}
    path = download_task(doc, tmp_path / "new" / "dir")
    assert path == tmp_path / "new" / "dir" / "abc123.json"
    assert json.loads(path.read_text("utf-8")) == doc
    assert path.read_text("utf-8").startswith('{\n  "task_id": "abc123"')
    assert os.listdir(path.parent) == ["abc123.json"]
    # downloading again replaces the file whole
    doc2 = {**doc, "status": "canceled"}
    download_task(doc2, path.parent)
    assert json.loads(path.read_text("utf-8")) == doc2
    assert os.listdir(path.parent) == ["abc123.json"]


def test_task_ids_cannot_escape_the_downloads_folder(tmp_path):
    assert safe_filename("../../etc/passwd") == "_.._etc_passwd.json"
    assert safe_filename("..") == "task.json"
    assert safe_filename("a/b\\c\x1b") == "a_b_c_.json"
    path = download_task({"task_id": "../evil"}, tmp_path)
    assert path.parent == tmp_path


def test_unwritable_folder_says_why(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("x")
    with pytest.raises(DownloadError) as e:
        download_task({"task_id": "t"}, blocker / "sub")
    assert "cannot create the downloads folder" in str(e.value)


async def test_d_downloads_the_task_and_says_where(shared_server, sql, tmp_path):
    tid = find_task(sql, shared_server, "ostatus = 'completed' AND review = 'fixed'")
    downloads = tmp_path / "dl"
    app = DetailHost(shared_server, tid, downloads_dir=downloads)
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_loaded(pilot, app, tid)
        await pilot.press("d")
        target = downloads / f"{tid}.json"
        await wait_for(pilot, target.exists, what="download file")
        assert json.loads(target.read_text("utf-8")) == api_get(shared_server, tid)
        await wait_for(pilot, lambda: any(f"Saved {tid} to {target}" in m for m in notifications(app)))
