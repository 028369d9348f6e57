"""Fencing in the engine: a stale owner can no longer commit, and says so.

Cluster failover claims each campaign for its owner (:meth:`Store.claim`)
and the owner writes with that epoch. Here one engine plays the owner that
claimed its campaigns (a small Engine subclass does the claiming, as
``essaim.cluster`` does), and the test claims a campaign behind its back,
as a process taking it over would. Everything else is real: the writer,
the owner, the stores.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from functools import partial

import pytest
import trio
from engine_session import Session, template_toml

from essaim import Actor, CampaignTemplate, Command, open_engine
from essaim.engine import Engine
from essaim.engine._writer import GroupCommitWriter
from essaim.errors import CommandError
from essaim.model.events import Event
from essaim.store import MemoryStore, Store


class ClaimingEngine(Engine):
    """An engine that claims the campaigns it creates, as a cluster owner does."""

    epochs: dict[str, int]

    def _epoch_of(self, campaign_id: str) -> int | None:
        return self.epochs.get(campaign_id)

    async def _claim_new(self, campaign_id: str) -> None:
        self.epochs[campaign_id] = self.store.claim(campaign_id, "this-node")


def claiming(store: Store, *args: object) -> ClaimingEngine:
    engine = ClaimingEngine(store, *args)  # type: ignore[arg-type]
    engine.epochs = {}
    return engine


@asynccontextmanager
async def claimed_session(store: Store, people: int) -> AsyncIterator[Session]:
    async with open_engine(store, factory=partial(claiming)) as engine:
        created = await engine.create_campaign(CampaignTemplate.parse(template_toml()))
        session = Session(engine, created.campaign_id)
        await session.join(people)
        await session.fac("start")
        yield session


async def test_a_stale_owner_commits_nothing_more_and_refuses_as_unavailable() -> None:
    store = MemoryStore()
    async with claimed_session(store, people=2) as s:
        writer, other = s.people
        kept = await s.act(writer, "write_card", "m1", text="Fewer handovers between shifts")
        store.claim(s.cid, "another-node")  # another process took the campaign over
        durable = list(store.events(s.cid))
        with pytest.raises(CommandError) as refused:
            await s.act(other, "write_card", "m2", text="Written after the takeover")
        assert refused.value.code == "unavailable" and "moved to another server" in str(refused.value)
        assert s.engine.owner(s.cid).stale
        # Nothing more reached the log, and everything after is refused at once,
        # even a retry of an action that is durable (the new owner answers it).
        with pytest.raises(CommandError):
            await s.act(writer, "write_card", "m1", text="Fewer handovers between shifts")
        assert list(store.events(s.cid)) == durable and durable[-1].seq == kept.seq


async def test_the_writer_drops_a_fenced_epoch_and_commits_the_rest_of_the_batch() -> None:
    store = MemoryStore()
    writer = GroupCommitWriter(store)
    fenced: list[tuple[str, int]] = []
    writer.on_fenced = lambda cid, epoch: fenced.append((cid, epoch))
    old = store.claim("k1", "a")
    store.claim("k1", "b")
    live = store.claim("k2", "a")
    outcome: list[str] = []

    def event(seq: int) -> list[Event]:
        return [Event(seq, "campaign_created" if seq == 1 else "phase_started", 1.0, {"code": "C"})]

    async with trio.open_nursery() as nursery:
        await nursery.start(writer.run)
        # All queued before the writer runs: one batch with both campaigns.
        await writer.submit("k1", event(1), lambda: outcome.append("k1 durable"), epoch=old,
                            on_refused=lambda: outcome.append("k1 refused"))
        await writer.submit("k2", event(1), lambda: outcome.append("k2 durable"), epoch=live)
        await writer.submit("k1", (), lambda: outcome.append("k1 barrier durable"), epoch=old,
                            on_refused=lambda: outcome.append("k1 barrier refused"))
        await writer.aclose()
    assert outcome == ["k1 refused", "k1 barrier refused", "k2 durable"]
    assert fenced == [("k1", old)]
    assert store.events("k1") == [] and [e.seq for e in store.events("k2")] == [1]


async def test_a_join_retried_with_the_same_token_is_the_same_participant() -> None:
    async with claimed_session(MemoryStore(), people=0) as s:
        first = await s.engine.join_hashed(s.cid, {"site": "North"}, "hash-of-a-token")
        again = await s.engine.join_hashed(s.cid, {"site": "North"}, "hash-of-a-token")
        assert again[0] == first[0] and len(s.state.participants) == 1
        ack = await s.engine.execute(s.cid, Actor.participant(first[0]),
                                     Command("write_card", {"text": "Still me"}, "m1"))
        assert ack.result["cid"] == "c1"
