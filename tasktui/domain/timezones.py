"""Time zones the operator works in, parsing what they type, and formatting instants.

Everything returned is an aware ``datetime`` in UTC; pendulum does the zone arithmetic.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from enum import StrEnum
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import pendulum


class _LazyPendulum:
    """``pendulum``, imported on first use: the console's first screen (in UTC) needs
    none of it, and importing it costs ~60 ms of start-up."""

    def __getattr__(self, name: str) -> Any:
        import pendulum as real

        globals()["pendulum"] = real
        return getattr(real, name)


pendulum = _LazyPendulum()  # type: ignore[no-redef]  # noqa: F811

UTC = timezone.utc


class Zone(StrEnum):
    UTC = "utc"
    PACIFIC = "pacific"
    LOCAL = "local"

    @property
    def label(self) -> str:
        return {"utc": "UTC", "pacific": "Pacific", "local": "Local"}[self.value]

    def tz(self) -> pendulum.Timezone | pendulum.FixedTimezone:
        if self is Zone.UTC:
            return pendulum.UTC
        if self is Zone.PACIFIC:
            return pendulum.timezone("America/Los_Angeles")
        return pendulum.local_timezone()

    def next(self) -> "Zone":
        order = list(Zone)
        return order[(order.index(self) + 1) % len(order)]


def parse_zone(text: str) -> Zone:
    key = text.strip().lower()
    aliases = {"utc": Zone.UTC, "z": Zone.UTC, "pacific": Zone.PACIFIC, "pt": Zone.PACIFIC,
               "america/los_angeles": Zone.PACIFIC, "local": Zone.LOCAL}
    if key in aliases:
        return aliases[key]
    raise ValueError(f"unknown time zone {text!r}; choose utc, pacific or local")


class DateInputError(ValueError):
    """What the operator typed is not a date we understand, or the range is inverted."""


_REL = re.compile(r"^-\s*(\d+)\s*([mhdw])$")
_DATE = re.compile(r"^(\d{4})-(\d{1,2})-(\d{1,2})$")
_DATETIME = re.compile(r"^(\d{4})-(\d{1,2})-(\d{1,2})[ tT](\d{1,2}):(\d{2})(?::(\d{2}))?$")
_UNITS = {"m": "minutes", "h": "hours", "d": "days", "w": "weeks"}

HELP = "use YYYY-MM-DD, YYYY-MM-DD HH:MM, today, yesterday, now or -7d / -12h / -2w"


def _now(now: datetime | None) -> datetime:
    return now.astimezone(UTC) if now is not None else datetime.now(UTC)


def _local(y: int, mo: int, d: int, h: int, mi: int, s: int, zone: Zone, text: str) -> datetime:
    tz = zone.tz()
    try:
        # fold=0: an ambiguous wall time (the repeated hour when clocks fall back)
        # means its first occurrence.
        dt = pendulum.datetime(y, mo, d, h, mi, s, tz=tz, fold=0)
    except ValueError as e:
        raise DateInputError(f"{text!r} is not a real date: {e}") from None
    if (dt.year, dt.month, dt.day, dt.hour, dt.minute) != (y, mo, d, h, mi):
        raise DateInputError(
            f"{text!r} does not exist in {zone.label} time (clocks jump forward that night)"
        )
    return datetime.fromtimestamp(dt.timestamp(), UTC)


def parse_instant(text: str, zone: Zone, *, now: datetime | None = None, end: bool = False) -> datetime:
    """Parse one bound of a range typed in ``zone`` into a UTC instant.

    A bare date is the start of that day; as the end of a range (``end=True``) it
    means the whole day is included, so the instant is the start of the next day
    (ends are exclusive). ``today`` / ``yesterday`` behave like bare dates.
    An instant outside years 1-9999 (in UTC or in ``zone``) is a ``DateInputError``.
    """
    try:
        return _parse_instant(text, zone, now=now, end=end)
    except OverflowError:
        raise DateInputError(f"{text.strip()!r} is outside the dates tasktui handles "
                             f"(years 0001 to 9999)") from None


def _parse_instant(text: str, zone: Zone, *, now: datetime | None, end: bool) -> datetime:
    raw = text.strip()
    t = raw.lower()
    if not t:
        raise DateInputError("empty date")
    n = _now(now)
    tz = zone.tz()
    if t in ("today", "yesterday"):
        day = pendulum.instance(n).in_tz(tz).date()
        if t == "yesterday":
            day = day.subtract(days=1)
        if end:
            day = day.add(days=1)
        return _local(day.year, day.month, day.day, 0, 0, 0, zone, raw)
    if t == "now":
        return n
    m = _REL.match(t)
    if m:
        amount = int(m.group(1))
        if amount > 100_000:
            raise DateInputError(f"{raw!r} reaches too far back")
        return n - timedelta(**{_UNITS[m.group(2)]: amount})
    m = _DATE.match(t)
    if m:
        y, mo, d = (int(g) for g in m.groups())
        try:
            day = pendulum.date(y, mo, d)
        except ValueError as e:
            raise DateInputError(f"{raw!r} is not a real date: {e}") from None
        if end:
            day = day.add(days=1)
        return _local(day.year, day.month, day.day, 0, 0, 0, zone, raw)
    m = _DATETIME.match(t)
    if m:
        y, mo, d, h, mi = (int(g) for g in m.groups()[:5])
        s = int(m.group(6) or 0)
        if h > 23 or mi > 59 or s > 59:
            raise DateInputError(f"{raw!r} is not a real time of day")
        return _local(y, mo, d, h, mi, s, zone, raw)
    # Full ISO-8601 with an explicit offset: the zone toggle does not apply.
    try:
        dt = datetime.fromisoformat(raw)
    except ValueError:
        raise DateInputError(f"{raw!r} is not a date: {HELP}") from None
    if dt.tzinfo is None:
        raise DateInputError(f"{raw!r} is not a date: {HELP}")
    return dt.astimezone(UTC)


@dataclass(frozen=True)
class DateRange:
    start: datetime | None = None
    end: datetime | None = None

    def describe_utc(self) -> str:
        def f(d: datetime | None) -> str:
            return _wall(d.astimezone(UTC)) + " UTC" if d else "…"
        if self.start is None and self.end is None:
            return "all time"
        return f"{f(self.start)} → {f(self.end)}"


def parse_range(
    start_text: str, end_text: str, zone: Zone, *, now: datetime | None = None
) -> DateRange:
    """Parse a From / To pair (either may be blank). Raises DateInputError naming the
    field at fault, or saying that the end is before the start."""
    start = end = None
    if start_text.strip():
        try:
            start = parse_instant(start_text, zone, now=now)
        except DateInputError as e:
            raise DateInputError(f"From: {e}") from None
    if end_text.strip():
        try:
            end = parse_instant(end_text, zone, now=now, end=True)
        except DateInputError as e:
            raise DateInputError(f"To: {e}") from None
    if start is not None and end is not None and end <= start:
        raise DateInputError(
            f"the end ({end_text.strip()}) is before the start ({start_text.strip()})"
        )
    return DateRange(start, end)


def quick_range(name: str, zone: Zone, *, now: datetime | None = None) -> tuple[str, str]:
    """From / To texts for a quick range: today, 7d, 30d, all."""
    if name == "today":
        return "today", ""
    if name == "7d":
        return "-7d", ""
    if name == "30d":
        return "-30d", ""
    if name == "all":
        return "", ""
    raise ValueError(f"unknown quick range {name!r}")


#: The first and last instants a ``datetime`` can hold, in UTC.
MIN_INSTANT = datetime.min.replace(tzinfo=UTC)
MAX_INSTANT = datetime.max.replace(tzinfo=UTC)


def parse_wire_time(value: str | None) -> datetime | None:
    """Parse a wire timestamp (ISO-8601, ``Z`` allowed) into an aware UTC datetime.

    Anything that is not a timestamp is ``None``. A timestamp whose offset takes it
    outside years 1-9999 in UTC (``0001-01-01T00:00:00+05:00``, a common "unset") is
    clamped to the first or last representable instant rather than raising.
    """
    if not value or not isinstance(value, str):
        return None
    try:
        dt = datetime.fromisoformat(value)
    except (TypeError, ValueError):
        return None
    if dt.tzinfo is None:
        return dt.replace(tzinfo=UTC)
    try:
        return dt.astimezone(UTC)
    except OverflowError:
        return MIN_INSTANT if dt.year < 5000 else MAX_INSTANT


def _wall(dt: datetime, *, seconds: bool = False) -> str:
    """``YYYY-MM-DD HH:MM[:SS]`` of a datetime's own wall clock, the year always four
    digits (``strftime`` and pendulum write year 1 as ``1``)."""
    out = f"{dt.year:04d}-{dt.month:02d}-{dt.day:02d} {dt.hour:02d}:{dt.minute:02d}"
    return out + f":{dt.second:02d}" if seconds else out


def to_wire_time(dt: datetime) -> str:
    """Format a UTC instant as the wire does: ``2021-06-17T21:46:36.359Z``."""
    dt = dt.astimezone(UTC)
    return _wall(dt, seconds=True).replace(" ", "T") + f".{dt.microsecond // 1000:03d}Z"


def format_instant(dt: datetime | None, zone: Zone, *, seconds: bool = False, abbrev: bool = False) -> str:
    """Format an instant for display in ``zone``: ``2026-11-01 01:30`` (optionally
    with seconds and the zone abbreviation, e.g. ``PDT``).

    Never raises: an instant that ``zone`` cannot show (``0001-01-01T00:00Z`` is in
    year 0 in Pacific time) is shown in UTC and marked ``UTC`` whatever ``abbrev`` says,
    so it is never mistaken for a time in ``zone``.
    """
    if dt is None:
        return ""
    if zone is Zone.UTC:  # the same as below, without pendulum
        try:
            u = dt.replace(tzinfo=UTC) if dt.tzinfo is None else dt.astimezone(UTC)
        except OverflowError:
            u = None
        if u is not None:
            return _wall(u, seconds=seconds) + (" UTC" if abbrev else "")
    try:
        p = pendulum.instance(dt).in_tz(zone.tz())
    except (OverflowError, ValueError):
        return _wall(dt.astimezone(UTC), seconds=seconds) + " UTC"
    out = _wall(p, seconds=seconds)
    if abbrev:
        out += " " + (p.tzname() or zone.label)
    return out
