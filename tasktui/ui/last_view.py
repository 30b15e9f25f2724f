"""The view the operator left, restored on the next start (as k9s does): the filters (dates
as typed), the sort order, the time zone and the live-refresh interval.

It is saved under the data directory (``last-view.json``, written atomically) when the app
quits, and read when it starts without ``--view``. A file that cannot be read is ignored:
the app starts fresh. :func:`forget_last_view` is the "start fresh" of the palette.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Mapping

from tasktui.config import ConfigError, SavedView, parse_view
from tasktui.domain import Zone
from tasktui.files import write_atomic
from tasktui.locations import data_dir

__all__ = ["FILE_NAME", "LastView", "default_path", "forget_last_view", "load_last_view", "save_last_view"]

FILE_NAME = "last-view.json"
VERSION = 1


@dataclass(frozen=True)
class LastView:
    """What the Tasks screen showed: filters (with the sort order), zone, live interval (0: off)."""

    view: SavedView
    zone: Zone
    live_interval: float


def default_path(env: Mapping[str, str] | None = None) -> Path:
    """``<data dir>/last-view.json``."""
    return data_dir(env) / FILE_NAME


def save_last_view(last: LastView, path: Path) -> None:
    """Write ``last`` to ``path`` atomically (the directory is created). Raises OSError."""
    path.parent.mkdir(parents=True, exist_ok=True)
    data = {"version": VERSION, "filters": last.view.to_toml(), "zone": last.zone.value,
            "live_interval": last.live_interval}
    write_atomic(path, (json.dumps(data, indent=2, ensure_ascii=False) + "\n").encode())


def load_last_view(path: Path) -> LastView | None:
    """The saved view, or None when there is none or it cannot be used."""
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
        if not isinstance(raw, dict) or raw.get("version") != VERSION:
            return None
        view = parse_view("", raw.get("filters") or {}, "last view")
        zone = Zone(raw["zone"])
        live = float(raw["live_interval"])
    except (OSError, ValueError, KeyError, TypeError, ConfigError):
        return None
    return LastView(view=view, zone=zone, live_interval=max(0.0, live))


def forget_last_view(path: Path) -> None:
    """Remove the saved view (the next start is fresh)."""
    path.unlink(missing_ok=True)
