"""Evaluation strategies ``approval`` and ``budget``: a ballot of a few
ideas (least-shown first); approve up to N of them, or share a budget of
points among them.

Scores are per showing, so an idea shown on fewer ballots is not penalised:
approval = share of ballots showing it that approved it; budget = mean share
of the budget it got where shown (see :mod:`.mean_scores`).
"""

from __future__ import annotations

import random
from collections.abc import Mapping, Sequence
from typing import Any

from essaim import CommandError
from essaim.model.commands import MAX_IDS
from essaim.model.schema import Integer
from essaim.model.state import CampaignState, Judgment, Participant
from essaim.model.types import EvaluationInput, EvaluationTask, ItemScore

from essaim_builtins.evaluation.judgment_data import require_items, require_mapping, require_object
from essaim_builtins.evaluation.mean_scores import mean_scores
from essaim_builtins.evaluation.tallies import Tally, expect_kind, tally_for

#: Ideas on one ballot: what a phone shows without scrolling much.
DEFAULT_BALLOT_SIZE = 8
DEFAULT_BALLOTS = 3
DEFAULT_MAX_APPROVALS = 3
DEFAULT_BUDGET = 10

KINDS = {"approval": "approval", "budget": "budget"}
_BALLOT = {
    # A ballot's ids travel in one 'evaluate' command.
    "ballot_size": Integer(minimum=1, maximum=MAX_IDS, default=DEFAULT_BALLOT_SIZE, description="ideas per ballot"),
    "ballots": Integer(minimum=1, default=DEFAULT_BALLOTS, description="ballots per participant"),
}
SETTINGS = {
    "approval": {**_BALLOT, "max_approvals": Integer(minimum=1, default=DEFAULT_MAX_APPROVALS,
                                                     description="ideas one may approve per ballot")},
    "budget": {**_BALLOT, "budget": Integer(minimum=1, default=DEFAULT_BUDGET,
                                            description="points to share per ballot")},
}
DESCRIPTIONS = {
    "approval": "Approve up to N ideas of a ballot; score = share of showings approved.",
    "budget": "Share a budget of points among the ideas of a ballot; score = mean share of the budget.",
}


def _absorb(tally: Tally, j: Judgment) -> None:
    tally.done[j.pid].update(j.data["shown"])


def _tally(state: CampaignState, strategy: str) -> Tally:
    return tally_for(state, strategy, frozenset({KINDS[strategy]}), lambda j: j.data["shown"], _absorb)


def next_task(
    strategy: str, settings: Mapping[str, Any], state: CampaignState, participant: Participant, rng: random.Random
) -> EvaluationTask | None:
    tally = _tally(state, strategy)
    if tally.out_of_tasks(participant.pid, int(settings.get("ballots", DEFAULT_BALLOTS))):
        return None
    size = int(settings.get("ballot_size", DEFAULT_BALLOT_SIZE))
    done = tally.done.get(participant.pid, set())
    fresh: list[str] = []
    again: list[str] = []
    for level in range(len(tally.queue.buckets)):
        for iid in tally.queue.level(level):
            (again if iid in done else fresh).append(iid)
        if len(fresh) >= size:
            break
    shown = (fresh + again)[:size]
    if len(shown) < 2:
        return None
    rng.shuffle(shown)  # no position bias
    payload: dict[str, Any] = {"items": [{"iid": i, "title": state.items[i].title} for i in shown]}
    if strategy == "approval":
        payload["max_approvals"] = int(settings.get("max_approvals", DEFAULT_MAX_APPROVALS))
    else:
        payload["budget"] = int(settings.get("budget", DEFAULT_BUDGET))
    return EvaluationTask(KINDS[strategy], payload)


def check(
    strategy: str, settings: Mapping[str, Any], state: CampaignState, participant: Participant,
    kind: str, data: Mapping[str, Any],
) -> Mapping[str, Any]:
    expected = KINDS[strategy]
    expect_kind(kind, expected, f"uses {expected} ballots")
    data = require_object(data)
    shown = require_items(state, data, "shown")
    if len(shown) < 2:
        raise CommandError("'shown' must list the (distinct) items of the ballot you were given", code="bad_request")
    if len(shown) > int(settings.get("ballot_size", DEFAULT_BALLOT_SIZE)):
        raise CommandError("this ballot shows more items than the campaign allows", code="bad_request")
    if strategy == "approval":
        approved = require_items(state, data, "approved", default=[])
        limit = int(settings.get("max_approvals", DEFAULT_MAX_APPROVALS))
        if set(approved) - set(shown):
            raise CommandError("'approved' must list items of the ballot, each once", code="bad_request")
        if len(approved) > limit:
            raise CommandError(f"approve at most {limit} ideas", code="bad_request")
        return {"shown": list(shown), "approved": list(approved)}
    allocation = require_mapping(data, "allocation", "item ids to whole points", default={})
    budget = int(settings.get("budget", DEFAULT_BUDGET))
    if set(allocation) - set(shown) or any(
        isinstance(v, bool) or not isinstance(v, int) or v < 0 for v in allocation.values()
    ):
        raise CommandError("'allocation' must give whole, non-negative points to items of the ballot",
                           code="bad_request")
    if sum(allocation.values()) > budget:
        raise CommandError(f"you have {budget} points to share; you gave {sum(allocation.values())}",
                           code="bad_request")
    return {"shown": list(shown), "allocation": {k: v for k, v in allocation.items() if v}}


def scores(strategy: str, settings: Mapping[str, Any], snapshot: EvaluationInput) -> Sequence[ItemScore]:
    kind = KINDS[strategy]
    budget = int(settings.get("budget", DEFAULT_BUDGET)) or 1
    values = []
    for j in snapshot.judgments:
        if j.kind != kind:
            continue
        for iid in j.data["shown"]:
            if iid not in snapshot.items:
                continue
            if kind == "approval":
                values.append((iid, j.pid, 1.0 if iid in j.data["approved"] else 0.0))
            else:
                values.append((iid, j.pid, j.data["allocation"].get(iid, 0) / budget))
    return mean_scores(snapshot.items, values, snapshot.profiles)
