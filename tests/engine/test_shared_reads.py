"""One expensive read shared by everyone who asks meanwhile (essaim.engine._shared_reads)."""

from __future__ import annotations

import pytest
import trio
import trio.testing

from essaim.engine._shared_reads import BUSY_SHARE, Computed, SharedRead


class _State:
    def __init__(self, takes: float = 1.0) -> None:
        self.seq = 1
        self.takes = takes
        self.computed: list[int] = []

    async def compute(self) -> Computed[str]:
        seq = self.seq
        self.computed.append(seq)
        await trio.sleep(self.takes)  # a worker thread's time, on the fake clock
        return Computed(seq, trio.current_time(), f"value@{seq}")


async def test_callers_during_a_computation_share_it(autojump_clock: trio.testing.MockClock) -> None:
    state, read = _State(), SharedRead[str]()
    got: list[str] = []

    async def ask() -> None:
        got.append((await read.get(lambda: state.seq, 0.0, state.compute)).value)

    async with trio.open_nursery() as nursery:
        for _ in range(5):
            nursery.start_soon(ask)
    assert got == ["value@1"] * 5
    assert state.computed == [1] and read.computations == 1


async def test_a_value_of_the_current_seq_is_reused_whatever_its_age(autojump_clock: trio.testing.MockClock) -> None:
    state, read = _State(), SharedRead[str]()
    await read.get(lambda: state.seq, 0.0, state.compute)
    await trio.sleep(3600)
    assert (await read.get(lambda: state.seq, 0.0, state.compute)).value == "value@1"
    assert read.computations == 1


async def test_max_age_bounds_how_stale_a_reused_value_may_be(autojump_clock: trio.testing.MockClock) -> None:
    state, read = _State(takes=0.1), SharedRead[str]()  # short: max_age decides, not BUSY_SHARE
    await read.get(lambda: state.seq, 5.0, state.compute)  # data of t=0.1
    state.seq = 2
    await trio.sleep(3.0)  # t=4: the value's data is 4 s old
    assert (await read.get(lambda: state.seq, 5.0, state.compute)).value == "value@1"
    assert (await read.get(lambda: state.seq, 0.0, state.compute)).value == "value@2"  # exact: recomputed
    state.seq = 3
    await trio.sleep(6.0)
    assert (await read.get(lambda: state.seq, 5.0, state.compute)).value == "value@3"
    assert state.computed == [1, 2, 3]


async def test_a_failed_computation_is_not_kept_and_the_next_caller_retries() -> None:
    read = SharedRead[int]()

    async def broken() -> Computed[int]:
        raise RuntimeError("scoring failed")

    async def fine() -> Computed[int]:
        return Computed(1, trio.current_time(), 42)

    with pytest.raises(RuntimeError):
        await read.get(lambda: 1, 10.0, broken)
    assert (await read.get(lambda: 1, 10.0, fine)).value == 42
    assert read.computations == 1


async def test_a_negative_max_age_is_refused() -> None:
    with pytest.raises(ValueError, match="0 or more"):
        await SharedRead[int]().get(lambda: 1, -1.0, lambda: None)  # type: ignore[arg-type,return-value]


async def test_callers_waiting_on_a_long_computation_take_its_value_whatever_max_age(
    autojump_clock: trio.testing.MockClock,
) -> None:
    state, read = _State(), SharedRead[str]()

    async def slow() -> Computed[str]:
        state.computed.append(state.seq)
        started = trio.current_time()
        await trio.sleep(10.0)  # longer than max_age
        return Computed(state.seq, started, "slow")

    async def ask() -> None:
        state.seq += 1  # the campaign moves on meanwhile
        assert (await read.get(lambda: state.seq, 1.0, slow)).value == "slow"

    async with trio.open_nursery() as nursery:
        for _ in range(5):
            nursery.start_soon(ask)
            await trio.sleep(0.5)
    assert read.computations == 1 and len(state.computed) == 1


async def test_with_a_max_age_a_long_computation_is_reused_for_its_duration_over_busy_share(
    autojump_clock: trio.testing.MockClock,
) -> None:
    state, read = _State(), SharedRead[str]()

    async def slow() -> Computed[str]:
        started, seq = trio.current_time(), state.seq
        state.computed.append(seq)
        await trio.sleep(1.0)  # a computation of 1 s: reused for 1 / BUSY_SHARE seconds
        return Computed(seq, started, f"value@{seq}")

    await read.get(lambda: state.seq, 5.0, slow)  # data from t=0, done at t=1
    state.seq = 2
    await trio.sleep(1 / BUSY_SHARE - 2)  # older than max_age, younger than 1 / BUSY_SHARE
    assert (await read.get(lambda: state.seq, 5.0, slow)).value == "value@1"
    assert (await read.get(lambda: state.seq, 0.0, slow)).value == "value@2"  # exact callers are not held back
    assert state.computed == [1, 2]
