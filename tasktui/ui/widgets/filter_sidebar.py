"""The filter sidebar: date range (creation or completion) typed in the chosen time zone,
quick ranges, the zone toggle, task status and audit status boxes, project and batch
pickers, and the search box.

The sidebar owns no data: it reports every change with :class:`FilterSidebar.Changed`
and builds the query on demand (:meth:`FilterSidebar.build_query`). A typed date is
validated as the operator types; while it is invalid the error shows inline and
:meth:`build_query` raises, so the screen sends nothing.
"""

from __future__ import annotations

from datetime import datetime
from typing import Iterable

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.containers import Horizontal, VerticalScroll
from textual.message import Message
from textual.widgets import Button, Input, Label, RadioButton, RadioSet, Select, SelectionList, Static
from textual.widgets.selection_list import Selection

from tasktui.config import SavedView
from tasktui.domain import (
    AuditStatus,
    DateField,
    DateInputError,
    DateRange,
    OperatorStatus,
    SortOrder,
    TaskQuery,
    Zone,
    parse_range,
    quick_range,
)
from tasktui.ui.safe import one_line
from tasktui.ui.widgets.toggles import CheckList, Radio

QUICK_RANGES = (("today", "Today"), ("7d", "7d"), ("30d", "30d"), ("all", "All time"))
ZONES = (Zone.UTC, Zone.PACIFIC, Zone.LOCAL)
ALL_PROJECTS = "All projects"
ALL_BATCHES = "All batches"


