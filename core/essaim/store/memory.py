"""An in-memory store, for tests and for benchmarks against the durable one."""

from __future__ import annotations

from collections.abc import Sequence

from essaim.errors import StoreConflict, StoreError
from essaim.model.events import Event
from essaim.store.base import StoredCampaign, WriteItem, batch_marks, epochs_claimed, fenced_items, judge_written

__all__ = ["MemoryStore"]


class MemoryStore:
    """Keeps events in lists. Same contract as SQLiteStore, nothing durable.

    Reusing one instance across engines simulates a restart in tests.
    """

    blocking = False

    def __init__(self) -> None:
        self._events: dict[str, list[Event]] = {}
        self._snapshots: dict[str, tuple[int, bytes]] = {}
        #: Campaign -> (epoch, node) of its last claim.
        self._owners: dict[str, tuple[int, str]] = {}

    def open(self) -> None:
        pass

    def close(self) -> None:
        pass

    def claim(self, campaign_id: str, node: str) -> int:
        epoch = self._owners.get(campaign_id, (0, ""))[0] + 1
        self._owners[campaign_id] = (epoch, node)
        return epoch

    def append(self, batch: Sequence[WriteItem]) -> None:
        fenced = fenced_items(epochs_claimed(batch), {cid: owner[0] for cid, owner in self._owners.items()})
        if fenced is not None:
            raise fenced
        # Check the whole batch first so a bad item leaves nothing half-written.
        expected: dict[str, int] = {}
        for item in batch:
            log = self._events.get(item.campaign_id, [])
            nxt = expected.get(item.campaign_id, len(log) + 1)
            for ev in item.events:
                if ev.seq < nxt:
                    raise StoreConflict(f"campaign {item.campaign_id}: seq {ev.seq} is already stored")
                if ev.seq != nxt:
                    raise StoreError(f"campaign {item.campaign_id}: seq {ev.seq} written where {nxt} was expected")
                nxt += 1
            expected[item.campaign_id] = nxt
        for item in batch:
            self._events.setdefault(item.campaign_id, []).extend(item.events)
            if item.snapshot is not None:
                self._snapshots[item.campaign_id] = (item.snapshot_seq, item.snapshot)

    def written(self, batch: Sequence[WriteItem]) -> bool:
        marks = batch_marks(batch)
        found = {}
        for campaign_id, seq, _ in marks:
            log = self._events.get(campaign_id, [])
            if seq <= len(log):
                found[(campaign_id, seq)] = log[seq - 1].encode()
        return judge_written(marks, found)

    def campaign_ids(self) -> list[str]:
        return list(self._events)

    def finished_campaigns(self) -> dict[str, str]:
        return {cid: log[0].data["code"] for cid, log in self._events.items()
                if any(e.type == "campaign_finished" for e in log)}

    def load(self, campaign_id: str) -> StoredCampaign:
        seq, blob = self._snapshots.get(campaign_id, (0, None))
        return StoredCampaign(campaign_id, blob, seq, self.events(campaign_id, seq))

    def events(self, campaign_id: str, after: int = 0) -> list[Event]:
        return self._events.get(campaign_id, [])[after:]
