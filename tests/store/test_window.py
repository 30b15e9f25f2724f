"""The row window on its own, without a server: pages fed in by hand, expectations
written out. Tokens are named after the page they fetch ("t2" fetches page 2)."""

from __future__ import annotations

import pytest

from tasktui.domain import Task
from tasktui.store.window import PageRead, Window


def task(tid: str) -> Task:
    return Task({"task_id": tid, "status": "pending"})


def page(n: int, size: int = 3, *, last: bool = False, prefix: str = "") -> PageRead:
    """Page ``n`` (from 0) of ``size`` tasks named ``<prefix><n>.<i>``."""
    return PageRead(None if n == 0 else f"t{n}", [task(f"{prefix}{n}.{i}") for i in range(size)],
                    None if last else f"t{n + 1}")


def ids(w: Window) -> list[str]:
    return [t.task_id for t in w.rows]


def scroll_down(w: Window, n: int, size: int = 3):
    idx, token = w.next_page()
    assert token == f"t{n}"
    return w.append(idx, page(n, size))


def test_an_empty_window_has_nothing_on_either_side():
    w = Window(max_rows=10)
    assert ids(w) == [] and not w.has_pages and not w.has_before and not w.has_more
    assert w.offset == 0 and w.next_token is None and w.first_token is None
    assert w.index_of("x") is None and w.row("x") is None and "x" not in w


def test_replace_shows_the_pages_in_order_and_says_what_follows():
    w = Window(max_rows=10)
    assert w.replace([page(0), page(1)]) == 0
    assert ids(w) == ["0.0", "0.1", "0.2", "1.0", "1.1", "1.2"]
    assert w.offset == 0 and not w.has_before and w.has_more and w.next_token == "t2"
    assert w.index_of("1.1") == 4 and w.row("1.1").task_id == "1.1" and "0.2" in w
    assert w.next_page() == (2, "t2")


def test_the_last_page_ends_the_listing():
    w = Window(max_rows=10)
    w.replace([page(0, last=True)])
    assert not w.has_more and w.next_token is None


def test_a_task_listed_twice_is_shown_once():
    w = Window(max_rows=10)
    w.replace([page(0), PageRead("t1", [task("0.2"), task("1.0"), task("1.0")], "t2")])
    assert ids(w) == ["0.0", "0.1", "0.2", "1.0"]
    idx, _ = w.next_page()
    added = w.append(idx, PageRead("t2", [task("1.0"), task("2.0")], None))
    assert [t.task_id for t in added.rows] == ["2.0"] and added.dropped == 0
    assert ids(w) == ["0.0", "0.1", "0.2", "1.0", "2.0"]


def test_appending_past_the_bound_drops_whole_pages_from_the_top():
    w = Window(max_rows=7)
    w.replace([page(0), page(1)])
    added = scroll_down(w, 2)
    assert [t.task_id for t in added.rows] == ["2.0", "2.1", "2.2"] and added.dropped == 3
    assert ids(w) == ["1.0", "1.1", "1.2", "2.0", "2.1", "2.2"]
    assert w.offset == 3 and w.has_before and w.first_token == "t1"
    assert "0.0" not in w and w.index_of("2.0") == 3


def test_replace_trims_from_the_top_too():
    w = Window(max_rows=4)
    assert w.replace([page(0), page(1), page(2)]) == 6
    assert ids(w) == ["2.0", "2.1", "2.2"] and w.offset == 6


def test_the_window_keeps_one_page_even_when_it_alone_is_over_the_bound():
    w = Window(max_rows=2)
    assert w.replace([page(0, size=5)]) == 0
    assert len(w) == 5
    added = scroll_down(w, 1, size=4)
    assert added.dropped == 5 and ids(w) == ["1.0", "1.1", "1.2", "1.3"] and w.offset == 5


def test_a_dropped_page_is_fetched_again_from_its_remembered_token():
    w = Window(max_rows=6)
    w.replace([page(0), page(1)])
    scroll_down(w, 2)
    scroll_down(w, 3)
    assert ids(w) == ["2.0", "2.1", "2.2", "3.0", "3.1", "3.2"] and w.offset == 6
    assert w.previous_page() == (1, "t1")
    added = w.prepend(1, page(1))
    assert [t.task_id for t in added.rows] == ["1.0", "1.1", "1.2"] and added.dropped == 3
    assert ids(w) == ["1.0", "1.1", "1.2", "2.0", "2.1", "2.2"] and w.offset == 3
    # the page dropped at the bottom is still known: scrolling down re-reads it by token
    assert w.has_more and w.next_token == "t3" and w.next_page() == (3, "t3")
    again = w.append(3, page(3))
    assert again.dropped == 3 and ids(w) == ["2.0", "2.1", "2.2", "3.0", "3.1", "3.2"]
    assert w.next_page() == (4, "t4")


def test_scrolling_back_to_the_top_restores_offset_zero():
    w = Window(max_rows=3)
    w.replace([page(0)])
    scroll_down(w, 1)
    scroll_down(w, 2)
    assert w.offset == 6
    w.prepend(w.previous_page()[0], page(1))
    w.prepend(w.previous_page()[0], page(0))
    assert ids(w) == ["0.0", "0.1", "0.2"] and w.offset == 0 and not w.has_before
    with pytest.raises(ValueError):
        w.previous_page()