class FilterSidebar(VerticalScroll):
    """Filters. Post :class:`Changed` on every edit; the screen debounces and applies."""

    DEFAULT_CSS = """
    FilterSidebar {
        width: 32;
        height: 1fr;
        background: $panel;
        padding: 0 1;
        scrollbar-size-vertical: 1;
    }
    FilterSidebar .section-title { text-style: bold; color: $text-accent; margin-top: 1; }
    FilterSidebar .section-title.first { margin-top: 0; }
    FilterSidebar RadioSet { border: none; width: 100%; height: auto; layout: horizontal; background: $panel; padding: 0; }
    FilterSidebar RadioSet > RadioButton { width: auto; margin-right: 0; padding: 0; background: $panel; }
    FilterSidebar Input { width: 100%; margin: 0; }
    FilterSidebar .field-label { color: $text-muted; width: 5; }
    FilterSidebar .field-row { height: 1; width: 100%; }
    FilterSidebar .field-row Input { width: 1fr; }
    FilterSidebar #date-utc { color: $text-muted; height: auto; }
    FilterSidebar #date-error { color: $text-error; height: auto; text-style: bold; }
    FilterSidebar #date-error.-empty { display: none; }
    FilterSidebar Input.-invalid { background: $error 20%; }
    FilterSidebar #quick { height: 1; width: 100%; }
    FilterSidebar #quick Button { min-width: 0; width: auto; margin-right: 1; height: 1; }
    FilterSidebar SelectionList { border: none; height: auto; padding: 0; background: $panel; width: 100%; }
    FilterSidebar Select { width: 100%; margin-bottom: 0; }
    """

    class Changed(Message):
        """Something in the filters changed (``immediate``: apply without debounce)."""

        def __init__(self, sidebar: "FilterSidebar", *, immediate: bool = False) -> None:
            super().__init__()
            self.sidebar = sidebar
            self.immediate = immediate

    class ZoneChanged(Message):
        def __init__(self, sidebar: "FilterSidebar", zone: Zone) -> None:
            super().__init__()
            self.sidebar = sidebar
            self.zone = zone

    def __init__(self, *, zone: Zone = Zone.UTC, now_fn=None, id: str | None = None,
                 classes: str | None = None) -> None:
        super().__init__(id=id, classes=classes)
        self.zone = zone
        self.order = SortOrder.NEWEST
        self._now_fn = now_fn
        self._projects: list[str] = []
        self._batches_offered: list[str] = []
        self._batches: list[tuple[str, str]] = []  # (name, project)
        # a saved view's filters the sidebar has no field for: kept as they were and sent
        # with the query (a view's tags and types), until another view or clear replaces them
        self._types: tuple[str, ...] = ()
        self._tags: tuple[str, ...] = ()
        self._date_error: str | None = None
        self._silence = 0
        self.can_focus = False

    # ------------------------------------------------------------------ compose
    def compose(self) -> ComposeResult:
        yield Label("Date", id="date-title", classes="section-title first")
        with RadioSet(id="date-field", compact=True):
            yield Radio("Created", value=True, id="df-created")
            yield Radio("Completed", id="df-completed")
        with Horizontal(classes="field-row"):
            yield Label("From", classes="field-label")
            yield Input(placeholder="2024-05-01, -7d, today", id="from", compact=True)
        with Horizontal(classes="field-row"):
            yield Label("To", classes="field-label")
            yield Input(placeholder="(open end)", id="to", compact=True)
        yield Static("", id="date-error", classes="-empty", markup=False)
        yield Static(self._utc_text(DateRange()), id="date-utc", markup=False)
        with Horizontal(id="quick"):
            for key, label in QUICK_RANGES:
                yield Button(label, id=f"quick-{key}", compact=True)
        yield Label("Time zone", classes="section-title")
        with RadioSet(id="zone", compact=True):
            for z in ZONES:
                yield Radio(z.label, value=(z is self.zone), id=f"zone-{z.value}")
        yield Label(self._count_title("Task status", 0, len(OperatorStatus)), id="status-title",
                    classes="section-title", markup=False)
        yield CheckList[str](*[Selection(s.label, s.value) for s in OperatorStatus], id="status",
                                 compact=True)
        yield Label(self._count_title("Audit status", 0, len(AuditStatus)), id="audit-title",
                    classes="section-title", markup=False)
        yield CheckList[str](*[Selection(a.label, a.value) for a in AuditStatus], id="audit",
                                 compact=True)
        yield Label("Project and batch", classes="section-title")
        yield Select[str]([], prompt=ALL_PROJECTS, id="project", compact=True)
        yield Select[str]([], prompt=ALL_BATCHES, id="batch", compact=True)
        yield Label("Search", classes="section-title")
        yield Input(placeholder="task id or unique id", id="search", compact=True)

    # ------------------------------------------------------------------ helpers
    @staticmethod
    def _count_title(title: str, on: int, total: int) -> str:
        return f"{title} · {on} of {total} on" if on else f"{title} · all shown"

    def _utc_text(self, rng: DateRange) -> str:
        if rng.start is None and rng.end is None:
            return "UTC: all time"
        return "UTC: " + rng.describe_utc().replace(" UTC", "")

    def _now(self) -> datetime | None:
        return self._now_fn() if self._now_fn else None

    def _emit(self, immediate: bool = False) -> None:
        if not self._silence:
            self.post_message(self.Changed(self, immediate=immediate))

    @property
    def from_text(self) -> str:
        return self.query_one("#from", Input).value

    @property
    def to_text(self) -> str:
        return self.query_one("#to", Input).value

    @property
    def date_error(self) -> str | None:
        return self._date_error

    @property
    def date_field(self) -> DateField:
        return DateField.COMPLETED if self.query_one("#df-completed", RadioButton).value else DateField.CREATED

    def selected_statuses(self) -> frozenset[OperatorStatus]:
        return frozenset(OperatorStatus(v) for v in self.query_one("#status", SelectionList).selected)

    def selected_audits(self) -> frozenset[AuditStatus]:
        return frozenset(AuditStatus(v) for v in self.query_one("#audit", SelectionList).selected)

    def selected_project(self) -> str | None:
        v = self.query_one("#project", Select).value
        return v if isinstance(v, str) else None

    def selected_batch(self) -> str | None:
        v = self.query_one("#batch", Select).value
        return v if isinstance(v, str) else None

    # ------------------------------------------------------------------ validation
    def validate_dates(self) -> DateRange | None:
        """Parse From / To in the current zone; show the error or the UTC meaning."""
        err = self.query_one("#date-error", Static)
        utc = self.query_one("#date-utc", Static)
        f_in = self.query_one("#from", Input)
        t_in = self.query_one("#to", Input)
        try:
            rng = parse_range(f_in.value, t_in.value, self.zone, now=self._now())
        except DateInputError as e:
            msg = str(e)
            self._date_error = msg
            err.update(Text("⚠ " + one_line(msg) + " — nothing is applied until it is fixed"))
            err.remove_class("-empty")
            f_in.set_class(msg.startswith("From:") or msg.startswith("the end"), "-invalid")
            t_in.set_class(msg.startswith("To:") or msg.startswith("the end"), "-invalid")
            return None
        self._date_error = None
        err.update("")
        err.add_class("-empty")
        f_in.remove_class("-invalid")
        t_in.remove_class("-invalid")
        utc.update(Text(self._utc_text(rng)))
        return rng

    def build_query(self) -> TaskQuery:
        """The query the sidebar describes now. Raises DateInputError while a date is invalid."""
        rng = self.validate_dates()
        if rng is None:
            raise DateInputError(self._date_error or "invalid date")
        project = self.selected_project()
        batch = self.selected_batch()
        return TaskQuery(
            date_field=self.date_field,
            start=rng.start,
            end=rng.end,
            statuses=self.selected_statuses(),
            audit_statuses=self.selected_audits(),
            projects=(project,) if project else (),
            batches=(batch,) if batch else (),
            types=self._types,
            tags=self._tags,
            search=self.query_one("#search", Input).value.strip(),
            order=self.order,
        )

    # ------------------------------------------------------------------ events
    @on(Input.Changed, "#from, #to")
    def _dates_typed(self, event: Input.Changed) -> None:
        event.stop()
        self.validate_dates()
        self._emit()

    @on(Input.Submitted, "#from, #to, #search")
    def _submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self._emit(immediate=True)

    @on(Input.Changed, "#search")
    def _search_typed(self, event: Input.Changed) -> None:
        event.stop()
        self._emit()

    @on(RadioSet.Changed, "#date-field")
    def _date_field_changed(self, event: RadioSet.Changed) -> None:
        event.stop()
        self._emit(immediate=True)

    @on(RadioSet.Changed, "#zone")
    def _zone_changed(self, event: RadioSet.Changed) -> None:
        event.stop()
        zid = event.pressed.id or ""
        zone = Zone(zid.removeprefix("zone-")) if zid.startswith("zone-") else self.zone
        if zone is not self.zone:
            self.zone = zone
            self.validate_dates()
            if not self._silence:
                self.post_message(self.ZoneChanged(self, zone))

    @on(Button.Pressed, "#quick Button")
    def _quick(self, event: Button.Pressed) -> None:
        event.stop()
        name = (event.button.id or "").removeprefix("quick-")
        a, b = quick_range(name, self.zone, now=self._now())
        self.set_dates(a, b)
        # set_dates silences the Inputs' own Changed until the next refresh: say it here
        self.post_message(self.Changed(self, immediate=True))

    @on(SelectionList.SelectedChanged, "#status, #audit")
    def _boxes(self, event: SelectionList.SelectedChanged) -> None:
        event.stop()
        self._update_titles()
        self._emit()

    @on(Select.Changed, "#project")
    def _project_changed(self, event: Select.Changed) -> None:
        event.stop()
        self._fill_batches()
        self._emit(immediate=True)

    @on(Select.Changed, "#batch")
    def _batch_changed(self, event: Select.Changed) -> None:
        event.stop()
        self._emit(immediate=True)

    def _update_titles(self) -> None:
        self.query_one("#status-title", Label).update(
            self._count_title("Task status", len(self.selected_statuses()), len(OperatorStatus)))
        self.query_one("#audit-title", Label).update(
            self._count_title("Audit status", len(self.selected_audits()), len(AuditStatus)))

    # ------------------------------------------------------------------ setters
    def set_zone(self, zone: Zone) -> None:
        """Switch the zone (from the ``t`` key): the typed range is re-interpreted."""
        if zone is self.zone:
            return
        self.zone = zone
        self._silence += 1
        try:
            self.query_one(f"#zone-{zone.value}", RadioButton).value = True
        finally:
            self.call_after_refresh(self._unsilence)
        self.validate_dates()

    def _unsilence(self) -> None:
        self._silence = max(0, self._silence - 1)

    def set_dates(self, from_text: str, to_text: str) -> None:
        self._silence += 1
        try:
            self.query_one("#from", Input).value = from_text
            self.query_one("#to", Input).value = to_text
        finally:
            self.call_after_refresh(self._unsilence)
        self.validate_dates()

    def set_projects(self, names: Iterable[str]) -> None:
        """Fill the project picker (keeps the current choice)."""
        current = self.selected_project()
        names = sorted({n for n in names if n} | ({current} if current else set()))
        if names == self._projects:
            return
        self._projects = names
        sel = self.query_one("#project", Select)
        with sel.prevent(Select.Changed):
            sel.set_options([(Text(one_line(n)), n) for n in names])  # Text: never markup
            if current:
                sel.value = current
        self._fill_batches()

    @property
    def project_choices(self) -> list[str]:
        """The project names the project picker offers."""
        return list(self._projects)

    @property
    def batch_choices(self) -> list[str]:
        """The batch names the batch picker offers now (those of the chosen project)."""
        return list(self._batches_offered)

    def set_batches(self, batches: Iterable[tuple[str, str]]) -> None:
        """Fill the batch picker with (name, project) pairs; only the chosen project's
        batches are offered when a project is chosen."""
        self._batches = sorted(set(batches))
        self._fill_batches()

    def _fill_batches(self) -> None:
        sel = self.query_one("#batch", Select)
        current = self.selected_batch()
        project = self.selected_project()
        names = sorted({b for b, p in self._batches if not project or p == project})
        if current and current not in names:
            names.append(current)
        self._batches_offered = names
        with sel.prevent(Select.Changed):
            sel.set_options([(Text(one_line(n)), n) for n in names])  # Text: never markup
            if current:
                sel.value = current

    def apply_view(self, view: SavedView) -> None:
        """Load a saved view's filters (one Changed is posted, immediate)."""
        self._silence += 1
        try:
            self.query_one("#df-completed" if view.date_field is DateField.COMPLETED else "#df-created",
                           RadioButton).value = True
            self.query_one("#from", Input).value = view.from_text
            self.query_one("#to", Input).value = view.to_text
            st = self.query_one("#status", SelectionList)
            st.deselect_all()
            for s in view.statuses:
                st.select(s.value)
            au = self.query_one("#audit", SelectionList)
            au.deselect_all()
            for a in view.audit_statuses:
                au.select(a.value)
            self._set_select("#project", view.projects[0] if view.projects else None, self._projects)
            self._fill_batches()
            self._set_select("#batch", view.batches[0] if view.batches else None,
                             [b for b, _ in self._batches])
            self.query_one("#search", Input).value = view.search
            self._types, self._tags = tuple(view.types), tuple(view.tags)
            self.order = view.order
        finally:
            self.call_after_refresh(self._unsilence)
        self._update_titles()
        self.validate_dates()
        self.call_after_refresh(lambda: self.post_message(self.Changed(self, immediate=True)))

    def _set_select(self, selector: str, value: str | None, known: list[str]) -> None:
        sel = self.query_one(selector, Select)
        with sel.prevent(Select.Changed):
            if value is None:
                sel.clear()
                return
            if value not in known:
                known.append(value)
                sel.set_options([(Text(one_line(n)), n) for n in sorted(known)])
            sel.value = value

    def clear_filters(self) -> None:
        """Every filter off (zone, date field and sort order kept)."""
        field = self.date_field
        self.apply_view(SavedView(name="", date_field=field, order=self.order))

    def current_view(self, name: str) -> SavedView:
        """The filters as a saved view (dates as typed)."""
        q = self.build_query()
        return SavedView.from_query(name, q, self.from_text.strip(), self.to_text.strip())

    def describe_active(self) -> list[str]:
        """Plain descriptions of the filters that are on (for the empty state)."""
        out = []
        f, t = self.from_text.strip(), self.to_text.strip()
        if f or t:
            rng = self.validate_dates()
            utc = f" ({self._utc_text(rng)})" if rng else ""
            out.append(f"{self.date_field.label} from {f or '…'} to {t or '…'} {self.zone.label}{utc}")
        st = self.selected_statuses()
        if st:
            out.append("Status: " + ", ".join(s.label for s in OperatorStatus if s in st))
        au = self.selected_audits()
        if au:
            out.append("Audit: " + ", ".join(a.label for a in AuditStatus if a in au))
        if self.selected_project():
            out.append(f"Project: {self.selected_project()}")
        if self.selected_batch():
            out.append(f"Batch: {self.selected_batch()}")
        if self._types:
            out.append("Type: " + ", ".join(self._types))
        if self._tags:
            out.append("Tag: " + ", ".join(self._tags))
        s = self.query_one("#search", Input).value.strip()
        if s:
            out.append(f"Search: {s}")
        return out

    def focus_first(self) -> None:
        """Focus the top of the sidebar (the date field), scrolled to the top."""
        first = self.query_one("#date-field", RadioSet)
        first.focus(scroll_visible=False)
        self.call_after_refresh(self.scroll_home, animate=False)

    def focus_search(self) -> None:
        """Focus the search box and scroll it into view (it is the sidebar's last field, off
        screen on a short terminal; the sidebar may have been hidden until now)."""
        search = self.query_one("#search", Input)
        search.focus(scroll_visible=False)
        self.call_after_refresh(self.scroll_to_widget, search, animate=False)
