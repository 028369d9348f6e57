"""Two sorting boards end to end: stage-2 hands deal groups (``g:c3+c17``);
the participant view shows each group by its cards' texts and simulated
sorters judge a group by its cards."""

from __future__ import annotations

import itertools
from collections import Counter
from dataclasses import replace

from essaim import Command
from essaim.model.hand_items import group_members, is_group
from essaim.server.views import you_view
from essaim.simulation import simulate, simulation_template
from essaim.simulation._crowd import make_truth
from essaim.testing import joined, make_template, open_test_engine, run_campaign_to

TWO_BOARDS = {"stages": 2, "placements_per_card": 1, "similar_share": 0.0}
#: Merged pairs of groups needed before their share of same-idea pairs means
#: anything (runs of 80 simulated people give 18-34).
MIN_MERGED_PAIRS = 10
#: How far above the chance rate merged pairs must be "the same idea": far
#: below what was measured (+0.5 to +0.85), far above what random merging gives (0).
MARGIN_OVER_CHANCE = 0.3


async def test_the_view_of_a_stage_2_hand_shows_each_group_by_its_cards(autojump_clock: object) -> None:
    template = make_template(("collect", {"type": "sort", "settings": TWO_BOARDS}, "evaluate", "results"))
    async with open_test_engine() as engine:
        created = await engine.create_campaign(template)
        cid = created.campaign_id
        writers = await joined(engine, cid, 4, {"role": "Office"})
        await run_campaign_to(engine, cid, 0)
        texts = {}
        for n in range(24):
            text = f"proposal number {n} about subject {n * 7919 % 101}"
            ack = await engine.execute(cid, writers[n % 4], Command("write_card", {"text": text}, f"w{n}"))
            texts[ack.result["cid"]] = text
        await run_campaign_to(engine, cid, 1)
        sorters = await joined(engine, cid, 8, {"role": "Office"})
        stage2 = None
        for round_ in range(6):
            for s in sorters:
                hand = (await engine.execute(cid, s, Command("deal", {}, f"d{round_}{s.pid}"))).result["hand"]
                if hand is None:
                    continue
                if hand["stage"] == 2:
                    stage2 = (s, hand)
                    break
                items = hand["items"]
                await engine.execute(cid, s, Command("place", {
                    "hid": hand["hid"], "themes": [[items[:2]], [items[2:]]], "offtopic": []}, f"p{round_}{s.pid}"))
            if stage2:
                break
        assert stage2 is not None, "stage 2 deals the groups formed in stage 1"
        sorter, hand = stage2
        view = you_view(engine, engine.state(cid), sorter.pid, [], [])["hand"]
    assert view["items"] == hand["items"] and all(is_group(i) for i in view["items"])
    assert any(len(group_members(i)) > 1 for i in view["items"]), "stage-1 merges made groups of several cards"
    for shown in view["cards"]:
        members = group_members(shown["cid"])
        assert [m["cid"] for m in shown["members"]] == list(members)
        assert [m["text"] for m in shown["members"]] == [texts[c] for c in members]
        assert all(texts[c] in shown["text"] for c in members)


def _idea_of(text: str, phrasings: dict[str, str]) -> str | None:
    """The simulated idea a card's text phrases (None for off-topic and personal cards)."""
    return next((idea for p, idea in phrasings.items() if p[1:] in text), None)


async def test_simulated_sorters_merge_groups_of_the_same_idea_on_the_second_board(autojump_clock: object) -> None:
    demo = simulation_template()
    phases = tuple(replace(p, settings={**p.settings, **TWO_BOARDS}) if p.type == "sort" else p for p in demo.phases)
    async with open_test_engine() as engine:
        report = await simulate(engine, participants=80, seed=5, template=replace(demo, phases=phases))
        state = engine.state(report.campaign_id)
    phrasings = {p: idea.key for idea in make_truth(5).ideas() for p in idea.phrasings}
    idea_of_card = {cid: _idea_of(card.text, phrasings) for cid, card in state.cards.items()}

    def idea_of_group(item: str) -> str | None:
        votes = Counter(idea_of_card.get(c) for c in group_members(item))
        return votes.most_common(1)[0][0]

    stage2 = [p for p in state.placements if p.stage == 2]
    assert stage2, "the simulated crowd sorted stage-2 hands"

    def same_idea(a: str, b: str) -> bool:
        return idea_of_group(a) is not None and idea_of_group(a) == idea_of_group(b)

    # Pairs of groups a sorter merged, against every pair of groups the same
    # hands showed: a sorter who could not read groups would merge at random,
    # so the merged pairs would be of the same idea at the chance rate (about
    # 0.04-0.09 on this crowd; merged pairs measured 0.56-0.92 over runs with
    # different campaign ids, which seed the dealing).
    merged = [same_idea(a, b) for p in stage2 for theme in p.themes for idea in theme
              for a, b in itertools.combinations(idea, 2)]
    shown = [same_idea(a, b) for p in stage2 for a, b in itertools.combinations(state.hands[p.hid].items, 2)]
    assert len(merged) >= MIN_MERGED_PAIRS, f"too few merged pairs to judge: {len(merged)}"
    precision, chance = sum(merged) / len(merged), sum(shown) / len(shown)
    assert precision >= chance + MARGIN_OVER_CHANCE, (len(merged), precision, chance)
