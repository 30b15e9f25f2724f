"""``tasktui export`` and ``tasktui get`` as a script runs them: ``python -m tasktui ...``
in a subprocess against the bundled server over HTTP, checking exit codes, outputs and
files. Bad-input cases that never reach the network run in-process (same ``main``)."""

from __future__ import annotations

import json
import os
import pty
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import orjson
import pytest

from sql_oracle import expected_ids as oracle_ids
from tasktui.cli.main import main
from tasktui.domain import AuditStatus, OperatorStatus, TaskQuery
from tasktui.export import checkpoint_path, partial_path, read_checkpoint
from tasktui.testing.faultproxy import Fault, FaultProxy

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def clean_env(tmp_path, monkeypatch):
    """No config file, no key in the environment, sandbox data in tmp: the flags decide."""
    env = {k: v for k, v in os.environ.items() if k not in ("SCALE_API_KEY", "TASKTUI_API_URL")}
    env["TASKTUI_CONFIG"] = str(tmp_path / "no-config.toml")
    env["TASKTUI_DATA_DIR"] = str(tmp_path / "data")
    env["PYTHONPATH"] = str(ROOT)
    for k in ("SCALE_API_KEY", "TASKTUI_API_URL"):
        monkeypatch.delenv(k, raising=False)
    monkeypatch.setenv("TASKTUI_CONFIG", env["TASKTUI_CONFIG"])
    monkeypatch.setenv("TASKTUI_DATA_DIR", env["TASKTUI_DATA_DIR"])
    return env


def tasktui(env, *args, timeout=60, **kw) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "tasktui", *args], env=env, cwd=ROOT,
                          capture_output=True, timeout=timeout, **kw)


def conn(server, url=None) -> list[str]:
    return ["--api-url", url or server.url, "--api-key", server.api_key]


def expected_ids(sql, server, query: TaskQuery) -> list[str]:
    """The ids the database holds for the query, newest first: SQL written in
    tests/sql_oracle.py, not the exporter's snapshot_query nor TaskQuery.matches."""
    ids = oracle_ids(server.db_path, query)
    assert ids, "the seed holds tasks for the query, or the check would pass for any filter"
    return ids


def ndjson_ids(data: bytes) -> list[str]:
    assert data.endswith(b"\n")
    return [json.loads(line)["task_id"] for line in data.decode().splitlines()]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# --------------------------------------------------------------------------- success
def test_filtered_export_to_a_file_matches_the_database(shared_server, sql, tmp_path, clean_env):
    out = tmp_path / "todo.ndjson"
    r = tasktui(clean_env, "export", "--status", "completed", "--audit", "ready_to_audit",
                "--project", "Street Scenes", "-o", str(out), *conn(shared_server))
    assert r.returncode == 0, r.stderr
    want = expected_ids(sql, shared_server, TaskQuery(
        statuses=frozenset({OperatorStatus.COMPLETED}),
        audit_statuses=frozenset({AuditStatus.READY_TO_AUDIT}), projects=("Street Scenes",)))
    assert ndjson_ids(out.read_bytes()) == want  # the .ndjson name chose the format
    assert r.stdout == b""
    assert f"{len(want):,} tasks written to {out}".encode() in r.stderr
    assert not partial_path(out).exists() and not checkpoint_path(out).exists()
    assert shared_server.api_key.encode() not in out.read_bytes() + r.stderr


def test_an_export_of_one_task_says_one_task(shared_server, sql, tmp_path, clean_env):
    (one,), = sql(shared_server, "SELECT task_id FROM tasks ORDER BY created_at LIMIT 1")
    out = tmp_path / "one.ndjson"
    r = tasktui(clean_env, "export", "--search", one, "-o", str(out), *conn(shared_server))
    assert r.returncode == 0, r.stderr
    assert ndjson_ids(out.read_bytes()) == [one]
    assert f"1 task written to {out} (ndjson)".encode() in r.stderr  # not "1 tasks"


def test_stdout_for_jq_in_both_formats_and_no_progress_bar_when_not_a_terminal(
        shared_server, sql, clean_env):
    want = expected_ids(sql, shared_server, TaskQuery(
        statuses=frozenset({OperatorStatus.QUEUED, OperatorStatus.IN_PROGRESS}), types=("transcription",)))
    common = ["--status", "queued,in_progress", "--type", "transcription", *conn(shared_server)]
    r = tasktui(clean_env, "export", "--format", "ndjson", *common)
    assert r.returncode == 0, r.stderr
    assert ndjson_ids(r.stdout) == want
    r2 = tasktui(clean_env, "export", *common)  # default format: one JSON array
    assert r2.returncode == 0, r2.stderr
    assert [d["task_id"] for d in json.loads(r2.stdout)] == want
    # stderr is a pipe here: a summary line, no progress bar
    assert r.stderr.count(b"\n") == 1 and b"exporting" not in r.stderr and b"\r" not in r.stderr
    assert shared_server.api_key.encode() not in r.stdout + r.stderr + r2.stdout + r2.stderr


