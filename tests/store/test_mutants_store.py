"""The store's stale-answer handling, pinned event by event over real HTTP (the mutants
``make mutate`` plants in ``TaskStore._bump``, ``_wait``, ``_load_from``, ``_scan``,
``_count_scan``, ``load_more``, ``_fetch_more``, ``load_previous`` and
``_fetch_previous``; see RELIABILITY.md, "Mutation score").

Every store reads the bundled server on 127.0.0.1, most through the ``FaultProxy``. An
answer is made late on purpose with ``Fault.hold``: the request reaches the server at
once and its answer waits for the test's ``Gate``, so "the operator changed the query
while page 2 was on its way" happens in that order every time, with no timing to guess.
Faults are the proxy's: a 400 (at once, or in place of a held answer once released), a
custom answer (the server's own answer re-dated, or with a foreign next token); and a
local index file damaged under the product's IndexReader. The oracles are the server's
SQLite (``sql``, ``sql_oracle.expected_ids``), the requests the proxy saw, and literals;
what the store told its subscribers is written down by ``Journal`` with the state it
showed at that moment (is it loading? what total, exact or "at least"?). Nothing of
tasktui is patched.

The clock matters in two places, each said where it is: a scan shows what it found after
``FIRST_PAINT_AFTER``, so a few tests hold its first page just past that delay (a
deliberate wait, not evidence); two tests check that nothing is shown *within* it,
measure how long the first page took, and skip on a machine too slow to stay inside it.
"""

from __future__ import annotations

import asyncio
import json
import time
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from sql_oracle import WIRE_OSTATUS, expected_ids
from waiting import eventually
from tasktui.api import TaskClient
from tasktui.domain import OperatorStatus as S
from tasktui.domain import SortOrder, TaskQuery
from tasktui.store import TaskStore
from tasktui.store.store import FIRST_PAINT_AFTER
from tasktui.testing import Fault, Gate

#: Seconds to wait for something that takes milliseconds (an answer on 127.0.0.1): short, so
#: that a mutant which stops the store from ever getting there fails fast.
WAIT = 5.0
ALL = TaskQuery()
COMPLETED = TaskQuery(statuses=frozenset({S.COMPLETED}))
QUEUED = TaskQuery(statuses=frozenset({S.QUEUED}))
#: the shared server's counts (tests/conftest.py's seed), read again from SQLite where it matters
N_ALL, N_COMPLETED, N_PENDING, N_QUEUED = 1500, 1050, 283, 123


class Journal:
    """Every event a store emits, one line each, with what the store showed when it was
    told: ``loading g1 L`` (L loading, M loading more, S scanning), ``total g1 123+``
    (``+``: "at least"), ``rows_appended g1 rows=14 count=7 dropped=0``,
    ``error g1 ok=False``. ``g1`` is the event's generation."""

    def __init__(self, store: TaskStore):
        self.store = store
        self.lines: list[str] = []
        self.events: list = []  # the events themselves (their task_ids)
        store.subscribe(self._note)

    def _note(self, e) -> None:
        s = self.store
        kind = e.kind.value
        line = f"{kind} g{e.generation}"
        if kind == "loading":
            line += " " + "".join(c for c, on in (("L", s.loading), ("M", s.loading_more), ("S", s.scanning)) if on)
        elif kind == "total":
            line += f" {s.total}{'' if s.total_exact else '+'}"
        elif kind.startswith("rows_"):
            line += f" rows={len(s.rows)} count={e.count} dropped={e.dropped}"
        elif kind in ("error", "poll"):
            line += f" ok={e.ok}"
        elif kind == "progress":
            line += f" {e.message}"
        self.lines.append(line.rstrip())
        self.events.append(e)

    def clear(self) -> None:
        self.lines.clear()
        self.events.clear()

    def task_ids(self, kind: str) -> list[tuple[str, ...]]:
        return [e.task_ids for e in self.events if e.kind.value == kind]

    def kinds(self) -> list[str]:
        return [line.split()[0] for line in self.lines]


def ids(store: TaskStore) -> list[str]:
    return [t.task_id for t in store.rows]


def listing_requests(proxy, *, since: int = 0) -> list[dict[str, list[str]]]:
    """The query strings of the ``GET /v1/tasks`` requests the proxy saw (from entry
    ``since`` of its log), the extension probe (``limit=1`` alone) left out."""
    out = []
    for seen in proxy.log[since:]:
        method, target, _ = seen.request_line.split(" ")
        parts = urlsplit(target)
        if method == "GET" and parts.path.endswith("/tasks"):
            q = parse_qs(parts.query)
            if q != {"limit": ["1"]}:
                out.append(q)
    return out


async def scroll_to_the_end(store: TaskStore, most: int = 20) -> None:
    """``load_more`` until the end of the listing: at most ``most`` times (a broken store
    must fail here, not loop for ever)."""
    for _ in range(most):
        if not store.has_more:
            return
        await asyncio.wait_for(store.load_more(), WAIT)
    raise AssertionError(f"still more to load after {most} pages")


async def journal_store(make_store, url: str, key: str, **kw) -> tuple[TaskStore, Journal]:
    store, _ = await make_store(url, key, **kw)
    return store, Journal(store)


# -- loading a query (_load_from, _wait) -----------------------------------------------------
async def test_a_first_page_is_shown_with_the_servers_total_in_this_order(shared_server, make_store, sql):
    want = expected_ids(shared_server.db_path, COMPLETED)
    assert len(want) == N_COMPLETED
    store, j = await journal_store(make_store, shared_server.url, shared_server.api_key, page_size=7)
    assert await store.set_query(COMPLETED) is None
    assert j.lines == ["query g1", "loading g1 L", "rows_replaced g1 rows=7 count=0 dropped=0",
                       f"total g1 {N_COMPLETED}", "loading g1"]
    assert ids(store) == want[:7]
    assert store.has_more and store.next_token and not store.has_before
    assert store.loaded_once and store.loading is False and store.error is None and store.progress is None
    assert not store.is_empty and store.total_exact


async def test_a_refresh_reads_again_as_many_rows_as_were_shown(shared_server, proxy_for, make_store):
    want = expected_ids(shared_server.db_path, ALL)
    proxy = await proxy_for(shared_server)
    store, j = await journal_store(make_store, proxy.url, shared_server.api_key, page_size=7)
    await store.set_query(ALL)
    assert await store.load_more() == 7
    assert await store.load_more() == 7
    j.clear()
    await store.refresh()
    assert ids(store) == want[:21]
    assert j.lines == ["loading g2 L", "rows_replaced g2 rows=21 count=0 dropped=0", "loading g2"]
    # the task at the cursor on the second page: the refresh reads up to that page only
    store.set_anchor(want[9])
    await store.refresh()
    assert ids(store) == want[:14]


async def test_a_refresh_that_fails_after_its_first_page_keeps_that_page_and_says_why(
        shared_server, proxy_for, make_store):
    want = expected_ids(shared_server.db_path, ALL)
    proxy = await proxy_for(shared_server)
    store, j = await journal_store(make_store, proxy.url, shared_server.api_key, page_size=7)
    await store.set_query(ALL)
    await store.load_more()
    j.clear()
    proxy.script(Fault.error(400, match="next_token="))
    await store.refresh()
    assert ids(store) == want[:7]
    assert "injected fault" in str(store.error) and not store.loading
    assert j.lines == ["loading g2 L", "rows_replaced g2 rows=7 count=0 dropped=0", "error g2 ok=False",
                       "loading g2"]
    assert store.total == N_ALL and store.total_exact


async def test_a_first_load_that_fails_shows_no_rows_and_the_error(shared_server, proxy_for, make_store):
    proxy = await proxy_for(shared_server)
    store, j = await journal_store(make_store, proxy.url, shared_server.api_key, page_size=7)
    await store.set_query(ALL)
    j.clear()
    proxy.script(Fault.error(400, match="status=completed"))
    await store.set_query(COMPLETED)
    assert ids(store) == [] and "injected fault" in str(store.error)
    assert j.lines == ["query g2", "loading g2 L", "rows_replaced g2 rows=0 count=0 dropped=0", "error g2 ok=False",
                       "loading g2"]
    assert store.loading is False


async def test_a_refresh_that_fails_at_once_keeps_every_row(shared_server, proxy_for, make_store):
    want = expected_ids(shared_server.db_path, ALL)
    proxy = await proxy_for(shared_server)
    store, j = await journal_store(make_store, proxy.url, shared_server.api_key, page_size=7)
    await store.set_query(ALL)
    await store.load_more()
    j.clear()
    proxy.script(Fault.error(400, match="GET /v1/tasks?"))
    await store.refresh()
    assert ids(store) == want[:14] and "injected fault" in str(store.error)
    assert j.lines == ["loading g2 L", "error g2 ok=False", "loading g2"]
    assert store.loading is False


