"""Helpers for running the real command line (``python -m tasktui ...``) in a subprocess
with a clean environment: no key or URL inherited, config file and data directory in tmp."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


class Cli:
    """Runs ``python -m tasktui`` with ``env``; ``config`` is the (maybe absent) config file."""

    def __init__(self, tmp_path: Path):
        self.data = tmp_path / "data"
        self.config = tmp_path / "config.toml"
        self.env = {k: v for k, v in os.environ.items()
                    if k not in ("SCALE_API_KEY", "TASKTUI_API_URL", "TASKTUI_SERVE_KEYS")}
        self.env.update(TASKTUI_CONFIG=str(self.config), TASKTUI_DATA_DIR=str(self.data),
                        PYTHONPATH=str(ROOT))

    def write_config(self, text: str) -> Path:
        self.config.write_text(text)
        self.config.chmod(0o600)
        return self.config

    def argv(self, *args: str) -> list[str]:
        return [sys.executable, "-m", "tasktui", *args]

    def run(self, *args: str, env: dict[str, str] | None = None, timeout: float = 90,
            **kw) -> subprocess.CompletedProcess:
        kw.setdefault("stdin", subprocess.DEVNULL)
        return subprocess.run(self.argv(*args), env={**self.env, **(env or {})}, cwd=ROOT,
                              capture_output=True, text=True, timeout=timeout, **kw)

    def popen(self, *args: str, env: dict[str, str] | None = None, **kw) -> subprocess.Popen:
        kw.setdefault("stdin", subprocess.DEVNULL)
        return subprocess.Popen(self.argv(*args), env={**self.env, **(env or {})}, cwd=ROOT,
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, **kw)


@pytest.fixture
def cli(tmp_path: Path) -> Cli:
    return Cli(tmp_path)