def test_progress_bar_only_when_stderr_is_a_terminal(shared_server, tmp_path, clean_env):
    master, slave = pty.openpty()
    out = tmp_path / "tty.json"
    p = subprocess.Popen([sys.executable, "-m", "tasktui", "export", "-o", str(out), *conn(shared_server)],
                         env={**clean_env, "TERM": "xterm", "COLUMNS": "100"}, cwd=ROOT,
                         stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=slave)
    os.close(slave)
    chunks = []
    while True:
        try:
            data = os.read(master, 65536)
        except OSError:
            break
        if not data:
            break
        chunks.append(data)
    os.close(master)
    assert p.wait(60) == 0
    seen = b"".join(chunks)
    assert b"1,500 tasks written" in seen
    assert b"exporting" in seen and b"1500/1500" in seen  # the bar: written of total


def test_get_prints_one_task_and_exit_4_for_an_unknown_id(shared_server, sql, clean_env, tmp_path):
    doc = orjson.loads(sql(shared_server, "SELECT doc FROM docs LIMIT 1")[0][0])
    r = tasktui(clean_env, "get", doc["task_id"], *conn(shared_server))
    assert r.returncode == 0, r.stderr
    got = json.loads(r.stdout)
    assert got["task_id"] == doc["task_id"] and got["status"] == doc["status"]
    out = tmp_path / "one.json"
    r = tasktui(clean_env, "get", doc["task_id"], "-o", str(out), "--compact", *conn(shared_server))
    assert r.returncode == 0 and json.loads(out.read_text()) == got
    assert len(out.read_text().splitlines()) == 1
    r = tasktui(clean_env, "get", doc["task_id"], "-o", str(out), *conn(shared_server))
    assert r.returncode == 2 and b"already exists" in r.stderr
    r = tasktui(clean_env, "get", "6b00000000000000deadbeef", *conn(shared_server))
    assert r.returncode == 4
    assert r.stderr.decode().strip() == "tasktui get: no task with id '6b00000000000000deadbeef'"
    assert r.stdout == b""


# --------------------------------------------------------------------------- exit codes
def test_wrong_key_exits_3_and_never_echoes_a_key(shared_server, tmp_path, clean_env):
    out = tmp_path / "x.json"
    r = tasktui(clean_env, "export", "-o", str(out), "--api-url", shared_server.url,
                "--api-key", "test_wrong_key_4f1c9b")
    assert r.returncode == 3
    assert b"API key" in r.stderr and b"test_wrong_key_4f1c9b" not in r.stderr
    assert len(r.stderr.decode().strip().splitlines()) == 1
    # nothing was written, so nothing is left behind to resume
    assert not out.exists() and not partial_path(out).exists() and not checkpoint_path(out).exists()


def test_unreachable_server_exits_1(tmp_path, clean_env):
    r = tasktui(clean_env, "export", "-o", str(tmp_path / "x.json"), "--retries", "0",
                "--api-url", f"http://127.0.0.1:{free_port()}/v1", "--api-key", "test_x")
    assert r.returncode == 1
    assert b"cannot reach the server" in r.stderr


@pytest.mark.parametrize("args, words", [
    (["--status", "bogus"], "--status: unknown task status 'bogus'"),
    (["--status", "pending"], "split in three"),
    (["--audit", "maybe"], "--audit: unknown audit status"),
    (["--frm", "2026-01-01"], "unknown option --frm"),
    (["--from", "2026-02-30"], "--from: '2026-02-30' is not a real date"),
    (["--from", "2026-03-01", "--to", "2026-02-01"], "before the start"),
    (["--tz", "mars", "--from", "today"], "--tz: unknown time zone"),
    (["--date-field", "updated"], "--date-field: unknown field"),
    (["--format", "xml"], "--format: unknown format 'xml'"),
    (["--resume"], "standard output cannot be resumed"),
    (["-o", "/nonexistent-dir-xyz/out.json"], "the folder /nonexistent-dir-xyz does not exist"),
    (["--retries", "-1"], "--retries must be between 0 and 20"),
    (["--page-size", "5000"], "--page-size must be between 1 and 1000"),
])
def test_bad_input_is_one_clear_line_and_exit_2(args, words, capsys, clean_env):
    try:
        code = main(["export", *args, "--api-url", "http://127.0.0.1:9/v1", "--api-key", "test_x"])
    except SystemExit as e:
        code = e.code
    err = capsys.readouterr().err
    assert code == 2
    assert len(err.strip().splitlines()) == 1, err
    assert err.startswith("tasktui export: ") and words in err


