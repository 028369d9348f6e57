"""One expensive read of a campaign, shared by everyone who asks meanwhile.

Results (scores, sheets and segment counts over every judgment: about
1.5 s of CPU at 300,000 judgments) and the sorting structure are the
heaviest reads the engine serves. Facilitator consoles poll both every few
seconds, and each open console asking on its own would multiply that work
on a process that is also serving 10,000 phones. So callers say how old a
read may be (``max_age``, seconds): a value computed from the current seq
is always reused, one computed at most ``max_age`` seconds ago is reused
too, and callers arriving while it is being computed wait for that one
computation and take its value, however long it took, instead of
starting their own.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Generic, TypeVar

import trio

__all__ = ["SharedRead", "Computed", "BUSY_SHARE"]

T = TypeVar("T")


#: With a max_age, a value is also reused while it is younger than its
#: computation's duration divided by this: reads accepting stale values then
#: keep worker threads, which share the GIL (and, on a pinned server, the
#: core) with the trio thread, busy at most 5% of the time. Measured with
#: `make bench` at 10,000 sessions and a console polling every 6 s: ack p99
#: 360-450 ms recomputing every 5 s, 220 ms every 30 s, 110 ms never. A
#: small campaign (50 ms) keeps max_age; a computation of 1 s is reused for
#: 20 s, one of 2.6 s (300,000 judgments) for 52 s.
BUSY_SHARE = 0.05


@dataclass(frozen=True, slots=True)
class Computed(Generic[T]):
    """A value and the state it was computed from."""

    seq: int
    #: trio.current_time() when the snapshot was taken (the age of the data).
    at: float
    value: T
    #: Seconds the computation took (set by SharedRead).
    took: float = 0.0


class SharedRead(Generic[T]):
    """The latest value of one read; at most one computation at a time."""

    def __init__(self) -> None:
        self._lock = trio.Lock()
        self._last: Computed[T] | None = None
        self._computing = False
        #: Computations run so far (the benchmark and tests read it).
        self.computations = 0

    async def get(
        self, seq_now: Callable[[], int], max_age: float, compute: Callable[[], Awaitable[Computed[T]]]
    ) -> Computed[T]:
        """The last value if it is of ``seq_now()``, at most ``max_age``
        seconds old (and, with a max_age, younger than its computation's
        duration / BUSY_SHARE), or finished by a computation that was under
        way when this call came; else a fresh one from ``compute``."""
        if max_age < 0:
            raise ValueError("max_age is a number of seconds, 0 or more")
        # A computation under way now was asked for by someone who came
        # first: its value is as fresh as this caller could hope for (a
        # computation longer than max_age would otherwise make every waiter
        # compute again, one after the other).
        joined = self.computations + 1 if self._computing else None
        async with self._lock:
            last = self._last
            if last is not None:
                fresh_for = max(max_age, last.took / BUSY_SHARE) if max_age > 0 else 0.0
                if (last.seq == seq_now() or trio.current_time() - last.at <= fresh_for
                        or (joined is not None and self.computations >= joined)):
                    return last
            self._computing = True
            started = trio.current_time()
            try:
                value = await compute()
            finally:
                self._computing = False
            self._last = dataclasses.replace(value, took=trio.current_time() - started)
            self.computations += 1
            return self._last
