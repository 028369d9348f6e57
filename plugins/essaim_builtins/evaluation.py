"""Evaluation strategy ``pairwise``: two items at a time, least-compared
first; scores are win rates with Wilson intervals."""

from __future__ import annotations

import math
import random
from collections import defaultdict
from collections.abc import Mapping, Sequence
from typing import Any

from essaim import CommandError, hookimpl
from essaim.registry import Registry
from essaim.state import CampaignState, Participant
from essaim.types import EvaluationInput, EvaluationTask, ItemScore

#: Pairs one participant is asked at most.
DEFAULT_MAX_TASKS = 30


@hookimpl
def essaim_register_strategies(registry: Registry) -> None:
    registry.add_strategy(
        "evaluation",
        "pairwise",
        description="Which of two ideas matters more? 'Can't decide' allowed.",
        settings={"max_tasks": f"pairs per participant (default {DEFAULT_MAX_TASKS})"},
    )


class _Counts:
    """Comparisons per item and pairs seen per participant, kept incrementally."""

    def __init__(self) -> None:
        self.n = 0
        self.per_item: dict[str, int] = defaultdict(int)
        self.seen: dict[str, set[tuple[str, str]]] = defaultdict(set)

    def update(self, state: CampaignState) -> None:
        for j in state.judgments[self.n:]:
            if j.kind == "pair":
                a, b = j.data["a"], j.data["b"]
                self.per_item[a] += 1
                self.per_item[b] += 1
                self.seen[j.pid].add((a, b) if a < b else (b, a))
        self.n = len(state.judgments)


_counts: dict[str, _Counts] = {}


def _counts_for(state: CampaignState) -> _Counts:
    c = _counts.get(state.campaign_id)
    if c is None or c.n > len(state.judgments):
        c = _counts[state.campaign_id] = _Counts()
    c.update(state)
    return c


@hookimpl
def essaim_evaluation_next(
    settings: Mapping[str, Any], state: CampaignState, participant: Participant, rng: random.Random
) -> EvaluationTask | None:
    counts = _counts_for(state)
    seen = counts.seen.get(participant.pid, set())
    if len(seen) >= int(settings.get("max_tasks", DEFAULT_MAX_TASKS)):
        return None
    items = list(state.items)
    if len(items) < 2:
        return None
    rng.shuffle(items)
    items.sort(key=lambda i: counts.per_item.get(i, 0))
    for a in items[:8]:
        for b in items:
            if a != b and ((a, b) if a < b else (b, a)) not in seen:
                return EvaluationTask("pair", {
                    "a": {"iid": a, "title": state.items[a].title},
                    "b": {"iid": b, "title": state.items[b].title},
                })
    return None


@hookimpl
def essaim_evaluation_check(
    settings: Mapping[str, Any], state: CampaignState, participant: Participant, kind: str, data: Mapping[str, Any]
) -> Mapping[str, Any]:
    if kind != "pair":
        raise CommandError(f"this phase compares pairs; expected kind 'pair', not {kind!r}", code="bad_request")
    a, b, choice = data.get("a"), data.get("b"), data.get("choice")
    if a not in state.items or b not in state.items or a == b:
        raise CommandError("'a' and 'b' must be two different items of this campaign", code="bad_request")
    if choice not in ("a", "b", "cant_decide"):
        raise CommandError("'choice' must be 'a', 'b' or 'cant_decide'", code="bad_request")
    key = (a, b) if a < b else (b, a)
    if key in _counts_for(state).seen.get(participant.pid, ()):
        raise CommandError("you already compared these two", code="already_done")
    return {"a": a, "b": b, "choice": choice}


def wilson(wins: float, n: int, z: float = 1.96) -> tuple[float, float]:
    if n == 0:
        return 0.0, 1.0
    p = wins / n
    denom = 1 + z * z / n
    centre = (p + z * z / (2 * n)) / denom
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / denom
    return max(0.0, centre - half), min(1.0, centre + half)


@hookimpl
def essaim_evaluation_scores(settings: Mapping[str, Any], snapshot: EvaluationInput) -> Sequence[ItemScore]:
    wins: dict[str, float] = defaultdict(float)
    n: dict[str, int] = defaultdict(int)
    for j in snapshot.judgments:
        if j.kind != "pair":
            continue
        a, b, choice = j.data["a"], j.data["b"], j.data["choice"]
        n[a] += 1
        n[b] += 1
        if choice == "a":
            wins[a] += 1
        elif choice == "b":
            wins[b] += 1
        else:
            wins[a] += 0.5
            wins[b] += 0.5
    out = []
    for iid in snapshot.items:
        total = n.get(iid, 0)
        rate = wins.get(iid, 0.0) / total if total else 0.5
        low, high = wilson(wins.get(iid, 0.0), total)
        consensus = abs(rate - 0.5) * 2
        out.append(ItemScore(iid, round(rate, 4), round(low, 4), round(high, 4), total,
                             round(consensus, 4), round(1 - consensus, 4)))
    return out
