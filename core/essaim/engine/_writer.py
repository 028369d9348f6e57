"""Group commit: the single task that makes events durable.

Every campaign owner hands its events to one :class:`GroupCommitWriter`.
The writer takes the first waiting item, drains whatever else is already
queued (up to ``MAX_BATCH_EVENTS``), writes it all in one store transaction
in a worker thread, and only then runs each item's ``on_durable`` callback,
which is where clients get their acknowledgements. Owners keep applying
commands while a batch is being written, so a slow fsync raises the batch
size instead of lowering throughput.

When the store fails for now (:class:`~essaim.errors.StoreUnavailable`:
disk full, database restarting, connection lost), the writer keeps the
batch, reports the store unwritable (:mod:`essaim.engine.health`) and tries
again with backoff. A failed commit may have committed all the same (the
connection dropped while the answer was on its way), so before each retry
it asks the store whether the batch is already in (:meth:`Store.written`);
and if a retry meets its own seqs already stored (the first attempt was
still committing on the server when the retry arrived), it asks again
rather than fail. Callbacks run once, after the one commit that counted:
an acknowledged action is never lost and never applied twice.

In cluster mode an owner's items carry its epoch (fencing, see
:meth:`Store.claim`). When the store refuses a campaign's epoch as stale
(:class:`~essaim.errors.StoreFenced`: another process took the campaign
over), the writer drops every item of that (campaign, epoch), now and
later, runs their ``on_refused`` callbacks instead (the commands are
answered ``unavailable``: never acknowledged, so nothing is lost; the
phones send them again, to the new owner), tells :attr:`on_fenced`, and
commits the rest of the batch at once.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import trio

from essaim.engine.health import StoreHealth
from essaim.engine.metrics import LATENCY_BUCKETS, SIZE_BUCKETS, Histogram
from essaim.errors import StoreConflict, StoreFenced, StoreUnavailable
from essaim.model.events import Event
from essaim.store import Store, WriteItem

__all__ = ["GroupCommitWriter", "WRITE_QUEUE_ITEMS", "MAX_BATCH_EVENTS", "RETRY_FIRST_SECONDS",
           "RETRY_MAX_SECONDS", "STOP_GRACE_SECONDS"]

log = logging.getLogger("essaim.writer")

#: Items waiting for the writer. When full, owners wait (backpressure to
#: their own bounded command channels, then to clients as "busy").
WRITE_QUEUE_ITEMS = 4096
#: Events in one transaction. SQLite writes ~250k rows/s in batches of this
#: size on the reference VM; larger batches only add ack latency.
MAX_BATCH_EVENTS = 2000
#: First wait before retrying a commit that failed for now: a connection
#: broken while idle (a database restarted since) is back at once.
RETRY_FIRST_SECONDS = 0.05
#: Longest wait between two attempts (the wait doubles up to it): writes
#: resume at most this long after the store is back, and a store that is
#: down costs one attempt every this many seconds.
RETRY_MAX_SECONDS = 2.0
#: Seconds a stopping engine keeps retrying an unwritable store before it
#: gives up on what is queued (never acknowledged, so nothing acknowledged
#: is lost; phones send it again to the next process).
STOP_GRACE_SECONDS = 10.0
#: Seconds between two log lines saying the store is still unavailable.
OUTAGE_LOG_SECONDS = 30.0


@dataclass(slots=True)
class _Pending:
    item: WriteItem
    on_durable: Callable[[], None]
    on_refused: Callable[[], None] | None = None
    #: Fenced: never written, ``on_refused`` ran instead of ``on_durable``.
    refused: bool = False


class GroupCommitWriter:
    """Writes batches of events to a store, then runs their callbacks.

    ``on_durable`` callbacks run on the trio thread, in submission order, and
    must not block (set an event, ``send_nowait``...). If the store fails for
    now, the writer retries (see the module's docstring) and :attr:`health`
    says so; if it fails otherwise (another writer's events at our seqs, a
    bug), the writer raises and the engine stops: a log that cannot be
    trusted must not keep accepting commands.
    """

    def __init__(self, store: Store) -> None:
        self.store = store
        self._send, self._receive = trio.open_memory_channel[_Pending](WRITE_QUEUE_ITEMS)
        self.commit_seconds = Histogram(LATENCY_BUCKETS)
        self.batch_events = Histogram(SIZE_BUCKETS)
        self.events_written = 0
        #: Set once the writer is closed and everything queued is durable.
        self.finished = trio.Event()
        #: Whether the store takes writes now.
        self.health = StoreHealth()
        #: trio time after which a stopping writer gives up on an unwritable store.
        self._give_up_at = float("inf")
        #: (campaign, epoch) pairs the store refused as stale: their items are dropped.
        self._fenced: set[tuple[str, int]] = set()
        #: Called on the trio thread as ``on_fenced(campaign_id, epoch)`` the
        #: first time the store refuses that epoch (the engine steps down).
        self.on_fenced: Callable[[str, int], None] = lambda campaign_id, epoch: None

    async def submit(
        self,
        campaign_id: str,
        events: Sequence[Event],
        on_durable: Callable[[], None],
        *,
        snapshot: bytes | None = None,
        snapshot_seq: int = 0,
        epoch: int | None = None,
        on_refused: Callable[[], None] | None = None,
    ) -> None:
        """Queue events; ``on_durable`` runs once they are committed.

        An empty ``events`` is a barrier: its callback runs once everything
        submitted before it is durable (used to re-acknowledge retries).
        ``epoch`` is the owner's fencing token (cluster mode); if the store
        refuses it, ``on_refused`` runs instead of ``on_durable``.
        """
        pending = _Pending(WriteItem(campaign_id, events, snapshot, snapshot_seq, epoch), on_durable, on_refused)
        try:
            # The common case: room in the queue. Not yielding here saves a
            # trip through trio's scheduler per command on the owner's hot path.
            self._send.send_nowait(pending)
        except trio.WouldBlock:
            await self._send.send(pending)

    async def aclose(self) -> None:
        """Stop taking items; :meth:`run` returns after writing what is queued
        (or, if the store stays unwritable, ``STOP_GRACE_SECONDS`` from now)."""
        self._give_up_at = trio.current_time() + STOP_GRACE_SECONDS
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
                    if not await self._write(batch, n):
                        return  # stopping, and the store stayed unwritable
                    for pending in batch:
                        if pending.refused:
                            continue
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

    def _refuse(self, batch: list[_Pending], stale: set[tuple[str, int]]) -> None:
        """Drop the items of fenced (campaign, epoch) pairs, and say so once per pair."""
        for pending in batch:
            item = pending.item
            if not pending.refused and item.epoch is not None and (item.campaign_id, item.epoch) in stale:
                pending.refused = True
                if pending.on_refused is not None:
                    try:
                        pending.on_refused()
                    except Exception:
                        log.exception("a refusal callback failed")
        for campaign_id, epoch in sorted(stale - self._fenced):
            self._fenced.add((campaign_id, epoch))
            log.error("campaign %s: the store refused epoch %d (another process took it over); its writes "
                      "are dropped, never acknowledged", campaign_id, epoch)
            try:
                self.on_fenced(campaign_id, epoch)
            except Exception:
                log.exception("campaign %s: stepping down failed", campaign_id)

    async def _write(self, batch: list[_Pending], n: int) -> bool:
        """Commit the batch's items, retrying while the store is unavailable
        and without the items of fenced epochs. False if the writer is
        stopping and gave up on them."""
        if self._fenced:
            self._refuse(batch, self._fenced)
        items = [p.item for p in batch if not p.refused and (p.item.events or p.item.snapshot)]
        if not items:
            return True
        started = time.perf_counter()
        delay = RETRY_FIRST_SECONDS
        uncertain = False  # a failed attempt may have committed
        logged = -OUTAGE_LOG_SECONDS
        while True:
            try:
                if uncertain and await self._call(self.store.written, items):
                    log.warning("a failed commit had gone through (its answer was lost); not written again")
                    break
                await self._call(self.store.append, items)
                break
            except StoreFenced as fenced:
                self._refuse(batch, set(fenced.campaigns.items()))
                items = [p.item for p in batch if not p.refused and (p.item.events or p.item.snapshot)]
                n = sum(len(item.events) for item in items)
                if not items:
                    return True
                continue  # the rest at once: nothing was written
            except StoreConflict:
                # Our own earlier attempt, still committing on the server when
                # this one arrived, took the seqs: then the batch is in.
                if uncertain and await self._call(self.store.written, items):
                    log.warning("a retried commit met the first attempt's events (its answer was lost); "
                                "not written twice")
                    break
                raise
            except StoreUnavailable as exc:
                uncertain = True
                if self.health.failed(exc):
                    logged = trio.current_time()
                    log.error("the store cannot be written (%s); campaigns refuse writes with 'unavailable' "
                              "and %d events wait; retrying", exc, n)
                elif trio.current_time() - logged >= OUTAGE_LOG_SECONDS:
                    logged = trio.current_time()
                    log.warning("the store is still unavailable after %.0f s (%s)",
                                trio.current_time() - self.health.since, exc)
            if trio.current_time() + delay > self._give_up_at:
                log.error("stopping with the store unavailable: %d events were never made durable "
                          "(and never acknowledged)", n)
                return False
            await trio.sleep(delay)  # a backoff, not a poll: each attempt is a real commit
            delay = min(delay * 2, RETRY_MAX_SECONDS)
        if not self.health.writable:
            log.warning("the store takes writes again after %.1f s; campaigns accept writes",
                        trio.current_time() - self.health.since)
            self.health.recovered()
        self.commit_seconds.observe(time.perf_counter() - started)
        self.batch_events.observe(n)
        self.events_written += n
        return True

    async def _call(self, fn: Callable[[Sequence[WriteItem]], Any], items: list[WriteItem]) -> Any:
        if self.store.blocking:
            # Not cancellable: a transaction half-abandoned by a cancelled
            # caller would leave callbacks unrun for events that are durable.
            return await trio.to_thread.run_sync(fn, items)
        result = fn(items)
        await trio.lowlevel.checkpoint()
        return result
