"""Evaluation strategies: pairwise, ratings, approval, budget, agree_disagree."""

from __future__ import annotations

import random

import numpy as np
import pytest

from essaim import CommandError
from essaim.model.state import Judgment

from essaim_builtins.evaluation.opinions import opinion_map
from essaim_builtins.evaluation.pairwise import _without_own_answers, bradley_terry, voter_weights

from .strategy_campaign import harness


def _campaign(evaluation: str, evaluate: str = "", items: int = 4, people: int = 6, roles=("Office",)):
    h = harness(evaluation=evaluation, evaluate=evaluate)
    pids = [h.join({"role": roles[i % len(roles)]}) for i in range(people)]
    h.start_phase(0)
    for i in range(items):
        h.write(pids[0], f"idea {i}")
    h.publish()
    h.start_phase(2)
    return h, pids


def test_bradley_terry_orders_by_wins_with_finite_intervals() -> None:
    # 0 beats 1 beats 2, each 3 times out of 4; nobody is unbeaten forever.
    ia = np.array([0, 0, 0, 1, 1, 1, 0, 2], np.int64)
    ib = np.array([1, 1, 1, 2, 2, 2, 1, 1], np.int64)
    outcome = np.array([1, 1, 1, 1, 1, 1, 0, 1], float)
    theta, se = bradley_terry(3, ia, ib, outcome)
    assert theta[0] > theta[1] > theta[2]
    assert np.all(np.isfinite(se)) and np.all(se > 0)
    assert theta.mean() == pytest.approx(0.0, abs=1e-9)


def test_pairwise_scores_rank_the_preferred_idea_first() -> None:
    h, pids = _campaign("pairwise", items=3)
    best = "ic1"
    for pid in pids:
        while (task := h.next_task(pid)) is not None:
            a, b = task.payload["a"]["iid"], task.payload["b"]["iid"]
            choice = "a" if a == best else "b" if b == best else "cant_decide"
            h.judge(pid, "pair", {"a": a, "b": b, "choice": choice})
    scores = {s.iid: s for s in h.scores()}
    assert max(scores, key=lambda i: scores[i].score) == best
    top = scores[best]
    assert top.low < top.score < top.high and top.n == 12
    assert top.consensus > 0.5  # everyone agreed it wins


def test_pairwise_never_repeats_a_pair_and_refuses_repeats() -> None:
    h, pids = _campaign("pairwise", items=4)
    seen = set()
    while (task := h.next_task(pids[0])) is not None:
        pair = frozenset((task.payload["a"]["iid"], task.payload["b"]["iid"]))
        assert pair not in seen
        seen.add(pair)
        h.judge(pids[0], "pair", {"a": task.payload["a"]["iid"], "b": task.payload["b"]["iid"], "choice": "a"})
    assert len(seen) == 6  # all pairs of 4 items, then nothing more
    with pytest.raises(CommandError):
        h.judge(pids[0], "pair", {"a": "ic1", "b": "ic2", "choice": "b"})
    with pytest.raises(CommandError):
        h.judge(pids[1], "pair", {"a": "ic1", "b": "ic1", "choice": "a"})


def test_pairwise_always_includes_a_least_compared_item() -> None:
    h, pids = _campaign("pairwise", items=30, people=8)
    rng = random.Random(5)
    for n in range(120):
        pid = pids[n % len(pids)]
        counts = {s.iid: s.n for s in h.scores()}
        task = h.next_task(pid)
        assert task is not None
        a, b = task.payload["a"]["iid"], task.payload["b"]["iid"]
        fewest = min(counts.values())
        assert a != b and min(counts[a], counts[b]) == fewest, (n, counts[a], counts[b], fewest)
        h.judge(pid, "pair", {"a": a, "b": b, "choice": rng.choice("ab")})
    assert min(s.n for s in h.scores()) >= 7  # 240 slots over 30 items: coverage stays even


