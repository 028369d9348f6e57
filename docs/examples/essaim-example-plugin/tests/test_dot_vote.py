"""The dot_vote strategy on a real engine, found through its entry point."""

from __future__ import annotations

from importlib.metadata import entry_points

import essaim_dot_vote
import pytest

import essaim
from essaim.testing import joined, make_template, open_test_engine, run_campaign_to


def test_essaim_finds_the_plugin_through_its_entry_point() -> None:
    [ep] = [ep for ep in entry_points(group="essaim") if ep.name == "dot_vote"]
    assert ep.load() is essaim_dot_vote
    host = essaim.PluginHost.load()
    assert "dot_vote" in host.registry.available("evaluation")


async def test_the_most_dotted_idea_ranks_first() -> None:
    async with open_test_engine(plugins=[essaim_dot_vote]) as engine:
        template = make_template(
            phases=["collect", {"type": "evaluate", "strategy": "dot_vote", "settings": {"dots": 2}}, "results"]
        )
        created = await engine.create_campaign(template)
        cid = created.campaign_id
        people = await joined(engine, cid, 6)
        await run_campaign_to(engine, cid, 0)
        for i, text in enumerate(["Fewer meetings", "Faster laptops", "Free coffee"]):
            await engine.execute(cid, people[i], essaim.Command("write_card", {"text": text}))
        await run_campaign_to(engine, cid, 1)
        state = engine.state(cid)
        by_title = {item.title: iid for iid, item in state.items.items()}

        for person in people:
            task = await engine.next_task(cid, person.pid or "")
            assert task is not None and task.kind == "dot" and task.payload["dots_left"] == 2
            for title in ("Fewer meetings", "Faster laptops" if person is people[0] else "Free coffee"):
                await engine.execute(cid, person, essaim.Command(
                    "evaluate", {"kind": "dot", "data": {"iid": by_title[title]}}
                ))
            assert await engine.next_task(cid, person.pid or "") is None  # all dots placed

        with pytest.raises(essaim.CommandError, match="all your dots"):
            await engine.execute(cid, people[0], essaim.Command(
                "evaluate", {"kind": "dot", "data": {"iid": by_title["Free coffee"]}}
            ))

        await run_campaign_to(engine, cid, 2)
        results = await engine.results(cid)
        assert [s.title for s in results.sheets] == ["Fewer meetings", "Free coffee", "Faster laptops"]
        assert results.sheets[0].score == 1.0 and results.sheets[0].low < 1.0
