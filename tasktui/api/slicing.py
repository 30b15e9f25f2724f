"""Where to cut a creation-time range so that each part holds about ``target`` tasks,
judged only from what the public API tells: a range's ``total`` and its first page
(newest first). Pure arithmetic; the Pager probes the parts and cuts again where a
guess was wrong.
"""

from __future__ import annotations

from datetime import datetime, timedelta

#: Creation times on the wire have millisecond precision: no part is narrower.
TICK = timedelta(milliseconds=1)
#: At most this many parts per cut of one range (the next round cuts further).
MAX_PARTS = 64
#: A part is cut again while it holds more than this many times the target.
OVERSHOOT = 1.5


def slice_target(total: int, parallel: int, *, page: int = 100, hold: int = 2_000) -> int:
    """Tasks per slice for a listing of ``total`` read by ``parallel`` chains: about four
    slices per chain (so a chain that drew a short slice takes another), at most ``hold``
    (a slice read oldest first is held whole to be reversed). Rounded to whole pages less
    a tenth of one, so that a slice a little bigger than guessed still fills its last
    page instead of needing one more for a handful of tasks."""
    raw = min(hold, -(-total // max(1, 4 * parallel)))
    pages = max(2, round(raw / page))
    return pages * page - page // 10


def too_big(total: int, target: int) -> bool:
    return total > target * OVERSHOOT


def cut_points(lo: datetime | None, hi: datetime, newest: list[datetime], total: int,
               target: int) -> list[datetime]:
    """Cuts (descending, strictly inside ``(lo, hi)``) that split the range ``[lo, hi)``
    holding ``total`` tasks into parts of about ``target``, newest first.

    ``newest`` are the creation times of the range's first page (newest first). The rate
    of creation near ``hi`` is taken from them, and the parts are laid back from ``hi``
    at that rate; the last part (down to ``lo``, open when None) takes the rest. Where
    the rate tells nothing (every task of the page in the same millisecond, or no page),
    a bounded range is cut evenly. Returns [] when the range cannot be cut.
    """
    parts = min(MAX_PARTS, max(2, -(-total // max(1, target))))
    width: timedelta | None = None
    if newest:
        span = hi - min(newest)
        if span >= TICK * 2:
            width = span * (target / len(newest))
    if width is None and lo is None:
        # Every task of the page in one millisecond: cut that millisecond off the rest.
        edge = _floor_ms(min(newest)) if newest else None
        return [edge] if edge is not None and edge < hi else []
    if width is None or (lo is not None and width * (parts - 1) >= hi - lo):
        assert lo is not None
        width = (hi - lo) / parts
    return _cuts_from(hi, width, parts, lo)


def _cuts_from(hi: datetime, width: timedelta, parts: int, lo: datetime | None) -> list[datetime]:
    width = max(width, TICK)
    cuts: list[datetime] = []
    for j in range(1, parts):
        c = _floor_ms(hi - width * j)
        if lo is not None and c <= lo:
            break
        if c >= hi or (cuts and c >= cuts[-1]):
            continue
        cuts.append(c)
    return cuts


def _floor_ms(t: datetime) -> datetime:
    return t.replace(microsecond=t.microsecond // 1000 * 1000)
