"""The server's counters: plain integers and histograms on the hot path.

Counting is a few integer additions; :mod:`essaim.server.ops.prometheus`
reads these only when ``/metrics`` is scraped.
"""

from __future__ import annotations

import gc
import time
from collections import Counter

import trio

from essaim.engine.metrics import LATENCY_BUCKETS, Histogram

__all__ = ["ServerMetrics", "GcPauses", "watch_loop_lag", "GC_BUCKETS", "STALENESS_BUCKETS", "LOOP_LAG_BUCKETS",
           "LOOP_LAG_INTERVAL", "UNMATCHED_ROUTE"]

#: Seconds: GC pauses from sub-millisecond to the ~1 s full collections seen untuned.
GC_BUCKETS: tuple[float, ...] = (0.0005, 0.001, 0.005, 0.01, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5)
#: Seconds: a phase change reaching phones, around the load tests' 2 s p95 SLO
#: (10,000 clients get it within ~1.3 s at the default phase_frame_budget).
STALENESS_BUCKETS: tuple[float, ...] = (0.05, 0.1, 0.25, 0.5, 1.0, 1.5, 2.0, 3.0, 5.0, 10.0, 30.0)
#: Seconds: how late the loop wakes a sleeping task; healthy is under a few ms.
LOOP_LAG_BUCKETS: tuple[float, ...] = (0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5)
#: Seconds between two loop-lag samples: 4 a second cost nothing and catch
#: any stall long enough to matter to an ack (the SLO is 500 ms).
LOOP_LAG_INTERVAL = 0.25
#: The route label of HTTP requests that matched no route (404s): one label
#: value, not one per URL a scanner tries.
UNMATCHED_ROUTE = "(unmatched)"


class ServerMetrics:
    """Plain counters kept by the connections and the fan-out."""

    def __init__(self) -> None:
        self.connections_total = 0
        self.connections_open = 0
        self.frames_in = 0
        self.bytes_in = 0
        self.frames_out = 0
        self.bytes_out = 0
        #: A change that found the client's slot already pending: one frame carries both.
        self.updates_coalesced = 0
        #: Acks, errors and replies dropped with a client cut off for not reading.
        self.updates_dropped = 0
        self.slow_disconnects = 0
        self.origin_refused = 0
        #: Sockets closed at once (1013) because their address held max_sockets_per_address.
        self.address_limit_refused = 0
        self.errors = Counter[str]()
        self.ack_seconds = Histogram(LATENCY_BUCKETS)
        #: A phase change made durable -> the frame carrying it handed to the kernel, per client.
        self.phase_staleness = Histogram(STALENESS_BUCKETS)
        self.loop_lag = Histogram(LOOP_LAG_BUCKETS)
        #: HTTP request durations by (route rule, method, status): a few dozen keys at most.
        self.http_seconds: dict[tuple[str, str, int], Histogram] = {}

    def observe_http(self, route: str, method: str, status: int, seconds: float) -> None:
        hist = self.http_seconds.get((route, method, status))
        if hist is None:
            hist = self.http_seconds[(route, method, status)] = Histogram(LATENCY_BUCKETS)
        hist.observe(seconds)


class GcPauses:
    """Times every garbage collection through ``gc.callbacks``."""

    def __init__(self) -> None:
        self.seconds = Histogram(GC_BUCKETS)
        #: The longest pause so far, and the longest of a full (generation 2)
        #: collection; the longest in the collecting thread's CPU time, which
        #: a busy neighbour hardly lengthens (loadtests/gc_probe.py reads them).
        self.longest = 0.0
        self.longest_full = 0.0
        self.longest_cpu = 0.0
        self._started = 0.0
        self._started_cpu = 0.0

    def _callback(self, phase: str, info: dict[str, int]) -> None:
        if phase == "start":
            self._started, self._started_cpu = time.perf_counter(), time.thread_time()
            return
        pause = time.perf_counter() - self._started
        self.seconds.observe(pause)
        self.longest = max(self.longest, pause)
        self.longest_cpu = max(self.longest_cpu, time.thread_time() - self._started_cpu)
        if info.get("generation") == 2:
            self.longest_full = max(self.longest_full, pause)

    def install(self) -> None:
        if self._callback not in gc.callbacks:
            gc.callbacks.append(self._callback)

    def uninstall(self) -> None:
        if self._callback in gc.callbacks:
            gc.callbacks.remove(self._callback)


async def watch_loop_lag(hist: Histogram, interval: float = LOOP_LAG_INTERVAL) -> None:
    """Sleep ``interval`` again and again; how much later than asked the
    loop woke us is the lag every task of the process suffers (a long
    synchronous step, a GC pause, the GIL held by a worker thread)."""
    while True:
        deadline = trio.current_time() + interval
        await trio.sleep_until(deadline)
        hist.observe(max(0.0, trio.current_time() - deadline))
