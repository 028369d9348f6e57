"""Group commit: the single task that makes events durable.

Every campaign owner hands its events to one :class:`GroupCommitWriter`.
The writer takes the first waiting item, drains whatever else is already
queued (up to ``MAX_BATCH_EVENTS``), writes it all in one store transaction
in a worker thread, and only then runs each item's ``on_durable`` callback,
which is where clients get their acknowledgements. Owners keep applying
commands while a batch is being written, so a slow fsync raises the batch
size instead of lowering throughput.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import trio

from essaim.engine.metrics import LATENCY_BUCKETS, SIZE_BUCKETS, Histogram
from essaim.model.events import Event
from essaim.store import Store, WriteItem

__all__ = ["GroupCommitWriter", "WRITE_QUEUE_ITEMS", "MAX_BATCH_EVENTS"]

log = logging.getLogger("essaim.writer")

#: Items waiting for the writer. When full, owners wait (backpressure to
#: their own bounded command channels, then to clients as "busy").
WRITE_QUEUE_ITEMS = 4096
#: Events in one transaction. SQLite writes ~250k rows/s in batches of this
#: size on the reference VM; larger batches only add ack latency.
MAX_BATCH_EVENTS = 2000


@dataclass(slots=True)
class _Pending:
    item: WriteItem
    on_durable: Callable[[], None]


class GroupCommitWriter:
    """Writes batches of events to a store, then runs their callbacks.

    ``on_durable`` callbacks run on the trio thread, in submission order, and
    must not block (set an event, ``send_nowait``...). If the store fails,
    the writer raises and the engine stops: an unwritable log must not keep
    accepting commands it cannot make durable.
    """

    def __init__(self, store: Store) -> None:
        self.store = store
        self._send, self._receive = trio.open_memory_channel[_Pending](WRITE_QUEUE_ITEMS)
        self.commit_seconds = Histogram(LATENCY_BUCKETS)
        self.batch_events = Histogram(SIZE_BUCKETS)
        self.events_written = 0
        #: Set once the writer is closed and everything queued is durable.
        self.finished = trio.Event()

    async def submit(
        self,
        campaign_id: str,
        events: Sequence[Event],
        on_durable: Callable[[], None],
        *,
        snapshot: bytes | None = None,
        snapshot_seq: int = 0,
    ) -> None:
        """Queue events; ``on_durable`` runs once they are committed.

        An empty ``events`` is a barrier: its callback runs once everything
        submitted before it is durable (used to re-acknowledge retries).
        """
        pending = _Pending(WriteItem(campaign_id, events, snapshot, snapshot_seq), on_durable)
        try:
            # The common case: room in the queue. Not yielding here saves a
            # trip through trio's scheduler per command on the owner's hot path.
            self._send.send_nowait(pending)
        except trio.WouldBlock:
            await self._send.send(pending)

    async def aclose(self) -> None:
        """Stop taking items; :meth:`run` returns after writing what is queued."""
        await self._send.aclose()

    def statistics(self) -> dict[str, float]:
        return {
            "queued": self._receive.statistics().current_buffer_used,
            "events_written": self.events_written,
            "commits": self.commit_seconds.count,
        }

    async def run(self, *, task_status: trio.TaskStatus[None] = trio.TASK_STATUS_IGNORED) -> None:
        task_status.started()
        try:
            async with self._receive:
                async for first in self._receive:
                    batch = [first]
                    n = len(first.item.events)
                    while n < MAX_BATCH_EVENTS:
                        try:
                            nxt = self._receive.receive_nowait()
                        except (trio.WouldBlock, trio.EndOfChannel):
                            break
                        batch.append(nxt)
                        n += len(nxt.item.events)
                    await self._write([p.item for p in batch if p.item.events or p.item.snapshot], n)
                    for pending in batch:
                        try:
                            pending.on_durable()
                        except Exception:
                            # One failing callback (a client's reply) must not
                            # stop the writer, and with it every campaign.
                            log.exception("a durability callback failed")
        finally:
            # Also when cancelled or failed: whoever waits for the writer to
            # finish must not wait forever. Unwritten items were never acked.
            self.finished.set()

    async def _write(self, items: list[WriteItem], n: int) -> None:
        if not items:
            return
        started = time.perf_counter()
        if self.store.blocking:
            # Not cancellable: a transaction half-abandoned by a cancelled
            # caller would leave callbacks unrun for events that are durable.
            await trio.to_thread.run_sync(self.store.append, items)
        else:
            self.store.append(items)
            await trio.lowlevel.checkpoint()
        self.commit_seconds.observe(time.perf_counter() - started)
        self.batch_events.observe(n)
        self.events_written += n