async def test_a_query_superseded_while_its_first_page_is_held_leaves_no_trace(
        shared_server, proxy_for, make_store):
    proxy = await proxy_for(shared_server)
    store, j = await journal_store(make_store, proxy.url, shared_server.api_key, page_size=7)
    await store.client.discover()
    gate = Gate()
    proxy.script(Fault.hold(gate, then=Fault.error(400), match="status=completed"))
    first = asyncio.ensure_future(store.set_query(COMPLETED))
    await gate.until_held(1, timeout=WAIT)
    assert store.loading
    await store.set_query(QUEUED)
    assert await first is None  # the superseded call returns quietly
    gate.release()
    await eventually(lambda: proxy.stats.in_flight == 0, "the held answer to be written", timeout=WAIT)
    assert j.lines == ["query g1", "loading g1 L", "query g2", "rows_replaced g2 rows=7 count=0 dropped=0",
                       f"total g2 {N_QUEUED}", "loading g2"]
    assert store.error is None and ids(store) == expected_ids(shared_server.db_path, QUEUED)[:7]


async def test_a_caller_cancelled_while_waiting_leaves_the_load_to_finish(shared_server, proxy_for, make_store):
    proxy = await proxy_for(shared_server)
    store, j = await journal_store(make_store, proxy.url, shared_server.api_key, page_size=7)
    await store.client.discover()
    gate = Gate()
    proxy.script(Fault.hold(gate, match="status=completed"))
    waiting = asyncio.ensure_future(store.set_query(COMPLETED))
    await gate.until_held(1, timeout=WAIT)
    waiting.cancel()
    with pytest.raises(asyncio.CancelledError):
        await waiting
    gate.release()
    await eventually(lambda: not store.loading, "the load to finish", timeout=WAIT)
    assert ids(store) == expected_ids(shared_server.db_path, COMPLETED)[:7] and store.total == N_COMPLETED
    assert j.lines[-3:] == ["rows_replaced g1 rows=7 count=0 dropped=0", f"total g1 {N_COMPLETED}", "loading g1"]


async def test_when_asking_whether_a_query_needs_a_scan_fails_it_is_loaded_page_by_page(
        shared_server, proxy_for, make_store):
    """Through the public contract Queued is filtered here; the probe that would tell
    (``limit=1``) fails once: the listing is read plainly, one filtered page at a time,
    and ten empty pages in a row end a read (none of these tasks match)."""
    proxy = await proxy_for(shared_server, public_contract=True)
    store, j = await journal_store(make_store, proxy.url, shared_server.api_key, page_size=5,
                                   client_kw={"max_scan_pages": 1})
    proxy.script(Fault.error(400, match="/v1/tasks?limit=1 "))
    nothing = QUEUED.replace(search="zz-no-such-task")
    await store.set_query(nothing)
    assert store.error is None and store.progress is None and ids(store) == []
    assert "progress" not in j.kinds() and not any(line.endswith("S") for line in j.lines)
    pages = listing_requests(proxy)
    assert len(pages) == 10 and all(p["limit"] == ["5"] and p["status"] == ["pending"] for p in pages)
    assert store.has_more and not store.is_empty and store.total == N_PENDING and not store.total_exact
    # scrolling on reads ten more empty pages at most, then gives up for this call
    seen = len(proxy.log)
    j.clear()
    assert await asyncio.wait_for(store.load_more(), WAIT) == 0
    assert len(listing_requests(proxy, since=seen)) == 10
    assert j.lines == ["loading g1 M", *["rows_appended g1 rows=0 count=0 dropped=0"] * 10, "loading g1"]



async def test_ten_empty_pages_after_the_last_row_end_a_plain_read(shared_server, proxy_for, make_store, sql):
    """As above (the probe fails, the listing is read plainly, one wire page of 5 at a
    time): one Queued task matches, on the third page or later; after the page that holds
    it, ten empty pages in a row end the read — the count starts again after a row."""
    pending = sql(shared_server, f"SELECT task_id, {WIRE_OSTATUS} FROM tasks "
                                 f"WHERE {WIRE_OSTATUS} IN ('queued', 'in_progress', 'redo') "
                                 "ORDER BY created_at DESC, task_id DESC")
    assert len(pending) == N_PENDING
    at = next(i for i, (_, o) in enumerate(pending) if i >= 10 and o == "queued")
    one = pending[at][0]
    prefix = one[:20]
    assert sql(shared_server, "SELECT count(*) FROM tasks WHERE task_id LIKE ?", prefix + "%") == [(1,)]
    proxy = await proxy_for(shared_server, public_contract=True)
    store, _ = await journal_store(make_store, proxy.url, shared_server.api_key, page_size=5,
                                   client_kw={"max_scan_pages": 1})
    proxy.script(Fault.error(400, match="/v1/tasks?limit=1 "))
    await store.set_query(QUEUED.replace(search=prefix))
    assert ids(store) == [one] and store.error is None and store.progress is None
    assert len(listing_requests(proxy)) == at // 5 + 1 + 10
    assert store.has_more and store.total == N_PENDING and not store.total_exact


async def test_a_plain_read_goes_on_until_it_has_the_rows_wanted(shared_server, proxy_for, make_store):
    """As above, with pages of 3 wire tasks: the first holds 2 Queued tasks, one short of
    the 3 wanted, so the second is read too (2 more): 4 rows, two requests."""
    want = expected_ids(shared_server.db_path, QUEUED)
    proxy = await proxy_for(shared_server, public_contract=True)
    store, _ = await journal_store(make_store, proxy.url, shared_server.api_key, page_size=3,
                                   client_kw={"max_scan_pages": 1})
    proxy.script(Fault.error(400, match="/v1/tasks?limit=1 "))
    await store.set_query(QUEUED)
    assert ids(store) == want[:4] and store.progress is None
    assert len(listing_requests(proxy)) == 2

# -- one more page (load_more, _fetch_more) --------------------------------------------------
async def test_load_more_appends_the_next_page_and_asks_nothing_at_the_end(shared_server, proxy_for, make_store):
    q = COMPLETED.replace(search="6a8d")  # a listing of three pages of 5
    want = expected_ids(shared_server.db_path, q)
    assert len(want) == 12
    proxy = await proxy_for(shared_server)
    store, j = await journal_store(make_store, proxy.url, shared_server.api_key, page_size=5)
    await store.set_query(q)
    j.clear()
    assert await store.load_more() == 5
    assert j.lines == ["loading g1 M", "rows_appended g1 rows=10 count=5 dropped=0", "loading g1"]
    assert j.task_ids("rows_appended") == [tuple(want[5:10])]
    assert store.loading_more is False and store.total == 12 and store.total_exact
    assert await store.load_more() == 2
    assert ids(store) == want and not store.has_more and store.next_token is None
    seen = len(proxy.log)
    assert await asyncio.wait_for(store.load_more(), WAIT) == 0  # the end: nothing is asked
    assert len(proxy.log) == seen


async def test_a_total_that_grew_while_scrolling_is_shown(server, make_store, sql):
    store, j = await journal_store(make_store, server.url, server.api_key, page_size=7)
    await store.set_query(ALL)
    assert store.total == N_ALL
    async with httpx.AsyncClient(base_url=server.url, auth=(server.api_key, "")) as other:
        r = await other.post("task/imageannotation", json={"instruction": "new", "attachment": "https://example.com/a.png"})
        assert r.status_code == 200, r.text
    (n,), = sql(server, "SELECT count(*) FROM tasks")
    assert n == N_ALL + 1
    j.clear()
    assert await store.load_more() == 7
    assert j.lines == ["loading g1 M", "rows_appended g1 rows=14 count=7 dropped=0", f"total g1 {n}", "loading g1"]


async def test_two_calls_while_one_page_is_on_its_way_share_it(shared_server, proxy_for, make_store):
    proxy = await proxy_for(shared_server)
    store, _ = await journal_store(make_store, proxy.url, shared_server.api_key, page_size=7)
    await store.set_query(ALL)
    gate = Gate()
    proxy.script(Fault.hold(gate, match="next_token="))
    seen = len(proxy.log)
    a = asyncio.ensure_future(store.load_more())
    await gate.until_held(1, timeout=WAIT)
    b = asyncio.ensure_future(store.load_more())
    gate.release()
    assert await asyncio.gather(a, b) == [7, 7]
    assert len(listing_requests(proxy, since=seen)) == 1
    assert ids(store) == expected_ids(shared_server.db_path, ALL)[:14]