def test_pairwise_discounts_one_sided_clickers() -> None:
    h, pids = _campaign("pairwise", items=6, people=3)
    honest, clicker = pids[1], pids[2]
    rng = random.Random(3)
    for _ in range(15):
        for pid in (honest, clicker):
            task = h.next_task(pid)
            if task is None:
                continue
            a, b = task.payload["a"]["iid"], task.payload["b"]["iid"]
            choice = "a" if pid == clicker else ("a" if a < b else "b")  # honest: lower id is better
            h.judge(pid, "pair", {"a": a, "b": b, "choice": choice})
    order = [s.iid for s in sorted(h.scores(), key=lambda s: -s.score)]
    assert order[0] == "ic1" and order[-1] == "ic6"
    del rng


def _pair(pid: str, a: str, b: str, choice: str) -> Judgment:
    return Judgment(pid=pid, kind="pair", data={"a": a, "b": b, "choice": choice}, phase=2, at=0.0)


def test_voter_weights_discount_careless_clickers_with_few_answers() -> None:
    items = [f"i{n}" for n in range(8)]  # i0 is best, i7 worst
    rng = random.Random(7)
    judgments = []
    for v in range(12):
        for _ in range(6):
            a, b = rng.sample(items, 2)
            judgments.append(_pair(f"honest{v}", a, b, "a" if a < b else "b"))
    for v in range(3):  # four answers each: too few for the side check alone
        for _ in range(4):
            a, b = rng.sample(items, 2)
            judgments.append(_pair(f"left{v}", a, b, "a"))
            judgments.append(_pair(f"random{v}", a, b, rng.choice(("a", "b", "cant_decide"))))
    weights = voter_weights(items, judgments)
    honest = [w for pid, w in weights.items() if pid.startswith("honest")]
    careless = [w for pid, w in weights.items() if not pid.startswith("honest")]
    # Soft weights: a few answers can look careless by chance (or careful).
    assert sum(honest) / len(honest) > 0.9 and sum(careless) / len(careless) < 0.4, weights
    # A crowd of honest people alone keeps (nearly) full weight.
    alone = voter_weights(items, [j for j in judgments if j.pid.startswith("honest")])
    assert sum(alone.values()) / len(alone) > 0.9, alone


def test_a_participant_is_judged_against_strengths_fitted_without_them() -> None:
    # x and y tie against z; one person alone says x beats y. The full fit
    # agrees with them (it was fitted on their answer); without it, x and y
    # are even again, so that answer is no evidence that they read.
    ia = np.array([0, 1, 0, 1, 0], np.int64)  # 0 = x, 1 = y, 2 = z
    ib = np.array([2, 2, 2, 2, 1], np.int64)
    outcome = np.array([1.0, 1.0, 0.0, 0.0, 1.0])
    voter = np.array([0, 1, 2, 3, 4], np.int64)
    weight = np.ones(5)
    theta, se = bradley_terry(3, ia, ib, outcome, weight)
    fitted = 1 / (1 + np.exp(theta[1] - theta[0]))
    without = _without_own_answers(theta, se, voter, ia, ib, outcome, weight)
    assert fitted > 0.55
    assert abs(without[4] - 0.5) < abs(fitted - 0.5) / 2
    # The other answers are corrected too, each by its own pull only.
    assert without[0] < 1 / (1 + np.exp(theta[2] - theta[0]))


