"""``tasktui serve`` as a user runs it: a real process on a free port."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time

import httpx
import pytest


def start(args: list[str]) -> tuple[subprocess.Popen, list[str]]:
    return start_env(args, None)


def stop(proc: subprocess.Popen) -> None:
    proc.terminate()
    try:
        proc.wait(10)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


def test_seed_demo_key_and_serve(tmp_path):
    db = tmp_path / "demo.db"
    proc, lines = start(["--port", "0", "--db", str(db), "--seed", "300"])
    try:
        text = "\n".join(lines)
        assert re.search(r"Seeded 300 demo tasks into .*demo\.db", text), text
        key = re.search(r"generated a demo key for this run: (test_\S+)", text).group(1)
        url = re.search(r"at (http://127\.0\.0\.1:\d+/v1)", text).group(1)
        r = httpx.get(url + "/tasks", params={"limit": 1}, auth=(key, ""))
        assert r.status_code == 200 and r.json()["total"] == 300
        assert httpx.get(url + "/tasks").status_code == 401
    finally:
        stop(proc)
    # a second run does not seed again, says so, and accepts the given keys only
    proc, lines = start(["--port", "0", "--db", str(db), "--seed", "300", "--api-key", "k-one", "--api-key", "k-two"])
    try:
        text = "\n".join(lines)
        assert "Not seeding" in text and "already holds 300 tasks" in text
        assert "demo key" not in text and "k-one" not in text and "k-two" not in text
        url = re.search(r"at (http://127\.0\.0\.1:\d+/v1)", text).group(1)
        for k in ("k-one", "k-two"):
            assert httpx.get(url + "/tasks", params={"limit": 1}, auth=(k, "")).json()["total"] == 300
    finally:
        stop(proc)


@pytest.mark.parametrize("host", ["0.0.0.0", "192.168.1.10", "::"])
def test_remote_host_needs_allow_remote(tmp_path, host):
    r = subprocess.run([sys.executable, "-m", "tasktui", "serve", "--host", host, "--port", "0",
                        "--db", str(tmp_path / "x.db")], capture_output=True, text=True, timeout=60)
    assert r.returncode == 2 and "--allow-remote" in r.stderr and "refusing" in r.stderr


def test_bad_flags_are_explained(tmp_path):
    r = subprocess.run([sys.executable, "-m", "tasktui", "serve", "--port", "70000"], capture_output=True,
                       text=True, timeout=60)
    assert r.returncode == 2 and "not a TCP port" in r.stderr
    r = subprocess.run([sys.executable, "-m", "tasktui", "serve", "--seed", "-5"], capture_output=True,
                       text=True, timeout=60)
    assert r.returncode == 2 and "must be 0 or more" in r.stderr
    bad = tmp_path / "not-a-db.db"
    bad.write_bytes(b"this is not sqlite" * 100)
    r = subprocess.run([sys.executable, "-m", "tasktui", "serve", "--port", "0", "--db", str(bad)],
                       capture_output=True, text=True, timeout=60)
    assert r.returncode == 1 and "cannot open the database" in r.stderr


def test_the_default_database_follows_the_data_directory(tmp_path):
    """`serve` without --db uses server.db in $TASKTUI_DATA_DIR, like the sandbox does."""
    data = tmp_path / "data"
    env = {**os.environ, "TASKTUI_DATA_DIR": str(data)}
    proc = subprocess.Popen([sys.executable, "-m", "tasktui", "serve", "--port", "0", "--seed", "5"], env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    lines: list[str] = []
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            line = proc.stdout.readline()
            if not line:
                break
            lines.append(line)
            if line.startswith("Serving"):
                break
    finally:
        stop(proc)
    text = "".join(lines)
    assert f"(database {data / 'server.db'}" in text, text
    assert (data / "server.db").exists()
    r = subprocess.run([sys.executable, "-m", "tasktui", "serve", "--help"], env=env, capture_output=True,
                       text=True, timeout=60)
    assert str(data / "server.db") in "".join(r.stdout.split())  # help text wraps long paths


# --------------------------------------------------------------------------- keys off the command line
def _serve_env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k != "TASKTUI_SERVE_KEYS"}
    env.update(extra)
    return env


def start_env(args: list[str], env: dict[str, str] | None) -> tuple[subprocess.Popen, list[str]]:
    """``tasktui serve ARGS`` with ``env`` (None: this process's), read up to its "Serving" line."""
    proc = subprocess.Popen([sys.executable, "-m", "tasktui", "serve", *args], stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True, env=env)
    lines: list[str] = []
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        line = proc.stdout.readline()
        if not line:
            break
        lines.append(line.rstrip("\n"))
        if line.startswith("Serving"):
            break
    return proc, lines


def _accepts(url: str, key: str) -> bool:
    return httpx.get(url + "/tasks", params={"limit": 1}, auth=(key, "")).status_code == 200


def test_keys_from_the_environment_are_accepted_and_never_printed(tmp_path):
    env = _serve_env(TASKTUI_SERVE_KEYS="env-key-one, env-key-two")
    proc, lines = start_env(["--port", "0", "--db", str(tmp_path / "e.db")], env)
    try:
        text = "\n".join(lines)
        url = re.search(r"at (http://127\.0\.0\.1:\d+/v1)", text).group(1)
        assert _accepts(url, "env-key-one") and _accepts(url, "env-key-two") and not _accepts(url, "other")
        assert "demo key" not in text and "env-key" not in text
        assert "2 API keys from $TASKTUI_SERVE_KEYS" in text, text
    finally:
        stop(proc)


def test_keys_from_a_private_key_file_are_accepted(tmp_path):
    keys = tmp_path / "keys.txt"
    keys.write_text("# one key a line\nfile-key-one\n\n  file-key-two  \n")
    keys.chmod(0o600)
    proc, lines = start_env(["--port", "0", "--db", str(tmp_path / "f.db"), "--api-key-file", str(keys),
                             "--api-key", "flag-key"], _serve_env())
    try:
        text = "\n".join(lines)
        url = re.search(r"at (http://127\.0\.0\.1:\d+/v1)", text).group(1)
        for k in ("file-key-one", "file-key-two", "flag-key"):
            assert _accepts(url, k), k
        assert not _accepts(url, "# one key a line") and "file-key" not in text
    finally:
        stop(proc)


@pytest.mark.skipif(os.name != "posix", reason="file modes are POSIX")
@pytest.mark.parametrize("content, mode, words", [
    ("secret-key\n", 0o644, ["other users can read", "chmod 600"]),
    ("# nothing but a comment\n\n", 0o600, ["holds no key"]),
])
def test_a_readable_or_empty_key_file_is_refused(tmp_path, content, mode, words):
    keys = tmp_path / "keys.txt"
    keys.write_text(content)
    keys.chmod(mode)
    r = subprocess.run([sys.executable, "-m", "tasktui", "serve", "--port", "0", "--db", str(tmp_path / "x.db"),
                        "--api-key-file", str(keys)], capture_output=True, text=True, timeout=60, env=_serve_env())
    assert r.returncode == 2, r.stderr
    assert str(keys) in r.stderr and all(w in r.stderr for w in words), r.stderr
    assert "secret-key" not in r.stderr + r.stdout
    r = subprocess.run([sys.executable, "-m", "tasktui", "serve", "--api-key-file", str(tmp_path / "none.txt")],
                       capture_output=True, text=True, timeout=60, env=_serve_env())
    assert r.returncode == 2 and "cannot read" in r.stderr, r.stderr


def test_help_says_where_keys_may_come_from():
    r = subprocess.run([sys.executable, "-m", "tasktui", "serve", "--help"], capture_output=True, text=True,
                       timeout=60, env=_serve_env())
    text = " ".join(r.stdout.split())
    assert "TASKTUI_SERVE_KEYS" in text and "--api-key-file" in text and "process list" in text, text


def test_listening_on_every_interface_says_so_and_warns(tmp_path):
    proc, lines = start_env(["--host", "0.0.0.0", "--allow-remote", "--port", "0", "--db", str(tmp_path / "r.db"),
                             "--api-key", "k"], _serve_env())
    try:
        text = "\n".join(lines)
        serving = lines[-1]
        assert re.search(r"http://0\.0\.0\.0:\d+/v1", serving), text
        assert "warning" in text.lower() and "other machines" in text and "no TLS" in text, text
        port = re.search(r"0\.0\.0\.0:(\d+)", serving).group(1)
        assert _accepts(f"http://127.0.0.1:{port}/v1", "k")
    finally:
        stop(proc)


def test_public_url_names_the_origin_in_attachment_urls(tmp_path):
    proc, lines = start_env(["--host", "0.0.0.0", "--allow-remote", "--port", "0", "--seed", "50",
                             "--db", str(tmp_path / "p.db"), "--api-key", "k",
                             "--public-url", "http://labeling-box:9999"], _serve_env())
    try:
        port = re.search(r"0\.0\.0\.0:(\d+)", lines[-1]).group(1)
        r = httpx.get(f"http://127.0.0.1:{port}/v1/tasks", params={"limit": 100}, auth=("k", ""))
        urls = [d["params"]["attachment"] for d in r.json()["docs"] if d.get("params", {}).get("attachment")]
        assert urls and all(u.startswith("http://labeling-box:9999/v1/media/") for u in urls), urls[:3]
    finally:
        stop(proc)


def test_public_url_must_be_an_origin():
    r = subprocess.run([sys.executable, "-m", "tasktui", "serve", "--public-url", "http://h:1/v1/x"],
                       capture_output=True, text=True, timeout=60, env=_serve_env())
    assert r.returncode == 2 and "give an origin" in r.stderr


def test_an_unparseable_request_gets_the_scale_error_shape_under_serve(tmp_path):
    import json
    import socket

    proc, lines = start_env(["--port", "0", "--db", str(tmp_path / "u.db"), "--api-key", "k"], _serve_env())
    try:
        port = int(re.search(r"127\.0\.0\.1:(\d+)", lines[-1]).group(1))
        with socket.create_connection(("127.0.0.1", port), timeout=10) as s:
            s.sendall(b"GET /v1/tasks?" + b"a" * 70_000 + b" HTTP/1.1\r\nHost: x\r\n\r\n")
            data = b""
            while b"\r\n\r\n" not in data or not data.rstrip().endswith(b"}"):
                chunk = s.recv(65536)
                if not chunk:
                    break
                data += chunk
        head, _, body = data.partition(b"\r\n\r\n")
        assert head.startswith(b"HTTP/1.1 4"), head[:80]
        doc = json.loads(body)
        assert set(doc) == {"status_code", "error"} and doc["status_code"] >= 400
    finally:
        stop(proc)