async def test_a_shared_page_that_fails_gives_both_callers_nothing_and_says_why_once(
        shared_server, proxy_for, make_store):
    proxy = await proxy_for(shared_server)
    store, j = await journal_store(make_store, proxy.url, shared_server.api_key, page_size=7)
    await store.set_query(ALL)
    gate = Gate()
    proxy.script(Fault.hold(gate, then=Fault.error(400), match="next_token="))
    j.clear()
    a = asyncio.ensure_future(store.load_more())
    await gate.until_held(1, timeout=WAIT)
    b = asyncio.ensure_future(store.load_more())
    gate.release()
    assert await asyncio.gather(a, b) == [0, 0]
    assert j.lines == ["loading g1 M", "error g1 ok=False", "loading g1"]
    assert "injected fault" in str(store.error) and not store.loading_more and len(store.rows) == 7
    j.clear()
    assert await store.load_more() == 7  # the next try clears the error
    assert store.error is None
    assert j.lines == ["loading g1 M", "rows_appended g1 rows=14 count=7 dropped=0", "error g1 ok=True", "loading g1"]


async def test_a_page_of_a_superseded_query_is_never_appended(shared_server, proxy_for, make_store):
    proxy = await proxy_for(shared_server)
    store, j = await journal_store(make_store, proxy.url, shared_server.api_key, page_size=7)
    await store.set_query(ALL)
    gate = Gate()
    proxy.script(Fault.hold(gate, match="next_token="))
    more = asyncio.ensure_future(store.load_more())
    await gate.until_held(1, timeout=WAIT)
    assert store.loading_more
    j.clear()
    await store.set_query(QUEUED)
    assert store.loading_more is False  # the new generation ends it, at once
    gate.release()
    assert await more == 0
    await eventually(lambda: proxy.stats.in_flight == 0, "the held answer to be written", timeout=WAIT)
    assert j.lines == ["loading g2", "query g2", "loading g2 L", "rows_replaced g2 rows=7 count=0 dropped=0",
                       f"total g2 {N_QUEUED}", "loading g2"]
    assert ids(store) == expected_ids(shared_server.db_path, QUEUED)[:7]
    # and scrolling the new query works at once (nothing of the old fetch is left)
    assert await store.load_more() == 7
    assert ids(store) == expected_ids(shared_server.db_path, QUEUED)[:14]


async def test_a_failure_of_a_superseded_page_is_not_reported(shared_server, proxy_for, make_store):
    proxy = await proxy_for(shared_server)
    store, j = await journal_store(make_store, proxy.url, shared_server.api_key, page_size=7)
    await store.set_query(ALL)
    gate = Gate()
    proxy.script(Fault.hold(gate, then=Fault.error(400), match="next_token="))
    more = asyncio.ensure_future(store.load_more())
    await gate.until_held(1, timeout=WAIT)
    await store.set_query(QUEUED)
    gate.release()
    assert await more == 0
    await eventually(lambda: proxy.stats.in_flight == 0, "the held answer to be written", timeout=WAIT)
    assert store.error is None and "error" not in j.kinds()


async def test_load_more_before_any_load_loads_the_query(shared_server, make_store):
    store, j = await journal_store(make_store, shared_server.url, shared_server.api_key, page_size=7)
    assert await store.load_more() == 7
    assert ids(store) == expected_ids(shared_server.db_path, ALL)[:7]
    assert j.kinds()[:2] == ["query", "loading"] and store.query == ALL


async def test_load_more_while_a_new_query_loads_asks_nothing(shared_server, proxy_for, make_store):
    proxy = await proxy_for(shared_server)
    store, _ = await journal_store(make_store, proxy.url, shared_server.api_key, page_size=7)
    await store.set_query(ALL)
    gate = Gate()
    proxy.script(Fault.hold(gate, match="status=queued"))
    new = asyncio.ensure_future(store.set_query(QUEUED))
    await gate.until_held(1, timeout=WAIT)
    seen = len(proxy.log)
    assert await asyncio.wait_for(store.load_more(), WAIT) == 0
    assert await asyncio.wait_for(store.load_previous(), WAIT) == 0
    assert len(proxy.log) == seen
    gate.release()
    await new
    assert ids(store) == expected_ids(shared_server.db_path, QUEUED)[:7]


async def test_load_more_after_a_failed_first_load_loads_the_query_again(shared_server, proxy_for, make_store):
    proxy = await proxy_for(shared_server)
    store, _ = await journal_store(make_store, proxy.url, shared_server.api_key, page_size=7)
    proxy.script(Fault.error(400, match="GET /v1/tasks?"))
    await store.set_query(COMPLETED)
    assert store.error is not None and ids(store) == []
    assert await store.load_more() == 7  # nothing shown, nothing loading: the query again
    assert ids(store) == expected_ids(shared_server.db_path, COMPLETED)[:7] and store.error is None



@pytest.mark.parametrize("scan", [False, True], ids=["plain", "scan"])
async def test_load_more_during_a_reload_after_a_failed_load_asks_nothing(
        shared_server, proxy_for, make_store, scan):
    """The first load failed (no rows); the same query is loaded again and its first page
    held: load_more leaves that load alone (it asks nothing and starts nothing)."""
    proxy = await proxy_for(shared_server, public_contract=scan)
    store, j = await journal_store(make_store, proxy.url, shared_server.api_key, page_size=20,
                                   client_kw={"parallel": 1})
    await store.client.discover()
    match = "status=pending" if scan else "status=queued"
    proxy.script(Fault.error(400, match=match))
    await store.set_query(QUEUED)
    assert store.error is not None and ids(store) == []
    gate = Gate()
    proxy.script(Fault.hold(gate, match=match))
    reloading = asyncio.ensure_future(store.reload())
    await gate.until_held(1, timeout=WAIT)
    seen, generation = len(proxy.log), store.generation
    assert await asyncio.wait_for(store.load_more(), WAIT) == 0
    assert len(proxy.log) == seen and store.generation == generation
    gate.release()
    await asyncio.wait_for(reloading, WAIT)
    assert ids(store) == expected_ids(shared_server.db_path, QUEUED)[:len(store.rows)] and store.rows

# -- the page before the window (load_previous, _fetch_previous) -------------------------------
SMALL = COMPLETED.replace(search="6a8d")  # 12 tasks: four pages of 3, a window of 6 rows holds two


async def scrolled(handle, proxy_for, make_store, query: TaskQuery = SMALL, **kw):
    """A store of pages of 3 in a window of 6 rows, scrolled to the end of ``query``."""
    proxy = await proxy_for(handle, **kw)
    store, j = await journal_store(make_store, proxy.url, handle.api_key, page_size=3, max_rows=6)
    await store.set_query(query)
    await scroll_to_the_end(store)
    assert store.has_before and store.offset == 6 and len(store.rows) == 6
    j.clear()
    return proxy, store, j


async def test_load_previous_prepends_the_page_before_and_drops_one_at_the_end(shared_server, proxy_for, make_store):
    want = expected_ids(shared_server.db_path, SMALL)
    proxy, store, j = await scrolled(shared_server, proxy_for, make_store)
    assert ids(store) == want[6:]
    seen = len(proxy.log)
    assert await store.load_previous() == 3
    assert ids(store) == want[3:9] and store.offset == 3 and store.has_more
    assert j.lines == ["rows_prepended g1 rows=6 count=3 dropped=3"]  # the total did not change: not told
    assert j.task_ids("rows_prepended") == [tuple(want[3:6])]
    asked = listing_requests(proxy, since=seen)
    assert len(asked) == 1 and asked[0]["next_token"]
    # down again (page 4 read again, page 2 dropped), then up: page 2 is asked with its own token again
    assert await store.load_more() == 3 and ids(store) == want[6:]
    seen = len(proxy.log)
    assert await store.load_previous() == 3 and ids(store) == want[3:9]
    assert listing_requests(proxy, since=seen) == asked
    assert await store.load_previous() == 3
    assert ids(store) == want[:6] and not store.has_before
    seen = len(proxy.log)
    assert await asyncio.wait_for(store.load_previous(), WAIT) == 0  # at the top: nothing is asked
    assert len(proxy.log) == seen
    assert store.total == 12 and store.total_exact


async def test_a_total_that_changed_is_shown_when_scrolling_back(server, proxy_for, make_store, sql):
    tagged = TaskQuery(tags=("pinned-by-test",))
    async with httpx.AsyncClient(base_url=server.url, auth=(server.api_key, "")) as other:
        async def create(i: int) -> None:
            r = await other.post("task/imageannotation", json={
                "instruction": f"t{i}", "attachment": "https://example.com/a.png", "tags": ["pinned-by-test"]})
            assert r.status_code == 200, r.text
        for i in range(12):
            await create(i)
        _, store, j = await scrolled(server, proxy_for, make_store, tagged)
        assert store.total == 12
        await create(12)
    (n,), = sql(server, "SELECT count(*) FROM task_tags WHERE tag = 'pinned-by-test'")
    assert n == 13
    assert await store.load_previous() == 3
    assert j.lines == ["rows_prepended g1 rows=6 count=3 dropped=3", "total g1 13"]
    assert store.total_exact