def test_ratings_on_criteria() -> None:
    criteria = 'criteria = [{ id = "impact", max = 5 }, { id = "cost", max = 3, weight = 2 }]'
    h, pids = _campaign("ratings", criteria, items=2)
    task = h.next_task(pids[0])
    assert task is not None and [c["id"] for c in task.payload["criteria"]] == ["impact", "cost"]
    with pytest.raises(CommandError):
        h.judge(pids[0], "rate", {"iid": "ic1", "ratings": {"cost": 4}})
    with pytest.raises(CommandError):
        h.judge(pids[0], "rate", {"iid": "ic1", "ratings": {"speed": 1}})
    for pid in pids:
        h.judge(pid, "rate", {"iid": "ic1", "ratings": {"impact": 5, "cost": 3}})
        h.judge(pid, "rate", {"iid": "ic2", "ratings": {"impact": 1}})  # cost skipped
    scores = {s.iid: s for s in h.scores()}
    assert scores["ic1"].score > 0.8 > 0.2 > scores["ic2"].score
    assert scores["ic1"].consensus == 1.0 and scores["ic1"].n == 6
    with pytest.raises(CommandError):
        h.judge(pids[0], "rate", {"iid": "ic1", "ratings": {"impact": 3}})


def test_approval_and_budget_ballots() -> None:
    h, pids = _campaign("approval", "max_approvals = 1\nballot_size = 4", items=4)
    task = h.next_task(pids[0])
    shown = [i["iid"] for i in task.payload["items"]]
    assert sorted(shown) == ["ic1", "ic2", "ic3", "ic4"] and task.payload["max_approvals"] == 1
    with pytest.raises(CommandError):
        h.judge(pids[0], "approval", {"shown": shown, "approved": ["ic1", "ic2"]})
    for pid in pids:
        h.judge(pid, "approval", {"shown": shown, "approved": ["ic3"]})
    assert max(h.scores(), key=lambda s: s.score).iid == "ic3"

    h, pids = _campaign("budget", "budget = 10", items=3)
    shown = [i["iid"] for i in h.next_task(pids[0]).payload["items"]]
    with pytest.raises(CommandError):
        h.judge(pids[0], "budget", {"shown": shown, "allocation": {"ic1": 11}})
    for pid in pids:
        h.judge(pid, "budget", {"shown": shown, "allocation": {"ic2": 7, "ic1": 3}})
    scores = {s.iid: s.score for s in h.scores()}
    assert scores["ic2"] > scores["ic1"] > scores["ic3"]


def test_agree_disagree_finds_opinion_groups_and_group_aware_consensus() -> None:
    h, pids = _campaign("agree_disagree", "min_votes = 3", items=4, people=20, roles=("Field", "Office"))
    # Two camps: Field agrees with ic1, Office with ic2; everyone agrees with ic3; ic4 split at random.
    rng = random.Random(1)
    for n, pid in enumerate(pids):
        camp = n % 2
        votes = {"ic1": "agree" if camp == 0 else "disagree", "ic2": "disagree" if camp == 0 else "agree",
                 "ic3": "agree", "ic4": rng.choice(["agree", "disagree"])}
        while (task := h.next_task(pid)) is not None:
            h.judge(pid, "vote", {"iid": task.payload["iid"], "vote": votes[task.payload["iid"]]})
    scores = {s.iid: s for s in h.scores()}
    assert max(scores, key=lambda i: scores[i].score) == "ic3"
    assert scores["ic1"].controversy > 0.5 and scores["ic3"].controversy < 0.2
    assert scores["ic3"].consensus > scores["ic1"].consensus
    assert scores["ic1"].segments["role=Field"] > 0.8 > 0.2 > scores["ic1"].segments["role=Office"]
    with pytest.raises(CommandError):
        h.judge(pids[0], "vote", {"iid": "ic1", "vote": "maybe"})


