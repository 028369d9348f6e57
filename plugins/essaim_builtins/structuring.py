"""Structuring strategy ``crowd_sort``: hands of cards dealt least-placed
first, and placements aggregated by agreement into themes and ideas."""

from __future__ import annotations

import random
from collections.abc import Mapping
from typing import Any

from essaim import hookimpl
from essaim.registry import Registry
from essaim.state import CampaignState, Participant
from essaim.types import Deal, SortingInput, Structure

from .aggregation import aggregate_placements

DEFAULT_HAND_SIZE = 8
#: Each card is placed by this many sorters, then no longer dealt.
DEFAULT_PLACEMENTS_PER_CARD = 3


@hookimpl
def essaim_register_strategies(registry: Registry) -> None:
    registry.add_strategy(
        "structuring",
        "crowd_sort",
        description="Sorters get hands of ~8 cards, least-placed first; pairs that sorters keep together "
        "become ideas and themes when most of those who saw both agree.",
        settings={
            "hand_size": f"cards per hand (default {DEFAULT_HAND_SIZE})",
            "placements_per_card": f"sorters per card (default {DEFAULT_PLACEMENTS_PER_CARD})",
            "idea_threshold": "share of co-placements needed to merge two cards into one idea (default 0.5)",
            "theme_threshold": "share needed to put two ideas in one theme (default 0.5)",
        },
    )


@hookimpl
def essaim_structuring_deal(
    settings: Mapping[str, Any], state: CampaignState, sorter: Participant, rng: random.Random
) -> Deal | None:
    size = int(settings.get("hand_size", DEFAULT_HAND_SIZE))
    k = int(settings.get("placements_per_card", DEFAULT_PLACEMENTS_PER_CARD))
    seen = {item for hand in state.hands.values() if hand.sorter == sorter.pid for item in hand.items}
    candidates = [
        c for c in state.cards.values()
        if not c.hidden and c.author != sorter.pid and c.cid not in seen and c.dealt < k
    ]
    if not candidates:
        return None
    rng.shuffle(candidates)
    candidates.sort(key=lambda c: c.dealt)
    return Deal(tuple(c.cid for c in candidates[:size]), stage=1)


@hookimpl
def essaim_structuring_aggregate(settings: Mapping[str, Any], snapshot: SortingInput) -> Structure:
    return aggregate_placements(
        snapshot,
        idea_threshold=float(settings.get("idea_threshold", 0.5)),
        theme_threshold=float(settings.get("theme_threshold", 0.5)),
    )
