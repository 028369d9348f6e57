"""A paced push follows the measured cost of a frame, not a constant."""

from __future__ import annotations

import pytest

from essaim.server.ops.metrics import ServerMetrics
from essaim.server.settings import Settings, SettingsError, load_settings
from essaim.server.ws.fanout import SPREAD_TICK, process_frame_cost
from essaim.server.ws.pacing import MIN_FRAMES_PER_SAMPLE, FrameCost


class FakeProcess:
    """A CPU clock and a frame counter the test moves by hand."""

    def __init__(self) -> None:
        self.cpu = 0.0
        self.frames = 0

    def send(self, frames: int, cpu_per_frame: float) -> None:
        self.frames += frames
        self.cpu += frames * cpu_per_frame


def _cost(process: FakeProcess, initial: float) -> FrameCost:
    return FrameCost(lambda: process.frames, initial=initial, cpu=lambda: process.cpu)


def test_slices_start_from_the_initial_cost_then_follow_the_measured_one():
    process = FakeProcess()
    cost = _cost(process, initial=0.8 / 8000)  # 8,000 frames/s at a share of 0.8
    assert cost.per_slice(0.8, SPREAD_TICK) == 400
    cost.restart()
    for _ in range(40):  # frames cost 0.05 ms: twice as fast is affordable
        process.send(cost.per_slice(0.8, SPREAD_TICK), 0.00005)
        cost.sample()
    assert cost.per_slice(0.8, SPREAD_TICK) == pytest.approx(800, rel=0.02)
    for _ in range(40):  # then 0.2 ms: half the starting rate
        process.send(cost.per_slice(0.8, SPREAD_TICK), 0.0002)
        cost.sample()
    assert cost.per_slice(0.8, SPREAD_TICK) == pytest.approx(200, rel=0.02)
    assert cost.per_slice(0.4, SPREAD_TICK) == pytest.approx(100, rel=0.02)  # half the share, half the slice


def test_what_the_process_did_between_pushes_is_not_a_frames_cost():
    process = FakeProcess()
    cost = _cost(process, initial=0.0001)
    cost.restart()
    process.send(1000, 0.0001)
    cost.sample()
    process.cpu += 30.0  # half a minute of other work, no push under way
    cost.restart()
    process.send(1000, 0.0001)
    assert cost.sample() == pytest.approx(0.0001)


def test_too_few_frames_leave_the_estimate_and_keep_counting():
    process = FakeProcess()
    cost = _cost(process, initial=0.0001)
    cost.restart()
    process.send(MIN_FRAMES_PER_SAMPLE - 1, 0.001)
    assert cost.sample() == 0.0001
    process.send(MIN_FRAMES_PER_SAMPLE, 0.001)  # the interval now has enough of them
    assert cost.sample() > 0.0001
    assert cost.per_slice(0.8, SPREAD_TICK) >= 1


def test_the_process_cost_starts_at_the_phase_frame_budget():
    settings = Settings(phase_frame_budget=6000.0, phase_push_cpu_share=0.5)
    cost = process_frame_cost(settings, ServerMetrics())
    assert cost.per_slice(settings.phase_push_cpu_share, SPREAD_TICK) == 300  # 6,000/s in 50 ms slices


def test_the_share_is_of_one_core():
    with pytest.raises(SettingsError, match="phase_push_cpu_share"):
        load_settings(environ={"ESSAIM_PHASE_PUSH_CPU_SHARE": "1.5"})