def test_opinion_map_stretches_sparse_voters_away_from_the_centre() -> None:
    # Two camps vote on all 20 statements; a third person votes like camp A on 5.
    def vote(pid: str, iid: int, agree: bool) -> Judgment:
        return Judgment(pid, "vote", {"iid": f"s{iid:02d}", "vote": "agree" if agree else "disagree"}, 2, 0.0)

    items = [f"s{i:02d}" for i in range(20)]
    judgments = [vote(f"a{n}", i, i < 10) for n in range(6) for i in range(20)]
    judgments += [vote(f"b{n}", i, i >= 10) for n in range(6) for i in range(20)]
    judgments += [vote("sparse", i, i < 10) for i in (0, 3, 6, 12, 15)]
    scaled, plain = (opinion_map(items, judgments, min_votes=5, seed="t", scale_sparse=s) for s in (True, False))
    for pid in ("a0", "b0"):  # full voters: where they were
        assert scaled.coordinates[pid] == pytest.approx(plain.coordinates[pid], abs=1e-3)
    # 5 votes of 20: twice as far from the centre (sqrt(20 / 5)), towards camp A.
    assert np.hypot(*scaled.coordinates["sparse"]) == pytest.approx(2 * np.hypot(*plain.coordinates["sparse"]), rel=1e-3)
    assert np.dot(scaled.coordinates["sparse"], scaled.coordinates["a0"]) > 0 > np.dot(
        scaled.coordinates["sparse"], scaled.coordinates["b0"])


_MALFORMED = [
    ("pairwise", "", "pair", {"a": {}, "b": "x", "choice": "a"}),
    ("pairwise", "", "pair", {"a": "ic1", "b": ["ic2"], "choice": "a"}),
    ("pairwise", "", "pair", {"a": "ic1", "b": "ic2", "choice": {"a": 1}}),
    ("pairwise", "", "pair", {"a": 1, "b": 2.5, "choice": "b"}),
    ("ratings", "", "rate", {"iid": ["ic1"], "ratings": {"value": 3}}),
    ("ratings", "", "rate", {"iid": {"x": 1}, "ratings": {"value": 3}}),
    ("ratings", "", "rate", {"iid": "ic1", "ratings": [["value", 3]]}),
    ("ratings", "", "rate", {"iid": "ic1", "ratings": {"value": [3]}}),
    ("approval", "", "approval", {"shown": [{"iid": "ic1"}, {"iid": "ic2"}], "approved": []}),
    ("approval", "", "approval", {"shown": "ic1 ic2", "approved": []}),
    ("approval", "", "approval", {"shown": ["ic1", "ic2"], "approved": [["ic1"]]}),
    ("approval", "", "approval", {"shown": ["ic1", "ic2"], "approved": "ic1"}),
    ("budget", "", "budget", {"shown": [["ic1"], ["ic2"]], "allocation": {}}),
    ("budget", "", "budget", {"shown": ["ic1", "ic2"], "allocation": [["ic1", 3]]}),
    ("budget", "", "budget", {"shown": ["ic1", "ic2"], "allocation": {"ic1": "3"}}),
    ("agree_disagree", "", "vote", {"iid": {}, "vote": "agree"}),
    ("agree_disagree", "", "vote", {"iid": "ic1", "vote": {"agree": 1}}),
    ("agree_disagree", "", "vote", {"iid": "ic1", "vote": ["agree"]}),
]


@pytest.mark.parametrize(("strategy", "settings", "kind", "data"), _MALFORMED)
def test_malformed_judgments_are_refused_as_bad_requests(strategy, settings, kind, data) -> None:
    """Wrong types in ``data`` (a client bug, a hand-made request) are the
    client's error, said plainly: not a plugin failure with a traceback."""
    h, pids = _campaign(strategy, settings, items=3)
    with pytest.raises(CommandError) as refused:
        h.judge(pids[0], kind, data)
    assert refused.value.code == "bad_request" and "'" in refused.value.message
    assert not h.state.judgments


@pytest.mark.parametrize("strategy,kind", [("pairwise", "pair"), ("ratings", "rate"), ("approval", "approval"),
                                           ("budget", "budget"), ("agree_disagree", "vote")])
def test_judgment_data_that_is_not_an_object_is_refused(strategy, kind) -> None:
    h, pids = _campaign(strategy, items=3)
    with pytest.raises(CommandError) as refused:
        h.judge(pids[0], kind, ["ic1", "ic2"])  # type: ignore[arg-type]
    assert refused.value.code == "bad_request"
