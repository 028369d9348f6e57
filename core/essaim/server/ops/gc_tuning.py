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
from collections.abc import Callable

import trio

__all__ = ["tune_gc", "freeze_startup_objects", "Freezer", "GEN1_THRESHOLD", "GEN2_THRESHOLD",
           "FREEZE_CHECK_SECONDS", "YOUNG_PROMOTION_LOOKS", "FREEZER_LOOP_SHARE", "FREEZE_MAX_WAIT_SECONDS"]

#: Young collections between two generation-1 collections (CPython default 10).
GEN1_THRESHOLD = 20
#: Generation-1 collections between two full ones; full ones are the long pauses (default 10).
GEN2_THRESHOLD = 100
#: Seconds between two looks at how much survived since the last freeze: a
#: join ramp of 400 sessions/s leaves ~70,000 objects a second, so four looks
#: a second keep a freeze's collection to about ``freeze_survivors`` objects.
FREEZE_CHECK_SECONDS = 0.25
#: Looks without any collection (5 s) after which young objects, if at least
#: ``freeze_survivors`` of them, are promoted by one young collection so they
#: can be frozen: rare enough to cost nothing, soon enough that a ramp's tail
#: does not stay in every collection's walk for the rest of the campaign.
YOUNG_PROMOTION_LOOKS = 20
#: Share of the time the Freezer's collections may hold the event loop: after
#: a freeze that took t seconds (wall time: the loop is blocked that long,
#: and a busy neighbour lengthens it), the next waits t / FREEZER_LOOP_SHARE
#: seconds. At steady state every young collection promotes the young
#: objects of the moment (~30 per session: the suspended tasks' coroutines,
#: their sleeps), so without it the Freezer froze after each of them (at
#: 3,000 sessions py-spy found it in 14% of the server's samples).
FREEZER_LOOP_SHARE = 0.02
#: ...but never longer than this between two freezes (seconds): during a join
#: ramp (~70,000 objects a second) a freeze must stay a short pause (gc_probe
#: at 5,000 sessions: longest freeze 229 ms of CPU with 5 s, 159 ms with 1 s).
FREEZE_MAX_WAIT_SECONDS = 1.0


def tune_gc(threshold0: int) -> None:
    gc.set_threshold(threshold0, GEN1_THRESHOLD, GEN2_THRESHOLD)


def freeze_startup_objects() -> None:
    """Move everything alive now to the permanent generation: never scanned again."""
    gc.collect()
    gc.freeze()


def _collections() -> int:
    """Collections of any generation so far (each promotes survivors to an older one)."""
    return sum(s["collections"] for s in gc.get_stats())


class Freezer:
    """Freeze what survives, in small steps, so no collection walks the sessions.

    Objects get old only when a collection promotes them: so every
    FREEZE_CHECK_SECONDS, if a collection ran since the last look, it counts
    the old objects not frozen yet (generations 1 and 2, ``gc.get_objects``:
    ~1 ms per 150,000, and the count is kept small). Once they reach
    ``survivors``, one ``gc.collect()`` (over the unfrozen objects only)
    frees the cyclic garbage among them, then ``gc.freeze()`` moves the rest
    out of every later collection. Young objects (generation 0, mostly the
    frames in flight and the writers' sleeps) do not count: they die young,
    and a freeze for them would cost a collection several times a second;
    only when no collection came for YOUNG_PROMOTION_LOOKS looks, the young
    ones are promoted by one young collection (see :meth:`_step`).

    A frozen object is still freed by reference counting (a closed session's
    objects go at once: :mod:`essaim.server.ws.release` breaks hypercorn's
    cycle); only a reference cycle made of frozen objects stays.
    """

    def __init__(self, survivors: int, clock: Callable[[], float] = time.monotonic) -> None:
        self.survivors = survivors
        self._clock = clock
        #: No freeze before this (``clock`` time), see FREEZER_LOOP_SHARE.
        self._rest_until = 0.0
        self._collections_seen = _collections()
        #: Looks in a row that found no collection since the previous one.
        self._quiet_looks = 0
        #: Young collections the Freezer ran itself (see :meth:`_step`).
        self.promotions = 0
        #: Freezes so far; the longest collection one of them took (seconds of
        #: wall time, and of this thread's CPU time, which a busy neighbour
        #: hardly changes); the most old objects one of them froze.
        self.freezes = 0
        self.longest = 0.0
        self.longest_cpu = 0.0
        self.largest = 0
        #: CPU seconds spent in looks and freezes (what the Freezer costs the process).
        self.spent = 0.0

    def old_objects(self) -> int:
        """Objects that survived a collection and are not frozen."""
        return len(gc.get_objects(1)) + len(gc.get_objects(2))

    def freeze(self, old: int) -> None:
        self.largest = max(self.largest, old)
        wall, cpu = time.perf_counter(), time.thread_time()
        gc.collect()
        gc.freeze()
        took = time.perf_counter() - wall
        self.longest = max(self.longest, took)
        self.longest_cpu = max(self.longest_cpu, time.thread_time() - cpu)
        self._rest_until = self._clock() + min(took / FREEZER_LOOP_SHARE, FREEZE_MAX_WAIT_SECONDS)
        self.freezes += 1
        self._collections_seen = _collections()

    def step(self) -> bool:
        """Freeze if enough objects got old since the last freeze; True if it did."""
        started = time.thread_time()
        try:
            return self._step()
        finally:
            self.spent += time.thread_time() - started

    def _step(self) -> bool:
        if self._clock() < self._rest_until:
            return False  # what got old meanwhile waits for the next look
        collections = _collections()
        if collections == self._collections_seen:
            # Nothing was promoted since the last look. Objects can stay young
            # for ever, though: once allocations and frees balance (frames come
            # and go), generation 0 never fills, and the sessions of a ramp's
            # tail sit there, walked by every collection that does come. So
            # after a while of that, promote them with one young collection.
            self._quiet_looks += 1
            if self._quiet_looks < YOUNG_PROMOTION_LOOKS:
                return False
            self._quiet_looks = 0  # counting the young ones costs too: once per YOUNG_PROMOTION_LOOKS
            if len(gc.get_objects(0)) < self.survivors:
                return False
            gc.collect(0)
            self.promotions += 1
            collections = _collections()
        self._quiet_looks = 0
        self._collections_seen = collections
        old = self.old_objects()
        if old < self.survivors:
            return False
        self.freeze(old)
        return True

    async def run(self) -> None:
        while True:
            await trio.sleep(FREEZE_CHECK_SECONDS)
            self.step()
