"""Structuring, from scratch: ``by_prompt``, hands of cards that answer the
same question, and a structure of one theme where cards that any sorter put
in the same idea are one idea.

A structuring strategy implements two hooks: dealing a hand to a sorter
(hot path, on the live state) and aggregating every placement into the
crowd's structure (worker thread, on an immutable snapshot; deterministic
for a given snapshot).

Run by tests/plugins/test_strategy_examples.py.
"""

from __future__ import annotations

import random
from collections import defaultdict
from collections.abc import Mapping
from typing import Any

from essaim import hookimpl
from essaim.model.schema import Integer
from essaim.model.state import CampaignState, Participant
from essaim.model.types import Deal, Idea, SortingInput, Structure, Theme


@hookimpl
def essaim_register_strategies(registry: Any) -> None:
    registry.add_strategy("structuring", "by_prompt", description="Hands per question; themes are questions.",
                          settings={"hand_size": Integer(minimum=2, maximum=64, default=6, description="cards per hand")})


@hookimpl
def essaim_structuring_deal(settings: Mapping[str, Any], state: CampaignState, sorter: Participant,
                            rng: random.Random) -> Deal | None:
    seen = {item for hand in state.hands.values() if hand.sorter == sorter.pid for item in hand.items}
    by_prompt: dict[str | None, list[str]] = defaultdict(list)
    for card in state.cards.values():
        if not card.hidden and card.author != sorter.pid and card.cid not in seen:
            by_prompt[card.prompt].append(card.cid)
    if not by_prompt:
        return None
    prompt = rng.choice(sorted(by_prompt, key=str))
    cards = by_prompt[prompt]
    return Deal(tuple(rng.sample(cards, min(int(settings.get("hand_size", 6)), len(cards)))))


@hookimpl
def essaim_structuring_aggregate(snapshot: SortingInput) -> Structure:
    # Union-find over "same idea" calls; the order of placements does not matter.
    parent: dict[str, str] = {}

    def find(x: str) -> str:
        while parent.setdefault(x, x) != x:
            x = parent[x]
        return x

    for placement in snapshot.placements:
        for theme in placement.themes:
            for idea in theme:
                for other in idea[1:]:
                    a, b = sorted((find(idea[0]), find(other)))
                    parent[b] = a
    groups: dict[str, list[str]] = defaultdict(list)
    for cid, card in sorted(snapshot.cards.items()):
        if not card.hidden:
            groups[find(cid)].append(cid)
    ideas = tuple(Idea(f"i{root}", snapshot.cards[cards[0]].text, tuple(cards), 1.0)
                  for root, cards in sorted(groups.items()))
    return Structure((Theme("t1", "All ideas", ideas, 1.0),), seq=snapshot.seq)
