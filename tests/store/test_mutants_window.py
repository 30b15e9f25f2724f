"""Literal expectations that kill the mutants `make mutate` found alive in window.py (see
RELIABILITY.md, "Mutation score"): a one-row window, positions after every change, page
counts after removals (what trimming drops), and a page read again before the window.
Pages fed by hand, no server. Tokens are named after the page they fetch."""

from __future__ import annotations

import pytest

from tasktui.domain import Task
from tasktui.store.window import PageRead, Window


def task(tid: str) -> Task:
    return Task({"task_id": tid, "status": "pending"})


def page(n: int, size: int = 3) -> PageRead:
    return PageRead(None if n == 0 else f"t{n}", [task(f"{n}.{i}") for i in range(size)], f"t{n + 1}")


def ids(w: Window) -> list[str]:
    return [t.task_id for t in w.rows]


def test_a_one_row_window_is_allowed_and_zero_is_not():
    w = Window(max_rows=1)
    w.replace([page(0)])
    assert ids(w) == ["0.0", "0.1", "0.2"]  # the window keeps at least one page
    with pytest.raises(ValueError) as e:
        Window(max_rows=0)
    assert str(e.value) == "max_rows must be positive"


def test_an_empty_window_spans_no_page():
    assert Window(max_rows=5).spans_pages is False


def test_no_page_before_the_top_is_said_so():
    w = Window(max_rows=5)
    w.replace([page(0)])
    with pytest.raises(ValueError) as e:
        w.previous_page()
    assert str(e.value) == "no page before the window"


def test_replace_without_keep_before_starts_the_page_table_over():
    w = Window(max_rows=3)
    w.replace([page(0)])
    idx, _ = w.next_page()
    w.append(idx, page(1))  # page 0 dropped: the window is scrolled
    assert w.has_before and w.offset == 3
    w.replace([page(0)])
    assert not w.has_before and w.offset == 0 and ids(w) == ["0.0", "0.1", "0.2"]


def test_positions_are_right_after_every_change():
    w = Window(max_rows=100)
    w.replace([page(0)])
    assert w.index_of("0.2") == 2
    idx, _ = w.next_page()
    w.append(idx, page(1))
    assert w.index_of("1.0") == 3
    w.insert_at_top([task("n")])
    assert w.index_of("1.0") == 4 and w.index_of("n") == 0
    w.insert_at_end([task("e")])
    assert w.index_of("e") == 7
    w.remove(["n"])
    assert w.index_of("0.0") == 0


def test_positions_are_right_after_a_page_is_read_again_before_the_window():
    w = Window(max_rows=3)
    w.replace([page(0)])
    idx, _ = w.next_page()
    w.append(idx, page(1))
    idx, token = w.previous_page()
    assert (idx, token) == (0, None)
    w.prepend(idx, PageRead(None, [task("a"), task("b")], "t1"))
    assert ids(w) == ["a", "b"] and w.index_of("b") == 1


def test_a_page_read_again_before_the_window_keeps_its_size():
    w = Window(max_rows=6)
    w.replace([page(0), page(1)])
    idx, _ = w.next_page()
    w.append(idx, page(2))  # drops page 0
    idx, _ = w.previous_page()
    w.prepend(idx, page(0))  # drops page 2
    assert ids(w) == ["0.0", "0.1", "0.2", "1.0", "1.1", "1.2"]
    w.remove(["0.1"])  # page 0 now holds 2 rows
    idx, _ = w.next_page()
    w.append(idx, page(2))  # drops page 0 again
    assert ids(w) == ["1.0", "1.1", "1.2", "2.0", "2.1", "2.2"] and w.offset == 2


def test_a_page_repeating_a_task_adds_it_once():
    w = Window(max_rows=10)
    w.replace([page(0)])
    idx, _ = w.next_page()
    added = w.append(idx, PageRead("t1", [task("x"), task("x"), task("y")], None))
    assert [t.task_id for t in added.rows] == ["x", "y"] and ids(w)[3:] == ["x", "y"]


def test_removed_rows_shrink_their_own_pages():
    w = Window(max_rows=9)
    w.replace([page(0), page(1), page(2)])
    w.remove(["0.0", "1.1", "2.1"])  # each page now holds 2 rows
    assert w.insert_at_top([task("n1"), task("n2"), task("n3"), task("n4")]) == 2  # page 2 dropped
    assert ids(w) == ["n1", "n2", "n3", "n4", "0.1", "0.2", "1.0", "1.2"]


def test_removed_rows_shrink_their_own_pages_at_the_top_too():
    w = Window(max_rows=9)
    w.replace([page(0), page(1), page(2)])
    w.remove(["0.0", "1.1", "2.1"])
    assert w.insert_at_end([task("e1"), task("e2"), task("e3"), task("e4")]) == 2  # page 0 dropped
    assert ids(w) == ["1.0", "1.2", "2.0", "2.2", "e1", "e2", "e3", "e4"] and w.offset == 2


def test_rows_inserted_at_the_top_count_to_the_first_page():
    w = Window(max_rows=6)
    w.replace([page(0), page(1)])
    assert w.insert_at_top([task("n")]) == 3  # page 1 dropped from the bottom
    assert ids(w) == ["n", "0.0", "0.1", "0.2"]
    idx, token = w.next_page()
    assert (idx, token) == (1, "t1")
    w.append(idx, page(1))
    w.append(*w.next_page()[:1], page(2))  # page 0 (4 rows with "n") dropped from the top
    assert ids(w) == ["1.0", "1.1", "1.2", "2.0", "2.1", "2.2"] and w.offset == 4


def test_a_removal_on_the_third_page_shrinks_the_third_page():
    w = Window(max_rows=9)
    w.replace([page(0), page(1), page(2)])
    w.remove(["2.1"])
    assert w.insert_at_top([task("n1"), task("n2")]) == 2  # page 2, now 2 rows, dropped
    assert ids(w) == ["n1", "n2", "0.0", "0.1", "0.2", "1.0", "1.1", "1.2"]


def test_positions_are_right_after_a_page_read_again_fits():
    w = Window(max_rows=3)
    w.replace([page(0)])
    w.append(*w.next_page()[:1], page(1))  # page 0 dropped
    w.remove(["1.0", "1.1"])
    idx, _ = w.previous_page()
    added = w.prepend(idx, PageRead(None, [task("a")], "t1"))
    assert added is not None and added.dropped == 0
    assert ids(w) == ["a", "1.2"] and w.index_of("1.2") == 1
