"""Where a gateway's replica comes from: the owner, or the shared store.

A replica is built from a campaign's newest snapshot and the events after
it, and a gap in its stream is filled with the durable events after its
seq. With a store only its owner reads (SQLite on the owner's disk), both
are asked of the owner over the bus (:class:`OwnerSource`). With a store
the whole cluster shares (PostgreSQL, failover mode), a gateway reads them
from the store itself (:class:`StoreSource`): it needs no owner to be up,
which is what a gateway rebuilding during a takeover relies on, and the
owner does not spend its time handing snapshots over.
"""

from __future__ import annotations

from typing import Any, Protocol

import orjson
import trio

from essaim.cluster.wire import decode_events, decode_stored
from essaim.errors import CommandError
from essaim.model.events import Event
from essaim.store import Store, StoredCampaign

__all__ = ["ReplicaSource", "OwnerSource", "StoreSource"]


class ReplicaSource(Protocol):
    async def load(self, campaign_id: str) -> StoredCampaign:
        """The campaign's newest snapshot and the events after it."""
        ...

    async def events_after(self, campaign_id: str, seq: int) -> tuple[list[Event], bool]:
        """Durable events after ``seq``, and whether more follow them."""
        ...


class OwnerAsker(Protocol):
    """What :class:`OwnerSource` needs of the gateway's link to the owners
    (:class:`essaim.cluster.gateway_link.GatewayLink`), so this module does not
    import the link that imports it."""

    async def ask(self, campaign_id: str, kind: str, args: Any) -> Any: ...

    async def read_key(self, key: str) -> bytes | None: ...


class OwnerSource:
    """Asks the campaign's owner, which reads its own store."""

    def __init__(self, link: OwnerAsker) -> None:
        self._link = link

    async def load(self, campaign_id: str) -> StoredCampaign:
        answer = await self._link.ask(campaign_id, "load", {})
        blob = await self._link.read_key(answer["key"])
        if blob is None:
            raise CommandError("the campaign's snapshot expired before it was read; try again in a moment",
                               code="unavailable")
        return await trio.to_thread.run_sync(decode_stored, campaign_id, blob)

    async def events_after(self, campaign_id: str, seq: int) -> tuple[list[Event], bool]:
        answer = await self._link.ask(campaign_id, "events", {"after": seq})
        return decode_events(orjson.dumps(answer["events"])), bool(answer["more"])


class StoreSource:
    """Reads the store the cluster shares (in a worker thread)."""

    def __init__(self, store: Store) -> None:
        self._store = store

    async def load(self, campaign_id: str) -> StoredCampaign:
        return await trio.to_thread.run_sync(self._store.load, campaign_id)

    async def events_after(self, campaign_id: str, seq: int) -> tuple[list[Event], bool]:
        return await trio.to_thread.run_sync(self._store.events, campaign_id, seq), False
