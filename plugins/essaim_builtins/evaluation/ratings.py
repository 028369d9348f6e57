"""Evaluation strategy ``ratings``: rate one idea at a time on criteria the
facilitator defines (impact, feasibility...), least-rated idea first.

A criterion may be skipped ("I can't say"); a rating needs at least one.
Each criterion's value is scaled to [0, 1]; an item's value per judgment is
the weighted mean over the criteria rated; scores follow :mod:`.mean_scores`.
"""

from __future__ import annotations

import random
from collections.abc import Mapping, Sequence
from typing import Any

from essaim import CommandError
from essaim.model.commands import MAX_MSG_ID_CHARS
from essaim.model.schema import Integer, ListOf, Number, Object, Text
from essaim.model.state import CampaignState, Judgment, Participant
from essaim.model.types import EvaluationInput, EvaluationTask, ItemScore

from essaim_builtins.evaluation.judgment_data import require_item, require_object
from essaim_builtins.evaluation.mean_scores import mean_scores
from essaim_builtins.evaluation.tallies import already_judged, expect_kind, next_item_task

KIND = "rate"
DEFAULT_MAX_TASKS = 20
DEFAULT_CRITERIA: tuple[Mapping[str, Any], ...] = ({"id": "value", "label": "How much would this help?", "min": 1, "max": 5, "weight": 1.0},)

SETTINGS = {
    "criteria": ListOf(Object({
        "id": Text(MAX_MSG_ID_CHARS, required=True, description="the key a rating uses"),
        "label": Text(200, description="what participants read"),
        "min": Integer(default=1, description="lowest rating"),
        "max": Integer(default=5, description="highest rating (more than min)"),
        "weight": Number(minimum=0, default=1.0, description="weight in the idea's score"),
    }), min_items=1, default=list(DEFAULT_CRITERIA), description="the criteria ideas are rated on"),
    "max_tasks": Integer(minimum=1, default=DEFAULT_MAX_TASKS, description="ideas rated per participant"),
}
DESCRIPTION = "Rate ideas one at a time on facilitator-defined criteria; criteria may be skipped."


def criteria(settings: Mapping[str, Any]) -> list[dict[str, Any]]:
    out = []
    for c in settings.get("criteria") or DEFAULT_CRITERIA:
        if isinstance(c, Mapping) and "id" in c:
            low, high = int(c.get("min", 1)), int(c.get("max", 5))
            if high > low:
                out.append({"id": str(c["id"]), "label": str(c.get("label", c["id"])), "min": low, "max": high,
                            "weight": float(c.get("weight", 1.0))})
    return out or [dict(c) for c in DEFAULT_CRITERIA]


def next_task(
    strategy: str, settings: Mapping[str, Any], state: CampaignState, participant: Participant, rng: random.Random
) -> EvaluationTask | None:
    max_tasks = int(settings.get("max_tasks", DEFAULT_MAX_TASKS))
    return next_item_task(state, strategy, KIND, participant, max_tasks, rng, criteria=criteria(settings))


def check(
    strategy: str, settings: Mapping[str, Any], state: CampaignState, participant: Participant,
    kind: str, data: Mapping[str, Any],
) -> Mapping[str, Any]:
    expect_kind(kind, KIND, "rates ideas")
    data = require_object(data)
    iid = require_item(state, data, "iid")
    if already_judged(state, strategy, KIND, participant, iid):
        raise CommandError("you already rated this idea", code="already_done")
    given = data.get("ratings")
    if not isinstance(given, Mapping) or not given:
        raise CommandError("'ratings' must map criterion ids to numbers; rate at least one", code="bad_request")
    known = {c["id"]: c for c in criteria(settings)}
    clean = {}
    for cid, value in given.items():
        c = known.get(cid)
        if c is None:
            raise CommandError(f"unknown criterion {cid!r}; expected some of {sorted(known)}", code="bad_request")
        if isinstance(value, bool) or not isinstance(value, int) or not c["min"] <= value <= c["max"]:
            raise CommandError(f"'{cid}' must be a whole number from {c['min']} to {c['max']}", code="bad_request")
        clean[cid] = value
    return {"iid": iid, "ratings": clean}


def judgment_value(j: Judgment, crit: Mapping[str, Mapping[str, Any]]) -> float | None:
    total = weight = 0.0
    for cid, value in j.data["ratings"].items():
        c = crit.get(cid)
        if c is None:
            continue
        total += c["weight"] * (value - c["min"]) / (c["max"] - c["min"])
        weight += c["weight"]
    return total / weight if weight else None


def scores(strategy: str, settings: Mapping[str, Any], snapshot: EvaluationInput) -> Sequence[ItemScore]:
    crit = {c["id"]: c for c in criteria(settings)}
    values = []
    for j in snapshot.judgments:
        if j.kind == KIND and j.data["iid"] in snapshot.items:
            v = judgment_value(j, crit)
            if v is not None:
                values.append((j.data["iid"], j.pid, v))
    return mean_scores(snapshot.items, values, snapshot.profiles)
