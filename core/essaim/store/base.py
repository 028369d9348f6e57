"""The store interface the engine writes through."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Protocol

import orjson

from essaim.errors import StoreConflict, StoreFenced
from essaim.model.events import Event
from essaim.model.phase_state import NO_PHASE_STATES, PhaseStateTypes
from essaim.model.state import CampaignState

__all__ = ["Store", "StoredCampaign", "WriteItem", "batch_marks", "judge_written", "sql_statements", "fenced_items",
           "epochs_claimed", "stale_epochs"]


@dataclass(frozen=True, slots=True)
class WriteItem:
    """Events of one campaign to append, and optionally a snapshot taken at
    ``snapshot_seq`` (after those events are applied).

    ``epoch`` is the writing owner's fencing token in cluster mode (see
    :meth:`Store.claim`): the store refuses the item unless it is the
    campaign's current epoch. None (one process) is never checked."""

    campaign_id: str
    events: Sequence[Event]
    snapshot: bytes | None = None
    snapshot_seq: int = 0
    epoch: int | None = None


@dataclass(frozen=True, slots=True)
class StoredCampaign:
    """What a restart reads: the newest snapshot and the events after it."""

    campaign_id: str
    snapshot: bytes | None
    snapshot_seq: int
    events: Sequence[Event]

    def rebuild(self, state_types: PhaseStateTypes = NO_PHASE_STATES) -> CampaignState:
        """The campaign's state: the snapshot with the events after it applied
        (CPU-bound for a big campaign: call it from a worker thread).
        ``state_types`` are the installed plugin phase types' state classes
        (``registry.phase_states``); a campaign whose log needs one that is
        missing raises PluginError naming it."""
        if self.snapshot is not None:
            state = CampaignState.from_dict(orjson.loads(self.snapshot), state_types)
        else:
            state = CampaignState(self.campaign_id, state_types)
        for event in self.events:
            state.apply(event)
        return state


class Store(Protocol):
    """A durable, append-only event log, one sequence per campaign.

    Methods are synchronous; a store with ``blocking = True`` is called from a
    worker thread (one call at a time: the engine has a single writer), so it
    never blocks the trio thread. ``append`` is one transaction: either every
    item of the batch is durable when it returns, or it raises and none is.

    Errors: :class:`~essaim.errors.StoreUnavailable` when the store cannot be
    reached or written for now (the writer retries; after such an error from
    ``append``, :meth:`written` says whether the batch committed all the same),
    :class:`~essaim.errors.StoreConflict` when other events already hold the
    seqs being written, :class:`~essaim.errors.StoreError` otherwise.

    Fencing (cluster mode: several processes, one owner per campaign): an
    owner claims its campaign (:meth:`claim`) and carries the epoch it got in each
    :class:`WriteItem`; ``append`` checks every item's epoch against the
    campaign's current one *in the commit's transaction* and raises
    :class:`~essaim.errors.StoreFenced` (nothing written) if any is stale, so a
    paused or partitioned owner can never commit after another took over.
    """

    blocking: bool

    def open(self) -> None:
        """Create or migrate the schema. Raises StoreError if it cannot."""

    def close(self) -> None: ...

    def append(self, batch: Sequence[WriteItem]) -> None: ...

    def claim(self, campaign_id: str, node: str) -> int:
        """Make ``node`` the writer of the campaign's log: returns its epoch,
        one more than the previous claim's (1 for the first). From then on,
        appends carrying an older epoch are refused (StoreFenced). A claim
        waits for appends under way on that campaign to commit, so events
        read after it returns are all there will ever be from older epochs."""
        ...

    def written(self, batch: Sequence[WriteItem]) -> bool:
        """Whether ``batch``, whose ``append`` raised StoreUnavailable, is in
        the log all the same (the commit got through, its answer did not):
        True if its events are stored as written, False if none is. Raises
        StoreConflict if other events hold those seqs, StoreUnavailable if
        it cannot tell yet. The writer asks before every retry, so a batch
        is never applied twice."""
        ...

    def campaign_ids(self) -> list[str]: ...

    def finished_campaigns(self) -> dict[str, str]:
        """Campaigns whose log holds ``campaign_finished`` (a final state),
        with their join codes (from ``campaign_created``, always seq 1): a
        restart serves the others first, rebuilds these afterwards, and
        keeps their codes taken meanwhile."""
        ...

    def load(self, campaign_id: str) -> StoredCampaign: ...

    def events(self, campaign_id: str, after: int = 0) -> list[Event]:
        """All events of a campaign with ``seq > after``, in order."""
        ...


#: One event that stands for its item in :meth:`Store.written`: campaign, seq, encoded data.
Mark = tuple[str, int, bytes]


def batch_marks(batch: Sequence[WriteItem]) -> list[Mark]:
    """The last event of each item. A batch is one transaction, so if these
    are stored as written, all of it is."""
    return [(item.campaign_id, item.events[-1].seq, item.events[-1].encode()) for item in batch if item.events]


def judge_written(marks: Sequence[Mark], found: Mapping[tuple[str, int], bytes]) -> bool:
    """:meth:`Store.written` from the stored data of those marks that exist."""
    if not found:
        return False
    for campaign_id, seq, data in marks:
        stored = found.get((campaign_id, seq))
        if stored is None or bytes(stored) != data:
            raise StoreConflict(
                f"campaign {campaign_id}: seq {seq} holds another event than the one written "
                "(another process wrote to this campaign)" if stored is not None else
                f"campaign {campaign_id}: part of a batch is stored and part is not; the store "
                "lost the atomicity of a transaction"
            )
    return True


def epochs_claimed(batch: Sequence[WriteItem]) -> dict[str, int]:
    """The epoch each fenced campaign of ``batch`` claims to write with.
    Raises StoreFenced for the older epoch if one campaign comes with two (a
    stale owner's items queued in the same process as its successor's)."""
    claimed: dict[str, int] = {}
    for item in batch:
        if item.epoch is not None:
            seen = claimed.setdefault(item.campaign_id, item.epoch)
            if seen != item.epoch:
                raise StoreFenced(f"campaign {item.campaign_id}: items of epochs {seen} and {item.epoch} in one "
                                  "batch; the older is stale", {item.campaign_id: min(seen, item.epoch)})
    return claimed


def fenced_items(claimed: Mapping[str, int], current: Mapping[str, int]) -> StoreFenced | None:
    """The refusal of the campaigns whose claimed epoch is not their current
    one (no entry: never claimed, so any epoch is stale), or None."""
    stale = {cid: epoch for cid, epoch in claimed.items() if current.get(cid) != epoch}
    return None if not stale else stale_epochs(stale)


def stale_epochs(stale: Mapping[str, int]) -> StoreFenced:
    """StoreFenced for these (campaign, refused epoch) pairs."""
    return StoreFenced("another process owns " + ", ".join(
        f"campaign {cid} now (this writer's epoch {epoch} is stale)" for cid, epoch in sorted(stale.items())
    ) + "; nothing of the batch was written", dict(stale))


def sql_statements(script: str) -> list[str]:
    """The statements of a migration script (no ``;`` inside them), one by one."""
    return [s.strip() for s in script.split(";") if s.strip()]
