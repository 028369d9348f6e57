"""The store interface the engine writes through."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Protocol

import orjson

from essaim.errors import StoreConflict
from essaim.model.events import Event
from essaim.model.state import CampaignState

__all__ = ["Store", "StoredCampaign", "WriteItem", "batch_marks", "judge_written", "sql_statements"]


@dataclass(frozen=True, slots=True)
class WriteItem:
    """Events of one campaign to append, and optionally a snapshot taken at
    ``snapshot_seq`` (after those events are applied)."""

    campaign_id: str
    events: Sequence[Event]
    snapshot: bytes | None = None
    snapshot_seq: int = 0


@dataclass(frozen=True, slots=True)
class StoredCampaign:
    """What a restart reads: the newest snapshot and the events after it."""

    campaign_id: str
    snapshot: bytes | None
    snapshot_seq: int
    events: Sequence[Event]

    def rebuild(self) -> CampaignState:
        """The campaign's state: the snapshot with the events after it applied
        (CPU-bound for a big campaign: call it from a worker thread)."""
        if self.snapshot is not None:
            state = CampaignState.from_dict(orjson.loads(self.snapshot))
        else:
            state = CampaignState(self.campaign_id)
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

    Fencing (several processes, one owner per campaign) will add the owner's
    epoch to :class:`WriteItem`; a store then refuses an append whose epoch is
    older than the campaign's newest with ``StoreConflict``, in the same
    transaction, so a stale owner can never commit.
    """

    blocking: bool

    def open(self) -> None:
        """Create or migrate the schema. Raises StoreError if it cannot."""

    def close(self) -> None: ...

    def append(self, batch: Sequence[WriteItem]) -> None: ...

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


def sql_statements(script: str) -> list[str]:
    """The statements of a migration script (no ``;`` inside them), one by one."""
    return [s.strip() for s in script.split(";") if s.strip()]
