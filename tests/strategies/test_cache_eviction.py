"""Per-campaign plugin caches are dropped when the campaign finishes, and
rebuilt from the state when asked again."""

from __future__ import annotations

import trio

import essaim
from essaim import FACILITATOR, Command

from essaim_builtins import collection
from essaim_builtins.evaluation import tallies
from essaim_builtins.structuring import aggregation, dealing

from .test_crowd_sort_engine import TEMPLATE  # collect, sort, evaluate


def _cached(campaign_id: str) -> dict[str, bool]:
    return {
        "board": campaign_id in dealing._boards,
        "evidence": campaign_id in aggregation._caches,
        "similarity": campaign_id in collection._indexes,
        "tally": any(key[0] == campaign_id for key in tallies._tallies),
    }


async def test_a_finished_campaign_leaves_no_cache_behind_and_rebuilds_on_demand() -> None:
    async with essaim.open_engine(None) as engine:
        created = await engine.create_campaign(essaim.CampaignTemplate.parse(TEMPLATE))
        cid = created.campaign_id
        people = [engine.authenticate(cid, (await engine.join(cid, {})).token) for _ in range(4)]
        await engine.execute(cid, FACILITATOR, Command("start"))
        for n in range(8):
            await engine.execute(cid, people[n % 2], Command("write_card", {"text": f"remark {n} on topic {n % 3}"}))
        await engine.suggest(cid, "remark on topic")
        await engine.execute(cid, FACILITATOR, Command("advance"))
        for sorter in people[2:]:
            hand = (await engine.execute(cid, sorter, Command("deal"))).result["hand"]
            await engine.execute(cid, sorter, Command("place", {
                "hid": hand["hid"], "themes": [[[item] for item in hand["items"]]], "offtopic": []}))
        structure = await engine.structure(cid)
        evaluating = trio.Event()
        engine.owner(cid).subscribe(lambda events: any(
            e.type == "phase_started" and e.data["index"] == 2 for e in events) and evaluating.set())
        await engine.execute(cid, FACILITATOR, Command("advance"))
        with trio.fail_after(10):  # aggregation runs in a worker thread, then the phase starts
            await evaluating.wait()
        task = await engine.next_task(cid, people[0].pid)
        assert task is not None
        assert all(_cached(cid).values()), _cached(cid)

        await engine.execute(cid, FACILITATOR, Command("advance"))  # past the last phase: finished
        assert engine.state(cid).phase_index == 3
        assert not any(_cached(cid).values()), _cached(cid)

        # Asked again (the facilitator's structure page, an export), the caches rebuild.
        again = await engine.structure(cid)
        assert again.to_dict() | {"seq": 0} == structure.to_dict() | {"seq": 0}
        assert _cached(cid)["evidence"]