async def test_a_previous_page_that_fails_is_reported_and_adds_nothing(shared_server, proxy_for, make_store):
    want = expected_ids(shared_server.db_path, SMALL)
    proxy, store, j = await scrolled(shared_server, proxy_for, make_store)
    proxy.script(Fault.error(400, match="next_token="))
    assert await asyncio.wait_for(store.load_previous(), WAIT) == 0
    assert j.lines == ["error g1 ok=False"] and "injected fault" in str(store.error)
    assert ids(store) == want[6:] and store.has_before


async def test_a_previous_page_that_comes_after_the_window_moved_is_dropped(shared_server, proxy_for, make_store):
    """Window of pages 2 and 3; page 1 is asked again and held; meanwhile page 4 is read,
    which drops page 2: page 1 no longer borders the window when it comes."""
    want = expected_ids(shared_server.db_path, SMALL)
    proxy = await proxy_for(shared_server)
    store, j = await journal_store(make_store, proxy.url, shared_server.api_key, page_size=3, max_rows=6)
    await store.set_query(SMALL)
    await store.load_more()
    await store.load_more()
    assert ids(store) == want[3:9]
    gate = Gate()
    proxy.script(Fault.hold(gate, match="limit=3 HTTP"))  # the first page: no token
    prev = asyncio.ensure_future(store.load_previous())
    await gate.until_held(1, timeout=WAIT)
    assert await store.load_more() == 3
    j.clear()
    gate.release()
    assert await prev == 0
    assert j.lines == [] and ids(store) == want[6:]


async def test_a_previous_page_of_a_superseded_query_is_dropped(shared_server, proxy_for, make_store):
    proxy, store, j = await scrolled(shared_server, proxy_for, make_store)
    gate = Gate()
    proxy.script(Fault.hold(gate, then=Fault.error(400), match="next_token="))
    prev = asyncio.ensure_future(store.load_previous())
    await gate.until_held(1, timeout=WAIT)
    await store.set_query(QUEUED)
    gate.release()
    assert await prev == 0
    await eventually(lambda: proxy.stats.in_flight == 0, "the held answer to be written", timeout=WAIT)
    assert store.error is None and "rows_prepended" not in j.kinds() and "error" not in j.kinds()
    assert ids(store) == expected_ids(shared_server.db_path, QUEUED)[:3]


async def test_scrolling_back_while_a_new_query_loads_asks_nothing(shared_server, proxy_for, make_store):
    """The window still holds the old query's pages (and the token of the one before):
    they are not the new query's."""
    proxy, store, j = await scrolled(shared_server, proxy_for, make_store)
    gate = Gate()
    proxy.script(Fault.hold(gate, match="status=queued"))
    new = asyncio.ensure_future(store.set_query(QUEUED))
    await gate.until_held(1, timeout=WAIT)
    assert store.has_before  # the old window, until the new page comes
    seen = len(proxy.log)
    assert await asyncio.wait_for(store.load_previous(), WAIT) == 0
    assert await asyncio.wait_for(store.load_more(), WAIT) == 0
    assert len(proxy.log) == seen
    gate.release()
    await new
    assert ids(store) == expected_ids(shared_server.db_path, QUEUED)[:3] and not store.has_before


async def test_a_new_query_that_fails_forgets_the_pages_before_the_old_window(shared_server, proxy_for, make_store):
    proxy, store, j = await scrolled(shared_server, proxy_for, make_store)
    proxy.script(Fault.error(400, match="status=queued"))
    await store.set_query(QUEUED)
    assert store.error is not None and ids(store) == [] and not store.has_before
    seen = len(proxy.log)
    assert await asyncio.wait_for(store.load_previous(), WAIT) == 0  # no token of the old query is used for the new one
    assert len(proxy.log) == seen


async def test_a_total_read_here_stays_at_least_when_scrolling_back(shared_server, proxy_for, make_store):
    """The plainly read, locally filtered listing (see the first tests): each page's total
    is the wire's, "at least" what matches, and stays so when a page before is read again."""
    proxy = await proxy_for(shared_server, public_contract=True)
    store, j = await journal_store(make_store, proxy.url, shared_server.api_key, page_size=5, max_rows=10,
                                   client_kw={"max_scan_pages": 1})
    proxy.script(Fault.error(400, match="/v1/tasks?limit=1 "))
    await store.set_query(QUEUED)
    assert store.progress is None and store.total == N_PENDING and not store.total_exact
    for _ in range(10):  # (bounded: a broken store must fail, not loop)
        if store.has_before:
            break
        await store.load_more()
    assert store.has_before
    j.clear()
    assert await store.load_previous() > 0
    assert "total" not in j.kinds() and store.total == N_PENDING and not store.total_exact


# -- scans (_scan, _count_scan) ----------------------------------------------------------------
# Through the public contract Queued is "pending" on the wire, split here: 123 of the 283
# pending tasks; read by one chain (``parallel=1``: the same pages every time), pages of 20
# wire tasks hold 10, 13, 11, ... of them (newest first).
PAINT = FIRST_PAINT_AFTER  # a scan shows what it has found after this long (0.3 s)


async def scan_done(store) -> None:
    await eventually(lambda: not store.scanning and not store.loading, "the scan to end", timeout=WAIT)


async def scanned_with_the_first_page_late(proxy, store, query, *, limit: int) -> None:
    """Set ``query`` (a scanned view: pending tasks, pages of ``limit``) with its first page
    held at the proxy until past the first-paint delay, then let the scan run to its end."""
    gate = Gate()
    proxy.script(Fault.hold(gate, match=f"status=pending&limit={limit} HTTP"))
    loading = asyncio.ensure_future(store.set_query(query))
    await gate.until_held(1, timeout=WAIT)
    await asyncio.sleep(PAINT + 0.05)  # deliberate: past the first-paint delay, not a wait for a result
    gate.release()
    await asyncio.wait_for(loading, WAIT)
    await scan_done(store)


def progress(scanned: int, matched: int) -> str:
    return f"progress g1 reading pending tasks: {scanned} of {N_PENDING} · {matched} match"


async def test_a_scan_shows_its_first_rows_then_counts_on_to_an_exact_total(shared_server, proxy_for, make_store):
    want = expected_ids(shared_server.db_path, QUEUED)
    assert len(want) == N_QUEUED
    proxy = await proxy_for(shared_server, public_contract=True)
    store, j = await journal_store(make_store, proxy.url, shared_server.api_key, page_size=20,
                                   client_kw={"parallel": 1})
    await store.set_query(QUEUED)  # returns once rows are shown
    assert not store.loading and ids(store) and ids(store) == want[:len(store.rows)]
    await scan_done(store)
    assert ids(store) == want[:23]  # the first pages, up to 20 rows or more
    assert j.lines[:3] == ["query g1", "loading g1 L", "loading g1 LS"]
    assert j.lines[-3:] == ["loading g1", f"total g1 {N_QUEUED}", f"progress g1 read all {N_PENDING} pending tasks · "
                                                                 f"{N_QUEUED} match"]
    # while it reads: every page told as progress, the total "at least" what matched so far
    reading = j.lines[3:-3]
    shown = [line for line in reading if not line.startswith(("progress", "total"))]
    assert shown[0] == "rows_replaced g1 rows=10 count=0 dropped=0" or shown[0].startswith("rows_replaced g1 rows=23")
    assert "loading g1 S" in shown  # shown: no longer loading, still scanning
    counts = [line for line in reading if line.startswith(("progress", "total"))]
    scanned = [int(line.split(": ")[1].split(" of")[0]) for line in counts if line.startswith("progress")]
    assert scanned == sorted(set(scanned)) and scanned[-1] == N_PENDING
    for told, total in zip(counts[::2], counts[1::2]):
        matched = int(told.rsplit("· ", 1)[1].split()[0])
        assert told == progress(int(told.split(": ")[1].split(" of")[0]), matched)
        assert total == f"total g1 {matched}+"
    assert store.total == N_QUEUED and store.total_exact and store.has_more
    assert store.scanning is False and store.loading is False
    assert store.progress.done and not store.progress.stopped
    assert (store.progress.scanned, store.progress.wire_total, store.progress.matched) == (N_PENDING, N_PENDING, N_QUEUED)
    assert proxy.refused == []



