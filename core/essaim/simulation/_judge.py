"""How a simulated person answers an evaluation task, for every built-in kind.

A person sees each item through its true value for them (the latent value
of its idea plus their role's bias) blurred by noise, and answers the way
the task asks: choose one of a pair, agree or disagree, rate on criteria,
approve a few, share a budget, place a dot. A kind no rule here knows gets
None, and the simulated person stops evaluating.
"""

from __future__ import annotations

import math
import random
from collections.abc import Callable, Mapping
from typing import Any

from essaim.model.types import EvaluationTask
from essaim.simulation._crowd import CrowdHabits

__all__ = ["answer", "KNOWN_KINDS"]

Value = Callable[[str], float]


def _sigmoid(x: float) -> float:
    return 1.0 / (1.0 + math.exp(-x))


def _pair(task: EvaluationTask, value: Value, rng: random.Random, h: CrowdHabits) -> dict[str, Any]:
    a, b = task.payload["a"]["iid"], task.payload["b"]["iid"]
    if rng.random() < h.cant_decide_share:
        choice = "cant_decide"
    else:
        choice = "a" if rng.random() < _sigmoid((value(a) - value(b)) / h.judgment_temperature) else "b"
    return {"a": a, "b": b, "choice": choice}


def _vote(task: EvaluationTask, value: Value, rng: random.Random, h: CrowdHabits) -> dict[str, Any]:
    iid = task.payload["iid"]
    if rng.random() < h.cant_decide_share:
        return {"iid": iid, "vote": "pass"}
    agree = rng.random() < _sigmoid(value(iid) / h.judgment_temperature)
    return {"iid": iid, "vote": "agree" if agree else "disagree"}


def _rate(task: EvaluationTask, value: Value, rng: random.Random, h: CrowdHabits) -> dict[str, Any]:
    iid = task.payload["iid"]
    ratings = {}
    for criterion in task.payload.get("criteria", ()):
        low, high = int(criterion["min"]), int(criterion["max"])
        # Values are roughly standard normal: +-2 spans the scale.
        share = _sigmoid((value(iid) + rng.gauss(0.0, h.judgment_temperature)) * 1.2)
        ratings[criterion["id"]] = max(low, min(high, round(low + share * (high - low))))
    return {"iid": iid, "ratings": ratings}


def _noisy(items: list[str], value: Value, rng: random.Random, h: CrowdHabits) -> list[tuple[float, str]]:
    return sorted(((value(i) + rng.gauss(0.0, h.judgment_temperature), i) for i in items), reverse=True)


def _shown(task: EvaluationTask) -> list[str]:
    return [entry["iid"] for entry in task.payload["items"]]


def _approval(task: EvaluationTask, value: Value, rng: random.Random, h: CrowdHabits) -> dict[str, Any]:
    shown = _shown(task)
    ranked = _noisy(shown, value, rng, h)
    limit = int(task.payload.get("max_approvals", 1))
    return {"shown": shown, "approved": [i for v, i in ranked[:limit] if v > 0] or [ranked[0][1]]}


def _budget(task: EvaluationTask, value: Value, rng: random.Random, h: CrowdHabits) -> dict[str, Any]:
    shown = _shown(task)
    budget = int(task.payload.get("budget", 10))
    weights = {i: math.exp(v) for v, i in _noisy(shown, value, rng, h)}
    total = sum(weights.values())
    allocation = {i: int(budget * w / total) for i, w in weights.items()}
    # Whole points: give what rounding left to the favourite.
    favourite = max(weights, key=weights.__getitem__)
    allocation[favourite] += budget - sum(allocation.values())
    return {"shown": shown, "allocation": {i: n for i, n in allocation.items() if n}}


def _dot(task: EvaluationTask, value: Value, rng: random.Random, h: CrowdHabits) -> dict[str, Any]:
    return {"iid": _noisy(_shown(task), value, rng, h)[0][1]}


_RULES: Mapping[str, Callable[[EvaluationTask, Value, random.Random, CrowdHabits], dict[str, Any]]] = {
    "pair": _pair,
    "vote": _vote,
    "rate": _rate,
    "approval": _approval,
    "budget": _budget,
    "dot": _dot,
}
KNOWN_KINDS = frozenset(_RULES)


def answer(task: EvaluationTask, value: Value, rng: random.Random, habits: CrowdHabits) -> dict[str, Any] | None:
    """The ``data`` of an ``evaluate`` command answering ``task``, or None for an unknown kind."""
    rule = _RULES.get(task.kind)
    return None if rule is None else rule(task, value, rng, habits)
