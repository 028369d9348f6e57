"""A whole campaign through its four phases with 40 participants on real sockets."""

from __future__ import annotations

import re
from contextlib import AsyncExitStack

from server_fixtures import new_campaign, participant_connection

PARTICIPANTS = 40
ROLES = ["Field", "Office", "Management"]
SITES = ["North", "South", "East", "West"]


async def test_four_phases_with_forty_participants(server):
    campaign_id, code, fac = await new_campaign(server)
    async with AsyncExitStack() as stack:
        ps = [await stack.enter_async_context(participant_connection(server)) for _ in range(PARTICIPANTS)]
        for i, p in enumerate(ps):
            await p.join(code, {"role": ROLES[i % 3], "site": SITES[i % 4]})
        pids = {p.welcome["pid"] for p in ps}
        assert len(pids) == PARTICIPANTS

        # -- collect ---------------------------------------------------------------
        await fac.phase(campaign_id, "start")
        for p in ps:
            await p.until(lambda p: p.state["phase"]["status"] == "running" and p.state["phase"]["type"] == "collect")
            assert p.state["you"]["prompts"], "a collect phase shows prompts"
        for i, p in enumerate(ps):
            for k in range(2):
                await p.act("write_card", text=f"idea {i}-{k}: {['meetings', 'tools', 'travel', 'training'][(i + k) % 4]} take too long",
                            prompt="slow")
        for p in ps:
            await p.until(lambda p: len(p.acks) >= 2)
            assert all("cid" in a["result"] for a in p.acks.values())
            await p.until(lambda p: len(p.state["you"]["cards"]) == 2)
        assert server.engine.state(campaign_id).counters["cards"] == 2 * PARTICIPANTS
        # Everyone learns the counters without asking.
        for p in ps:
            await p.until(lambda p: p.state["counters"]["cards"] == 2 * PARTICIPANTS)

        # -- sort --------------------------------------------------------------------
        await fac.phase(campaign_id, "advance")
        sorters = ps[::3]
        for p in sorters:
            await p.until(lambda p: p.state["phase"]["type"] == "sort")
            ack = await p.act_and_wait("deal")
            hand = ack["result"]["hand"]
            assert hand, ack
            await p.until(lambda p: p.state["you"]["hand"] is not None)
            assert p.state["you"]["hand"]["hid"] == hand["hid"]
            items = hand["items"]
            placed = await p.act_and_wait("place", hid=hand["hid"], themes=[[items[:2], items[2:4]], [items[4:]]],
                                          offtopic=[])
            assert placed["result"] == {"hid": hand["hid"]}, placed
            await p.until(lambda p: p.state["you"]["hand"] is None)
        assert server.engine.state(campaign_id).counters["placements"] == len(sorters)

        # -- moderation runs along: a flag goes to a jury -----------------------------------
        victim = ps[1].state["you"]["cards"][0]["cid"]
        flag = await ps[0].act_and_wait("flag", cid=victim, reason="off-topic")
        case_id = flag["result"]["case_id"]
        jurors = [p for p in ps if p.welcome["pid"] in server.engine.state(campaign_id).cases[case_id].jury]
        assert jurors
        for j in jurors:
            await j.until(lambda p: any(c["case_id"] == case_id for c in p.state["you"]["jury"]))
        non_jurors = [p for p in ps if p not in jurors]
        assert all(not p.state["you"]["jury"] for p in non_jurors), "jury duty goes only to jurors"
        for j in jurors:
            await j.act_and_wait("judge", case_id=case_id, verdict="keep")
            if server.engine.state(campaign_id).cases[case_id].status != "open":
                break
        for j in jurors:
            await j.until(lambda p: not p.state["you"]["jury"])

        # -- evaluate ------------------------------------------------------------------
        await fac.phase(campaign_id, "advance")
        for p in ps:
            await p.until(lambda p: p.state["phase"]["type"] == "evaluate" and p.state["phase"]["status"] == "running")
        for p in ps[:20]:
            for _ in range(3):
                qid = await p.act("next")
                await p.until(lambda p, qid=qid: qid in p.replies)
                task = p.replies[qid]["task"]
                if task is None:
                    break
                ack = await p.act_and_wait("evaluate", kind=task["kind"],
                                           data={"a": task["a"]["iid"], "b": task["b"]["iid"], "choice": "a"})
                assert "seq" in ack, ack
        assert server.engine.state(campaign_id).counters["judgments"] > 0

        # -- results -------------------------------------------------------------------
        await fac.phase(campaign_id, "advance")
        for p in ps:
            await p.until(lambda p: p.state["phase"]["type"] == "results" and p.state.get("results"))
            assert p.state["results"][0]["rank"] == 1

        # Anonymous campaign: nobody ever saw another participant's id.
        for p in ps:
            others = pids - {p.welcome["pid"]}
            for frame in p.frames:
                seen = set(re.findall(r'"(p\d+)"', str(frame).replace("'", '"')))
                assert not seen & others, (p.welcome["pid"], seen & others)
            # Frames only move forward.
            assert p.seqs == sorted(p.seqs)
