"""``dot_vote``: an evaluation strategy where each participant places a few dots.

The facilitator's classic: everyone gets ``dots`` dots (3 by default) and
puts them on the ideas that matter most, at most one dot per idea. An
idea's score is the share of voters who dotted it, with a 95% Wilson
interval as its uncertainty.

A complete Essaim plugin is this one module: a registration hook that
declares the strategy, and the three hooks every evaluation strategy
implements. Essaim finds it through the ``essaim`` entry-point group
declared in ``pyproject.toml``.
"""

from __future__ import annotations

import math
import random
from collections import Counter
from collections.abc import Mapping, Sequence
from typing import Any

from essaim import CommandError, hookimpl
from essaim.model.schema import Integer
from essaim.model.state import CampaignState, Participant
from essaim.model.types import EvaluationInput, EvaluationTask, ItemScore
from essaim.plugin.registry import Registry

__all__ = ["DEFAULT_DOTS", "DEFAULT_SHOWN"]

#: Dots per participant: few enough that each one means a choice.
DEFAULT_DOTS = 3
#: Ideas shown on one ballot: a phone screen holds about a dozen.
DEFAULT_SHOWN = 12


@hookimpl
def essaim_register_strategies(registry: Registry) -> None:
    registry.add_strategy(
        "evaluation",
        "dot_vote",
        description="Each participant places a few dots on the ideas that matter most (one per idea).",
        # Checked when a campaign is created: `dots = "three"` or `dot = 3`
        # fails then, naming the template file and the key.
        settings={
            "dots": Integer(minimum=1, default=DEFAULT_DOTS, description="dots per participant"),
            "shown": Integer(minimum=1, default=DEFAULT_SHOWN, description="ideas on one ballot"),
        },
    )


def _dotted(state: CampaignState, pid: str) -> list[str]:
    """The items this participant has dotted so far."""
    return [j.data["iid"] for j in state.judgments if j.pid == pid and j.kind == "dot"]


@hookimpl
def essaim_evaluation_next(
    settings: Mapping[str, Any], state: CampaignState, participant: Participant, rng: random.Random
) -> EvaluationTask | None:
    dotted = _dotted(state, participant.pid)
    left = int(settings.get("dots", DEFAULT_DOTS)) - len(dotted)
    choices = [iid for iid in state.items if iid not in dotted]
    if left <= 0 or not choices:
        return None
    shown = rng.sample(choices, min(int(settings.get("shown", DEFAULT_SHOWN)), len(choices)))
    return EvaluationTask("dot", {
        "dots_left": left,
        "items": [{"iid": iid, "title": state.items[iid].title} for iid in shown],
    })


@hookimpl
def essaim_evaluation_check(
    settings: Mapping[str, Any], state: CampaignState, participant: Participant, kind: str, data: Mapping[str, Any]
) -> Mapping[str, Any]:
    if kind != "dot":
        raise CommandError(f"this phase is a dot vote; expected kind 'dot', not {kind!r}", code="bad_request")
    iid = data.get("iid")
    if iid not in state.items:
        raise CommandError("'iid' must be an idea of this campaign", code="bad_request")
    dotted = _dotted(state, participant.pid)
    if iid in dotted:
        raise CommandError("you already put a dot on this idea; choose another", code="already_done")
    if len(dotted) >= int(settings.get("dots", DEFAULT_DOTS)):
        raise CommandError("you have placed all your dots; thank you!", code="limit_exceeded")
    return {"iid": iid}


def wilson(hits: int, n: int, z: float = 1.96) -> tuple[float, float]:
    """95% Wilson score interval of a proportion (sensible for small n)."""
    if n == 0:
        return 0.0, 1.0
    p = hits / n
    denom = 1 + z * z / n
    centre = (p + z * z / (2 * n)) / denom
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / denom
    return max(0.0, centre - half), min(1.0, centre + half)


@hookimpl
def essaim_evaluation_scores(settings: Mapping[str, Any], snapshot: EvaluationInput) -> Sequence[ItemScore]:
    dots = Counter(j.data["iid"] for j in snapshot.judgments if j.kind == "dot")
    voters = len({j.pid for j in snapshot.judgments if j.kind == "dot"})
    scores = []
    for iid in snapshot.items:
        share = dots[iid] / voters if voters else 0.0
        low, high = wilson(dots[iid], voters)
        # Agreement: how far the share is from an even split of the crowd.
        consensus = abs(share - 0.5) * 2
        scores.append(ItemScore(iid, round(share, 4), round(low, 4), round(high, 4), dots[iid],
                                round(consensus, 4), round(1 - consensus, 4)))
    return scores