async def test_a_scan_waits_for_a_page_of_rows_before_showing_them_while_they_come_quickly(
        shared_server, proxy_for, make_store):
    """The first page (10 of the 20 rows wanted) is read, the second held: within the
    first-paint delay nothing is shown yet. The test measures that delay from before the
    query is set; on a machine too slow to stay inside it there is nothing to tell."""
    want = expected_ids(shared_server.db_path, QUEUED)
    proxy = await proxy_for(shared_server, public_contract=True)
    store, _ = await journal_store(make_store, proxy.url, shared_server.api_key, page_size=20,
                                   client_kw={"parallel": 1})
    await store.client.discover()
    gate = Gate()
    proxy.script(Fault.hold(gate, match="next_token="))
    began = time.monotonic()
    loading = asyncio.ensure_future(store.set_query(QUEUED))
    await eventually(lambda: store.progress is not None and store.progress.scanned == 20, "the first page",
                     timeout=WAIT)
    took = time.monotonic() - began
    shown = ids(store)
    gate.release()
    await asyncio.wait_for(loading, WAIT)
    await scan_done(store)
    assert ids(store) == want[:23]
    if took >= PAINT:
        pytest.skip(f"the first page took {took:.2f} s, not less than the first-paint delay")
    assert shown == []

async def test_a_scan_that_shows_rows_early_fills_the_window_page_by_page(shared_server, proxy_for, make_store):
    """The first page is held past the first-paint delay: its 10 rows are shown at once,
    the next page's 13 appended; the window holds 20 rows, so the first page is dropped."""
    want = expected_ids(shared_server.db_path, QUEUED)
    proxy = await proxy_for(shared_server, public_contract=True)
    store, j = await journal_store(make_store, proxy.url, shared_server.api_key, page_size=20, max_rows=20,
                                   client_kw={"parallel": 1})
    await scanned_with_the_first_page_late(proxy, store, QUEUED, limit=20)
    assert j.lines[:10] == [
        "query g1", "loading g1 L", "loading g1 LS",
        progress(20, 10), "total g1 10+",
        "rows_replaced g1 rows=10 count=0 dropped=0", "loading g1 S",
        progress(40, 23), "total g1 23+",
        "rows_appended g1 rows=13 count=13 dropped=10",
    ]
    assert ids(store) == want[10:23] and store.offset == 10
    assert j.task_ids("rows_appended") == [tuple(want[10:23])]
    assert "rows_appended" not in j.kinds()[10:]  # the window had its rows: the rest is only counted
    assert j.lines[-3:] == ["loading g1", f"total g1 {N_QUEUED}",
                            f"progress g1 read all {N_PENDING} pending tasks · {N_QUEUED} match"]



async def test_filling_stops_when_the_window_has_exactly_the_rows_wanted(shared_server, proxy_for, make_store):
    """Pages of 10 wire tasks hold 5 and 5 Queued tasks: shown early with 5, the window
    is filled by the next page to exactly 10 rows, and no third page is added."""
    want = expected_ids(shared_server.db_path, QUEUED)
    proxy = await proxy_for(shared_server, public_contract=True)
    store, j = await journal_store(make_store, proxy.url, shared_server.api_key, page_size=10,
                                   client_kw={"parallel": 1})
    await scanned_with_the_first_page_late(proxy, store, QUEUED, limit=10)
    assert [line for line in j.lines if line.startswith("rows_")] == [
        "rows_replaced g1 rows=5 count=0 dropped=0", "rows_appended g1 rows=10 count=5 dropped=0"]
    assert ids(store) == want[:10] and store.has_more

async def test_load_more_adds_nothing_while_a_scan_still_fills_the_window(shared_server, proxy_for, make_store):
    want = expected_ids(shared_server.db_path, QUEUED)
    proxy = await proxy_for(shared_server, public_contract=True)
    store, _ = await journal_store(make_store, proxy.url, shared_server.api_key, page_size=20,
                                   client_kw={"parallel": 1})
    first, second = Gate(), Gate()
    proxy.script(Fault.hold(first, match="status=pending&limit=20 HTTP"), Fault.hold(second, match="next_token="))
    loading = asyncio.ensure_future(store.set_query(QUEUED))
    await first.until_held(1, timeout=WAIT)
    await asyncio.sleep(PAINT + 0.05)  # deliberate: past the first-paint delay
    first.release()
    await asyncio.wait_for(loading, WAIT)  # shown: 10 rows, the second page held
    await second.until_held(1, timeout=WAIT)
    assert ids(store) == want[:10] and store.has_more and store.scanning
    seen = len(proxy.log)
    assert await asyncio.wait_for(store.load_more(), WAIT) == 0  # the scan brings the rows
    assert len(proxy.log) == seen
    second.release()
    await scan_done(store)
    assert ids(store) == want[:23]



async def test_load_more_during_the_refresh_of_a_scan_waits_for_its_rows(shared_server, proxy_for, make_store):
    want = expected_ids(shared_server.db_path, QUEUED)
    proxy = await proxy_for(shared_server, public_contract=True)
    store, _ = await journal_store(make_store, proxy.url, shared_server.api_key, page_size=20,
                                   client_kw={"parallel": 1})
    await store.set_query(QUEUED)
    await scan_done(store)
    gate = Gate()
    proxy.script(Fault.hold(gate, match="status=pending&limit=20 HTTP"))
    refreshing = asyncio.ensure_future(store.refresh())
    await gate.until_held(1, timeout=WAIT)
    seen = len(proxy.log)
    # the refresh brings the rows: the old window's token is not used (nor waited on)
    assert await asyncio.wait_for(store.load_more(), WAIT) == 0
    assert len(proxy.log) == seen
    gate.release()
    await asyncio.wait_for(refreshing, WAIT)
    await scan_done(store)
    assert ids(store) == want[:23]

async def test_a_scan_that_fails_at_once_shows_no_rows_and_the_error(shared_server, proxy_for, make_store):
    proxy = await proxy_for(shared_server, public_contract=True)
    store, j = await journal_store(make_store, proxy.url, shared_server.api_key, page_size=20,
                                   client_kw={"parallel": 1})
    proxy.script(Fault.error(400, match="status=pending"))
    await store.set_query(QUEUED)
    assert j.lines == ["query g1", "loading g1 L", "loading g1 LS", "loading g1 L",
                       "rows_replaced g1 rows=0 count=0 dropped=0", "error g1 ok=False", "loading g1"]
    assert ids(store) == [] and "injected fault" in str(store.error) and store.progress is None
    assert store.loading is False and store.scanning is False


async def test_a_refresh_of_a_scan_that_fails_at_once_keeps_the_rows(shared_server, proxy_for, make_store):
    want = expected_ids(shared_server.db_path, QUEUED)
    proxy = await proxy_for(shared_server, public_contract=True)
    store, j = await journal_store(make_store, proxy.url, shared_server.api_key, page_size=20,
                                   client_kw={"parallel": 1})
    await store.set_query(QUEUED)
    await scan_done(store)
    j.clear()
    proxy.script(Fault.error(400, match="status=pending"))
    await store.refresh()
    await scan_done(store)
    assert j.lines == ["progress g2", "loading g2 L", "loading g2 LS", "loading g2 L", "error g2 ok=False",
                       "loading g2"]
    assert ids(store) == want[:23] and "injected fault" in str(store.error)
    assert store.loading is False and store.scanning is False


async def test_a_scan_that_fails_after_rows_keeps_them_and_the_total_stays_at_least(
        shared_server, proxy_for, make_store):
    want = expected_ids(shared_server.db_path, QUEUED)
    proxy = await proxy_for(shared_server, public_contract=True)
    store, j = await journal_store(make_store, proxy.url, shared_server.api_key, page_size=20,
                                   client_kw={"parallel": 1})
    # pages 1 and 2 pass (23 rows: shown), page 3 fails
    proxy.script(Fault.slow(0, match="next_token="), Fault.error(400, match="next_token="))
    await store.set_query(QUEUED)
    await scan_done(store)
    assert ids(store) == want[:23] and "injected fault" in str(store.error)
    assert store.loading is False and store.scanning is False
    assert store.total == 23 and not store.total_exact
    assert store.progress.describe() == f"reading pending tasks: 40 of {N_PENDING} · 23 match"
    assert j.lines[-4:] == ["rows_replaced g1 rows=23 count=0 dropped=0", "loading g1 S", "loading g1",
                            "error g1 ok=False"]



async def test_a_refresh_of_a_scan_stops_at_the_page_of_the_task_at_the_cursor(shared_server, proxy_for, make_store):
    want = expected_ids(shared_server.db_path, QUEUED)
    proxy = await proxy_for(shared_server, public_contract=True)
    store, j = await journal_store(make_store, proxy.url, shared_server.api_key, page_size=20,
                                   client_kw={"parallel": 1})
    await store.set_query(QUEUED)
    await scan_done(store)
    assert ids(store) == want[:23]
    store.set_anchor(want[4])  # on the first page (10 rows)
    j.clear()
    await store.refresh()
    assert ids(store) == want[:10]  # shown at that page, and no more rows are added
    await scan_done(store)
    assert ids(store) == want[:10] and "rows_appended" not in j.kinds()
    assert j.lines[-2:] == [f"total g2 {N_QUEUED}", f"progress g2 read all {N_PENDING} pending tasks · {N_QUEUED} match"]
    assert store.total_exact  # from the top: counted on to the end all the same



