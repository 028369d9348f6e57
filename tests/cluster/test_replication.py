"""Cluster mode at the engine level: one owner, gateways with replicas, a real redis-server.

Two (or three) ClusterEngines in one trio run stand for processes on
different machines: each has its own store and its own connections to
Valkey, and knows the others only through it.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager

import pytest
import trio
from realservers import free_port
from realservers.redis import RedisServer

from essaim import FACILITATOR, Actor, CampaignTemplate, Command
from essaim.cluster import BusError, ClusterEngine, open_cluster_engine, owner_link
from essaim.errors import CommandError
from essaim.store import MemoryStore

TEMPLATE = CampaignTemplate.parse("""
[campaign]
title = "Cluster test"
min_segment_size = 1
[[profile]]
key = "site"
label = "Site"
choices = ["North", "South"]
[[phase]]
type = "collect"
title = "Ideas"
duration = "10m"
[[phase]]
type = "evaluate"
title = "Vote"
duration = "10m"
[[phase]]
type = "results"
title = "Results"
duration = "2m"
""")

#: Seconds any one step may take (they take milliseconds; a loaded CI machine is slow).
STEP = 20


@asynccontextmanager
async def cluster(url: str, n: int) -> AsyncIterator[list[ClusterEngine]]:
    """``n`` engines on one Valkey, each on its own in-memory store."""
    async with AsyncExitStack() as stack:
        yield [await stack.enter_async_context(open_cluster_engine(url, MemoryStore())) for _ in range(n)]


async def joined_through(owner: ClusterEngine, gateway: ClusterEngine) -> tuple[str, Actor]:
    """A new campaign of ``owner`` and a participant who joined it through ``gateway``."""
    cid = (await owner.create_campaign(TEMPLATE)).campaign_id
    with trio.fail_after(STEP):
        await gateway.ready(cid)
    joined = await gateway.join(cid, {"site": "North"})
    return cid, gateway.authenticate(cid, joined.token)


async def converged(owner: ClusterEngine, gateway: ClusterEngine, cid: str) -> None:
    """Wait until the gateway's replica reached the owner's durable seq."""
    replica = await gateway.gateway.replicated(cid)
    await replica.applied(owner.campaign(cid).durable_seq)


async def test_gateways_replicate_the_owners_state_and_forward_commands(redis_server: RedisServer) -> None:
    async with cluster(redis_server.url, 3) as (owner, g1, g2):
        created = await owner.create_campaign(TEMPLATE)
        cid = created.campaign_id
        with trio.fail_after(STEP):
            await g1.ready(cid)
            await g2.ready(cid)
        assert g1.by_code(created.code.lower()) == cid  # codes are known cluster-wide
        assert not g1.is_local(cid) and owner.is_local(cid)

        # joins through gateways: the new participant is in the gateway's replica at once
        j1 = await g1.join(cid, {"site": "North"})
        j2 = await g2.join(cid, {"site": "South"})
        assert j1.pid != j2.pid and j1.pid in g1.state(cid).participants
        a1, a2 = g1.authenticate(cid, j1.token), g2.authenticate(cid, j2.token)
        await g2.execute(cid, FACILITATOR, Command("start"))

        # commands from every gateway land in one total order at the owner
        acks = []
        async with trio.open_nursery() as nursery:
            async def write(engine: ClusterEngine, actor, i: int) -> None:
                acks.append(await engine.execute(cid, actor, Command("write_card", {"text": f"idea {i}"}, f"m{i}")))
            for i in range(20):
                nursery.start_soon(write, g1 if i % 2 else g2, a1 if i % 2 else a2, i)
        assert sorted(a.seq for a in acks) == sorted(set(a.seq for a in acks))
        # read-your-writes: every ack's seq was applied by its gateway before it was released
        for engine in (g1, g2):
            await converged(owner, engine, cid)
            assert engine.state(cid).to_dict() == owner.state(cid).to_dict()
        assert owner.state(cid).counters["cards"] == 20

        # a retry of a message id through another gateway is the same action, applied once
        first = next(a for a in acks if a.result["cid"] == "c1")
        msg = next(m for m in (f"m{i}" for i in range(20)) if owner.state(cid).remembered(
            a1.pid if int(m[1:]) % 2 else a2.pid, m) == (first.seq, dict(first.result)))
        author = a1 if int(msg[1:]) % 2 else a2
        retried_on = g2 if author is a1 else g1  # the gateway that did not send it
        again = await retried_on.execute(cid, author, Command("write_card", {"text": "ignored"}, msg))
        assert again.duplicate and again.seq == first.seq
        assert owner.state(cid).counters["cards"] == 20

        # results and structure: computed by the owner, the same on every gateway
        await owner.execute(cid, FACILITATOR, Command("advance"))
        await owner.execute(cid, FACILITATOR, Command("advance"))
        expected = (await owner.results(cid)).to_dict()
        for engine in (g1, g2):
            assert (await engine.results(cid)).to_dict() == expected
        exported = await g1.export(cid, "json")
        assert [f.content for f in exported] == [f.content for f in await owner.export(cid, "json")]


async def test_a_gateway_refused_by_the_owner_gets_the_same_error(redis_server: RedisServer) -> None:
    async with cluster(redis_server.url, 2) as (owner, gateway):
        cid, actor = await joined_through(owner, gateway)
        with pytest.raises(CommandError) as refused:
            await gateway.execute(cid, actor, Command("write_card", {"text": "too early"}, "x1"))
        assert refused.value.code == "wrong_phase"
        with pytest.raises(CommandError) as full:
            await gateway.join(cid, {"site": "Mars"})
        assert full.value.code == "bad_profile"


async def test_valkey_down_at_start_is_a_clear_error_naming_the_url() -> None:
    url = f"redis://127.0.0.1:{free_port()}"
    with pytest.raises(BusError, match=url.replace(".", r"\.")):
        async with open_cluster_engine(url, MemoryStore()):
            pass


async def test_a_gateway_that_missed_entries_catches_up_without_loss_or_duplicates(
    redis_server: RedisServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    # While Valkey is away the owner keeps batches for it, up to a bound; past it
    # the oldest are dropped (durable in its store), which gateways see as a gap.
    monkeypatch.setattr(owner_link, "MAX_UNPUBLISHED", 3)
    async with cluster(redis_server.url, 2) as (owner, gateway):
        cid = (await owner.create_campaign(TEMPLATE)).campaign_id
        with trio.fail_after(STEP):
            await gateway.ready(cid)
        await owner.execute(cid, FACILITATOR, Command("start"))
        seen: list[int] = []
        replica = await gateway.gateway.replicated(cid)
        await converged(owner, gateway, cid)
        replica.subscribe(lambda events: seen.extend(e.seq for e in events))
        start = replica.state.seq
        redis_server.stop()
        for _ in range(10):  # local commands go on: the owner does not need Valkey
            await owner.execute(cid, FACILITATOR, Command("extend", {"seconds": 1}))
        assert owner_link.MAX_UNPUBLISHED < 10 and owner.owner_link.dropped > 0
        redis_server.start()  # same port, every key lost
        with trio.fail_after(STEP):
            await replica.applied(owner.state(cid).seq)
        assert seen == list(range(start + 1, owner.state(cid).seq + 1))  # each event once, in order
        assert gateway.gateway.gaps >= 1
        assert replica.state.to_dict() == owner.state(cid).to_dict()


async def test_valkey_down_while_running_refuses_then_resumes(redis_server: RedisServer) -> None:
    async with cluster(redis_server.url, 2) as (owner, gateway):
        cid, actor = await joined_through(owner, gateway)
        await owner.execute(cid, FACILITATOR, Command("start"))
        acked = await gateway.execute(cid, actor, Command("write_card", {"text": "before"}, "b1"))
        redis_server.stop()
        with pytest.raises(CommandError) as refused, trio.fail_after(STEP):
            await gateway.execute(cid, actor, Command("write_card", {"text": "during"}, "d1"))
        assert refused.value.code == "unavailable"
        redis_server.start()
        # the phone retries with the same id until it is taken (bounded)
        with trio.fail_after(STEP * 2):
            while True:
                try:
                    ack = await gateway.execute(cid, actor, Command("write_card", {"text": "during"}, "d1"))
                    break
                except CommandError as error:
                    assert error.code == "unavailable"
                    await trio.sleep(0.2)
        texts = [c.text for c in owner.state(cid).cards.values()]
        assert texts.count("before") == 1 and texts.count("during") == 1  # nothing acked lost, nothing twice
        assert acked.seq < ack.seq
        await converged(owner, gateway, cid)
        assert gateway.state(cid).to_dict() == owner.state(cid).to_dict()


async def test_an_ack_waits_for_its_seq_and_is_refused_if_the_replica_stays_behind() -> None:
    # No bus needed: the replica alone, fed batches as the stream would.
    from essaim.cluster.replica import HOLD_SECONDS, Replica
    from essaim.model.commands import Ack
    from essaim.model.events import Event
    from essaim.model.state import CampaignState
    from essaim.plugin import PluginHost

    state = CampaignState("c1")
    state.apply(Event(1, "campaign_created", 0.0, {"code": "ABCDEF", "template": TEMPLATE.to_dict(),
                                                   "facilitator_token_hash": "x"}))
    replica = Replica(state, PluginHost.load(), link=None)  # type: ignore[arg-type]
    answers: list[tuple[int | None, str | None]] = []
    reply = lambda ack, error: answers.append((ack.seq if ack else None, error.code if error else None))  # noqa: E731
    replica._when_applied(Ack(2, {}), reply)
    replica._when_applied(Ack(3, {}), reply)
    assert answers == []  # not applied yet: the phone must not read an older state than its action
    joined = Event(2, "participant_joined", 1.0, {"pid": "p1", "token_hash": "t", "profile": {}})
    assert replica.apply([joined]) and replica.apply([joined])  # a batch read twice is applied once
    assert answers == [(2, None)] and replica.state.seq == 2
    assert not replica.apply([Event(4, "phase_started", 2.0, {"index": 0, "deadline": 99.0})])  # a gap
    replica.expire_held(trio.current_time() + HOLD_SECONDS + 1)
    assert answers == [(2, None), (None, "unavailable")]


async def test_a_plugin_phase_replicates_like_the_built_in_ones(redis_server: RedisServer) -> None:
    """Its events reach the gateways' replicas, applied there by the same
    reducer (issue 18); a gateway forwards its commands to the owner."""
    import tally_plugin

    from essaim.plugin import PluginHost
    from essaim.testing import make_template

    def host() -> PluginHost:
        return PluginHost.load(extra=[tally_plugin], entry_points=False)

    async with AsyncExitStack() as stack:
        owner, gateway = [await stack.enter_async_context(open_cluster_engine(redis_server.url, MemoryStore(),
                                                                              plugins=host())) for _ in range(2)]
        cid = (await owner.create_campaign(make_template(phases=["tally", "results"]))).campaign_id
        with trio.fail_after(STEP):
            await gateway.ready(cid)
        people = [gateway.authenticate(cid, (await gateway.join(cid, {})).token) for _ in range(3)]
        await owner.execute(cid, FACILITATOR, Command("start"))
        for i, person in enumerate(people):
            await gateway.execute(cid, person, Command("tally_vote", {"option": f"o{i % 2}"}, f"v{i}"))
        with pytest.raises(CommandError) as refused:
            await gateway.execute(cid, people[0], Command("tally_vote", {"option": ""}, "bad"))
        assert refused.value.code == "bad_request"
        with trio.fail_after(STEP):
            await converged(owner, gateway, cid)
        assert gateway.state(cid).phase_state("tally").counts() == {"o0": 2, "o1": 1}
        assert gateway.state(cid).to_dict() == owner.state(cid).to_dict()


async def test_a_gateway_without_the_plugin_refuses_the_campaign_naming_the_phase_type(
        redis_server: RedisServer, caplog: pytest.LogCaptureFixture) -> None:
    """The replica cannot be rebuilt where the plugin is missing: the campaign
    is 'unavailable' there (not half served) and the log says which plugin."""
    import tally_plugin

    from essaim.plugin import PluginHost
    from essaim.testing import make_template

    async with AsyncExitStack() as stack:
        owner = await stack.enter_async_context(open_cluster_engine(
            redis_server.url, MemoryStore(), plugins=PluginHost.load(extra=[tally_plugin], entry_points=False)))
        bare = await stack.enter_async_context(open_cluster_engine(
            redis_server.url, MemoryStore(), plugins=PluginHost.load(entry_points=False)))
        cid = (await owner.create_campaign(make_template(phases=["tally", "results"]))).campaign_id
        with trio.fail_after(STEP), pytest.raises(CommandError) as refused:
            await bare.ready(cid)
        assert refused.value.code == "unavailable"
        assert any("'tally'" in r.getMessage() and "install" in r.getMessage() for r in caplog.records)


async def test_a_replica_whose_plugin_fails_on_an_event_is_dropped_and_rebuilt(redis_server: RedisServer) -> None:
    """The gateway's copy of the plugin chokes on an event the owner applied
    (say another version of it): the gateway does not crash, it drops the
    replica and rebuilds it from the store, which then fails the same way,
    so the campaign is 'unavailable' there rather than served from a
    suspect state."""
    import tally_plugin

    from essaim import hookimpl
    from essaim.plugin import PluginHost
    from essaim.testing import make_template

    class PickyTally(tally_plugin.TallyState):
        def apply(self, event):  # type: ignore[no-untyped-def]
            if event.data.get("option") == "coffee":
                raise RuntimeError("this version cannot count coffee")
            super().apply(event)

    class OtherVersion:
        __name__ = "tally_other_version"
        essaim_register_commands = staticmethod(tally_plugin.essaim_register_commands)

        @hookimpl
        def essaim_register_phase_types(self, registry):  # type: ignore[no-untyped-def]
            registry.add_phase_type("tally", family=None, commands={"tally_vote", "tally_close"}, state=PickyTally,
                                    events={"voted": "a vote", "closed": "closed"})

    async with AsyncExitStack() as stack:
        owner = await stack.enter_async_context(open_cluster_engine(
            redis_server.url, MemoryStore(), plugins=PluginHost.load(extra=[tally_plugin], entry_points=False)))
        gateway = await stack.enter_async_context(open_cluster_engine(
            redis_server.url, MemoryStore(), plugins=PluginHost.load(extra=[OtherVersion()], entry_points=False)))
        cid = (await owner.create_campaign(make_template(phases=["tally", "results"]))).campaign_id
        with trio.fail_after(STEP):
            await gateway.ready(cid)
        person = gateway.authenticate(cid, (await gateway.join(cid, {})).token)
        await owner.execute(cid, FACILITATOR, Command("start"))
        await gateway.execute(cid, person, Command("tally_vote", {"option": "tea"}, "v1"))
        with trio.fail_after(STEP):
            await converged(owner, gateway, cid)
        # The owner records coffee; the gateway's copy cannot apply it.
        await owner.execute(cid, person, Command("tally_vote", {"option": "coffee"}, "v2"))
        with trio.fail_after(STEP):
            while (replica := gateway.gateway.replicas.get(cid)) is not None and not replica.broken:
                await trio.sleep(0.01)  # the stream reader applies the batch in its own task
        with trio.fail_after(STEP), pytest.raises(CommandError) as refused:
            await gateway.ready(cid)
        assert refused.value.code == "unavailable"
        assert owner.state(cid).phase_state("tally").votes == {person.pid: "coffee"}
