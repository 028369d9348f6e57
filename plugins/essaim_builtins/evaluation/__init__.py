"""Evaluation strategies, one module each, behind the three evaluation hooks:

* ``pairwise`` (default): adaptive pairs, Bradley-Terry scores (:mod:`.pairwise`);
* ``ratings``: criteria the facilitator defines (:mod:`.ratings`);
* ``approval`` and ``budget``: ballots of a few ideas (:mod:`.ballots`);
* ``agree_disagree``: Pol.is-style votes, opinion groups, group-aware
  consensus (:mod:`.opinions`).

Every scorer separates consensus from controversy and breaks scores down by
profile segment ("attribute=value"); results hide small segments.
"""

from __future__ import annotations

import random
from collections.abc import Mapping, Sequence
from types import SimpleNamespace
from typing import Any

from essaim import hookimpl
from essaim.model.state import CampaignState, Participant
from essaim.model.types import EvaluationInput, EvaluationTask, ItemScore
from essaim.plugin.registry import Registry

from essaim_builtins.evaluation import ballots, opinions, pairwise, ratings

_METHODS: dict[str, Any] = {
    "pairwise": SimpleNamespace(module=pairwise, description=pairwise.DESCRIPTION, settings=pairwise.SETTINGS),
    "ratings": SimpleNamespace(module=ratings, description=ratings.DESCRIPTION, settings=ratings.SETTINGS),
    "approval": SimpleNamespace(module=ballots, description=ballots.DESCRIPTIONS["approval"],
                                settings=ballots.SETTINGS["approval"]),
    "budget": SimpleNamespace(module=ballots, description=ballots.DESCRIPTIONS["budget"],
                              settings=ballots.SETTINGS["budget"]),
    "agree_disagree": SimpleNamespace(module=opinions, description=opinions.DESCRIPTION, settings=opinions.SETTINGS),
}


@hookimpl
def essaim_register_strategies(registry: Registry) -> None:
    for name, method in _METHODS.items():
        registry.add_strategy("evaluation", name, description=method.description, settings=dict(method.settings))


@hookimpl
def essaim_evaluation_next(
    strategy: str, settings: Mapping[str, Any], state: CampaignState, participant: Participant, rng: random.Random
) -> EvaluationTask | None:
    task: EvaluationTask | None = _METHODS[strategy].module.next_task(strategy, settings, state, participant, rng)
    return task


@hookimpl
def essaim_evaluation_check(
    strategy: str, settings: Mapping[str, Any], state: CampaignState, participant: Participant, kind: str,
    data: Mapping[str, Any],
) -> Mapping[str, Any]:
    checked: Mapping[str, Any] = _METHODS[strategy].module.check(strategy, settings, state, participant, kind, data)
    return checked


@hookimpl
def essaim_evaluation_scores(strategy: str, settings: Mapping[str, Any], snapshot: EvaluationInput) -> Sequence[ItemScore]:
    scores: Sequence[ItemScore] = _METHODS[strategy].module.scores(strategy, settings, snapshot)
    return scores

