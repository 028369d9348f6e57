"""Reconnect and resume: nothing lost, nothing applied twice."""

from __future__ import annotations

import trio
from server_fixtures import new_campaign, participant_connection


async def test_resume_after_drop_resends_unacked_actions_once(server):
    campaign_id, code, fac = await new_campaign(server)
    await fac.phase(campaign_id, "start")
    texts = [f"idea {i} about slow approvals" for i in range(12)]
    async with participant_connection(server) as p:
        welcome = await p.join(code)
        token, pid = welcome["token"], welcome["pid"]
        # Send everything, then drop the connection without reading a single ack.
        for i, text in enumerate(texts):
            await p.send({"type": "write_card", "id": f"w{i}", "text": text})
        sent = {f"w{i}": text for i, text in enumerate(texts)}
    # Some may have been applied, some not: the client cannot know which.
    async with participant_connection(server) as p:
        await p.send({"type": "resume", "campaign": code, "token": token, "seq": 0})
        await p.until(lambda p: p.welcome is not None)
        assert p.welcome["resumed"] and p.welcome["pid"] == pid
        for msg_id, text in sent.items():
            await p.send({"type": "write_card", "id": msg_id, "text": text})
        await p.until(lambda p: set(sent) <= set(p.acks))
        cids = {p.acks[i]["result"]["cid"] for i in sent}
        assert len(cids) == len(texts), "each action applied exactly once"
        assert all(len(p.ack_log) == len(sent) for _ in [0]), "one ack per action on this connection"
    state = server.engine.state(campaign_id)
    assert sorted(c.text for c in state.cards.values() if c.author == pid) == sorted(texts)


async def test_same_id_applied_once_acked_twice(server):
    campaign_id, code, fac = await new_campaign(server)
    await fac.phase(campaign_id, "start")
    async with participant_connection(server) as p:
        await p.join(code)
        await p.send({"type": "write_card", "id": "same", "text": "one card only"})
        await p.send({"type": "write_card", "id": "same", "text": "one card only"})
        await p.until(lambda p: len(p.ack_log) == 2)
        first, second = p.ack_log
        assert first["result"] == second["result"] and first["seq"] == second["seq"]
        assert [a.get("duplicate", False) for a in p.ack_log] == [False, True]
    assert server.engine.state(campaign_id).counters["cards"] == 1


async def test_resume_snapshot_reflects_what_happened_while_away(server):
    campaign_id, code, fac = await new_campaign(server)
    async with participant_connection(server) as p:
        token = (await p.join(code))["token"]
        last_seq = p.welcome["seq"]
    await fac.phase(campaign_id, "start")  # missed while away
    async with participant_connection(server) as other:
        await other.join(code)
    async with participant_connection(server) as p:
        await p.send({"type": "resume", "campaign": code, "token": token, "seq": last_seq})
        await p.until(lambda p: p.welcome is not None)
        assert p.welcome["phase"]["status"] == "running"
        assert p.welcome["counters"]["participants"] == 2
        assert p.welcome["seq"] > last_seq
        assert p.welcome["you"]["prompts"]


async def test_two_connections_of_one_participant_both_get_personal_updates(server):
    campaign_id, code, fac = await new_campaign(server)
    await fac.phase(campaign_id, "start")
    async with participant_connection(server) as a, participant_connection(server) as b:
        token = (await a.join(code))["token"]
        await b.send({"type": "resume", "campaign": code, "token": token, "seq": 0})
        await b.until(lambda p: p.welcome is not None)
        ack = await a.act_and_wait("write_card", text="written on the phone")
        await b.until(lambda p: any(c["cid"] == ack["result"]["cid"] for c in p.state["you"]["cards"]))
        assert not b.acks, "acks go to the connection that sent the action"
        with trio.move_on_after(0.2):
            await b.until(lambda p: bool(p.acks))
        assert not b.acks
