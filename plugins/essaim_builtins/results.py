"""Results strategy ``opportunity_sheets``: items ranked by score, each with
its representative cards, the people behind it, its uncertainty, consensus
and a breakdown by profile segment.

Segments judged by fewer than the campaign's ``min_segment_size`` distinct
participants are left out, so a small segment's opinion cannot be traced
back to a handful of people.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from essaim import hookimpl
from essaim.registry import Registry
from essaim.state import CampaignState, Judgment
from essaim.types import ItemScore, OpportunitySheet

from .segments import segment_keys

__all__ = ["judged_items", "segment_judges"]


@hookimpl
def essaim_register_strategies(registry: Registry) -> None:
    registry.add_strategy(
        "results",
        "opportunity_sheets",
        description="One sheet per evaluated idea, ranked by score: representative cards first, supporters, "
        "score with its interval, consensus and controversy, segments of at least min_segment_size people.",
        settings={"top": "how many sheets (default: all)"},
    )


def judged_items(j: Judgment) -> Iterable[str]:
    """The items a judgment is about, for every built-in evaluation kind."""
    d = j.data
    if j.kind == "pair":
        return (d.get("a"), d.get("b"))
    if "iid" in d:
        return (d["iid"],)
    return d.get("shown", ())


def segment_judges(state: CampaignState) -> dict[tuple[str, str], int]:
    """Distinct judges per (item, "attribute=value")."""
    seen: dict[tuple[str, str], set[str]] = defaultdict(set)
    for j in state.judgments:
        keys = segment_keys(state.participants[j.pid].profile) if j.pid in state.participants else []
        for iid in judged_items(j):
            for key in keys:
                seen[(iid, key)].add(j.pid)
    return {k: len(v) for k, v in seen.items()}


def visible_segments(score: ItemScore, judges: Mapping[tuple[str, str], int], min_size: int) -> dict[str, float]:
    return {k: v for k, v in score.segments.items() if judges.get((score.iid, k), 0) >= min_size}


@hookimpl
def essaim_results_sheets(
    settings: Mapping[str, Any], state: CampaignState, scores: Sequence[ItemScore], min_segment_size: int
) -> Sequence[OpportunitySheet]:
    ranked = sorted((s for s in scores if s.iid in state.items), key=lambda s: (-s.score, -s.n, s.iid))
    top = settings.get("top")
    if top:
        ranked = ranked[: int(top)]
    judges = segment_judges(state)
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
            segments=visible_segments(score, judges, min_segment_size),
        ))
    return sheets
