"""What one client is owed until its writer sends the next frame.

Answers to the client's own messages (acks, errors, query replies)
accumulate, bounded: more than ``max_items`` waiting means the client is not
reading, and it is cut off rather than buffered for. Shared and personal
state (phase, counters, "you", results) are *flags*: the writer encodes the
latest state when it builds the frame, so any number of changes between two
frames cost one frame and no memory ("latest wins").

The writer parks on the outbox itself (``trio.lowlevel``), not on a
``trio.Event``: an Event per frame (and its parking lot) was a measurable
share of a frame's cost in the engine's part of it (docs/performance.md).
"""

from __future__ import annotations

from typing import Any

import trio

__all__ = ["Outbox"]


class Outbox:
    __slots__ = ("acks", "errors", "replies", "phase", "counters", "you", "results", "close_code",
                 "max_items", "_waiter")

    def __init__(self, max_items: int) -> None:
        self.max_items = max_items
        self.acks: list[dict[str, Any]] = []
        self.errors: list[dict[str, Any]] = []
        self.replies: list[dict[str, Any]] = []
        self.phase = False
        self.counters = False
        self.you = False
        self.results = False
        #: Set when the connection must close; the writer sends the close frame.
        self.close_code: int | None = None
        #: The writer's task while it waits for something owed (see :meth:`wait`).
        self._waiter: trio.lowlevel.Task | None = None

    # -- producers (sync: called from reply callbacks and event listeners) ---------

    def _answer(self, bucket: list[dict[str, Any]], entry: dict[str, Any]) -> bool:
        if self.close_code is not None:
            return True
        if len(self.acks) + len(self.errors) + len(self.replies) >= self.max_items:
            return False
        bucket.append(entry)
        self._wake_writer()
        return True

    def ack(self, entry: dict[str, Any]) -> bool:
        """Queue an ack; False if the outbox is full (the client does not read)."""
        return self._answer(self.acks, entry)

    def error(self, entry: dict[str, Any]) -> bool:
        return self._answer(self.errors, entry)

    def reply(self, entry: dict[str, Any]) -> bool:
        return self._answer(self.replies, entry)

    def mark(self, *, phase: bool = False, counters: bool = False, you: bool = False,
             results: bool = False, wake: bool = True) -> bool:
        """Flag state as stale. Returns True if a flag was already pending
        (the change is coalesced into a frame already owed)."""
        coalesced = (phase and self.phase) or (counters and self.counters) or (you and self.you) or (
            results and self.results)
        self.phase |= phase
        self.counters |= counters
        self.you |= you
        self.results |= results
        if wake:
            self._wake_writer()
        return coalesced

    def wake(self) -> None:
        """Let the writer send what is marked (see ``mark(wake=False)``)."""
        self._wake_writer()

    def _wake_writer(self) -> None:
        task = self._waiter
        if task is not None:
            self._waiter = None
            trio.lowlevel.reschedule(task)

    def close(self, code: int) -> int:
        """Ask the writer to close the connection; returns answers dropped."""
        dropped = 0
        if self.close_code is None:
            self.close_code = code
            dropped = len(self.acks) + len(self.errors) + len(self.replies)
            self.acks, self.errors, self.replies = [], [], []
        self._wake_writer()
        return dropped

    # -- the writer -------------------------------------------------------------------

    def pending(self) -> bool:
        return bool(self.acks or self.errors or self.replies or self.phase or self.counters or self.you
                    or self.results or self.close_code is not None)

    async def wait(self) -> None:
        """Return once something is owed (or the connection must close); one writer only."""
        if not self.pending():
            self._waiter = trio.lowlevel.current_task()
            await trio.lowlevel.wait_task_rescheduled(self._abort_wait)

    def _abort_wait(self, _: object) -> trio.lowlevel.Abort:
        self._waiter = None  # cancelled: nobody to wake any more
        return trio.lowlevel.Abort.SUCCEEDED

    def take_answers(self) -> tuple[list[dict[str, Any]], list[dict[str, Any]], list[dict[str, Any]]]:
        """The answers owed, emptying the outbox (a new list only where there was one)."""
        out = (self.acks, self.errors, self.replies)
        if self.acks:
            self.acks = []
        if self.errors:
            self.errors = []
        if self.replies:
            self.replies = []
        return out