async def test_a_refresh_of_a_scan_shows_nothing_before_the_page_of_the_task_at_the_cursor(
        shared_server, proxy_for, make_store):
    """More rows than a page are shown, the cursor is on the second page of 20 wire tasks:
    the refresh's first page (10 rows, not the one at the cursor) is not shown alone, the
    second (the cursor's) ends the refresh. Within the first-paint delay, measured by the
    test from before the refresh (skipped on a machine too slow to stay inside it)."""
    want = expected_ids(shared_server.db_path, QUEUED)
    proxy = await proxy_for(shared_server, public_contract=True)
    store, j = await journal_store(make_store, proxy.url, shared_server.api_key, page_size=20,
                                   client_kw={"parallel": 1})
    await store.set_query(QUEUED)
    await scan_done(store)
    await store.load_more()
    assert len(store.rows) > 23
    store.set_anchor(want[15])  # on the second page
    gate = Gate()
    proxy.script(Fault.hold(gate, match="next_token="))
    j.clear()
    began = time.monotonic()
    refreshing = asyncio.ensure_future(store.refresh())
    await eventually(lambda: store.progress is not None and store.progress.scanned == 20, "the first page",
                     timeout=WAIT)
    took = time.monotonic() - began
    shown_at_once = "rows_replaced" in j.kinds()
    gate.release()
    await asyncio.wait_for(refreshing, WAIT)
    await scan_done(store)
    if took >= PAINT:
        pytest.skip(f"the first page took {took:.2f} s, not less than the first-paint delay")
    assert not shown_at_once
    assert ids(store) == want[:23] and "rows_appended" not in j.kinds()


async def test_filling_goes_on_until_the_window_has_the_rows_wanted(shared_server, proxy_for, make_store):
    """In Progress, pages of 3 wire tasks hold 1, 1, 2 of them: shown early with 1 row
    (the first page held past the delay), the window is filled with the next page (2 rows,
    still fewer than 3) and the one after (4)."""
    ip = TaskQuery(statuses=frozenset({S.IN_PROGRESS}))
    want = expected_ids(shared_server.db_path, ip)
    proxy = await proxy_for(shared_server, public_contract=True)
    store, j = await journal_store(make_store, proxy.url, shared_server.api_key, page_size=3,
                                   client_kw={"parallel": 1})
    await scanned_with_the_first_page_late(proxy, store, ip, limit=3)
    assert [line for line in j.lines if line.startswith("rows_")] == [
        "rows_replaced g1 rows=1 count=0 dropped=0", "rows_appended g1 rows=2 count=1 dropped=0",
        "rows_appended g1 rows=4 count=2 dropped=0"]
    assert ids(store) == want[:4]

async def test_a_scan_whose_first_page_is_a_whole_page_of_rows_shows_just_that_page(
        shared_server, proxy_for, make_store):
    """Oldest first from a server that lists newest first only (the public contract) is
    a scan in which every task matches: its first page holds exactly the 50 rows wanted,
    which are shown, and no page is added to them; the scan counts on."""
    q = COMPLETED.replace(order=SortOrder.OLDEST)
    want = expected_ids(shared_server.db_path, q)
    proxy = await proxy_for(shared_server, public_contract=True)
    store, j = await journal_store(make_store, proxy.url, shared_server.api_key, page_size=50,
                                   client_kw={"parallel": 1})
    await store.set_query(q)
    assert ids(store) == want[:50]
    await scan_done(store)
    assert ids(store) == want[:50] and store.has_more
    assert [line for line in j.lines if line.startswith("rows_")] == ["rows_replaced g1 rows=50 count=0 dropped=0"]
    assert j.lines[3:7] == ["progress g1 reading tasks: 86 of 1,050 · 50 match", "total g1 50+",
                            "rows_replaced g1 rows=50 count=0 dropped=0", "loading g1 S"]
    assert j.lines[-2:] == [f"total g1 {N_COMPLETED}", "progress g1 read all 1,050 tasks · 1,050 match"]
    assert proxy.refused == []


async def test_a_scan_that_has_found_nothing_yet_shows_nothing_however_long_it_takes(
        shared_server, proxy_for, make_store, sql):
    """One Queued task matches, on the second page of 20 or later; the first page is held
    past the first-paint delay: it has no row, so nothing is shown until the row is found."""
    pending = sql(shared_server, f"SELECT task_id, {WIRE_OSTATUS} FROM tasks "
                                 f"WHERE {WIRE_OSTATUS} IN ('queued', 'in_progress', 'redo') "
                                 "ORDER BY created_at DESC, task_id DESC")
    at = next(i for i, (_, o) in enumerate(pending) if i >= 25 and o == "queued")
    one = pending[at][0]
    assert sql(shared_server, "SELECT count(*) FROM tasks WHERE task_id LIKE ?", one[:20] + "%") == [(1,)]
    proxy = await proxy_for(shared_server, public_contract=True)
    store, j = await journal_store(make_store, proxy.url, shared_server.api_key, page_size=20,
                                   client_kw={"parallel": 1})
    await scanned_with_the_first_page_late(proxy, store, QUEUED.replace(search=one[:20]), limit=20)
    shown = [line for line in j.lines if line.startswith("rows_")]
    assert shown == ["rows_replaced g1 rows=1 count=0 dropped=0"]
    assert ids(store) == [one] and store.total == 1 and store.total_exact


async def test_a_new_scanned_query_that_fails_forgets_the_pages_before_the_old_window(
        shared_server, proxy_for, make_store):
    proxy = await proxy_for(shared_server, public_contract=True)
    store, _ = await journal_store(make_store, proxy.url, shared_server.api_key, page_size=20, max_rows=40,
                                   client_kw={"parallel": 1})
    await store.set_query(QUEUED)
    await scan_done(store)
    await scroll_to_the_end(store)
    assert store.has_before
    proxy.script(Fault.error(400, match="status=pending"))
    await store.set_query(TaskQuery(statuses=frozenset({S.IN_PROGRESS})))
    await scan_done(store)
    assert store.error is not None and ids(store) == [] and not store.has_before
    seen = len(proxy.log)
    assert await asyncio.wait_for(store.load_previous(), WAIT) == 0
    assert len(proxy.log) == seen

async def refreshed_from_the_middle(handle, proxy_for, make_store, then: Fault | None = None):
    """A Queued view (one chain, pages of 20, a window of 40 rows) scanned, scrolled to
    its end and refreshed from the window's first page: the rows from there are read
    again, then the whole listing is counted again in the background, in pages of 100
    — held here (``then``: what they answer once the gate opens)."""
    proxy = await proxy_for(handle, public_contract=True)
    store, j = await journal_store(make_store, proxy.url, handle.api_key, page_size=20, max_rows=40,
                                   client_kw={"parallel": 1})
    await store.set_query(QUEUED)
    await scan_done(store)
    await scroll_to_the_end(store)
    assert store.has_before and store.offset == N_QUEUED - len(store.rows)
    gate = Gate()
    proxy.script(Fault.hold(gate, then=then, match="limit=100"))
    j.clear()
    await store.refresh()
    await gate.until_held(1, timeout=WAIT)
    return proxy, store, j, gate


async def test_a_refresh_from_the_middle_of_a_scan_counts_again_and_says_at_least_meanwhile(
        shared_server, proxy_for, make_store):
    want = expected_ids(shared_server.db_path, QUEUED)
    proxy, store, j, gate = await refreshed_from_the_middle(shared_server, proxy_for, make_store)
    assert ids(store) == want[91:] and store.offset == 91
    # the rows are shown; the count runs: the total is "at least" until it is done
    assert store.scanning and not store.loading
    assert store.total == N_QUEUED and not store.total_exact
    assert j.lines[-5:] == ["rows_replaced g2 rows=32 count=0 dropped=0", "loading g2 S", "loading g2",
                            f"total g2 {N_QUEUED}+", "loading g2 S"]
    j.clear()
    gate.release()
    await scan_done(store)
    assert j.lines == [
        f"progress g2 reading pending tasks: 100 of {N_PENDING} · 51 match",
        f"progress g2 reading pending tasks: 200 of {N_PENDING} · 91 match",
        f"progress g2 reading pending tasks: {N_PENDING} of {N_PENDING} · {N_QUEUED} match",
        "loading g2", f"total g2 {N_QUEUED}", f"progress g2 read all {N_PENDING} pending tasks · {N_QUEUED} match"]
    assert store.total == N_QUEUED and store.total_exact
    p = store.progress
    assert (p.scanned, p.wire_total, p.matched, p.done, p.stopped) == (N_PENDING, N_PENDING, N_QUEUED, True, False)
    assert proxy.refused == []


