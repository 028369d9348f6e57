"""Token buckets: a sustained rate with room for a burst."""

from __future__ import annotations

__all__ = ["TokenBucket", "AddressBuckets", "MAX_TRACKED_ADDRESSES"]

#: Client addresses whose buckets are kept; past it, full (idle) buckets are
#: dropped, then the oldest: memory stays bounded under a many-address flood.
MAX_TRACKED_ADDRESSES = 100_000


class TokenBucket:
    """``rate`` tokens per second, holding at most ``burst``. One per participant."""

    __slots__ = ("rate", "burst", "tokens", "stamp")

    def __init__(self, rate: float, burst: int, now: float) -> None:
        self.rate = rate
        self.burst = float(burst)
        self.tokens = float(burst)
        self.stamp = now

    def take(self, now: float) -> bool:
        """Spend one token if there is one."""
        self.tokens = min(self.burst, self.tokens + (now - self.stamp) * self.rate)
        self.stamp = now
        if self.tokens >= 1.0:
            self.tokens -= 1.0
            return True
        return False


class AddressBuckets:
    """One :class:`TokenBucket` per client address (join and resume attempts)."""

    __slots__ = ("rate", "burst", "_buckets")

    def __init__(self, rate: float, burst: int) -> None:
        self.rate = rate
        self.burst = burst
        self._buckets: dict[str, TokenBucket] = {}

    def take(self, address: str, now: float) -> bool:
        """Spend one attempt of ``address`` if it has one left."""
        bucket = self._buckets.get(address)
        if bucket is None:
            if len(self._buckets) >= MAX_TRACKED_ADDRESSES:
                self._forget_idle(now)
            bucket = self._buckets[address] = TokenBucket(self.rate, self.burst, now)
        return bucket.take(now)

    def _forget_idle(self, now: float) -> None:
        """Drop buckets that have refilled (forgetting them changes nothing);
        if that is not enough, the oldest half (a flood from many addresses)."""
        refill = self.burst / self.rate
        self._buckets = {a: b for a, b in self._buckets.items() if now - b.stamp < refill}
        if len(self._buckets) >= MAX_TRACKED_ADDRESSES:
            keep = list(self._buckets.items())[len(self._buckets) // 2:]
            self._buckets = dict(keep)
