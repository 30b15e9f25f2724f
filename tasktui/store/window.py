"""Window: the bounded run of rows the store shows, and the page table behind it.

Rows arrive a page at a time. The window remembers, for every page it has seen, the
token that fetches it, how many rows it had, and how many of them are in the window now.
When the window would exceed ``max_rows`` it drops whole pages from the far end (the top
when growing at the bottom, the bottom when growing at the top); a dropped page keeps only
its token, so it can be fetched again (``next_page`` / ``previous_page`` say which token to
ask for, ``append`` / ``prepend`` take the answer). ``offset`` is the position of
``rows[0]`` in the whole listing; ``has_before`` / ``has_more`` say whether there is more on
either side. A task appears at most once: rows already in the window are not added again.

Pure and synchronous: it fetches nothing, knows no query and emits nothing. The store
decides what to fetch, feeds the answers in and reports what changed.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable, Sequence

from tasktui.domain import Task


@dataclass(frozen=True, slots=True)
class PageRead:
    """One page as read from the server."""

    token: str | None  # the token that fetched it (None: the first page)
    tasks: Sequence[Task]
    next_token: str | None  # the token of the page after it (None: this is the last)


@dataclass(frozen=True, slots=True)
class Added:
    """What ``append`` / ``prepend`` did: the rows that entered the window (tasks already
    in it are left out) and how many rows were dropped at the other end to stay bounded."""

    rows: list[Task]
    dropped: int


@dataclass
class _Page:
    token: str | None  # the token that fetches this page (None: the first)
    next_token: str | None  # the token after it (None: the last page)
    size: int  # rows it had when last loaded
    count: int = 0  # rows of it in the window now (0 when dropped)


class Window:
    def __init__(self, max_rows: int):
        if max_rows < 1:
            raise ValueError("max_rows must be positive")
        self.max_rows = max_rows
        #: The rows in the window (read them, never change them).
        self.rows: list[Task] = []
        self._pages: list[_Page] = []
        self._lo = 0  # window = pages[_lo:_hi]
        self._hi = 0
        self._ids: set[str] = set()
        self._pos: dict[str, int] | None = None

    # reading -------------------------------------------------------------------------
    def __len__(self) -> int:
        return len(self.rows)

    def __contains__(self, task_id: object) -> bool:
        return task_id in self._ids

    @property
    def has_pages(self) -> bool:
        """A first page has been read (the window may still hold no rows)."""
        return bool(self._pages)

    @property
    def at_top(self) -> bool:
        """The window starts at the first page of the listing."""
        return self._lo == 0

    @property
    def spans_pages(self) -> bool:
        """At least one page is in the window."""
        return self._hi > self._lo

    @property
    def offset(self) -> int:
        """Position of ``rows[0]`` in the whole listing."""
        return sum(p.size for p in self._pages[: self._lo])

    @property
    def has_before(self) -> bool:
        return self._lo > 0

    @property
    def has_more(self) -> bool:
        if self._hi < len(self._pages):
            return True
        return bool(self._pages) and self._pages[-1].next_token is not None

    @property
    def next_token(self) -> str | None:
        """Token of the page after the window (None at the end)."""
        if self._hi < len(self._pages):
            return self._pages[self._hi].token
        return self._pages[-1].next_token if self._pages else None

    @property
    def first_token(self) -> str | None:
        """Token of the window's first page (None: the listing's first page)."""
        return self._pages[self._lo].token if self._lo < len(self._pages) else None

    def index_of(self, task_id: str) -> int | None:
        if task_id not in self._ids:
            return None
        if self._pos is None:
            self._pos = {t.task_id: i for i, t in enumerate(self.rows)}
        return self._pos.get(task_id)

    def row(self, task_id: str) -> Task | None:
        i = self.index_of(task_id)
        return self.rows[i] if i is not None else None

    # where the next reads go ---------------------------------------------------------
    def next_page(self) -> tuple[int, str | None]:
        """The page after the window: its place in the page table and its token. Pass
        both to ``append`` with the answer."""
        idx = self._hi
        return idx, (self._pages[idx].token if idx < len(self._pages) else self._pages[-1].next_token)

    def previous_page(self) -> tuple[int, str | None]:
        """The dropped page just before the window: its place and its token. Pass both to
        ``prepend`` with the answer. Only while ``has_before``."""
        if not self.has_before:
            raise ValueError("no page before the window")
        idx = self._lo - 1
        return idx, self._pages[idx].token

    # changing ------------------------------------------------------------------------
    def replace(self, pages: Iterable[PageRead], *, keep_before: bool = False) -> int:
        """Show ``pages`` (read in order) instead of the window. With ``keep_before`` the
        tokens of the pages before the window are kept, so the new pages continue after
        them (a refresh in place); otherwise the page table starts over. Returns the rows
        dropped from the top to stay within ``max_rows``."""
        before = self._pages[: self._lo] if keep_before else []
        for p in before:
            p.count = 0
        rows: list[Task] = []
        seen: set[str] = set()
        new_pages: list[_Page] = []
        for page in pages:
            n = 0
            for t in page.tasks:
                if t.task_id not in seen:
                    seen.add(t.task_id)
                    rows.append(t)
                    n += 1
            new_pages.append(_Page(page.token, page.next_token, n, n))
        self._pages = before + new_pages
        self._lo = len(before)
        self._hi = len(self._pages)
        self.rows = rows
        self._ids = seen
        self._pos = None
        return self._trim(from_start=True)

    def clear(self) -> None:
        """Forget every row and token."""
        self.replace([])

    def append(self, idx: int, page: PageRead) -> Added:
        """Put the page read for ``next_page()`` (place ``idx``) at the end of the window.
        If the page now leads somewhere else than it did, the tokens remembered after it
        are stale and are forgotten. Drops pages from the top to stay bounded."""
        fresh = self._fresh(page.tasks)
        rec = _Page(page.token, page.next_token, len(fresh), len(fresh))
        if idx < len(self._pages):
            if self._pages[idx].next_token != rec.next_token:
                del self._pages[idx + 1:]  # the listing changed: later tokens are stale
            self._pages[idx] = rec
        else:
            self._pages.append(rec)
        self._hi = idx + 1
        self.rows.extend(fresh)
        self._ids.update(t.task_id for t in fresh)
        self._pos = None
        return Added(fresh, self._trim(from_start=True))

    def prepend(self, idx: int, page: PageRead) -> Added | None:
        """Put the page read for ``previous_page()`` (place ``idx``) at the start of the
        window; None (nothing changed) when the window has moved since. Drops pages from
        the bottom to stay bounded."""
        if self._lo != idx + 1:
            return None
        fresh = self._fresh(page.tasks)
        self._pages[idx] = _Page(page.token, self._pages[idx].next_token, len(fresh), len(fresh))
        self._lo = idx
        self.rows[:0] = fresh
        self._ids.update(t.task_id for t in fresh)
        self._pos = None
        return Added(fresh, self._trim(from_start=False))

    def insert_at_top(self, tasks: Sequence[Task]) -> int:
        """New tasks that belong before the first row (they count to the first page).
        Returns the rows dropped from the bottom to stay bounded."""
        self.rows[:0] = tasks
        self._grow(self._pages[self._lo], tasks)
        return self._trim(from_start=False)

    def insert_at_end(self, tasks: Sequence[Task]) -> int:
        """New tasks that belong after the last row (they count to the last page).
        Returns the rows dropped from the top to stay bounded."""
        self.rows.extend(tasks)
        self._grow(self._pages[self._hi - 1], tasks)
        return self._trim(from_start=True)

    def put(self, task: Task, *, only_if: Task | None = None) -> bool:
        """Replace the row of ``task``'s id, if it is in the window (and, with ``only_if``,
        still holds that object). Returns whether a row changed."""
        i = self.index_of(task.task_id)
        if i is None or (only_if is not None and self.rows[i] is not only_if):
            return False
        if self.rows[i] is task:
            return False
        self.rows[i] = task
        return True

    def remove(self, task_ids: Iterable[str]) -> None:
        """Take rows out of the window; their pages shrink accordingly."""
        gone = set(task_ids)
        i = 0
        for p in self._pages[self._lo: self._hi]:
            n_before = p.count
            for t in self.rows[i: i + n_before]:
                if t.task_id in gone:
                    p.count -= 1
                    p.size -= 1
            i += n_before
        self.rows = [t for t in self.rows if t.task_id not in gone]
        self._ids -= gone
        self._pos = None

    # internals -----------------------------------------------------------------------
    def _fresh(self, tasks: Iterable[Task]) -> list[Task]:
        fresh: list[Task] = []
        seen: set[str] = set()
        for t in tasks:
            if t.task_id not in self._ids and t.task_id not in seen:
                seen.add(t.task_id)
                fresh.append(t)
        return fresh

    def _grow(self, page: _Page, tasks: Sequence[Task]) -> None:
        page.count += len(tasks)
        page.size += len(tasks)
        self._ids.update(t.task_id for t in tasks)
        self._pos = None

    def _trim(self, *, from_start: bool) -> int:
        """Drop whole pages from one end until the window fits; returns rows dropped.
        The window always keeps at least one page."""
        dropped = 0
        while len(self.rows) > self.max_rows and self._hi - self._lo > 1:
            page = self._pages[self._lo] if from_start else self._pages[self._hi - 1]
            n = page.count
            if from_start:
                gone, self.rows = self.rows[:n], self.rows[n:]
                self._lo += 1
            else:
                gone, self.rows = self.rows[len(self.rows) - n:], self.rows[: len(self.rows) - n]
                self._hi -= 1
            page.count = 0
            for t in gone:
                self._ids.discard(t.task_id)
            dropped += n
        if dropped:
            self._pos = None
        return dropped
