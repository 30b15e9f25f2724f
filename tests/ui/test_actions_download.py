"""Download JSON: ``<task_id>.json`` written atomically to the downloads folder."""

from __future__ import annotations

import json
import os
import stat

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


#: What a terminal may act on, as it would appear raw in the file: ESC and the other C0
#: controls, C1 controls, bidi marks / embeddings / overrides / isolates, U+2028 / U+2029.
UNSAFE = {chr(c) for c in [*range(0x00, 0x20), *range(0x80, 0xA0), 0x061C, 0x200E, 0x200F,
                           *range(0x2028, 0x202F), *range(0x2066, 0x206A)]} - {"\n"}


def strings(value) -> list[str]:
    """Every string in a JSON value, keys included."""
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [s for k, v in value.items() for s in (k, *strings(v))]
    if isinstance(value, list):
        return [s for v in value for s in strings(v)]
    return []


@pytest.fixture
def umask_022():
    old = os.umask(0o022)
    yield
    os.umask(old)


def test_hostile_tasks_download_escaped_same_json_and_owner_only(shared_server, sql, tmp_path, umask_022):
    """Task text is data: a downloaded file can be `cat`-ed without the terminal obeying it,
    parses to exactly what the API sent, and only its owner can read it (tasks can hold
    customers' data), whatever the umask."""
    ids = [r[0] for r in sql(shared_server, "SELECT t.task_id FROM tasks t JOIN task_tags g ON g.id = t.id "
                                            "WHERE g.tag = 'hostile-text' ORDER BY t.id")]
    assert len(ids) >= 5
    in_strings, past_plain_json, unsafe_in_file, modes = 0, 0, {}, set()
    for tid in ids:
        doc = api_get(shared_server, tid)
        in_strings += bool(UNSAFE & set("".join(strings(doc))))
        past_plain_json += bool(UNSAFE & set(json.dumps(doc, ensure_ascii=False)))
        path = download_task(doc, tmp_path)
        data = path.read_bytes()
        if found := UNSAFE & set(data.decode("utf-8")):
            unsafe_in_file[tid] = sorted(found)
        assert json.loads(data) == doc
        modes.add(oct(stat.S_IMODE(path.stat().st_mode)))
    assert in_strings > len(ids) // 2, "most hostile tasks carry such characters"
    assert past_plain_json > 0, "some of them (C1, bidi) pass plain JSON encoding unescaped"
    assert unsafe_in_file == {}, "raw terminal controls in the downloaded files"
    assert modes == {"0o600"}


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


@pytest.mark.parametrize("kind", ["sandbox", "remote"])
async def test_a_download_from_the_sandbox_says_its_attachment_urls_end_with_the_run(
        shared_server, sql, tmp_path, kind):
    from tasktui.backend import Backend

    tid = find_task(sql, shared_server, "ostatus = 'completed'")
    downloads = tmp_path / "dl"
    app = DetailHost(shared_server, tid, downloads_dir=downloads)
    app.backend = Backend(shared_server.url, shared_server.api_key, kind, "x", db_path=tmp_path / "s.db")
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_loaded(pilot, app, tid)
        await pilot.press("d")
        saved = await wait_for(pilot, lambda: [m for m in notifications(app) if m.startswith(f"Saved {tid}")])
    origin = shared_server.url.removesuffix("/v1")
    note = (f"Its attachment URLs point at this run's local sandbox ({origin}) and stop working when "
            "tasktui exits")
    assert (note in saved[0]) is (kind == "sandbox"), saved
    if kind == "sandbox":
        assert f"tasktui serve --db {tmp_path / 's.db'}" in saved[0]
