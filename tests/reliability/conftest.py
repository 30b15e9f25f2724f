"""Reliability tests reuse the benchmark harness in ``bench/`` (server in its own
process, writers, checks in SQLite): make the repository root importable."""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))
