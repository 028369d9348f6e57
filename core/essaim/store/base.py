"""The store interface the engine writes through."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

import orjson

from essaim.model.events import Event
from essaim.model.state import CampaignState

__all__ = ["Store", "StoredCampaign", "WriteItem"]


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
    """

    blocking: bool

    def open(self) -> None:
        """Create or migrate the schema. Raises StoreError if it cannot."""

    def close(self) -> None: ...

    def append(self, batch: Sequence[WriteItem]) -> None: ...

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
