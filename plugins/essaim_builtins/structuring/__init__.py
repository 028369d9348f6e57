"""Structuring strategy ``crowd_sort`` (Synapscore style).

Volunteers ask for hands of ~8 items. Stage-1 hands deal cards, least-dealt
first, fitted to the sorter's profile, until every card was dealt
``placements_per_card`` times; then stage-2 hands deal the *groups* the
stage-1 sorters formed, so later boards merge the groups of earlier ones
(boards in series); any number of sorters work at once on different hands
(boards in parallel). Dealing costs O(hand), not O(cards): see
:mod:`.dealing`. Placements are aggregated off the trio thread by
:mod:`.aggregation`.
"""

from __future__ import annotations

import random
from collections.abc import Mapping
from typing import Any

from essaim import hookimpl
from essaim.model.commands import MAX_IDS
from essaim.model.schema import Integer, Number
from essaim.model.state import CampaignState, Participant
from essaim.model.types import Deal, SortingInput, Structure
from essaim.plugin.registry import Registry

from essaim_builtins.collection import index_for
from essaim_builtins.structuring.aggregation import aggregate_placements
from essaim_builtins.structuring.dealing import NEIGHBOURS, DealSettings, board_for

#: A phone shows about 8 cards at once; Synapscore deals hands of 8.
DEFAULT_HAND_SIZE = 8
#: Sorters who place each card in stage 1 (the quality benchmark shows the
#: crowd beating text similarity from 3).
DEFAULT_PLACEMENTS_PER_CARD = 3
#: Once every card has its placements, volunteers who ask for more hands get
#: cards again (least-dealt first) up to this many placements per card,
#: instead of waiting for the phase to end: in the demo campaign 300 people's
#: sorters have time for about 11 (6 hands each). With the anchors and
#: fragments that came with it, ARI of ideas 0.57 -> 0.82 at 300 people (3
#: seeds) and 0.27 -> 0.75 at 3,000 (1 seed) with a maximum of 8; 12 took
#: them to 0.92 and 0.86 (16: no better at 300). docs/strategies.md.
DEFAULT_MAX_PLACEMENTS_PER_CARD = 12
#: Boards in series: 1 = cards only, 2 = then the groups stage 1 formed.
#: Default 1: from 5 placements per card one board sorts better for the same
#: effort (docs/strategies.md, quality benchmark); templates opt in with
#: ``stages = 2`` (clients show a group item, ``g:c1+c2``, by its cards).
DEFAULT_STAGES = 1
#: Sorters who place each group in stage 2.
DEFAULT_GROUP_PLACEMENTS = 2
#: Share of a hand filled with lexical neighbours of its first item.
DEFAULT_SIMILAR_SHARE = 0.5
#: A hand smaller than this is not worth a sorter's time; switch to stage 2.
MIN_HAND = 2
DEFAULT_IDEA_THRESHOLD = 0.5
DEFAULT_THEME_THRESHOLD = 0.5
DEFAULT_OFFTOPIC_SHARE = 0.5


def _share(default: float, description: str) -> Number:
    return Number(minimum=0.0, maximum=1.0, default=default, description=description)


SETTINGS = {
    # A hand must fit in one 'place' command (MAX_IDS items).
    "hand_size": Integer(minimum=MIN_HAND, maximum=MAX_IDS, default=DEFAULT_HAND_SIZE, description="items per hand"),
    "placements_per_card": Integer(minimum=1, default=DEFAULT_PLACEMENTS_PER_CARD,
                                   description="stage-1 sorters per card"),
    "max_placements_per_card": Integer(
        minimum=1, default=DEFAULT_MAX_PLACEMENTS_PER_CARD,
        description="then, while sorters ask for more, cards are dealt again up to this many placements "
        "(at most placements_per_card turns it off)"),
    "stages": Integer(minimum=1, maximum=2, default=DEFAULT_STAGES,
                      description="boards in series: 1 = cards only, 2 = then the groups stage 1 formed"),
    "group_placements": Integer(minimum=1, default=DEFAULT_GROUP_PLACEMENTS, description="stage-2 sorters per group"),
    "similar_share": _share(DEFAULT_SIMILAR_SHARE, "share of a hand that is lexical neighbours of its first card"),
    "idea_threshold": _share(DEFAULT_IDEA_THRESHOLD, "share of 'same idea' votes to join two ideas"),
    "theme_threshold": _share(DEFAULT_THEME_THRESHOLD, "share of 'same theme' votes to join two themes"),
    "offtopic_share": _share(DEFAULT_OFFTOPIC_SHARE, "share of 'off-topic' votes above which a card is off-topic"),
}


