"""The baselines of ``make bench`` pace as essaim serve does: slices sized
from the measured frame cost (the arithmetic is essaim.server.ws.pacing's,
tested in tests/server/test_pacing.py); test_harness runs a level on them."""

from __future__ import annotations

import asyncio

from loadtests.baselines import mini


def test_slices_follow_the_sizes_asked_and_sleep_between_them() -> None:
    slept: list[float] = []
    done: list[list[int]] = []

    async def sleep(seconds: float) -> None:
        slept.append(seconds)

    sizes = iter([3, 3, 0, 5])  # a size of 0 still sends one
    asyncio.run(mini.in_slices(list(range(8)), lambda: next(sizes), sleep, done.append))
    assert done == [[0, 1, 2], [3, 4, 5], [6], [7]]
    assert slept == [mini.PACING_SLICE_SECONDS] * 3


def test_a_phase_push_starts_at_the_frame_budget_then_follows_the_measured_cost() -> None:
    campaign = mini.Campaign()
    pacer = mini.PhasePacer(campaign)
    sizes = pacer.slice_sizes()
    start = sizes()
    assert start == int(mini.PHASE_FRAME_BUDGET * mini.PACING_SLICE_SECONDS)  # 400 per 50 ms slice
    campaign.frames_out += 10_000  # ten thousand frames for (nearly) no CPU: cheaper than assumed
    assert sizes() > start


def test_a_counters_refresh_is_spread_over_its_interval() -> None:
    sizes = mini.counters_slice_sizes(1000, interval=1.0)  # 20 slices of 50 ms
    assert sizes() == 50
    assert mini.counters_slice_sizes(1000, interval=0.01)() == 1000  # shorter than a slice: one slice
