"""Tiny metric primitives the engine and server keep for ``/metrics``.

Cumulative histograms with fixed buckets, Prometheus style: observing is a
few comparisons and additions, cheap enough for the hot path.
"""

from __future__ import annotations

import bisect
from collections.abc import Sequence

__all__ = ["Histogram", "LATENCY_BUCKETS", "SIZE_BUCKETS"]

#: Seconds: from sub-millisecond commits up to the 500 ms ack SLO and beyond.
LATENCY_BUCKETS: tuple[float, ...] = (
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0,
)
#: Counts (batch sizes).
SIZE_BUCKETS: tuple[float, ...] = (1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000)


class Histogram:
    """Counts of observations per upper bound, plus their sum."""

    __slots__ = ("bounds", "counts", "sum", "count")

    def __init__(self, bounds: Sequence[float]) -> None:
        self.bounds = tuple(bounds)
        self.counts = [0] * (len(self.bounds) + 1)
        self.sum = 0.0
        self.count = 0

    def observe(self, value: float) -> None:
        self.counts[bisect.bisect_left(self.bounds, value)] += 1
        self.sum += value
        self.count += 1

    def quantile(self, q: float) -> float:
        """Upper bound of the bucket holding quantile ``q`` (inf past the last)."""
        if not self.count:
            return 0.0
        target = q * self.count
        seen = 0
        for bound, n in zip(self.bounds + (float("inf"),), self.counts):
            seen += n
            if seen >= target:
                return bound
        return float("inf")

    def cumulative(self) -> list[tuple[float, int]]:
        """(upper bound, observations <= bound) pairs, ending with +inf."""
        out, seen = [], 0
        for bound, n in zip(self.bounds + (float("inf"),), self.counts):
            seen += n
            out.append((bound, seen))
        return out