@hookimpl
def essaim_register_strategies(registry: Registry) -> None:
    registry.add_strategy(
        "structuring",
        "crowd_sort",
        description="Sorters get hands of ~8 cards (least-placed first, fitted to their profile); later boards "
        "merge the groups of earlier ones; placements become themes -> ideas -> cards by average-linkage "
        "agreement, with provenance.",
        settings=SETTINGS,
    )


def deal_settings(settings: Mapping[str, Any]) -> DealSettings:
    return DealSettings(
        hand_size=max(2, int(settings.get("hand_size", DEFAULT_HAND_SIZE))),
        placements_per_card=max(1, int(settings.get("placements_per_card", DEFAULT_PLACEMENTS_PER_CARD))),
        stages=int(settings.get("stages", DEFAULT_STAGES)),
        group_placements=max(1, int(settings.get("group_placements", DEFAULT_GROUP_PLACEMENTS))),
        similar_share=min(1.0, max(0.0, float(settings.get("similar_share", DEFAULT_SIMILAR_SHARE)))),
        max_placements_per_card=int(settings.get("max_placements_per_card", DEFAULT_MAX_PLACEMENTS_PER_CARD)),
    )


def _collection_prompts(state: CampaignState) -> list[Mapping[str, Any]]:
    template = state.template
    if template is None:
        return []
    return [p for ph in template.phases for p in ph.settings.get("prompts", ()) if isinstance(p, Mapping)]


@hookimpl
def essaim_structuring_deal(
    settings: Mapping[str, Any], state: CampaignState, sorter: Participant, rng: random.Random
) -> Deal | None:
    ds = deal_settings(settings)
    board = board_for(state, _collection_prompts(state))
    index = index_for(state)

    def similar(cid: str) -> list[str]:
        card = state.cards.get(cid)
        if card is None:
            return []
        return [other for other, _ in index.search(card.text, NEIGHBOURS + 1) if other != cid]

    hand = board.deal_cards(state, sorter, ds, similar, rng=rng)
    if len(hand) >= MIN_HAND or (hand and ds.stages < 2 and ds.max_placements_per_card <= ds.placements_per_card):
        return Deal(tuple(hand), stage=1)
    if ds.stages >= 2:
        groups = board.deal_groups(state, sorter, ds, similar)
        if len(groups) >= MIN_HAND:
            return Deal(tuple(groups), stage=2)
    if ds.max_placements_per_card > ds.placements_per_card:
        more = board.deal_cards(state, sorter, ds, similar, limit=ds.max_placements_per_card, rng=rng)
        if len(more) > len(hand):
            return Deal(tuple(more), stage=1)
    return Deal(tuple(hand), stage=1) if hand else None


@hookimpl
def essaim_structuring_aggregate(settings: Mapping[str, Any], snapshot: SortingInput) -> Structure:
    return aggregate_placements(
        snapshot,
        idea_threshold=float(settings.get("idea_threshold", DEFAULT_IDEA_THRESHOLD)),
        theme_threshold=float(settings.get("theme_threshold", DEFAULT_THEME_THRESHOLD)),
        offtopic_share=float(settings.get("offtopic_share", DEFAULT_OFFTOPIC_SHARE)),
    )
