"""Results strategy ``opportunity_sheets``: items ranked by score, with the
cards behind them and their supporters."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from essaim import hookimpl
from essaim.registry import Registry
from essaim.state import CampaignState
from essaim.types import ItemScore, OpportunitySheet


@hookimpl
def essaim_register_strategies(registry: Registry) -> None:
    registry.add_strategy(
        "results",
        "opportunity_sheets",
        description="One sheet per evaluated idea, ranked by score, with the cards and supporters behind it.",
        settings={"top": "how many sheets (default: all)"},
    )


@hookimpl
def essaim_results_sheets(
    settings: Mapping[str, Any], state: CampaignState, scores: Sequence[ItemScore], min_segment_size: int
) -> Sequence[OpportunitySheet]:
    ranked = sorted(scores, key=lambda s: (-s.score, -s.n, s.iid))
    top = settings.get("top")
    if top:
        ranked = ranked[: int(top)]
    sheets = []
    for rank, score in enumerate(ranked, start=1):
        item = state.items.get(score.iid)
        if item is None:
            continue
        cards = [state.cards[c] for c in item.cards if c in state.cards and not state.cards[c].hidden]
        people = {c.author for c in cards} | {p for c in cards for p in c.supporters}
        sheets.append(OpportunitySheet(
            rank=rank,
            iid=item.iid,
            title=item.title,
            cards=tuple(c.cid for c in cards),
            card_texts=tuple(c.text for c in cards),
            supporters=len(people),
            score=score.score,
            low=score.low,
            high=score.high,
            consensus=score.consensus,
            controversy=score.controversy,
            segments={k: v for k, v in score.segments.items()},
        ))
    return sheets
