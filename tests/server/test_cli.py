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
    proc = subprocess.Popen([sys.executable, "-m", "tasktui", "serve", *args], stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True)
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
