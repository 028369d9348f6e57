"""Results, from scratch: ``top_consensus``, sheets ranked by score but
keeping only the ideas most of the crowd agrees on.

A results strategy implements one hook, turning the evaluation's scores into
ranked opportunity sheets. Segment breakdowns go through
``SegmentFilter.for_state`` so no segment smaller than the campaign's
``min_segment_size`` is shown (the engine filters again anyway).

Run by tests/plugins/test_strategy_examples.py.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from essaim import hookimpl
from essaim.model.schema import Number
from essaim.model.state import CampaignState
from essaim.model.types import ItemScore, OpportunitySheet
from essaim.plugin.segments import SegmentFilter


@hookimpl
def essaim_register_strategies(registry: Any) -> None:
    registry.add_strategy("results", "top_consensus", description="Ranked sheets of the ideas the crowd agrees on.",
                          settings={"min_consensus": Number(minimum=0, maximum=1, default=0.0,
                                                            description="leave out ideas below this consensus")})


@hookimpl
def essaim_results_sheets(settings: Mapping[str, Any], state: CampaignState, scores: Sequence[ItemScore],
                          min_segment_size: int) -> Sequence[OpportunitySheet]:
    floor = float(settings.get("min_consensus", 0.0))
    kept = sorted((s for s in scores if s.iid in state.items and s.consensus >= floor),
                  key=lambda s: (-s.score, s.iid))
    segments = SegmentFilter.for_state(state, min_segment_size)
    sheets = []
    for rank, score in enumerate(kept, start=1):
        item = state.items[score.iid]
        cards = [state.cards[c] for c in item.cards if c in state.cards and not state.cards[c].hidden]
        people = {c.author for c in cards} | {p for c in cards for p in c.supporters}
        sheets.append(OpportunitySheet(
            rank, item.iid, item.title, tuple(c.cid for c in cards), tuple(c.text for c in cards), len(people),
            score.score, score.low, score.high, score.consensus, score.controversy,
            segments.visible(score.iid, score.segments),
        ))
    return sheets
