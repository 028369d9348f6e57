"""Scores that are averages of per-judgment values in [0, 1] (ratings,
approvals, budget shares), with the same uncertainty, consensus, controversy
and segment rules for every such method."""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence

from essaim.model.types import ItemScore

from essaim_builtins.evaluation.tallies import MIN_SEGMENT_JUDGES
from essaim_builtins.profiles import segment_keys

__all__ = ["mean_scores", "PRIOR_WEIGHT"]

#: Pseudo-judgments at the overall mean added to every item, so an item
#: judged once does not top the ranking on one enthusiastic vote.
PRIOR_WEIGHT = 1.0
Z95 = 1.96


def mean_scores(
    items: Iterable[str],
    values: Sequence[tuple[str, str, float]],
    profiles: Mapping[str, Mapping[str, str]],
) -> list[ItemScore]:
    """``values`` are (item, participant, value in [0, 1]).

    Score: the item's mean shrunk towards the overall mean; interval: mean
    +- 1.96 standard errors (the overall spread stands in while an item has
    few values); consensus: 1 - 2 x spread (1 = everyone gave the same value);
    controversy: the largest gap between profile segments of at least
    MIN_SEGMENT_JUDGES judges."""
    per_item: dict[str, list[float]] = defaultdict(list)
    per_segment: dict[tuple[str, str], list[float]] = defaultdict(list)
    judges: dict[tuple[str, str], set[str]] = defaultdict(set)
    for iid, pid, v in values:
        per_item[iid].append(v)
        for key in segment_keys(profiles.get(pid, {})):
            per_segment[(iid, key)].append(v)
            judges[(iid, key)].add(pid)
    all_values = [v for vs in per_item.values() for v in vs]
    overall = sum(all_values) / len(all_values) if all_values else 0.5
    overall_sd = _sd(all_values, overall) if len(all_values) > 1 else 0.5
    segments: dict[str, dict[str, float]] = defaultdict(dict)
    for (iid, key), vs in sorted(per_segment.items()):
        segments[iid][key] = round(_shrunk(vs, overall), 4)
    out = []
    for iid in sorted(items):
        vs = per_item.get(iid, [])
        n = len(vs)
        mean = _shrunk(vs, overall)
        raw = sum(vs) / n if n else overall
        sd = _sd(vs, raw) if n > 1 else overall_sd
        # Between the item's own spread and the overall one, by sample size.
        sd = (sd * (n - 1) + overall_sd * 2) / (n + 1) if n else overall_sd
        half = Z95 * sd / math.sqrt(n + PRIOR_WEIGHT)
        big = [v for k, v in segments[iid].items() if len(judges[(iid, k)]) >= MIN_SEGMENT_JUDGES]
        out.append(ItemScore(
            iid=iid,
            score=round(mean, 4),
            low=round(max(0.0, mean - half), 4),
            high=round(min(1.0, mean + half), 4),
            n=n,
            consensus=round(max(0.0, 1 - 2 * _sd(vs, raw)) if n > 1 else 0.0, 4),
            controversy=round(max(big) - min(big), 4) if len(big) > 1 else 0.0,
            segments=dict(segments[iid]),
        ))
    return out


def _shrunk(vs: Sequence[float], prior: float) -> float:
    return (sum(vs) + PRIOR_WEIGHT * prior) / (len(vs) + PRIOR_WEIGHT)


def _sd(vs: Sequence[float], mean: float) -> float:
    if len(vs) < 2:
        return 0.0
    return math.sqrt(sum((v - mean) ** 2 for v in vs) / (len(vs) - 1))
