"""Whether the store takes writes now: the signal "degrade, don't die" runs on.

The group-commit writer is the only one who finds out: a commit that fails
with :class:`~essaim.errors.StoreUnavailable` (disk full, database
restarting, connection lost) makes the store *unwritable*; the writer keeps
the batch and retries it with backoff, and the first retry that commits
makes it *writable* again. Nothing else probes the store: the held batch is
the probe. Meanwhile campaign owners refuse participants' and facilitators'
commands with ``unavailable`` (reads and sockets stay up), and a server's
readiness check reads :attr:`StoreHealth.writable`.
"""

from __future__ import annotations

import trio

__all__ = ["StoreHealth"]


class StoreHealth:
    """The store's writability as the writer last found it."""

    def __init__(self) -> None:
        self.writable = True
        #: The last failure's message, while unwritable (for logs and /readyz).
        self.error: str | None = None
        #: trio time writability last changed.
        self.since = trio.current_time()
        #: Times the store became unwritable, and failed attempts in all.
        self.outages = 0
        self.failed_attempts = 0
        self._back = trio.Event()
        self._back.set()
        self._gone = trio.Event()

    def failed(self, error: BaseException) -> bool:
        """A commit or a check failed for now. True if this starts an outage."""
        self.failed_attempts += 1
        self.error = str(error)
        if not self.writable:
            return False
        self.writable = False
        self.since = trio.current_time()
        self.outages += 1
        self._back = trio.Event()
        self._gone.set()
        return True

    def recovered(self) -> None:
        """A commit went through after failures: writes are accepted again."""
        if self.writable:
            return
        self.writable = True
        self.error = None
        self.since = trio.current_time()
        self._gone = trio.Event()
        self._back.set()

    async def wait_writable(self) -> None:
        """Return once the store is writable (at once if it is)."""
        await self._back.wait()

    async def wait_unwritable(self) -> None:
        """Return once the store is unwritable (at once if it is)."""
        await self._gone.wait()

    def statistics(self) -> dict[str, object]:
        return {
            "writable": self.writable,
            "since": self.since,
            "error": self.error,
            "outages": self.outages,
            "failed_attempts": self.failed_attempts,
        }
