"""Every documented example runs as written (issue 14): each ``tasktui ...`` command line
in README.md's shell blocks and in each subcommand's ``--help`` examples is run for real,
through ``bash -o pipefail -c LINE`` (so quoting, pipes into ``jq`` and the retry loop are
the shell's), against the real bundled server, and must exit 0.

What the test supplies, and nothing more:
- the config file is README's own example (its ``[views]`` table is what ``--view`` names),
  with ``api_url`` / ``api_key`` pointing at a bundled test server, ``sandbox_seed`` small
  and the paths in tmp; ``$TASKTUI_DATA_DIR`` is in tmp;
- placeholders stand for real values: ``6430a6f1c0a1b2c3d4e5f607`` for a task id on that
  server, ``live_…`` / ``test_x`` / ``KEY`` for its key, ``http://127.0.0.1:8787/v1`` for its
  URL, and ``keys.txt`` (the serve example's key file) is created 0600;
- each example runs in its own empty directory (its output files land there); ``tasktui
  serve`` examples get ``--port 0`` (a fixed port would collide with parallel tests) and
  are stopped once they answer; console examples run in a pseudo-terminal and must paint
  their first rows ("Showing ...") before they are stopped.
"""

from __future__ import annotations

import fcntl
import json
import os
import pty
import re
import select
import shutil
import signal
import struct
import subprocess
import sys
import termios
import time
from pathlib import Path

import httpx
import pytest

from tasktui.cli.main import SUBCOMMANDS, build_parser

pytestmark = pytest.mark.skipif(os.name != "posix" or shutil.which("bash") is None,
                                reason="the examples are POSIX shell lines")

ROOT = Path(__file__).resolve().parents[2]
README = ROOT / "README.md"
VENV_BIN = Path(sys.executable).parent
PLACEHOLDER_ID = "6430a6f1c0a1b2c3d4e5f607"


def _strip_comment(line: str) -> str:
    return re.sub(r"(^|\s)#\s.*$", "", line).strip()


def _is_tasktui_line(line: str) -> bool:
    return re.search(r"(^|[\s;=/])tasktui(\s|$)", line) is not None


def readme_examples() -> list[str]:
    out, in_sh = [], False
    for raw in README.read_text().splitlines():
        if raw.startswith("```"):
            in_sh = raw.strip() in ("```sh", "```bash", "```console") if not in_sh else False
            continue
        line = _strip_comment(raw)
        if in_sh and line and (_is_tasktui_line(line) or line.startswith("make ")):
            out.append(line)
    return out


def help_examples() -> list[tuple[str, str]]:
    parser = build_parser()
    sub = next(a for a in parser._actions if a.dest == "command")
    out = []
    for name in SUBCOMMANDS:
        epilog = sub.choices[name].epilog or ""
        in_examples = False
        for raw in epilog.splitlines():
            if not raw.startswith(" "):
                in_examples = raw.strip() == "examples:"
                continue
            line = _strip_comment(raw)
            if in_examples and line and _is_tasktui_line(line):
                out.append((f"tasktui {name} --help", line))
    return out


def all_examples() -> dict[str, list[str]]:
    """line -> where it is documented"""
    found: dict[str, list[str]] = {}
    for line in readme_examples():
        found.setdefault(line, []).append("README.md")
    for where, line in help_examples():
        found.setdefault(line, []).append(where)
    return found


EXAMPLES = all_examples()


def test_the_examples_are_found():
    lines = set(EXAMPLES)
    assert "tasktui export --status completed --audit ready_to_audit --from -7d -o todo.ndjson" in lines
    assert any(line.startswith("tasktui get ") for line in lines)
    assert any(line.startswith("tasktui serve ") for line in lines)
    assert any("while tasktui export" in line for line in lines)
    assert sum("--help" in w for ws in EXAMPLES.values() for w in ws) >= 10
    assert len(lines) >= 15


def _kind(line: str) -> str:
    if line.startswith("make "):
        return "make"
    last = line.split("&&")[-1]  # `tasktui sync && tasktui --offline`: what runs last decides
    m = re.search(r"tasktui(?:\s+(\S+))?", last)
    word = m.group(1) if m and m.group(1) else ""
    if "--help" in line.split():
        return "plain"
    if word == "serve":
        return "serve"
    if word in ("", "tui", "open") or word.startswith("-") or word.startswith("|"):
        return "console"
    return "plain"


@pytest.fixture
def setting(shared_server, sql, tmp_path):
    """The environment, directory and placeholder values every example runs with."""
    toml = re.search(r"```toml\n(.*?)```", README.read_text(), re.S).group(1)
    toml = re.sub(r'^api_url = .*$', f'api_url = "{shared_server.url}"', toml, flags=re.M)
    toml = re.sub(r'^api_key = .*$', f'api_key = "{shared_server.api_key}"', toml, flags=re.M)
    toml = re.sub(r'^sandbox_db = .*$', f'sandbox_db = "{tmp_path / "sandbox.db"}"', toml, flags=re.M)
    toml = re.sub(r'^downloads_dir = .*$', f'downloads_dir = "{tmp_path / "downloads"}"', toml, flags=re.M)
    toml = re.sub(r'^sandbox_seed = .*$', "sandbox_seed = 300", toml, flags=re.M)
    config = tmp_path / "config.toml"
    config.write_text(toml)
    config.chmod(0o600)
    env = {k: v for k, v in os.environ.items()
           if k not in ("SCALE_API_KEY", "TASKTUI_API_URL", "TASKTUI_SERVE_KEYS", "COLUMNS", "LINES")}
    env.update(PATH=f"{VENV_BIN}{os.pathsep}{env.get('PATH', '')}", PYTHONPATH=str(ROOT),
               TASKTUI_CONFIG=str(config), TASKTUI_DATA_DIR=str(tmp_path / "data"), TERM="xterm-256color")
    task_id = sql(shared_server, "SELECT task_id FROM tasks ORDER BY id LIMIT 1")[0][0]
    work = tmp_path / "work"
    work.mkdir()
    return {"env": env, "cwd": work, "key": shared_server.api_key, "url": shared_server.url,
            "task_id": task_id}