def test_existing_file_is_kept_and_exit_2(tmp_path, capsys, clean_env):
    out = tmp_path / "done.json"
    out.write_text("[]\n")
    code = main(["export", "-o", str(out), "--api-url", "http://127.0.0.1:9/v1", "--api-key", "test_x"])
    assert code == 2
    assert "already exists; add --force" in capsys.readouterr().err
    assert out.read_text() == "[]\n"


def test_the_cli_path_never_imports_textual(shared_server, clean_env, tmp_path):
    code = (
        "import sys\n"
        "from tasktui.cli.main import main\n"
        f"rc = main(['export', '-q', '-o', {str(tmp_path / 'a.json')!r}, '--api-url', {shared_server.url!r},"
        f" '--api-key', {shared_server.api_key!r}])\n"
        "print(rc, any(m == 'textual' or m.startswith('textual.') for m in sys.modules))\n"
    )
    r = subprocess.run([sys.executable, "-c", code], env=clean_env, cwd=ROOT, capture_output=True, timeout=60)
    assert r.stdout.decode().split() == ["0", "False"], r.stderr


# --------------------------------------------------------------------------- resume
def test_dropped_connection_exit_1_then_resume_gives_the_full_set(shared_server, sql, tmp_path, clean_env):
    out = tmp_path / "all.json"
    want = expected_ids(sql, shared_server, TaskQuery())
    with FaultProxy(shared_server.url).running() as proxy:
        # pages 2-4 pass, page 5 loses its connection half-way through the body
        proxy.script(*[Fault.slow(0, match="next_token")] * 3, Fault.drop("body", match="next_token"))
        r = tasktui(clean_env, "export", "-o", str(out), "--retries", "0", "--page-size", "100",
                    *conn(shared_server, proxy.url))
        assert r.returncode == 1, r.stderr
        assert b"--resume" in r.stderr and str(partial_path(out)).encode() in r.stderr
        assert not out.exists()  # a failed export never looks finished
        cp = read_checkpoint(out)
        assert cp is not None and cp.written == 400 and cp.pages == 4
        assert shared_server.api_key not in checkpoint_path(out).read_text()
        r = tasktui(clean_env, "export", "-o", str(out), "--resume", *conn(shared_server, proxy.url))
    assert r.returncode == 0, r.stderr
    assert b"continuing from 400" in r.stderr
    ids = [d["task_id"] for d in json.loads(out.read_bytes())]  # still one valid JSON array
    assert ids == want and len(set(ids)) == len(ids)
    assert not partial_path(out).exists() and not checkpoint_path(out).exists()


def test_ctrl_c_exit_130_keeps_a_resumable_partial(shared_server, sql, tmp_path, clean_env):
    out = tmp_path / "slow.ndjson"
    want = expected_ids(sql, shared_server, TaskQuery(statuses=frozenset({OperatorStatus.COMPLETED})))
    with FaultProxy(shared_server.url).running() as proxy:
        proxy.script(Fault.slow(0.3, match="next_token"), times=20)
        p = subprocess.Popen([sys.executable, "-m", "tasktui", "export", "--status", "completed", "-o", str(out),
                              "--page-size", "100",
                              *conn(shared_server, proxy.url)], env=clean_env, cwd=ROOT,
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                             # a runner may start us with SIGINT ignored (some CI agents do), and
                             # an ignored signal stays ignored across exec: give the child the
                             # default disposition, as a shell gives a foreground command
                             preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
        deadline = time.monotonic() + 30
        cp = None
        while time.monotonic() < deadline and p.poll() is None:
            try:
                cp = read_checkpoint(out)
            except Exception:
                cp = None
            if cp is not None and cp.written >= 100:
                break
            time.sleep(0.05)  # polling interval
        if cp is None or cp.written < 100:
            p.kill()
            _, err = p.communicate(timeout=30)
            pytest.fail(f"the export never checkpointed 100 tasks (exit {p.returncode}): {err[-2000:]!r}")
        p.send_signal(signal.SIGINT)
        _, err = p.communicate(timeout=30)
    assert p.returncode == 130, err
    assert b"interrupted" in err and b"--resume" in err
    assert not out.exists() and partial_path(out).exists()
    # filters must match to resume
    r = tasktui(clean_env, "export", "--status", "queued", "-o", str(out), "--resume", *conn(shared_server))
    assert r.returncode == 2 and b"other filters" in r.stderr
    r = tasktui(clean_env, "export", "--status", "completed", "-o", str(out), "--resume", *conn(shared_server))
    assert r.returncode == 0, r.stderr
    assert ndjson_ids(out.read_bytes()) == want