def test_a_prepend_for_a_window_that_has_moved_since_changes_nothing():
    w = Window(max_rows=3)
    w.replace([page(0)])
    scroll_down(w, 1)
    scroll_down(w, 2)
    idx, token = w.previous_page()
    assert (idx, token) == (1, "t1")
    w.prepend(idx, page(1))  # the answer for the first request
    before = ids(w)
    assert w.prepend(idx, page(1)) is None  # the same place answered twice
    assert ids(w) == before


def test_an_offset_counts_the_rows_the_dropped_pages_had():
    w = Window(max_rows=5)
    w.replace([page(0, size=2)])
    scroll_down(w, 1, size=1)
    scroll_down(w, 2, size=3)  # drops page 0 (2 rows)
    assert w.offset == 2
    scroll_down(w, 3, size=2)  # drops page 1 (1 row)
    assert w.offset == 3 and ids(w) == ["2.0", "2.1", "2.2", "3.0", "3.1"]


def test_a_page_that_now_leads_elsewhere_forgets_the_stale_tokens_after_it():
    w = Window(max_rows=3)
    w.replace([page(0)])
    for n in (1, 2, 3):
        scroll_down(w, n)
    for n in (2, 1):  # pages 3 and 2 are dropped at the bottom, their tokens kept
        w.prepend(w.previous_page()[0], page(n))
    assert w.next_page() == (2, "t2") and w.has_more
    # page 2 is read again and is now the end of the listing: page 3's token is stale
    w.append(2, PageRead("t2", [task("2.0")], None))
    assert not w.has_more and w.next_token is None


def test_a_page_that_leads_where_it_did_keeps_the_tokens_after_it():
    w = Window(max_rows=3)
    w.replace([page(0)])
    for n in (1, 2, 3):
        scroll_down(w, n)
    for n in (2, 1):
        w.prepend(w.previous_page()[0], page(n))
    assert w.next_page() == (2, "t2")
    w.append(2, page(2))  # unchanged: still leads to t3
    assert w.next_page() == (3, "t3")


def test_refresh_in_place_keeps_the_tokens_before_the_window():
    w = Window(max_rows=3)
    w.replace([page(0)])
    scroll_down(w, 1)
    assert w.offset == 3 and w.first_token == "t1"
    w.replace([PageRead("t1", [task("1.0"), task("new")], "t2")], keep_before=True)
    assert ids(w) == ["1.0", "new"] and w.offset == 3 and w.has_before
    assert w.previous_page() == (0, None)


def test_new_tasks_at_the_top_count_to_the_first_page_and_push_pages_out_at_the_bottom():
    w = Window(max_rows=6)
    w.replace([page(0), page(1)])
    assert w.insert_at_top([task("n1"), task("n2")]) == 3
    assert ids(w) == ["n1", "n2", "0.0", "0.1", "0.2"]
    assert w.next_page() == (1, "t1") and w.has_more
    scroll_down(w, 1)  # page 0 (now 5 rows) drops and the offset counts all of them
    assert w.offset == 5


def test_new_tasks_at_the_end_count_to_the_last_page_and_push_pages_out_at_the_top():
    w = Window(max_rows=6)
    w.replace([page(0), page(1, last=True)])
    assert w.insert_at_end([task("n1")]) == 3
    assert ids(w) == ["1.0", "1.1", "1.2", "n1"] and w.offset == 3 and "0.0" not in w


def test_removed_rows_shrink_their_pages():
    w = Window(max_rows=6)
    w.replace([page(0), page(1)])
    w.remove(["0.1", "1.2", "not-there"])
    assert ids(w) == ["0.0", "0.2", "1.0", "1.1"] and w.index_of("1.0") == 2 and "0.1" not in w
    scroll_down(w, 2)  # 7 rows: page 0, now of 2 rows, is dropped
    assert w.offset == 2 and ids(w) == ["1.0", "1.1", "2.0", "2.1", "2.2"]


def test_put_replaces_a_loaded_row_only_while_it_holds_the_expected_object():
    w = Window(max_rows=6)
    w.replace([page(0)])
    original = w.row("0.1")
    newer = Task({"task_id": "0.1", "status": "completed"})
    assert w.put(newer) and w.row("0.1") is newer and w.index_of("0.1") == 1
    assert not w.put(newer)  # the same object: nothing changes
    assert not w.put(Task({"task_id": "0.1", "status": "canceled"}), only_if=original)
    assert w.row("0.1") is newer
    assert not w.put(task("elsewhere")) and "elsewhere" not in w


def test_clear_forgets_rows_and_tokens():
    w = Window(max_rows=6)
    w.replace([page(0), page(1)])
    w.clear()
    assert ids(w) == [] and not w.has_pages and not w.has_more and w.offset == 0


def test_a_window_needs_room_for_a_row():
    with pytest.raises(ValueError):
        Window(max_rows=0)
