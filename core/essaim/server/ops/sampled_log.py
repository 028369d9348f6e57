"""Log lines for floods, sampled: one line per kind per interval, with a count.

A script trying join codes or an overeager client hitting the rate limit
can cause thousands of refusals a second; a line for each would flood the
log and cost the CPU the campaign needs. The first refusal of a kind is
logged at once, then at most one per :data:`LOG_SAMPLE_SECONDS`, saying
how many were left out meanwhile (``"suppressed"``).
"""

from __future__ import annotations

import logging
import time
from typing import Any

__all__ = ["SampledLog", "LOG_SAMPLE_SECONDS"]

#: Seconds between two lines of one kind: a flood shows as one line per
#: kind every 10 s with its size, which is what an operator acts on.
LOG_SAMPLE_SECONDS = 10.0


class SampledLog:
    """One per kind of flood (join refusals, action refusals, API errors)."""

    __slots__ = ("logger", "interval", "_last", "_suppressed")

    def __init__(self, logger: logging.Logger, interval: float = LOG_SAMPLE_SECONDS) -> None:
        self.logger = logger
        self.interval = interval
        self._last: float | None = None
        self._suppressed = 0

    def log(self, level: int, msg: str, event: str, **fields: Any) -> bool:
        """Log now if the interval has passed (True), else count it as left out."""
        now = time.monotonic()
        if self._last is not None and now - self._last < self.interval:
            self._suppressed += 1
            return False
        self.logger.log(level, msg, extra={"event": event, **fields, "suppressed": self._suppressed})
        self._last, self._suppressed = now, 0
        return True
