"""How many writers to wake per slice of a paced push: from the measured cost of a frame.

A phase change (or new results) is owed to every connection at once, but
waking N writers in one batch makes every action arriving meanwhile wait
for all N frames. So the writers are woken in slices, one every
``tick`` seconds. How many per slice used to be a constant (8,000 frames/s):
too slow past ~15,000 sessions for the 2 s staleness SLO when frames are
cheap, and more than the core could do when they are dear.

:class:`FrameCost` measures what a frame costs this process: its CPU time
(``time.process_time``) over the frames it sent, between two slices, with
everything else the process did meanwhile (acks, SQLite, a console's
reads): so the estimate is what a frame costs *now*, on this machine. A
slice then holds ``share × tick / cost`` writers, which keeps the bound:

    the process spends at most ``share`` of its core per tick on average
    during a push (the rest is left to actions, which wait at most
    ``share × tick`` for a slice to go out), and a push to N connections
    takes ``N × cost / share`` seconds.

At 0.1 ms per frame and a share of 0.8, 8,000 frames/s (15,000 connections
in 1.9 s); at 0.05 ms, 16,000 frames/s. Past what one core can do within
the SLO, the answer is more processes (docs/scaling.md), not bigger slices.
No essaim imports: the baselines of ``make bench`` pace with it too.
"""

from __future__ import annotations

import time
from collections.abc import Callable

__all__ = ["FrameCost", "MIN_FRAMES_PER_SAMPLE", "SMOOTHING"]

#: Fewer frames than this between two samples say little about a frame's cost (the
#: interval's other work dominates): the estimate is left as it is.
MIN_FRAMES_PER_SAMPLE = 50
#: Weight of the newest sample in the running estimate: follows a change
#: within a few slices without jumping on one noisy interval.
SMOOTHING = 0.3


class FrameCost:
    """CPU seconds per frame sent, measured on the process's own counters."""

    def __init__(self, frames: Callable[[], float], initial: float,
                 cpu: Callable[[], float] = time.process_time) -> None:
        """``frames``: frames sent so far (a counter); ``initial``: the cost
        assumed until one is measured; ``cpu``: CPU seconds so far."""
        self._frames = frames
        self._cpu = cpu
        self.estimate = initial
        self._at: tuple[float, float] | None = None

    def restart(self) -> None:
        """Start a measurement interval (at the start of a push: what the
        process did while no push was under way says nothing of its frames)."""
        self._at = (self._cpu(), self._frames())

    def sample(self) -> float:
        """Fold the interval since the last sample into the estimate; return it."""
        cpu, frames = self._cpu(), self._frames()
        if self._at is not None:
            spent, sent = cpu - self._at[0], frames - self._at[1]
            if sent < MIN_FRAMES_PER_SAMPLE:
                return self.estimate  # keep counting from the same start
            if spent > 0:
                self.estimate += SMOOTHING * (spent / sent - self.estimate)
        self._at = (cpu, frames)
        return self.estimate

    def per_slice(self, share: float, tick: float) -> int:
        """Writers to wake in one slice so the push takes ``share`` of the core."""
        return max(1, int(share * tick / self.estimate))
