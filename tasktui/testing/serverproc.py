"""The bundled server in its own OS process (``python -m tasktui serve``), for the
load and crash benchmarks and the reliability tests (``tasktui.testing.crash``): a
process can be SIGKILLed, which a server thread cannot.

Loopback only. Every wait here is bounded.
"""

from __future__ import annotations

import os
import signal
import socket
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import httpx

#: The folder holding the ``tasktui`` package: the child runs there, so ``python -m
#: tasktui`` imports this very copy of the package.
ROOT = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class ServerStartError(RuntimeError):
    pass


class ServerProcess:
    """``tasktui serve --db DB --port P --api-key KEY`` as a child process."""

    def __init__(self, db: Path | str, api_key: str, *, log_path: Path | str | None = None,
                 extra_args: tuple[str, ...] = ()):
        self.db = Path(db)
        self.api_key = api_key
        self.log_path = Path(log_path) if log_path else None
        self.extra_args = tuple(extra_args)
        self.proc: subprocess.Popen | None = None
        self.port = 0
        self._log = None

    @property
    def origin(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def url(self) -> str:
        return f"{self.origin}/v1"

    @property
    def pid(self) -> int:
        assert self.proc is not None
        return self.proc.pid

    def start(self, timeout: float = 60.0, attempts: int = 3) -> "ServerProcess":
        last = ""
        for _ in range(attempts):  # a free port can be taken between probe and bind
            self.port = free_port()
            if self._launch(timeout):
                return self
            last = self.log_tail()
        raise ServerStartError(f"tasktui serve did not start on {self.db}:\n{last}")

    def _launch(self, timeout: float) -> bool:
        if self.log_path:
            self.log_path.parent.mkdir(parents=True, exist_ok=True)
            self._log = open(self.log_path, "ab")
            out = self._log
        else:
            out = subprocess.DEVNULL
        cmd = [sys.executable, "-m", "tasktui", "serve", "--host", "127.0.0.1",
               "--port", str(self.port), "--db", str(self.db), "--api-key", self.api_key,
               *self.extra_args]
        self.proc = subprocess.Popen(cmd, cwd=ROOT, stdout=out, stderr=subprocess.STDOUT,
                                     stdin=subprocess.DEVNULL, start_new_session=True)
        deadline = time.monotonic() + timeout
        with httpx.Client(timeout=2.0) as client:
            while time.monotonic() < deadline:
                if self.proc.poll() is not None:
                    self._close_log()
                    return False
                try:
                    r = client.get(f"{self.url}/projects", auth=(self.api_key, ""))
                    if r.status_code == 200:
                        return True
                except httpx.HTTPError:
                    pass
                time.sleep(0.05)
        self.kill()
        return False

    def log_tail(self, n: int = 4000) -> str:
        if self.log_path and self.log_path.exists():
            return self.log_path.read_bytes()[-n:].decode("utf-8", "replace")
        return ""

    def kill(self) -> int | None:
        """SIGKILL, no chance to clean up. Returns the exit status."""
        if self.proc is None:
            return None
        if self.proc.poll() is None:
            os.kill(self.proc.pid, signal.SIGKILL)
        rc = self.proc.wait(timeout=30)
        self._close_log()
        return rc

    def stop(self, timeout: float = 20.0) -> int | None:
        """SIGTERM (a clean shutdown), SIGKILL if it does not end in time."""
        if self.proc is None:
            return None
        if self.proc.poll() is None:
            os.kill(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                os.kill(self.proc.pid, signal.SIGKILL)
                self.proc.wait(timeout=30)
        self._close_log()
        return self.proc.returncode

    def _close_log(self) -> None:
        if self._log is not None:
            self._log.close()
            self._log = None

    def rss_mb(self) -> float | None:
        try:
            for line in Path(f"/proc/{self.pid}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) / 1024
        except (OSError, AssertionError):
            return None
        return None

    def cpu_seconds(self) -> float | None:
        """User + system CPU time the server process has used so far."""
        try:
            fields = Path(f"/proc/{self.pid}/stat").read_text().rsplit(")", 1)[1].split()
            return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
        except (OSError, AssertionError, IndexError, ValueError):
            return None

    def __enter__(self) -> "ServerProcess":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()


def integrity_check(db: Path | str) -> str:
    """``PRAGMA integrity_check`` on the database (opened read-write so that a
    leftover WAL is replayed, as the server itself would)."""
    con = sqlite3.connect(str(db), timeout=30)
    try:
        rows = con.execute("PRAGMA integrity_check").fetchall()
    finally:
        con.close()
    return "; ".join(str(r[0]) for r in rows)


def checkpoint(db: Path | str) -> None:
    con = sqlite3.connect(str(db), timeout=30)
    try:
        con.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    finally:
        con.close()
