"""Keys and encodings of cluster mode on the bus.

Per campaign ``C``:

- ``essaim:C:events``, the event stream: one entry per published batch,
  its id ``<last seq>-0`` (Valkey refuses an id that does not grow, and a
  reader resuming from its own seq gets exactly what follows it), fields
  ``b`` (the events, JSON), ``t`` (the owner's wall-clock time of
  publication, for the replication-lag metric) and, in failover mode, ``e``
  (the owner's epoch: entries are fenced by ``essaim:C:epoch``, and gateways
  ignore an older epoch than one they saw). A takeover publishes a *tip*
  entry, id ``<seq>-<epoch + 1>``, fields ``tip`` (the durable seq the new
  owner starts from), ``e`` and ``n`` (its node): gateways catch up to it
  and send their unanswered requests again. Trimmed to about
  :data:`STREAM_MAX_ENTRIES` entries.
- ``essaim:C:requests``: what gateways ask the campaign's owner (commands,
  joins, results, catch-up); fields ``k`` (kind), ``n`` (the gateway's
  node id), ``r`` (its request number), ``a`` (the arguments, JSON).

Per process: ``essaim:node:N:replies``, the owner's answers to that
gateway's requests (``r``, and ``ok`` or ``e``, JSON). Cluster-wide:
the hash ``essaim:campaigns`` (campaign id → code and owner node), the hash
``essaim:codes`` (join code → campaign id) and the
stream ``essaim:directory`` announcing new campaigns.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import orjson

from essaim.model.events import Event
from essaim.model.types import Idea, ItemScore, OpportunitySheet, Results, Structure, Theme, Variant
from essaim.store.base import StoredCampaign

__all__ = [
    "events_key", "epoch_key", "requests_key", "replies_key", "snapshot_key", "CAMPAIGNS", "CODES", "DIRECTORY",
    "encode_events", "decode_events", "encode_stored", "decode_stored", "results_from_dict",
    "structure_from_dict", "STREAM_MAX_ENTRIES", "REQUESTS_MAX_ENTRIES", "REPLIES_MAX_ENTRIES",
]

#: Batches kept in a campaign's event stream. A gateway that falls further
#: behind (or a Valkey that lost the stream) catches up from the owner's
#: store instead; ~200,000 events of a 10,000-person campaign fit in ~60 MB.
STREAM_MAX_ENTRIES = 100_000
#: Requests kept in a campaign's request stream: the owner reads them as
#: they come; this only bounds the stream if the owner is gone.
REQUESTS_MAX_ENTRIES = 100_000
#: Replies kept in a gateway's reply stream (it reads them as they come).
REPLIES_MAX_ENTRIES = 100_000

CAMPAIGNS = "essaim:campaigns"
#: Join code -> campaign id, cluster-wide.
CODES = "essaim:codes"
DIRECTORY = "essaim:directory"


def events_key(campaign_id: str) -> str:
    return f"essaim:{campaign_id}:events"


def requests_key(campaign_id: str) -> str:
    return f"essaim:{campaign_id}:requests"


def replies_key(node: str) -> str:
    return f"essaim:node:{node}:replies"


def epoch_key(campaign_id: str) -> str:
    """The newest owner epoch that published to the campaign's stream (fencing)."""
    return f"essaim:{campaign_id}:epoch"


def snapshot_key(campaign_id: str, node: str, request: int) -> str:
    return f"essaim:{campaign_id}:snapshot:{node}:{request}"


def encode_events(events: Iterable[Event]) -> bytes:
    return orjson.dumps([[e.seq, e.type, e.ts, e.data] for e in events])


def decode_events(blob: bytes) -> list[Event]:
    return [Event(seq, etype, ts, data) for seq, etype, ts, data in orjson.loads(blob)]


def encode_stored(stored: StoredCampaign) -> bytes:
    """A campaign as the owner's store holds it (newest snapshot and the
    events after it), for a gateway building its replica."""
    head = orjson.dumps({"seq": stored.snapshot_seq, "events": orjson.Fragment(encode_events(stored.events))})
    return len(head).to_bytes(8, "big") + head + (stored.snapshot or b"")


def decode_stored(campaign_id: str, blob: bytes) -> StoredCampaign:
    n = int.from_bytes(blob[:8], "big")
    head = orjson.loads(blob[8:8 + n])
    snapshot = blob[8 + n:] or None
    events = [Event(seq, etype, ts, data) for seq, etype, ts, data in head["events"]]
    return StoredCampaign(campaign_id, snapshot, head["seq"], events)


def structure_from_dict(d: dict[str, Any]) -> Structure:
    """A :class:`Structure` from its ``to_dict`` form (as the owner publishes it)."""
    return Structure(
        themes=tuple(Theme(t["tid"], t["title"], tuple(Idea(i["iid"], i["title"], tuple(i["cards"]), i["agreement"])
                                                      for i in t["ideas"]), t["agreement"]) for t in d["themes"]),
        offtopic=tuple(d["offtopic"]), seq=d["seq"],
    )


def results_from_dict(d: dict[str, Any]) -> Results:
    """:class:`Results` from their ``to_dict`` form (as the owner publishes them)."""
    def sheet(s: dict[str, Any]) -> OpportunitySheet:
        variants = tuple(Variant(**dict(v, card_texts=tuple(v["card_texts"]))) for v in s.get("variants", ()))
        return OpportunitySheet(**dict(s, cards=tuple(s["cards"]), card_texts=tuple(s["card_texts"]),
                                       variants=variants))

    return Results(
        campaign_id=d["campaign_id"], title=d["title"], seq=d["seq"],
        sheets=tuple(sheet(s) for s in d["sheets"]), scores=tuple(ItemScore(**s) for s in d["scores"]),
        structure=structure_from_dict(d["structure"]) if d["structure"] else None, counters=d["counters"],
    )