def _substitute(line: str, s: dict) -> str:
    line = line.replace(PLACEHOLDER_ID, s["task_id"])
    line = line.replace("http://127.0.0.1:8787/v1", s["url"])
    line = line.replace("live_…", s["key"])
    line = re.sub(r"(--api-key )(test_x|KEY)\b", lambda m: m.group(1) + s["key"], line)
    return line


def _run_console(line: str, s: dict, cwd: Path) -> str:
    master, slave = pty.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 40, 120, 0, 0))
    proc = subprocess.Popen(["bash", "-c", line], stdin=slave, stdout=slave, stderr=slave, env=s["env"],
                            cwd=cwd, start_new_session=True)
    os.close(slave)
    seen = b""
    deadline = time.monotonic() + 60
    try:
        while time.monotonic() < deadline and b"Showing" not in seen and proc.poll() is None:
            ready, _, _ = select.select([master], [], [], 0.2)
            if ready:
                try:
                    seen += os.read(master, 65536)
                except OSError:
                    break
        alive = proc.poll() is None
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(10)
        os.close(master)
    text = seen.decode("utf-8", "replace")
    assert alive and "Showing" in text, f"exit {proc.returncode}: {text[-2000:]}"
    return text


def _run_serve(line: str, s: dict, cwd: Path) -> None:
    if "--port" in line:
        line = re.sub(r"--port \d+", "--port 0", line)
    else:
        line = line + " --port 0"
    expect_key = None
    if "--api-key-file keys.txt" in line:
        expect_key = "test_from_key_file"
        (cwd / "keys.txt").write_text(f"{expect_key}\n")
        (cwd / "keys.txt").chmod(0o600)
    m = re.search(r"TASKTUI_SERVE_KEYS=(\S+)", line)
    if m:
        expect_key = m.group(1).split(",")[0]
    proc = subprocess.Popen(["bash", "-c", "exec " + line if line.startswith("tasktui") else line],
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=s["env"],
                            cwd=cwd, start_new_session=True)
    lines: list[str] = []
    try:
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline:
            out = proc.stdout.readline()
            if not out:
                break
            lines.append(out)
            if out.startswith("Serving"):
                break
        text = "".join(lines)
        url = re.search(r"at (http://127\.0\.0\.1:\d+/v1)", text)
        assert url, f"exit {proc.poll()}: {text}"
        demo = re.search(r"demo key for this run: (\S+)", text)
        key = expect_key or (demo.group(1) if demo else s["key"])
        r = httpx.get(url.group(1) + "/tasks", params={"limit": 1}, auth=(key, ""), timeout=30)
        assert r.status_code == 200, r.text
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(15)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()


@pytest.mark.parametrize("line", sorted(EXAMPLES), ids=lambda line: line[:70])
def test_a_documented_example_runs_as_written(line, setting):
    kind = _kind(line)
    if kind == "make":
        pytest.skip("`make run` installs into .venv and opens the console: the console lines "
                    "below run the same `tasktui`, and CI runs `make test` itself")
    cmd = _substitute(line, setting)
    cwd = ROOT if ".venv/" in cmd else setting["cwd"]  # `.venv/bin/tasktui` is run from the checkout
    if kind == "console":
        _run_console(cmd, setting, cwd)
        return
    if kind == "serve":
        _run_serve(cmd, setting, cwd)
        return
    if "--offline" in cmd.split() or re.search(r"tasktui sync .*--status", cmd):
        # these read the local index: the documented order is `tasktui sync` first
        first = subprocess.run(["bash", "-c", "tasktui sync -q"], env=setting["env"], cwd=cwd,
                               capture_output=True, text=True, timeout=180, stdin=subprocess.DEVNULL)
        assert first.returncode == 0, first.stderr[-2000:]
    r = subprocess.run(["bash", "-o", "pipefail", "-c", cmd], env=setting["env"], cwd=cwd,
                       capture_output=True, text=True, timeout=180, stdin=subprocess.DEVNULL)
    assert r.returncode == 0, f"{EXAMPLES[line]}: {cmd}\nexit {r.returncode}\n{r.stderr[-3000:]}"
    # a file example leaves a finished, parseable file and no partial or checkpoint
    assert not [p.name for p in setting["cwd"].iterdir() if p.name.endswith((".partial", ".checkpoint.json"))]
    for p in setting["cwd"].iterdir():
        if p.suffix == ".json":
            assert isinstance(json.loads(p.read_text()), (list, dict)), p
        elif p.suffix == ".ndjson":
            assert all(isinstance(json.loads(x), dict) for x in p.read_text().splitlines()), p
