"""What an export reports while it runs (ExportProgress) and when it is done
(ExportResult): plain values, for the command line's bar and the app's dialog."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Callable

from tasktui.export.format import ExportFormat

__all__ = ["ExportProgress", "ExportResult", "ProgressCallback", "clock"]


@dataclass(frozen=True)
class ExportProgress:
    written: int  # tasks in the output so far (including those of earlier runs)
    total: int | None  # tasks the server says match (None until the first page)
    pages: int  # pages written in this run
    elapsed: float  # seconds since this run started
    resumed_from: int = 0  # tasks already written by earlier runs
    done: bool = False
    total_exact: bool = True  # False when the server counts a wider set (local filtering)

    @property
    def rate(self) -> float:
        """Tasks per second in this run."""
        n = self.written - self.resumed_from
        return n / self.elapsed if self.elapsed > 0 and n > 0 else 0.0

    @property
    def remaining(self) -> float | None:
        """Estimated seconds left (None when unknown)."""
        if self.total is None or self.rate <= 0:
            return None
        return max(0.0, (self.total - self.written) / self.rate)

    @property
    def fraction(self) -> float | None:
        if not self.total:
            return None
        return min(1.0, self.written / self.total)


@dataclass(frozen=True)
class ExportResult:
    path: Path | None  # the finished file (None when streaming to a file object)
    format: ExportFormat
    written: int
    total: int | None
    elapsed: float
    resumed_from: int = 0
    snapshot: datetime | None = None

    @property
    def written_words(self) -> str:
        """``1 task written`` / ``1,500 tasks written``: how both the CLI and the console say it."""
        return f"{self.written:,} {'task' if self.written == 1 else 'tasks'} written"


ProgressCallback = Callable[[ExportProgress], None]


def clock(seconds: float) -> str:
    """A duration as a clock reads it: ``4:05``, or ``1:02:03`` from an hour (the
    command line's bar and the console's dialog say time left this way)."""
    s = int(seconds + 0.5)
    h, rem = divmod(s, 3600)
    m, sec = divmod(rem, 60)
    return f"{h}:{m:02d}:{sec:02d}" if h else f"{m}:{sec:02d}"
