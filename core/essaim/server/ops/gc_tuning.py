"""Garbage-collector settings for a process holding thousands of sessions.

With the default thresholds (700, 10, 10), full collections paused a
10,000-session process for up to 0.9 s, many times a run (stack-notes).
Raising the first threshold and freezing everything allocated at start-up
(engine state, plugins, modules) out of the collector removed the pauses
of start-up objects, but not of what comes later: each session is ~180
objects the collector tracks (trio tasks and coroutines, hypercorn's
protocol objects, the outbox...), so at 10,000 sessions every full
collection walked ~2 million objects (1 s), and even generation-1
collections walked the sessions of the last ramp.

:class:`Freezer` keeps what a collection walks small whatever the number
of sessions: once enough objects survived since the last freeze, it runs
one full collection (which walks only those, the rest is frozen) and
freezes the survivors. A pause is then bounded by ``freeze_survivors``
objects, not by the sessions held. ``loadtests/gc_probe.py`` measures it.
"""

from __future__ import annotations

import gc
import time

import trio

__all__ = ["tune_gc", "freeze_startup_objects", "Freezer", "GEN1_THRESHOLD", "GEN2_THRESHOLD",
           "FREEZE_CHECK_SECONDS"]

#: Young collections between two generation-1 collections (CPython default 10).
GEN1_THRESHOLD = 20
#: Generation-1 collections between two full ones; full ones are the long pauses (default 10).
GEN2_THRESHOLD = 100
#: Seconds between two looks at how much survived since the last freeze: a
#: join ramp of 400 sessions/s leaves ~70,000 objects a second, so four looks
#: a second keep a freeze's collection to about ``freeze_survivors`` objects.
FREEZE_CHECK_SECONDS = 0.25


def tune_gc(threshold0: int) -> None:
    gc.set_threshold(threshold0, GEN1_THRESHOLD, GEN2_THRESHOLD)


def freeze_startup_objects() -> None:
    """Move everything alive now to the permanent generation: never scanned again."""
    gc.collect()
    gc.freeze()


class Freezer:
    """Freeze what survives, in small steps, so no collection walks the sessions.

    Every FREEZE_CHECK_SECONDS it counts the objects the collector still
    walks (``gc.get_objects()``: ~1 ms per 150,000, and the count is kept
    small); once they reach ``survivors``, one ``gc.collect()`` (over those
    only, the rest is frozen) frees the cyclic garbage among them, then
    ``gc.freeze()`` moves the rest out of every later collection. (The
    collector's own counters are no estimate: generation 0 counts
    allocations minus deallocations, and frozen objects freed meanwhile
    hide new survivors.)

    A frozen object is still freed by reference counting (a closed session's
    objects go at once: :mod:`essaim.server.ws.release` breaks hypercorn's
    cycle); only a reference cycle made of frozen objects stays.
    """

    def __init__(self, survivors: int) -> None:
        self.survivors = survivors
        #: Freezes so far; the longest collection one of them took (seconds of
        #: wall time, and of this thread's CPU time, which a busy neighbour
        #: hardly changes); the most objects one of them froze.
        self.freezes = 0
        self.longest = 0.0
        self.longest_cpu = 0.0
        self.largest = 0

    def freeze(self, walked: int) -> None:
        self.largest = max(self.largest, walked)
        wall, cpu = time.perf_counter(), time.thread_time()
        gc.collect()
        gc.freeze()
        self.longest = max(self.longest, time.perf_counter() - wall)
        self.longest_cpu = max(self.longest_cpu, time.thread_time() - cpu)
        self.freezes += 1

    def step(self) -> bool:
        """Freeze if enough objects are walked by collections; True if it did."""
        walked = len(gc.get_objects())
        if walked < self.survivors:
            return False
        self.freeze(walked)
        return True

    async def run(self) -> None:
        while True:
            await trio.sleep(FREEZE_CHECK_SECONDS)
            self.step()