async def test_a_count_that_fails_is_told_as_a_failed_poll_and_the_total_stays_at_least(
        shared_server, proxy_for, make_store):
    _, store, j, gate = await refreshed_from_the_middle(shared_server, proxy_for, make_store, then=Fault.error(400))
    j.clear()
    gate.release()
    await scan_done(store)
    assert j.lines == ["poll g2 ok=False", "loading g2"]
    told = j.events[0]
    assert "injected fault" in told.message and told.error is not None and told.message == str(told.error)
    assert store.total == N_QUEUED and not store.total_exact and store.error is None
    assert store.scanning is False


async def test_a_count_stopped_by_the_operator_ends_quietly(shared_server, proxy_for, make_store):
    proxy, store, j, gate = await refreshed_from_the_middle(shared_server, proxy_for, make_store)
    j.clear()
    assert store.stop_scan() is True
    await scan_done(store)
    gate.release()
    await eventually(lambda: proxy.stats.in_flight == 0, "the held answer to be written", timeout=WAIT)
    assert j.lines == ["loading g2"]
    assert store.total == N_QUEUED and not store.total_exact and store.error is None
    assert store.scanning is False
    assert store.stop_scan() is False  # nothing left to stop


async def test_a_count_of_a_superseded_query_tells_nothing(shared_server, proxy_for, make_store):
    proxy, store, j, gate = await refreshed_from_the_middle(shared_server, proxy_for, make_store)
    j.clear()
    await store.set_query(COMPLETED)
    gate.release()
    await eventually(lambda: proxy.stats.in_flight == 0, "the held answer to be written", timeout=WAIT)
    assert j.lines == ["loading g3", "query g3", "progress g3", "loading g3 L",
                       "rows_replaced g3 rows=20 count=0 dropped=0", f"total g3 {N_COMPLETED}", "loading g3"]
    assert store.progress is None and store.scanning is False and store.total_exact


# -- where the live refresh starts after a load, and when it counts again ------------------------
LONG_AGO = "Tue, 01 Dec 2026 08:00:00 GMT"  # the Date the test's answers carry (a real one is "now")


async def answer_dated(handle, proxy, match: str, **params: str) -> None:
    """Script the proxy to answer the next request matching ``match`` with the server's
    own answer to ``params`` — read from it just now — dated ``LONG_AGO``."""
    async with httpx.AsyncClient(auth=(handle.api_key, "")) as h:
        real = await h.get(handle.url + "/tasks", params=params)
    assert real.status_code == 200
    proxy.script(Fault.custom(real.content, headers={"date": LONG_AGO}, match=match))


def polled_since(proxy, since: int) -> list[str]:
    return [q["updated_after"][0] for q in listing_requests(proxy, since=since) if "updated_after" in q]


async def test_the_live_refresh_starts_from_the_first_answer_of_a_load(shared_server, proxy_for, make_store):
    proxy = await proxy_for(shared_server)
    store, _ = await journal_store(make_store, proxy.url, shared_server.api_key, page_size=7)
    await store.client.discover()
    await answer_dated(shared_server, proxy, "status=completed", status="completed", limit="7")
    await store.set_query(COMPLETED)
    assert ids(store) == expected_ids(shared_server.db_path, COMPLETED)[:7]
    seen = len(proxy.log)
    await store.poll_once()
    assert polled_since(proxy, seen) == ["2026-12-01T07:59:58.000Z"]  # that answer's Date, less 2 s


async def test_the_live_refresh_starts_from_the_first_answer_of_a_scan(shared_server, proxy_for, make_store):
    proxy = await proxy_for(shared_server, public_contract=True)
    store, _ = await journal_store(make_store, proxy.url, shared_server.api_key, page_size=20,
                                   client_kw={"parallel": 1})
    await store.client.discover()
    await answer_dated(shared_server, proxy, "status=pending&limit=20 HTTP", status="pending", limit="20")
    await store.set_query(QUEUED)
    await scan_done(store)
    seen = len(proxy.log)
    await store.poll_once()
    assert polled_since(proxy, seen) == ["2026-12-01T07:59:58.000Z"]


async def cancel_one_queued(handle, sql) -> str:
    (tid,), = sql(handle, "SELECT task_id FROM tasks WHERE ostatus = 'queued' ORDER BY created_at DESC LIMIT 1")
    async with httpx.AsyncClient(base_url=handle.url, auth=(handle.api_key, "")) as other:
        r = await other.post(f"task/{tid}/cancel")
        assert r.status_code == 200, r.text
    return tid


async def test_a_poll_soon_after_a_complete_scan_does_not_count_again(server, proxy_for, make_store, sql):
    proxy = await proxy_for(server, public_contract=True)
    store, j = await journal_store(make_store, proxy.url, server.api_key, page_size=20, client_kw={"parallel": 1})
    await store.set_query(QUEUED)
    await scan_done(store)
    tid = await cancel_one_queued(server, sql)
    seen = len(proxy.log)
    j.clear()
    assert await store.poll_once() == 1  # the canceled task leaves the view
    assert tid not in ids(store)
    assert store.total == N_QUEUED and store.total_exact and not store.scanning  # counted moments ago
    asked = listing_requests(proxy, since=seen)
    assert len(asked) == 1 and "updated_after" in asked[0]  # the poll only: no count
    assert "total" not in j.kinds()


async def test_a_poll_soon_after_a_recount_does_not_count_again(server, proxy_for, make_store, sql):
    proxy, store, j, gate = await refreshed_from_the_middle(server, proxy_for, make_store)
    gate.release()
    await scan_done(store)
    assert store.total_exact
    await cancel_one_queued(server, sql)
    seen = len(proxy.log)
    j.clear()
    assert await store.poll_once() == 0  # that task is not in the window (it is scrolled far down)
    assert store.total == N_QUEUED and store.total_exact and not store.scanning
    assert "total" not in j.kinds()
    asked = listing_requests(proxy, since=seen)
    assert len(asked) == 1 and "updated_after" in asked[0]  # the poll only: no count


async def test_load_more_once_an_index_covers_the_view_reads_it_again_from_the_index(
        shared_server, proxy_for, make_store, tmp_path):
    from tasktui.index.db import open_index, put_tasks
    from tasktui.index.reader import IndexReader

    async with httpx.AsyncClient(auth=(shared_server.api_key, "")) as h:
        docs = (await h.get(shared_server.url + "/tasks", params={"status": "completed", "limit": "30"})).json()["docs"]
    conn = open_index(tmp_path / "tasks.sqlite")
    try:
        put_tasks(conn, docs)
    finally:
        conn.close()
    reader = IndexReader(tmp_path / "tasks.sqlite")  # an opened file: it answers every view
    try:
        proxy = await proxy_for(shared_server)
        store, j = await journal_store(make_store, proxy.url, shared_server.api_key, page_size=7)
        await store.set_query(QUEUED)
        assert store.total == N_QUEUED and not store.from_index
        store.attach_index(reader)
        seen = len(proxy.log)
        j.clear()
        assert await asyncio.wait_for(store.load_more(), WAIT) == 0  # no Queued task among those 30: the view, from the index
        assert store.from_index and store.query == QUEUED and ids(store) == [] and store.total == 0
        assert j.kinds()[:2] == ["query", "loading"]
        await store.set_query(COMPLETED)
        assert ids(store) == [d["task_id"] for d in docs[:7]] and store.total == 30
        assert len(proxy.log) == seen  # nothing more was asked of the API
    finally:
        await reader.aclose()


# -- an error that is not the API's: a local index damaged while the console reads it ------------
async def index_of_thirty(handle, path):
    """An index file (the product's IndexReader over it) holding the newest 30 tasks of
    ``handle``, read from it over HTTP; returns the reader and those tasks' ids."""
    from tasktui.index.db import open_index, put_tasks
    from tasktui.index.reader import IndexReader

    async with httpx.AsyncClient(auth=(handle.api_key, "")) as h:
        docs = (await h.get(handle.url + "/tasks", params={"limit": "30"})).json()["docs"]
    conn = open_index(path)
    try:
        put_tasks(conn, docs)
    finally:
        conn.close()
    return IndexReader(path), [d["task_id"] for d in docs]


def damage(path) -> None:
    """What a disk full of surprises, or another program, can do to the file."""
    import sqlite3

    conn = sqlite3.connect(path)
    try:
        conn.execute("DROP TABLE docs")
        conn.commit()
    finally:
        conn.close()


async def test_a_load_that_meets_an_unexpected_error_says_so_and_is_not_left_loading(
        shared_server, tmp_path, caplog):
    reader, thirty = await index_of_thirty(shared_server, tmp_path / "tasks.sqlite")
    store = TaskStore(reader.client(), offline=True, page_size=5)
    j = Journal(store)
    try:
        await store.set_query(ALL)
        assert ids(store) == thirty[:5] and store.total == 30
        damage(tmp_path / "tasks.sqlite")
        j.clear()
        with caplog.at_level("ERROR", logger="tasktui.store"):
            await store.set_query(COMPLETED)
        assert str(store.error) == "Could not load tasks: unexpected error (OperationalError: no such table: docs)."
        assert [r.getMessage() for r in caplog.records] == ["loading tasks failed"]
        assert j.lines == ["query g2", "loading g2 L", "rows_replaced g2 rows=0 count=0 dropped=0",
                           "error g2 ok=False", "loading g2"]
    finally:
        await store.close()
        await reader.aclose()


