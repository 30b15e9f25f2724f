"""The task table: a virtual, line-rendered list (toolong style).

Textual's stock DataTable builds and measures every row up front (about 14 s and 140 MB for
100,000 rows here). This widget holds only a reference to the store's bounded window of
tasks and renders the lines that are on screen, so its cost does not grow with the list:
appending a page is a list extension, updating a row in place is a re-render of one line.

- Columns drop out by priority when the terminal is narrow (Updated first, then Type,
  Completed, Batch ...), so 80 columns stay readable without horizontal scrolling.
- The cursor is tied to a task id: when rows are replaced (refresh, live update, new
  sort), it stays on the same task if that task is still listed.
- Marks (``space``, range ``v``) are kept by task id in :attr:`marked_ids`.
- Every cell is built from task data made safe (control characters visible, no markup).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Sequence

from rich.cells import cell_len, set_cell_size
from rich.segment import Segment
from rich.style import Style
from textual import events
from textual.geometry import Size
from textual.message import Message
from textual.reactive import reactive
from textual.scroll_view import ScrollView
from textual.strip import Strip

from tasktui.domain import Task, Zone, format_instant
from tasktui.ui.keymap import bind
from tasktui.ui.safe import one_line
from tasktui.ui.widgets.status import audit_cell, status_cell


@dataclass(frozen=True)
class Column:
    key: str
    title: str
    min_width: int
    max_width: int
    priority: int  # the lowest is dropped first when space runs out


#: Display order. Priorities decide which go first on a narrow terminal.
COLUMNS: tuple[Column, ...] = (
    Column("mark", "", 1, 1, 100),
    Column("task_id", "Task ID", 24, 36, 99),
    Column("created", "Created", 16, 16, 90),
    Column("completed", "Completed", 16, 16, 55),
    Column("status", "Status", 13, 13, 95),
    Column("audit", "Audit", 16, 16, 85),
    Column("project", "Project", 8, 40, 70),
    Column("batch", "Batch", 8, 40, 60),
    Column("type", "Type", 8, 22, 45),
    Column("updated", "Updated", 16, 16, 30),
)
FLEX = ("project", "batch", "type")
#: a flexible column narrower than this is hard to read (batches look alike): a column of
#: lower priority is dropped first to give it this much
COMFORTABLE = 16
GAP = 1  # spaces between columns
MARK_GLYPH = "●"


def layout_columns(width: int, id_width: int = 24, *, date_column: str = "created") -> list[tuple[Column, int]]:
    """Which columns fit in ``width`` cells, and how wide each is. ``date_column`` is the
    date the list is filtered by (``"created"`` or ``"completed"``): it is kept before the
    other date. Project, Batch and Type get a readable width (:data:`COMFORTABLE`) before
    a column of lower priority is kept."""
    cols = []
    for c in COLUMNS:
        if c.key == "task_id":
            w = max(8, min(id_width, c.max_width))
            c = Column(c.key, c.title, w, w, c.priority)
        elif c.key == date_column and c.key in ("created", "completed"):
            c = Column(c.key, c.title, c.min_width, c.max_width, 90)
        elif c.key in ("created", "completed"):
            c = Column(c.key, c.title, c.min_width, c.max_width, 55)
        cols.append(c)
    chosen = list(cols)

    def need(cs: list[Column], comfortable: bool = False) -> int:
        return sum(min(c.max_width, max(c.min_width, COMFORTABLE)) if comfortable and c.key in FLEX
                   else c.min_width for c in cs) + GAP * (len(cs) - 1)

    # drop by priority until every kept column has a readable width (but keep the last of
    # Project / Batch / Type, however narrow: some project is better than none) ...
    while len(chosen) > 2 and need(chosen, comfortable=True) > width:
        victim = min(chosen, key=lambda c: c.priority)
        if victim.key in FLEX and sum(c.key in FLEX for c in chosen) == 1:
            break
        chosen.remove(victim)
    # ... and then by priority until every kept column fits at all
    while len(chosen) > 2 and need(chosen) > width:
        victim = min(chosen, key=lambda c: c.priority)
        chosen.remove(victim)
    widths = {c.key: c.min_width for c in chosen}
    spare = width - need(chosen)
    flex = [c for c in chosen if c.key in FLEX]
    while spare > 0 and flex:
        grew = False
        for c in flex:
            if spare > 0 and widths[c.key] < c.max_width:
                widths[c.key] += 1
                spare -= 1
                grew = True
        if not grew:
            break
    if widths.get("task_id", 0) and need(chosen) > width:  # still too narrow: shrink the id
        widths["task_id"] = max(8, widths["task_id"] - (need(chosen) - width))
    return [(c, widths[c.key]) for c in chosen]


def fit(text: str, width: int) -> str:
    """``text`` cut (with an ellipsis) or padded to exactly ``width`` cells."""
    if width <= 0:
        return ""
    if cell_len(text) > width:
        return set_cell_size(text, width - 1) + "…"
    return set_cell_size(text, width)


class TaskTable(ScrollView, can_focus=True):
    """A virtual table of tasks. Feed it with :meth:`set_rows`."""

    DEFAULT_CSS = """
    TaskTable {
        background: $surface;
        scrollbar-gutter: stable;
        scrollbar-size-vertical: 1;
        overflow-x: hidden;
    }
    TaskTable > .task-table--header { text-style: bold; color: $text-accent; background: $panel; }
    TaskTable > .task-table--cursor { background: $block-cursor-background; color: $block-cursor-foreground; text-style: bold; }
    TaskTable > .task-table--cursor-blurred { background: $block-cursor-blurred-background; }
    TaskTable > .task-table--marked { background: $accent 25%; }
    TaskTable > .task-table--dim { color: $text-muted; }
    """
    COMPONENT_CLASSES = {
        "task-table--header", "task-table--cursor", "task-table--cursor-blurred",
        "task-table--marked", "task-table--dim",
    }

    HELP_TITLE = "List"
    BINDINGS = [
        bind("table.down", "down,j", "cursor_down", "Down", show=False),
        bind("table.up", "up,k", "cursor_up", "Up", show=False),
        bind("table.top", "home,g", "cursor_top", "First row", show=False),
        bind("table.bottom", "end,G", "cursor_bottom", "Last row", show=False,
             tooltip="Last row loaded (more load as you reach the end)"),
        bind("table.page_down", "pagedown,ctrl+d", "page_down", "Page down", show=False),
        bind("table.page_up", "pageup,ctrl+u", "page_up", "Page up", show=False),
        bind("table.mark", "space", "toggle_mark", "Mark", key_display="space", show=False,
             tooltip="Mark / unmark the row under the cursor"),
        bind("table.mark_range", "v", "mark_range", "Mark range", show=False,
             tooltip="Mark every row from the last marked one to the cursor"),
        bind("table.unmark_all", "u", "unmark_all", "Unmark all", show=False),
    ]

    cursor_row: reactive[int] = reactive(0, always_update=True, init=False)

    class CursorMoved(Message):
        """The cursor is on another task (``task`` is None when the table is empty)."""

        def __init__(self, table: "TaskTable", task: Task | None, row: int) -> None:
            super().__init__()
            self.table = table
            self.task = task
            self.row = row

        @property
        def control(self) -> "TaskTable":
            return self.table

    class NearEnd(Message):
        """The cursor or the view came close to the last loaded row: load the next page."""

        def __init__(self, table: "TaskTable") -> None:
            super().__init__()
            self.table = table

    class NearStart(Message):
        """The cursor came close to the first loaded row while earlier rows exist
        (the window dropped them): load the page before."""

        def __init__(self, table: "TaskTable") -> None:
            super().__init__()
            self.table = table

    class TopRequested(Message):
        """``g`` / home while rows before the window were dropped: reload from the top."""

        def __init__(self, table: "TaskTable") -> None:
            super().__init__()
            self.table = table

    class Activated(Message):
        """Enter or a double click on a row."""

        def __init__(self, table: "TaskTable", task: Task) -> None:
            super().__init__()
            self.table = table
            self.task = task

    class MarksChanged(Message):
        def __init__(self, table: "TaskTable", marked: frozenset[str]) -> None:
            super().__init__()
            self.table = table
            self.marked = marked

    def __init__(self, *, zone: Zone = Zone.UTC, prefetch: int = 60,
                 name: str | None = None, id: str | None = None, classes: str | None = None) -> None:
        super().__init__(name=name, id=id, classes=classes)
        self._rows: Sequence[Task] = ()
        self._index: dict[str, int] | None = None
        self._zone = zone
        self._cursor_id: str | None = None
        self._anchor_id: str | None = None  # last row marked: where a range mark starts
        self.marked_ids: set[str] = set()
        self.prefetch = prefetch
        self._layout: list[tuple[Column, int]] = []
        self._layout_width = -1
        self._date_column = "created"
        self._id_width = 24
        self._line_cache: dict[tuple, list[Segment]] = {}
        self._near_end_sent_at = -1
        self._near_start_sent_at: str | None = None
        #: called to decide whether more rows exist beyond the loaded ones (after / before)
        self.has_more: Callable[[], bool] = lambda: False
        self.has_before: Callable[[], bool] = lambda: False
        #: called for how many tasks the total counts that are not loaded and will not load by
        #: scrolling (e.g. tasks that arrived since the list was read); 0 when none
        self.not_loaded: Callable[[], int] = lambda: 0
        self.refresh_key = "r"  #: the key that refreshes the list (as displayed), for that hint

    # ------------------------------------------------------------------ data
    @property
    def rows(self) -> Sequence[Task]:
        return self._rows

    @property
    def row_count(self) -> int:
        return len(self._rows)

    @property
    def zone(self) -> Zone:
        return self._zone

    @property
    def cursor_task(self) -> Task | None:
        if 0 <= self.cursor_row < len(self._rows):
            return self._rows[self.cursor_row]
        return None

    @property
    def cursor_task_id(self) -> str | None:
        t = self.cursor_task
        return t.task_id if t else None

    def index_of(self, task_id: str) -> int | None:
        if self._index is None:
            self._index = {t.task_id: i for i, t in enumerate(self._rows)}
        return self._index.get(task_id)

    def set_rows(self, rows: Sequence[Task], *, fallback_row: int | None = None) -> None:
        """Show ``rows`` (the store's window). The cursor follows its task if it is still
        there, on the same screen line; otherwise it goes to ``fallback_row`` (default:
        the same position, clamped)."""
        old_id = self._cursor_id
        old_row = self.cursor_row
        line = old_row - int(self.scroll_y)
        self._rows = rows
        self._index = None
        self._line_cache.clear()
        self._near_end_sent_at = -1
        self._near_start_sent_at = None
        idw = max((len(t.task_id) for t in rows[:500]), default=24)
        if idw != self._id_width:
            self._id_width = idw
            self._layout_width = -1
        self.virtual_size = Size(self.size.width, len(rows) + 2)  # + header + end line
        new_row = self.index_of(old_id) if old_id is not None else None
        if new_row is not None:
            if new_row != old_row:
                self.scroll_to(y=max(0, new_row - max(0, line)), animate=False, immediate=True)
        else:
            new_row = fallback_row if fallback_row is not None else old_row
            new_row = min(new_row, max(0, len(rows) - 1))
            if fallback_row is not None:
                self.scroll_to(y=max(0, new_row - max(0, line)) if new_row else 0, animate=False, immediate=True)
        self._set_cursor(new_row, scroll=True, force_message=new_row != old_row or self._cursor_id != old_id)
        self.refresh()

    def update_task(self, task: Task) -> bool:
        """Re-render one row in place (after an action or a live update). Returns whether
        the task is listed. The store's window object is updated by the store itself."""
        i = self.index_of(task.task_id)
        if i is None:
            return False
        self._line_cache.clear()
        self.refresh_line(i + 1)
        if i == self.cursor_row:
            self.post_message(self.CursorMoved(self, self._rows[i], i))
        return True

    def refresh_end_line(self) -> None:
        """Repaint the line under the last row (what it says depends on the total)."""
        self.refresh_line(len(self._rows) + 1)

    def set_zone(self, zone: Zone) -> None:
        if zone is not self._zone:
            self._zone = zone
            self._line_cache.clear()
            self.refresh()

    def move_to_task(self, task_id: str) -> bool:
        i = self.index_of(task_id)
        if i is None:
            return False
        self._set_cursor(i, scroll=True)
        return True

    # ------------------------------------------------------------------ cursor
    def _set_cursor(self, row: int, *, scroll: bool = True, force_message: bool = False) -> None:
        n = len(self._rows)
        row = max(0, min(row, n - 1)) if n else 0
        old_id = self._cursor_id
        old_row = self.cursor_row
        self.set_reactive(TaskTable.cursor_row, row)
        self._cursor_id = self._rows[row].task_id if n else None
        if old_row != row:
            self.refresh_line(old_row + 1)
        self.refresh_line(row + 1)
        if scroll:
            self._scroll_cursor_into_view()
        if force_message or old_id != self._cursor_id or old_row != row:
            self.post_message(self.CursorMoved(self, self.cursor_task, row))
        self._check_near_end()

    @property
    def _page_rows(self) -> int:
        return max(1, self.size.height - 1)

    def _scroll_cursor_into_view(self) -> None:
        top = int(self.scroll_y)
        page = self._page_rows
        # on the last loaded row, the line under it (end of the list, more loading, or
        # more tasks matching now) comes into view with it: it says what G / End reached
        bottom = self.cursor_row + (1 if self.cursor_row == len(self._rows) - 1 else 0)
        if self.cursor_row < top:
            self.scroll_to(y=self.cursor_row, animate=False, immediate=True)
        elif bottom >= top + page:
            self.scroll_to(y=bottom - page + 1, animate=False, immediate=True)

    def _check_near_end(self) -> None:
        n = len(self._rows)
        first_visible = int(self.scroll_y)
        if n and min(self.cursor_row, first_visible) < self.prefetch and self.has_before():
            key = self._rows[0].task_id
            if self._near_start_sent_at != key:
                self._near_start_sent_at = key
                self.post_message(self.NearStart(self))
        last_visible = int(self.scroll_y) + self._page_rows
        if n and max(self.cursor_row, last_visible) >= n - self.prefetch and self.has_more():
            if self._near_end_sent_at != n:
                self._near_end_sent_at = n
                self.post_message(self.NearEnd(self))

    def watch_scroll_y(self, old_value: float, new_value: float) -> None:
        super().watch_scroll_y(old_value, new_value)
        self._check_near_end()

    def action_cursor_down(self) -> None:
        self._set_cursor(self.cursor_row + 1)

    def action_cursor_up(self) -> None:
        self._set_cursor(self.cursor_row - 1)

    def action_cursor_top(self) -> None:
        if self.has_before():
            self.post_message(self.TopRequested(self))
        self._set_cursor(0)
        self.scroll_to(y=0, animate=False, immediate=True)

    def go_top(self) -> None:
        """Cursor on the first row, scrolled to the top (after a reload from the start)."""
        self._set_cursor(0)
        self.scroll_to(y=0, animate=False, immediate=True)

    def action_cursor_bottom(self) -> None:
        self._set_cursor(len(self._rows) - 1)

    def action_page_down(self) -> None:
        page = self._page_rows
        self.scroll_to(y=self.scroll_y + page, animate=False, immediate=True)
        self._set_cursor(self.cursor_row + page)

    def action_page_up(self) -> None:
        page = self._page_rows
        self.scroll_to(y=max(0, self.scroll_y - page), animate=False, immediate=True)
        self._set_cursor(self.cursor_row - page)

    # ------------------------------------------------------------------ marks
    def action_toggle_mark(self) -> None:
        t = self.cursor_task
        if t is None:
            return
        if t.task_id in self.marked_ids:
            self.marked_ids.discard(t.task_id)
        else:
            self.marked_ids.add(t.task_id)
        self._anchor_id = t.task_id
        self._marks_changed()
        self._set_cursor(self.cursor_row + 1)

    def action_mark_range(self) -> None:
        """Mark every row between the last row marked (the anchor) and the cursor."""
        t = self.cursor_task
        if t is None:
            return
        a = self.index_of(self._anchor_id) if self._anchor_id else None
        if a is None:
            a = self.cursor_row
        lo, hi = sorted((a, self.cursor_row))
        for i in range(lo, hi + 1):
            self.marked_ids.add(self._rows[i].task_id)
        self._anchor_id = t.task_id
        self._marks_changed()

    def action_unmark_all(self) -> None:
        if self.marked_ids:
            self.marked_ids.clear()
            self._anchor_id = None
            self._marks_changed()

    def set_marks(self, ids: set[str]) -> None:
        self.marked_ids = set(ids)
        self._marks_changed()

    def _marks_changed(self) -> None:
        self._line_cache.clear()
        self.refresh()
        self.post_message(self.MarksChanged(self, frozenset(self.marked_ids)))

    # ------------------------------------------------------------------ mouse
    def _row_at(self, y: int) -> int | None:
        if y < 1:
            return None
        row = int(self.scroll_y) + y - 1
        return row if row < len(self._rows) else None

    async def _on_click(self, event: events.Click) -> None:
        row = self._row_at(event.y)
        if row is None:
            return
        if event.chain >= 2 and row == self.cursor_row:
            task = self.cursor_task
            if task is not None:
                self.post_message(self.Activated(self, task))
            return
        self._set_cursor(row, scroll=False)

    def activate(self) -> None:
        task = self.cursor_task
        if task is not None:
            self.post_message(self.Activated(self, task))

    # ------------------------------------------------------------------ rendering
    def on_resize(self, event: events.Resize) -> None:
        self._layout_width = -1
        self._line_cache.clear()
        self.virtual_size = Size(self.size.width, len(self._rows) + 2)
        self._scroll_cursor_into_view()
        self._check_near_end()

    def on_focus(self) -> None:
        self.refresh_line(self.cursor_row + 1)

    def on_blur(self) -> None:
        self.refresh_line(self.cursor_row + 1)

    @property
    def columns(self) -> list[tuple[Column, int]]:
        w = self.scrollable_content_region.width
        if w != self._layout_width:
            self._layout = layout_columns(w, self._id_width, date_column=self._date_column)
            self._layout_width = w
        return self._layout

    def set_date_column(self, key: str) -> None:
        """Show ``"created"`` or ``"completed"`` first: the date the list is filtered by."""
        if key != self._date_column:
            self._date_column = key
            self._layout_width = -1
            self._line_cache.clear()
            self.refresh()

    @property
    def visible_column_keys(self) -> list[str]:
        return [c.key for c, _ in self.columns]

    def cell_text(self, task: Task, key: str) -> tuple[str, Style | None]:
        """Plain text and style of one cell (task data made safe)."""
        z = self._zone
        if key == "mark":
            return (MARK_GLYPH if task.task_id in self.marked_ids else " "), None
        if key == "task_id":
            return one_line(task.task_id), None
        if key == "created":
            return format_instant(task.created_at, z), None
        if key == "completed":
            return format_instant(task.completed_at, z), None
        if key == "updated":
            return format_instant(task.updated_at, z), None
        if key == "status":
            return status_cell(task)
        if key == "audit":
            return audit_cell(task)
        if key == "project":
            return one_line(task.project), None
        if key == "batch":
            return one_line(task.batch), None
        if key == "type":
            return one_line(task.type), None
        return "", None

    def row_texts(self, row: int) -> list[str]:
        """The visible cells of ``row`` as plain strings (for tests and the e2e check)."""
        task = self._rows[row]
        return [self.cell_text(task, c.key)[0] for c, _ in self.columns]

    def _header_text(self) -> str:
        return (" " * GAP).join(fit(col.title, w) for col, w in self.columns)

    def _row_segments(self, row: int) -> list[Segment]:
        task = self._rows[row]
        marked = task.task_id in self.marked_ids
        key = (row, task.task_id, id(task), marked, self._layout_width)
        cached = self._line_cache.get(key)
        if cached is not None:
            return cached
        segs: list[Segment] = []
        for i, (col, w) in enumerate(self.columns):
            if i:
                segs.append(Segment(" " * GAP))
            text, style = self.cell_text(task, col.key)
            segs.append(Segment(fit(text, w), style))
        if len(self._line_cache) > 500:
            self._line_cache.clear()
        self._line_cache[key] = segs
        return segs

    def render_line(self, y: int) -> Strip:
        width = self.scrollable_content_region.width
        base = self.rich_style
        if y == 0:
            hstyle = base + self.get_component_rich_style("task-table--header")
            return Strip([Segment(self._header_text(), hstyle)]).extend_cell_length(width, hstyle).crop(0, width)
        row = int(self.scroll_y) + y - 1
        if row == len(self._rows) and self._rows:
            dim = base + self.get_component_rich_style("task-table--dim")
            missing = 0 if self.has_more() else max(0, self.not_loaded())
            if self.has_more():
                text = "  ⋯ more tasks load as you go down"
            elif missing:
                text = (f"  — last row loaded; {missing:,} more {'task matches' if missing == 1 else 'tasks match'}"
                        f" now: {self.refresh_key} refreshes —")
            else:
                text = "  — end of the list —"
            return Strip([Segment(text, dim)]).extend_cell_length(width, dim).crop(0, width)
        if row < 0 or row >= len(self._rows):
            return Strip.blank(width, base)
        segs = self._row_segments(row)
        line_style = base
        if row == self.cursor_row:
            line_style = base + self.get_component_rich_style(
                "task-table--cursor" if self.has_focus else "task-table--cursor-blurred")
            # the cursor's colours win over cell colours, except that cell text keeps its words
            segs = [Segment(s.text, (s.style + line_style) if s.style and not self.has_focus else line_style)
                    for s in segs]
            return Strip(segs).extend_cell_length(width, line_style).crop(0, width)
        if self._rows[row].task_id in self.marked_ids:
            line_style = base + self.get_component_rich_style("task-table--marked")
        segs = [Segment(s.text, line_style + s.style if s.style else line_style) for s in segs]
        return Strip(segs).extend_cell_length(width, line_style).crop(0, width)
