"""Results strategy ``opportunity_sheets``: items ranked by score, each with
its representative cards, the people behind it, its uncertainty, consensus
and a breakdown by profile segment.

Segments judged by fewer than the campaign's ``min_segment_size`` distinct
participants are left out, so a small segment's opinion cannot be traced
back to a handful of people.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import replace
from typing import Any

from essaim import hookimpl
from essaim.model.schema import Boolean, Integer
from essaim.model.state import CampaignState, Card
from essaim.model.types import ItemScore, OpportunitySheet, Variant
from essaim.plugin.registry import Registry
from essaim.plugin.segments import SegmentFilter, judged_items, segment_judge_counts

from essaim_builtins.results.variants import group_items, variant_links

__all__ = ["judged_items", "segment_judges", "visible_segments"]


@hookimpl
def essaim_register_strategies(registry: Registry) -> None:
    registry.add_strategy(
        "results",
        "opportunity_sheets",
        description="One sheet per evaluated idea, ranked by score, items that say it in other words grouped "
        "under it as variants: representative cards first, supporters, score with its interval, consensus and "
        "controversy, segments of at least min_segment_size people, rank in its theme and by supporters.",
        settings={"top": Integer(minimum=1, nullable=True, description="how many sheets (left out: all)"),
                  "group_variants": Boolean(default=True, description="group the items that say one idea in "
                                            "other words under its best-ranked one (false: one sheet per item)")},
    )


# The one implementation lives in essaim.plugin.segments; these names stay for
# the plugins that import them from here (exports).
segment_judges = segment_judge_counts


def visible_segments(score: ItemScore, judges: Mapping[tuple[str, str], int], min_size: int) -> dict[str, float]:
    """The segments of ``score`` with at least ``min_size`` distinct judges (see essaim.plugin.segments)."""
    return SegmentFilter(judges, min_size).visible(score.iid, score.segments)


@hookimpl
async def essaim_results_sheets(
    settings: Mapping[str, Any], state: CampaignState, scores: Sequence[ItemScore], min_segment_size: int
) -> Sequence[OpportunitySheet]:
    """One sheet per idea: items ranked by score, the variants of an idea
    (:mod:`.variants`, computed in a worker thread once per publication of
    the items) grouped under its best-ranked item; then each sheet's rank in
    its theme and by people behind it."""
    ranked = sorted((s for s in scores if s.iid in state.items), key=lambda s: (-s.score, -s.n, s.iid))
    by_iid = {s.iid: s for s in ranked}
    links = await variant_links(state) if settings.get("group_variants", True) else {}
    groups = group_items((s.iid for s in ranked), links)
    top = settings.get("top")
    if top:
        groups = groups[: int(top)]
    segment_filter = SegmentFilter.for_state(state, min_segment_size)
    sheets = []
    for rank, group in enumerate(groups, start=1):
        score = by_iid[group[0]]
        item = state.items[score.iid]
        cards = _visible_cards(state, item.cards)
        people = _people(cards)
        variants = []
        for iid in group[1:]:
            other = _visible_cards(state, state.items[iid].cards)
            people |= _people(other)
            v = by_iid[iid]
            variants.append(Variant(iid=iid, title=state.items[iid].title, score=v.score, low=v.low, high=v.high,
                                    supporters=len(_people(other)), card_texts=tuple(c.text for c in other)))
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
            variants=tuple(variants),
            theme=item.theme,
        ))
    return _with_theme_and_support_ranks(sheets)


def _visible_cards(state: CampaignState, cids: Sequence[str]) -> list[Card]:
    """Visible cards, representative first: the most supported (ties: the earliest)."""
    cards = [state.cards[c] for c in cids if c in state.cards and not state.cards[c].hidden]
    order = sorted(range(len(cards)), key=lambda i: (-len(cards[i].supporters), i))
    return [cards[i] for i in order]


def _people(cards: Sequence[Card]) -> set[str]:
    return {c.author for c in cards} | {p for c in cards for p in c.supporters}


def _with_theme_and_support_ranks(sheets: list[OpportunitySheet]) -> list[OpportunitySheet]:
    """Each sheet's rank within its theme (the ranking by theme) and by the
    people behind it (ties share the better rank)."""
    in_theme: Counter[str | None] = Counter()
    theme_rank = []
    for sheet in sheets:
        in_theme[sheet.theme] += 1
        theme_rank.append(in_theme[sheet.theme])
    people = sorted((s.supporters for s in sheets), reverse=True)
    first: dict[int, int] = {}
    for n, count in enumerate(people, start=1):
        first.setdefault(count, n)
    return [replace(s, theme_rank=t, support_rank=first[s.supporters]) for s, t in zip(sheets, theme_rank)]