async def test_load_more_that_meets_an_unexpected_error_says_so_and_is_not_left_loading(
        shared_server, tmp_path, caplog):
    reader, thirty = await index_of_thirty(shared_server, tmp_path / "tasks.sqlite")
    store = TaskStore(reader.client(), offline=True, page_size=5)
    j = Journal(store)
    try:
        await store.set_query(ALL)
        damage(tmp_path / "tasks.sqlite")
        j.clear()
        with caplog.at_level("ERROR", logger="tasktui.store"):
            assert await asyncio.wait_for(store.load_more(), WAIT) == 0
        assert str(store.error) == ("Could not load more tasks: unexpected error "
                                    "(OperationalError: no such table: docs).")
        assert [r.getMessage() for r in caplog.records] == ["loading more tasks failed"]
        assert j.lines == ["loading g1 M", "error g1 ok=False", "loading g1"]
        assert ids(store) == thirty[:5] and not store.loading_more
    finally:
        await store.close()
        await reader.aclose()


# -- rows listed again are fresher than the copies in the cache ------------------------------------
async def set_note(handle, task_id: str, note: str) -> None:
    """Another operator changes the task's metadata (the API's setMetadata)."""
    async with httpx.AsyncClient(base_url=handle.url, auth=(handle.api_key, "")) as other:
        r = await other.post(f"task/{task_id}/setMetadata", json={"note": note})
        assert r.status_code == 200, r.text


async def test_pages_read_again_replace_the_cached_copies_of_their_tasks(server, make_store):
    want = expected_ids(server.db_path, SMALL)
    store, _ = await journal_store(make_store, server.url, server.api_key, page_size=3, max_rows=6)
    await store.set_query(SMALL)
    assert (await store.get_task(want[4])).raw.get("metadata", {}).get("note") is None  # now in the cache
    await set_note(server, want[4], "changed")
    assert await store.load_more() == 3  # lists it
    assert store.cached(want[4]).raw["metadata"]["note"] == "changed"
    await scroll_to_the_end(store)
    assert ids(store) == want[6:]
    await store.get_task(want[3], refresh=True)
    await set_note(server, want[3], "changed again")
    assert await store.load_previous() == 3  # lists it again
    assert store.cached(want[3]).raw["metadata"]["note"] == "changed again"


async def test_rows_a_scan_adds_replace_the_cached_copies_of_their_tasks(server, proxy_for, make_store):
    want = expected_ids(server.db_path, QUEUED)
    proxy = await proxy_for(server, public_contract=True)
    store, _ = await journal_store(make_store, proxy.url, server.api_key, page_size=20, client_kw={"parallel": 1})
    await store.get_task(want[15])  # on the second page of the scan
    await set_note(server, want[15], "changed")
    await scanned_with_the_first_page_late(proxy, store, QUEUED, limit=20)
    assert ids(store) == want[:23]
    assert store.cached(want[15]).raw["metadata"]["note"] == "changed"


async def test_the_live_refresh_of_a_view_read_from_an_index_starts_where_its_sync_ended(
        server_factory, proxy_for, make_store, tmp_path):
    """The index's last complete sync reached the API's clock at 2026-12-01 08:00 (written
    in its file, as an index synced then holds it): the view is read from the index, and
    the poll asks the API for what changed since then, less 2 s — not since the answer."""
    import sqlite3

    from tasktui.index.db import open_index
    from tasktui.index.reader import IndexReader
    from tasktui.index.scope import SyncScope
    from tasktui.index.sync import sync_index

    handle = server_factory(n=12)
    path = tmp_path / "index.sqlite"
    conn = open_index(path)
    try:
        async with TaskClient(handle.url, handle.api_key) as c:
            await sync_index(c, conn, SyncScope(), origin=handle.url)
    finally:
        conn.close()
    conn = sqlite3.connect(path)
    try:
        assert conn.execute("UPDATE sync_state SET high_water = ? WHERE complete = 1",
                            (1796112000000,)).rowcount >= 1  # 2026-12-01T08:00:00Z in ms
        conn.commit()
    finally:
        conn.close()
    reader = IndexReader.for_index(path)
    try:
        proxy = await proxy_for(handle)
        store, _ = await journal_store(make_store, proxy.url, handle.api_key, page_size=5, index=reader)
        await store.set_query(ALL)
        assert store.from_index and len(store.rows) == 5 and store.total == 12
        assert proxy.log == []  # read from the index only
        await store.poll_once()
        assert polled_since(proxy, 0) == ["2026-12-01T07:59:58.000Z"]
    finally:
        await reader.aclose()


async def test_a_scan_that_meets_an_unexpected_error_says_so_and_is_not_left_loading(
        shared_server, proxy_for, make_store, caplog):
    """The first page of the scan comes with a next token that begins like tasktui's own
    slice cursors ("tasktui-slices."): the client takes it for one and fails to decode it,
    with a ValueError, not an ApiError (a hostile server or a garbling proxy can send
    anything). The rows found are shown, the error told and logged once."""
    want = expected_ids(shared_server.db_path, QUEUED)
    proxy = await proxy_for(shared_server, public_contract=True)
    store, j = await journal_store(make_store, proxy.url, shared_server.api_key, page_size=20,
                                   client_kw={"parallel": 1})
    await store.client.discover()
    async with httpx.AsyncClient(auth=(shared_server.api_key, "")) as h:
        first = (await h.get(shared_server.url + "/tasks", params={"status": "pending", "limit": "20"})).json()
    first["next_token"] = "tasktui-slices.not-ours"
    proxy.script(Fault.custom(json.dumps(first), match="status=pending&limit=20 HTTP"))
    with caplog.at_level("ERROR", logger="tasktui.store"):
        await store.set_query(QUEUED)
        await scan_done(store)
    assert str(store.error) == ("Could not load tasks: unexpected error "
                                "(ValueError: the saved export position (cursor) is damaged).")
    assert [r.getMessage() for r in caplog.records] == ["scanning tasks failed"]
    assert ids(store) == want[:10] and store.total == 10 and not store.total_exact
    assert j.lines[-4:] == ["loading g1 L", "rows_replaced g1 rows=10 count=0 dropped=0", "loading g1",
                            "error g1 ok=False"]



async def test_a_refresh_from_the_middle_that_fails_part_way_does_not_count_again(
        shared_server, proxy_for, make_store):
    proxy = await proxy_for(shared_server, public_contract=True)
    store, j = await journal_store(make_store, proxy.url, shared_server.api_key, page_size=20, max_rows=40,
                                   client_kw={"parallel": 1})
    await store.set_query(QUEUED)
    await scan_done(store)
    await scroll_to_the_end(store)
    # the refresh's first page passes, its second fails
    proxy.script(Fault.slow(0, match="status=pending"), Fault.error(400, match="status=pending"))
    seen = len(proxy.log)
    j.clear()
    await store.refresh()
    await scan_done(store)
    assert "injected fault" in str(store.error) and store.rows
    assert store.total == N_QUEUED and store.total_exact  # as counted before: no count was started
    assert not [q for q in listing_requests(proxy, since=seen) if q["limit"] == ["100"]]
    assert "total" not in j.kinds()


async def test_load_previous_that_meets_an_unexpected_error_says_so_and_keeps_the_rows(
        shared_server, tmp_path, caplog):
    """Scrolling back up re-reads a dropped page; an error that is not the API's (the local
    index damaged meanwhile) is reported like load_more's, never raised at the caller."""
    reader, thirty = await index_of_thirty(shared_server, tmp_path / "tasks.sqlite")
    store = TaskStore(reader.client(), offline=True, page_size=5, max_rows=10)
    try:
        await store.set_query(ALL)
        for _ in range(3):
            await asyncio.wait_for(store.load_more(), WAIT)
        assert ids(store) == thirty[10:20] and store.has_before
        damage(tmp_path / "tasks.sqlite")
        with caplog.at_level("ERROR", logger="tasktui.store"):
            assert await asyncio.wait_for(store.load_previous(), WAIT) == 0
        assert str(store.error) == ("Could not load earlier tasks: unexpected error "
                                    "(OperationalError: no such table: docs).")
        assert [r.getMessage() for r in caplog.records] == ["loading earlier tasks failed"]
        assert ids(store) == thirty[10:20] and store.has_before
    finally:
        await store.close()
        await reader.aclose()
