"""``tasktui sync`` and ``--offline`` export / get, run for real (``python -m tasktui``)
against the bundled server: what ``--status`` prints, the API key never written to the
index, offline reads that send no request at all, and ``[sync]`` in the config. Oracles:
SQL read from the server's database, the proxy's request log, bytes on disk."""

from __future__ import annotations

import base64
import hashlib
import json
import re

import httpx

from tasktui.index.db import index_path
from tasktui.testing import FaultProxy


def _sync(cli, server, *extra):
    return cli.run("sync", "--api-url", server.url, "--api-key", server.api_key, *extra)


def test_status_before_and_after_a_sync(cli, shared_server, sql):
    r = cli.run("sync", "--status", "--api-url", shared_server.url)
    assert r.returncode == 4 and "there is no index" in r.stderr and "run `tasktui sync`" in r.stderr
    r = _sync(cli, shared_server)
    assert r.returncode == 0, r.stderr
    n = sql(shared_server, "SELECT COUNT(*) FROM tasks")[0][0]
    assert f"{n:,} tasks read" in r.stderr
    # not a terminal: progress in words, not a bar
    assert re.search(rf"tasktui sync: initial sync: [\d,]+ of {n:,} tasks read", r.stderr), r.stderr
    r = cli.run("sync", "--status", "--api-url", shared_server.url)
    assert r.returncode == 0, r.stderr
    path = index_path(shared_server.url, {"TASKTUI_DATA_DIR": str(cli.data)})
    assert f"index:     {path}\n" in r.stdout
    assert f"tasks:     {n:,} (complete)\n" in r.stdout
    assert re.search(r"last sync: synced \d+ s ago \(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC\)", r.stdout), r.stdout
    assert "scope:     all tasks\n" in r.stdout
    assert re.search(r"disk:      [\d.,]+ (kB|MB) \([\d.,]+ kB per task\)", r.stdout), r.stdout
    again = _sync(cli, shared_server)
    assert again.returncode == 0 and "0 changed since the last sync" in again.stderr, again.stderr


def test_the_key_is_never_written_to_the_index(cli, shared_server):
    assert _sync(cli, shared_server).returncode == 0
    key = shared_server.api_key.encode()
    secrets = [key, hashlib.sha256(key).hexdigest().encode(), hashlib.sha256(key).digest(),
               base64.b64encode(key + b":")]
    files = [p for p in cli.data.rglob("*") if p.is_file()]
    assert any(p.suffix == ".sqlite" for p in files)
    for p in files:
        data = p.read_bytes()
        assert not any(s in data for s in secrets), p


def test_offline_export_and_get_read_the_index_and_send_nothing(cli, shared_server, sql, tmp_path):
    with FaultProxy(shared_server.url).running() as proxy:
        assert cli.run("sync", "--api-url", proxy.url, "--api-key", shared_server.api_key).returncode == 0
        proxy.reset_stats()
        out = tmp_path / "q.json"
        # a server named without a key: offline needs none
        r = cli.run("export", "--offline", "--status", "queued", "--order", "oldest", "-o", str(out),
                    "--api-url", proxy.url)
        assert r.returncode == 0, r.stderr
        # the index of a named API holds that API's own attachment URLs: no sandbox warning
        assert "attachment URLs" not in r.stderr and "sandbox" not in r.stderr, r.stderr
        tid = sql(shared_server, "SELECT task_id FROM tasks ORDER BY id LIMIT 1")[0][0]
        got = cli.run("get", "--offline", tid, "--api-url", proxy.url)
        missing = cli.run("get", "--offline", "f" * 24, "--api-url", proxy.url)
        assert proxy.log == []  # not one request reached the API
    want = [row[0] for row in sql(shared_server, "SELECT task_id FROM tasks WHERE ostatus = 'queued' "
                                                 "ORDER BY created_at, task_id")]
    assert [d["task_id"] for d in json.loads(out.read_text())] == want and want
    assert got.returncode == 0, got.stderr
    online = httpx.get(f"{shared_server.url}/task/{tid}", auth=(shared_server.api_key, "")).json()
    assert json.loads(got.stdout) == online
    assert missing.returncode == 4
    assert f"no task with id {'f' * 24!r} in the index" in missing.stderr and "all tasks" in missing.stderr


def test_offline_without_an_index_says_to_sync(cli):
    r = cli.run("get", "--offline", "a" * 24, "--api-url", "https://api.example.com/v1")
    assert r.returncode == 1 and "no index at" in r.stderr and "tasktui sync" in r.stderr
    r = cli.run("export", "--offline", "--api-url", "https://api.example.com/v1")
    assert r.returncode == 1 and "no index at" in r.stderr


def test_the_config_sync_scope_is_what_is_kept(cli, shared_server, sql):
    project = sql(shared_server, "SELECT project FROM tasks GROUP BY 1 ORDER BY COUNT(*) DESC LIMIT 1")[0][0]
    cli.write_config(f'[sync]\nprojects = [{json.dumps(project)}]\nfrom = "2026-09-01"\n')
    r = _sync(cli, shared_server)
    assert r.returncode == 0, r.stderr
    path = index_path(shared_server.url, {"TASKTUI_DATA_DIR": str(cli.data)})
    import sqlite3

    c = sqlite3.connect(path)
    try:
        held = sorted(row[0] for row in c.execute("SELECT task_id FROM tasks"))
    finally:
        c.close()
    cut = 1788220800000  # 2026-09-01T00:00:00Z
    want = sorted(row[0] for row in sql(shared_server, "SELECT task_id FROM tasks WHERE project = ? AND "
                                                       "created_at >= ?", project, cut))
    assert held == want and want
    st = cli.run("sync", "--status", "--api-url", shared_server.url)
    assert f"scope:     project {project}; created from 2026-09-01 to now" in st.stdout


def test_bad_sync_settings_are_refused_in_words(cli, shared_server):
    cli.write_config('[sync]\nfrom = "-30d"\n')
    r = _sync(cli, shared_server)
    assert r.returncode == 2
    assert f"{cli.config}: sync.from: '-30d' is a relative date" in r.stderr
    cli.write_config('[sync]\nproject = ["x"]\n')
    r = _sync(cli, shared_server)
    assert r.returncode == 2 and "unknown key(s) 'project'; known keys: projects, from, to" in r.stderr
    cli.write_config("")
    r = _sync(cli, shared_server, "--from", "2026-05-01", "--to", "2026-04-01")
    assert r.returncode == 2 and "is empty" in r.stderr
