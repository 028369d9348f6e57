"""crowd_sort through the real engine: stage-2 group hands are placed and
become the published items."""

from __future__ import annotations

import trio

import essaim
from essaim import FACILITATOR, Command
from essaim.model.hand_items import group_members

TEMPLATE = """
[campaign]
title = "Sorting"
[[phase]]
type = "collect"
duration = 600
[[phase]]
type = "sort"
duration = 600
[phase.settings]
hand_size = 4
placements_per_card = 1
stages = 2
group_placements = 1
[[phase]]
type = "evaluate"
duration = 600
"""

TOPICS = ["parking", "coffee"]


async def test_groups_of_stage_one_are_merged_in_stage_two() -> None:
    async with essaim.open_engine(None) as engine:
        created = await engine.create_campaign(essaim.CampaignTemplate.parse(TEMPLATE))
        cid = created.campaign_id
        people = [engine.authenticate(cid, (await engine.join(cid, {})).token) for _ in range(6)]
        await engine.execute(cid, FACILITATOR, Command("start"))
        for n in range(8):
            await engine.execute(cid, people[n % 2], Command("write_card", {
                "text": f"{TOPICS[n % 2]} remark number {n}"}))
        topic = {f"c{n + 1}": TOPICS[n % 2] for n in range(8)}
        await engine.execute(cid, FACILITATOR, Command("advance"))
        stages = []
        for _ in range(3):
            for sorter in people[2:]:
                try:
                    ack = await engine.execute(cid, sorter, Command("deal"))
                except essaim.CommandError:
                    continue
                hand = ack.result["hand"]
                if not hand:
                    continue
                stages.append(hand["stage"])
                ideas: dict[str, list[str]] = {}
                for item in hand["items"]:
                    ideas.setdefault(topic[group_members(item)[0]], []).append(item)
                await engine.execute(cid, sorter, Command("place", {
                    "hid": hand["hid"], "themes": [[idea] for idea in ideas.values()], "offtopic": []}))
        assert 1 in stages and 2 in stages
        evaluating = trio.Event()

        def listen(events) -> None:
            if any(e.type == "phase_started" and e.data["index"] == 2 for e in events):
                evaluating.set()

        engine.owner(cid).subscribe(listen)
        await engine.execute(cid, FACILITATOR, Command("advance"))
        with trio.fail_after(10):  # aggregation runs in a worker thread, then items are published
            await evaluating.wait()
        items = engine.state(cid).items.values()
        assert sorted(sorted(i.cards, key=lambda c: int(c[1:])) for i in items) == [
            ["c1", "c3", "c5", "c7"], ["c2", "c4", "c6", "c8"]]
