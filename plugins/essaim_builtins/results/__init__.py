"""Results strategy ``opportunity_sheets``: items ranked by score, each with
its representative cards, the people behind it, its uncertainty, consensus
and a breakdown by profile segment.

Segments judged by fewer than the campaign's ``min_segment_size`` distinct
participants are left out, so a small segment's opinion cannot be traced
back to a handful of people.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from essaim import hookimpl
from essaim.model.schema import Integer
from essaim.model.state import CampaignState
from essaim.model.types import ItemScore, OpportunitySheet
from essaim.plugin.registry import Registry
from essaim.plugin.segments import SegmentFilter, judged_items, segment_judge_counts

__all__ = ["judged_items", "segment_judges", "visible_segments"]


@hookimpl
def essaim_register_strategies(registry: Registry) -> None:
    registry.add_strategy(
        "results",
        "opportunity_sheets",
        description="One sheet per evaluated idea, ranked by score: representative cards first, supporters, "
        "score with its interval, consensus and controversy, segments of at least min_segment_size people.",
        settings={"top": Integer(minimum=1, nullable=True, description="how many sheets (left out: all)")},
    )


# The one implementation lives in essaim.plugin.segments; these names stay for
# the plugins that import them from here (exports).
segment_judges = segment_judge_counts


def visible_segments(score: ItemScore, judges: Mapping[tuple[str, str], int], min_size: int) -> dict[str, float]:
    """The segments of ``score`` with at least ``min_size`` distinct judges (see essaim.plugin.segments)."""
    return SegmentFilter(judges, min_size).visible(score.iid, score.segments)


@hookimpl
def essaim_results_sheets(
    settings: Mapping[str, Any], state: CampaignState, scores: Sequence[ItemScore], min_segment_size: int
) -> Sequence[OpportunitySheet]:
    ranked = sorted((s for s in scores if s.iid in state.items), key=lambda s: (-s.score, -s.n, s.iid))
    top = settings.get("top")
    if top:
        ranked = ranked[: int(top)]
    segment_filter = SegmentFilter.for_state(state, min_segment_size)
    sheets = []
    for rank, score in enumerate(ranked, start=1):
        item = state.items[score.iid]
        cards = [state.cards[c] for c in item.cards if c in state.cards and not state.cards[c].hidden]
        # Representative first: the most supported cards (ties: the earliest).
        order = sorted(range(len(cards)), key=lambda i: (-len(cards[i].supporters), i))
        cards = [cards[i] for i in order]
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
            segments=segment_filter.visible(score.iid, score.segments),
        ))
    return sheets
