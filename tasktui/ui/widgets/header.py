"""The header line: which backend (local sandbox or remote host), where the rows come
from when a local index is in use ("index · synced 4 s ago" or "API"), time zone, how
many tasks are shown of how many match, sort order, loading, live / paused, read-only.

No clock of its own: the screen stays still (and snapshot tests stay deterministic); the
Tasks screen re-sets ``source`` once a second while an index is in use, so the age ticks."""

from __future__ import annotations

from dataclasses import dataclass, replace

from rich.text import Text
from textual.widget import Widget

from tasktui.domain import SortOrder, Zone
from tasktui.ui.safe import one_line

SPINNER = "⠋⠙⠹⠸⠼⠴⠦⠧⠇⠏"


@dataclass(frozen=True)
class HeaderState:
    backend_kind: str = "sandbox"  # "sandbox" | "remote" | "offline" | "file"
    backend_label: str = ""
    source: str = ""  # "index · synced 4 s ago", "API · outside the index", "" (no index)
    zone: Zone = Zone.UTC
    shown: int = 0
    offset: int = 0  # position of the first loaded row in the whole list
    total: int | None = None
    total_exact: bool = True
    order: SortOrder = SortOrder.NEWEST
    loading: bool = False
    live_interval: float = 0.0  # 0: live refresh off
    paused: bool = False  # live refresh paused (a dialog is open)
    read_only: bool = False
    marked: int = 0
    error: bool = False


def counts_text(shown: int, total: int | None, exact: bool = True, offset: int = 0) -> str:
    """``Showing 300 of 12,345`` (or ``Showing 5,001–10,000 of 12,345`` once the window
    has dropped rows from the top)."""
    what = f"{offset + 1:,}–{offset + shown:,}" if offset and shown else f"{shown:,}"
    if total is None:
        return f"Showing {what}" if shown else "No tasks loaded"
    approx = "" if exact else "at least "  # a view read in full is counted as it is read
    return f"Showing {what} of {approx}{total:,}"


def short_source(source: str) -> str:
    """The source at narrow widths: "index · synced 4 s ago" -> "index 4 s",
    "API · outside the index" -> "API" (below 100 columns the count and the order must fit)."""
    if source.startswith("API"):
        return "API"
    return source.replace(" · synced ", " ").removesuffix(" ago")


def zone_text(zone: Zone) -> str:
    """``UTC``, ``Pacific``, or ``Local (Europe/Paris)``: which zone "local" is."""
    if zone is Zone.LOCAL:
        name = getattr(zone.tz(), "name", "") or ""
        return f"Local ({name})" if name else "Local"
    return zone.label


class AppHeader(Widget):
    """One line at the top of the Tasks screen."""

    DEFAULT_CSS = """
    AppHeader { dock: top; height: 1; width: 100%; background: $primary-background; color: $text; }
    """

    def __init__(self, state: HeaderState | None = None, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.state = state or HeaderState()
        self._spin = 0
        self._timer = None

    def on_mount(self) -> None:
        self._timer = self.set_interval(0.12, self._tick, pause=not self.state.loading)

    def _tick(self) -> None:
        self._spin = (self._spin + 1) % len(SPINNER)
        self.refresh()

    def update_state(self, **changes) -> None:
        new = replace(self.state, **changes)
        if new == self.state:
            return
        self.state = new
        if self._timer is not None:
            if new.loading:
                self._timer.resume()
            else:
                self._timer.pause()
        self.refresh()

    def text(self) -> Text:
        s = self.state
        narrow = self.size.width and self.size.width < 100
        t = Text(no_wrap=True, overflow="ellipsis")
        t.append(" tasktui ", style="bold reverse")
        t.append(" ")
        if s.backend_kind == "sandbox":
            t.append("⌂ sandbox" if narrow else "⌂ local sandbox", style="bold green")
        elif s.backend_kind in ("offline", "file"):  # no API at all
            label = s.backend_label or s.backend_kind
            if narrow:  # "offline · local sandbox" -> "offline": the count matters more
                label = s.backend_kind if s.backend_kind == "offline" else label.split(" · ")[0]
            t.append("⊘ " + one_line(label, 40), style="bold yellow")
        else:
            t.append("⇄ " + one_line(s.backend_label or "remote", 40), style="bold cyan")
        if s.source:
            t.append(" · ", style="dim")
            from_index = not s.source.startswith("API")
            source = short_source(s.source) if narrow else s.source
            t.append(one_line(source, 60), style="bold magenta" if from_index else "dim")
        sep = " │ "
        t.append(sep, style="dim")
        t.append(zone_text(s.zone), style="bold")
        t.append(sep, style="dim")
        t.append(counts_text(s.shown, s.total, s.total_exact, s.offset))
        if s.marked:
            t.append(f" · {s.marked:,} marked", style="bold magenta")
        t.append(sep, style="dim")  # the sort order matters at every width
        t.append(s.order.label)
        t.append(sep, style="dim")
        if s.loading:
            t.append(f"{SPINNER[self._spin]} loading", style="bold yellow")
            t.append(sep, style="dim")
        if s.error:
            t.append("⚠ error", style="bold red")
            t.append(sep, style="dim")
        if s.live_interval <= 0:
            t.append("○ live off", style="dim")
        elif s.paused:
            t.append("⏸ paused", style="yellow")
        else:
            secs = int(s.live_interval) if float(s.live_interval).is_integer() else s.live_interval
            t.append(f"● live {secs}s", style="green")
        if s.read_only:
            t.append(sep, style="dim")
            t.append("READ-ONLY", style="bold reverse red")
        return t

    def render(self) -> Text:
        return self.text()
