"""Fan-out economics: shared parts encoded once, counters on a frame budget."""

from __future__ import annotations

from contextlib import AsyncExitStack
from itertools import pairwise

import trio
from server_fixtures import new_campaign, participant_connection, running_server

from essaim.server.ws.fanout import SPREAD_TICK
from essaim.server.ws.outbox import Outbox


async def test_shared_parts_are_encoded_once_per_change(server):
    campaign_id, code, fac = await new_campaign(server)
    async with participant_connection(server) as a, participant_connection(server) as b:
        await a.join(code)
        await b.join(code)
        hub = server.hubs.get(campaign_id)
        first = hub.shared(hub.phase)
        assert hub.shared(hub.phase) is first  # same bytes object: not encoded again
        await fac.phase(campaign_id, "start")
        for p in (a, b):
            await p.until(lambda p: p.state["phase"]["status"] == "running")
        assert hub.shared(hub.phase) is not first
        # Both got the very same encoded phase.
        assert a.state["phase"] == b.state["phase"]


async def test_counter_refresh_interval_follows_the_frame_budget(server):
    campaign_id, code, _ = await new_campaign(server)
    hub = server.hubs.get(campaign_id)
    settings = server.settings
    assert hub.counters_interval() == settings.counters_interval
    async with participant_connection(server) as p:
        await p.join(code)
        hub.settings = settings.with_changes(counters_frame_budget=0.5)  # 1 connection / 0.5 frames per s
        assert hub.counters_interval() == 2.0
    hub.settings = settings


async def test_personal_updates_reach_only_their_participant(server):
    campaign_id, code, fac = await new_campaign(server)
    await fac.phase(campaign_id, "start")
    async with participant_connection(server) as writer, participant_connection(server) as bystander:
        await writer.join(code)
        await bystander.join(code)
        await writer.act_and_wait("write_card", text="my own card")
        await writer.until(lambda p: len(p.state["you"]["cards"]) == 1)
        await bystander.until(lambda p: p.state["counters"]["cards"] == 1)
        assert bystander.state["you"]["cards"] == []
        assert not any("you" in f for f in bystander.frames if f["type"] == "update")


async def test_a_new_supporter_rides_on_the_authors_next_frame(server):
    campaign_id, code, fac = await new_campaign(server)
    await fac.phase(campaign_id, "start")
    async with participant_connection(server) as author, participant_connection(server) as fan:
        await author.join(code)
        await fan.join(code)
        cid = (await author.act_and_wait("write_card", text="a card worth supporting"))["result"]["cid"]
        await author.until(lambda p: len(p.state["you"]["cards"]) == 1)
        await fan.act_and_wait("support_card", cid=cid)
        # Carried by the next frame the author gets anyway (here: the counters refresh).
        await author.until(lambda p: p.state["you"]["cards"][0]["supporters"] == 1)
        last = next(f for f in reversed(author.frames) if "you" in f)
        assert "counters" in last or "acks" in last


async def test_counter_refresh_is_spread_in_slices_within_the_budget(tmp_path):
    # Budget 20 frames/s and a 0.05 s tick: slices of one connection.
    async with running_server(tmp_path, counters_frame_budget=20.0, counters_interval=0.2) as server:
        campaign_id, code, fac = await new_campaign(server)
        async with AsyncExitStack() as stack:
            ps = [await stack.enter_async_context(participant_connection(server)) for _ in range(3)]
            for p in ps:
                await p.join(code)
            hub = server.hubs.get(campaign_id)
            seen: list[float] = []
            original = hub._mark

            def spy(conn, **flags):
                if flags.get("counters"):
                    seen.append(trio.current_time())
                original(conn, **flags)

            hub._mark = spy
            await fac.phase(campaign_id, "start")
            async with participant_connection(server) as late:
                await late.join(code)  # a counter change for everyone
                for p in ps:
                    await p.until(lambda p: p.state["counters"]["participants"] == 4)
            hub._mark = original
    # One connection per slice: the marks of one refresh are at least a tick apart.
    assert len(seen) >= 2
    assert all(b - a >= SPREAD_TICK * 0.9 for a, b in pairwise(seen))


async def test_a_finished_campaigns_hub_closes_with_its_last_connection(server):
    campaign_id, code, fac = await new_campaign(server)
    await fac.phase(campaign_id, "start")
    owner = server.engine.owner(campaign_id)
    async with participant_connection(server) as p:
        token = (await p.join(code))["token"]
        hub = server.hubs.get(campaign_id)
        assert hub.on_events in owner._listeners
        while server.engine.state(campaign_id).status != "finished":
            await fac.phase(campaign_id, "advance")
        await p.until(lambda p: p.state["phase"]["status"] == "finished")
    with trio.fail_after(10):
        while hub.on_events in owner._listeners:  # the server sees the close
            await trio.sleep(0.01)
    assert server.hubs.connection_count(campaign_id) == 0
    async with participant_connection(server) as again:  # a later resume gets a new hub, and the results
        await again.send({"type": "resume", "campaign": code, "token": token, "seq": 0})
        welcome = await again.recv()
        assert welcome["type"] == "welcome" and welcome["phase"]["status"] == "finished"
    assert server.hubs.get(campaign_id) is not hub


async def test_a_phase_change_wakes_writers_in_paced_slices(tmp_path, monkeypatch):
    # Budget 20 writers/s and a 0.05 s tick: one writer woken per slice.
    woken: list[float] = []
    original = Outbox.wake

    def spy(self):
        woken.append(trio.current_time())
        original(self)

    monkeypatch.setattr(Outbox, "wake", spy)
    async with running_server(tmp_path, phase_frame_budget=20.0) as server:
        campaign_id, code, fac = await new_campaign(server)
        async with AsyncExitStack() as stack:
            ps = [await stack.enter_async_context(participant_connection(server)) for _ in range(3)]
            for p in ps:
                await p.join(code)
            woken.clear()
            await fac.phase(campaign_id, "start")
            for p in ps:
                await p.until(lambda p: p.state["phase"]["status"] == "running")
    assert len(woken) >= 3
    first = woken[:3]
    assert all(b - a >= SPREAD_TICK * 0.9 for a, b in pairwise(first))
