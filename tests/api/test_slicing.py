"""The pure parts of the public-API reader: where a range is cut (slicing.py) and how many
requests may run at once (throttle.py)."""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta, timezone

from tasktui.api.slicing import TICK, cut_points, slice_target, too_big
from tasktui.api.throttle import Throttle

HI = datetime(2026, 11, 20, 12, 0, tzinfo=timezone.utc)


def test_slice_target_is_about_four_slices_per_chain_within_bounds():
    assert slice_target(10_000, 8) == 290  # ceil(10,000 / 32) = 313: three pages less 10
    assert slice_target(500, 8) == 190  # never below two pages
    assert slice_target(1_000_000, 8) == 1_990  # never above what is held to reverse
    assert slice_target(1_000, 1, page=20) == 238  # 250 rounds to 12 pages of 20
    assert too_big(436, 290) and not too_big(435, 290)


def test_uniform_creation_is_cut_into_parts_of_the_target_in_one_round():
    every = timedelta(minutes=10)
    times = [HI - every * (i + 1) for i in range(10_000)]  # newest first
    lo = times[-1]
    cuts = cut_points(lo, HI, times[:100], len(times), 500)
    assert cuts == sorted(cuts, reverse=True) and all(lo < c < HI for c in cuts)
    edges = [HI, *cuts, lo - TICK]
    sizes = [sum(b <= t < a for t in times) for a, b in zip(edges, edges[1:])]
    assert sum(sizes) == len(times)
    assert len(sizes) == 20 and all(abs(n - 500) <= 1 for n in sizes[:-1])


def test_an_open_range_keeps_its_tail_open_and_a_burst_is_cut_off_alone():
    times = [HI - timedelta(seconds=i) for i in range(100)]  # one a second near the top
    cuts = cut_points(None, HI, times, 5_000, 1_000)
    assert cuts == [HI - timedelta(seconds=990 * j) for j in (1, 2, 3, 4)]  # ~1,000 s per part
    burst = [HI - TICK] * 100  # all in one millisecond: cut that millisecond off
    assert cut_points(None, HI, burst, 5_000, 1_000) == [HI - TICK]
    assert cut_points(HI - TICK, HI, burst, 5_000, 1_000) == []  # nothing narrower than 1 ms


def test_a_rate_that_would_overrun_the_bounded_range_cuts_it_evenly():
    lo = HI - timedelta(days=10)
    times = [HI - timedelta(hours=i) for i in range(100)]  # dense at the top, 5,000 in all
    cuts = cut_points(lo, HI, times, 5_000, 100)
    assert len(cuts) == 49 and cuts[0] == HI - timedelta(days=10) / 50


async def test_the_throttle_halves_on_a_429_and_recovers_slowly():
    th = Throttle(8, recover_after=3)
    peak = 0

    async def one() -> None:
        nonlocal peak
        async with th.slot():
            peak = max(peak, th.active)
            await asyncio.sleep(0.01)  # the work done while holding a slot, not a wait

    await asyncio.gather(*(one() for _ in range(20)))
    assert peak == 8
    th.rate_limited()
    th.rate_limited()
    assert th.limit == 2 and th.backoffs == 2
    peak = 0
    await asyncio.gather(*(one() for _ in range(10)))
    assert peak == 2
    for _ in range(3):
        await th.answered()
    assert th.limit == 3
    for _ in range(100):
        th.rate_limited()
    assert th.limit == 1  # never below one
    th.set_ceiling(1)
    for _ in range(30):
        await th.answered()
    assert th.limit == 1
