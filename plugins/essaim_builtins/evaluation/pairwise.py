"""Evaluation strategy ``pairwise`` (All Our Ideas style).

"Which of these two matters more?", with "can't decide" allowed (it counts
as half a win each). Pairs are chosen adaptively: the least-compared item
against a close rival by a running Elo estimate (a close match tells the
most), never a pair the participant already judged. Scores are
Bradley-Terry strengths fitted by minorise-maximise iterations with a weak
prior (half a virtual win and loss against an average item, so every item
gets a finite score), reported as the probability of beating an average item,
with a 95% interval from the Fisher information. Each participant's
judgments are weighted by the probability that they were reading rather
than clicking (:func:`voter_weights`, a latent-class mixture fitted with the
strengths), which matters most when each person gives only a few answers.
"""

from __future__ import annotations

import math
import random
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from essaim import CommandError
from essaim.model.schema import Integer
from essaim.model.state import CampaignState, Judgment, Participant
from essaim.model.types import EvaluationInput, EvaluationTask, ItemScore

from essaim_builtins.evaluation.judgment_data import require_choice, require_item, require_object
from essaim_builtins.evaluation.tallies import (
    MIN_SEGMENT_JUDGES,
    Tally,
    expect_kind,
    segment_judgments,
    tally_for,
)

KIND = "pair"
#: Pairs one participant is asked at most (about five minutes of clicks).
DEFAULT_MAX_TASKS = 30
#: Rivals considered for the least-compared item: low-count ones and a few random.
RIVALS_BY_COUNT = 12
RIVALS_AT_RANDOM = 4
#: Elo step (natural-log strength units) per judgment of the running estimate.
ELO_STEP = 0.15
#: Comparisons a rival may have beyond the least-compared one, per unit of
#: Elo gap: balances covering every item against informative close matches.
#: Tuned on the quality benchmark (0 -> Spearman 0.72, 2 -> 0.79, 12 -> 0.81
#: at 10 judgments per item; larger values did no better).
RIVAL_GAP_WEIGHT = 12.0
#: Share of pairs whose rival is drawn at random instead of close: evenly
#: matched pairs are where a careful voter is near 50/50 too, so with only
#: close pairs the voter weights cannot tell readers from clickers. Quality
#: benchmark, 120 items, 10 judgments per item: with 20% random clickers and
#: 10% reversed voters 0.781 -> 0.823 Spearman (random pairs 0.814), a clean
#: crowd 0.904 -> 0.916; the lazy/random crowd of the 0.85 target
#: -0.002 (20 seeds). 0.2 and 0.6 did less.
WIDE_PAIR_SHARE = 0.4
#: Virtual wins and losses against an average item (the prior). Half a game
#: each way: at 1, the strengths came out shrunk to 0.64 of the truth at 10
#: judgments per item and the 95% intervals covered it 85% of the time; at
#: 0.5 the slope is 0.93 and coverage 92-95% with careful voters (quality
#: benchmark), for the same ranking (Spearman -0.001).
PRIOR = 0.5
#: Minorise-maximise iterations: converged to 1e-6 well before this.
MAX_ITERATIONS = 500
TOLERANCE = 1e-7
Z95 = 1.96
#: Decisive answers before a participant's side preference is judged, and
#: the side imbalance (|2 share - 1|) tolerated at full weight: 5 fair coin
#: flips land 4-1 or worse a third of the time, so only strong bias counts.
SIDE_MIN_DECISIVE = 5
SIDE_TOLERANCE = 0.5
#: Expectation-maximisation rounds of the attentive / careless mixture
#: (:func:`voter_weights`): the benchmark figures stop moving after five.
MIXTURE_ROUNDS = 8
#: Iterations of each round's strength fit, warm-started from the previous
#: round (the final scores are fitted to convergence afterwards): the same
#: benchmark figures as full fits, and scoring costs ~1.8x the plain fit
#: instead of ~3x (1 s for 1,000 items and 10,000 judgments; worker thread).
MIXTURE_FIT_ITERATIONS = 40
#: Lowest share of attentive participants the mixture may conclude: below a
#: half, "attentive" and "inattentive" could swap roles.
ATTENTIVE_FLOOR = 0.5
#: The attentive share the first round assumes (then learnt from the data),
#: and the highest it may reach (so that the inattentive class never dies
#: out between rounds).
ATTENTIVE_START = 0.75
ATTENTIVE_CEILING = 0.99
ANSWERS = ("a", "b", "cant_decide")
#: Starting answer distributions (a, b, can't decide) of the inattentive
#: classes: taking the left idea, taking the right one, answering at random.
CARELESS_START = ((0.8, 0.1, 0.1), (0.1, 0.8, 0.1), (1 / 3, 1 / 3, 1 / 3))
OUTCOME = {"a": 1.0, "b": 0.0, "cant_decide": 0.5}

SETTINGS = {"max_tasks": Integer(minimum=1, default=DEFAULT_MAX_TASKS, description="pairs per participant")}
DESCRIPTION = "Which of two ideas matters more? Adaptive pairs; Bradley-Terry scores with 95% intervals; 'can't decide' allowed."


def _touches(j: Judgment) -> tuple[str, str]:
    return (j.data["a"], j.data["b"])


def _absorb(tally: Tally, j: Judgment) -> None:
    a, b = j.data["a"], j.data["b"]
    tally.done[j.pid].add((a, b) if a < b else (b, a))
    elo = tally.extra.setdefault("elo", {})
    ra, rb = elo.get(a, 0.0), elo.get(b, 0.0)
    expected = 1 / (1 + math.exp(rb - ra))
    outcome = OUTCOME.get(j.data["choice"], 0.5)
    elo[a] = ra + ELO_STEP * (outcome - expected)
    elo[b] = rb - ELO_STEP * (outcome - expected)


def _tally(state: CampaignState, strategy: str) -> Tally:
    return tally_for(state, strategy, frozenset({KIND}), _touches, _absorb)


def next_task(
    strategy: str, settings: Mapping[str, Any], state: CampaignState, participant: Participant, rng: random.Random
) -> EvaluationTask | None:
    tally = _tally(state, strategy)
    if tally.out_of_tasks(participant.pid, int(settings.get("max_tasks", DEFAULT_MAX_TASKS))):
        return None
    if len(state.items) < 2:
        return None
    done = tally.done.get(participant.pid, set())
    elo = tally.extra.get("elo", {})
    count = tally.queue.count
    ids = tally.item_ids
    # O(RIVALS_BY_COUNT) per call, whatever the number of items: the queue
    # keeps items by count, so the least compared come first without a walk.
    lowest = tally.queue.lowest(RIVALS_BY_COUNT + 1)
    for a in lowest[:RIVALS_BY_COUNT]:
        rivals = [b for b in lowest if b != a]
        rivals += [ids[rng.randrange(len(ids))] for _ in range(RIVALS_AT_RANDOM)]
        rivals = [b for b in rivals if b != a and ((a, b) if a < b else (b, a)) not in done]
        if rivals:
            if rng.random() < WIDE_PAIR_SHARE:
                b = rivals[-1]  # one of the random rivals: a wide gap, as often as not
            else:
                b = min(rivals, key=lambda r: (count.get(r, 0) + RIVAL_GAP_WEIGHT * abs(elo.get(r, 0.0) - elo.get(a, 0.0)), r))
            if rng.random() < 0.5:
                a, b = b, a  # no side bias
            return _task(state, a, b)
    # This participant already compared the least-compared items with every
    # rival drawn (small campaigns, long sessions): scan, least compared first.
    order = tally.queue.lowest(len(ids))
    for a in order:
        for b in order:
            if a != b and ((a, b) if a < b else (b, a)) not in done:
                return _task(state, a, b)
    return None


def _task(state: CampaignState, a: str, b: str) -> EvaluationTask:
    return EvaluationTask(KIND, {
        "a": {"iid": a, "title": state.items[a].title},
        "b": {"iid": b, "title": state.items[b].title},
    })


def check(
    strategy: str, settings: Mapping[str, Any], state: CampaignState, participant: Participant,
    kind: str, data: Mapping[str, Any],
) -> Mapping[str, Any]:
    expect_kind(kind, KIND, "compares pairs")
    data = require_object(data)
    a, b = require_item(state, data, "a"), require_item(state, data, "b")
    if a == b:
        raise CommandError("'a' and 'b' must be two different items of this campaign", code="bad_request")
    choice = require_choice(data, "choice", ("a", "b", "cant_decide"))
    key = (a, b) if a < b else (b, a)
    if key in _tally(state, strategy).done.get(participant.pid, ()):
        raise CommandError("you already compared these two", code="already_done")
    return {"a": a, "b": b, "choice": choice}


def bradley_terry(
    n_items: int, ia: np.ndarray, ib: np.ndarray, outcome: np.ndarray, weight: np.ndarray | None = None,
    start: np.ndarray | None = None, max_iterations: int = MAX_ITERATIONS,
) -> tuple[np.ndarray, np.ndarray]:
    """Log-strengths and their standard errors, centred on an average item.

    ``outcome`` is 1 when ``ia`` won, 0 when ``ib`` won, 0.5 for can't decide;
    ``weight`` (default 1) is how much each judgment counts; ``start``
    (log-strengths) warm-starts the iterations, at most ``max_iterations``."""
    if weight is None:
        weight = np.ones(ia.size)
    wins = np.bincount(ia, outcome * weight, n_items) + np.bincount(ib, (1 - outcome) * weight, n_items)
    # Games per pair actually compared, not an items x items matrix: each
    # iteration costs O(pairs compared), at most the judgments (a dense
    # matrix cost O(items^2) per iteration: 3.6 s of a 10,000-person
    # campaign's results with 600 items, in threads sharing the GIL).
    low, high = np.minimum(ia, ib), np.maximum(ia, ib)
    pairs, which = np.unique(low * max(n_items, 1) + high, return_inverse=True)
    games = np.bincount(which, weight, pairs.size)
    pa, pb = pairs // max(n_items, 1), pairs % max(n_items, 1)
    p = np.ones(n_items) if start is None else np.exp(start)
    for _ in range(max_iterations):
        per_pair = games / (p[pa] + p[pb])
        denom = np.bincount(pa, per_pair, n_items) + np.bincount(pb, per_pair, n_items) + 2 * PRIOR / (p + 1)
        new = (wins + PRIOR) / denom
        new /= math.exp(np.log(new).mean()) if n_items else 1.0
        if np.max(np.abs(np.log(new) - np.log(p))) < TOLERANCE:
            p = new
            break
        p = new
    pij = games * p[pa] * p[pb] / (p[pa] + p[pb]) ** 2
    info = np.bincount(pa, pij, n_items) + np.bincount(pb, pij, n_items) + 2 * PRIOR * p / (p + 1) ** 2
    return np.log(p), 1 / np.sqrt(info)


def _strength_to_score(theta: np.ndarray) -> np.ndarray:
    """Probability of beating an average item (log-strength 0)."""
    score: np.ndarray = 1 / (1 + np.exp(-theta))
    return score


def _rows(items: list[str], judgments: Sequence[Judgment]) -> tuple[list[Judgment], np.ndarray, np.ndarray, np.ndarray]:
    """The pair judgments about ``items``, as index and outcome arrays."""
    index = {iid: i for i, iid in enumerate(items)}
    kept = [j for j in judgments if j.kind == KIND and j.data["a"] in index and j.data["b"] in index]
    ia = np.array([index[j.data["a"]] for j in kept], np.int64)
    ib = np.array([index[j.data["b"]] for j in kept], np.int64)
    outcome = np.array([OUTCOME.get(j.data["choice"], 0.5) for j in kept], float)
    return kept, ia, ib, outcome


def _fit(
    items: list[str], judgments: Sequence[Judgment], weight_of: Mapping[str, float]
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    kept, ia, ib, outcome = _rows(items, judgments)
    weights = np.array([weight_of.get(j.pid, 1.0) for j in kept], float)
    theta, se = bradley_terry(len(items), ia, ib, outcome, weights)
    return theta, se, ia, ib, outcome


def voter_weights(items: list[str], judgments: Sequence[Judgment]) -> dict[str, float]:
    """How much each participant's judgments count: the probability that
    they were reading, under a latent-class mixture fitted with the scores.

    An *attentive* participant answers by the Bradley-Terry model ("can't
    decide" at the attentive crowd's rate); an *inattentive* one answers
    without regard to the two ideas, by the answer distribution of one of
    a few careless classes (CARELESS_START, then learnt from the data).
    Expectation-maximisation alternates a weighted fit of the strengths
    with each participant's posterior class; the attentive share is kept at
    least ATTENTIVE_FLOOR (most people read, which is what makes the classes
    identifiable). Someone with three answers cannot be judged surely, so
    the weights are soft. The side weight (:func:`side_weights`) caps the
    result, so a participant who clicks one side can never count fully."""
    kept, ia, ib, outcome = _rows(items, judgments)
    if not kept:
        return {}
    pids = sorted({j.pid for j in kept})
    number = {pid: n for n, pid in enumerate(pids)}
    voter = np.array([number[j.pid] for j in kept], np.int64)
    answer = np.array([ANSWERS.index(j.data["choice"]) for j in kept], np.int64)
    side_cap = side_weights(kept)
    cap = np.ones(len(pids))
    np.minimum.at(cap, voter, side_cap)
    # Class 0 reads; the others do not, each with its own answer distribution
    # over (a, b, can't decide), started as "the left one", "the right one"
    # and "at random", then learnt.
    careless = np.array(CARELESS_START, float)
    shares = np.array([ATTENTIVE_START] + [(1 - ATTENTIVE_START) / len(careless)] * len(careless))
    attentive = np.full(len(pids), 1.0)  # the first fit weighs everyone fully
    theta: np.ndarray | None = None
    for _ in range(MIXTURE_ROUNDS):
        w = attentive[voter] * cap[voter]
        theta, se = bradley_terry(len(items), ia, ib, outcome, w, start=theta, max_iterations=MIXTURE_FIT_ITERATIONS)
        cant = (w * (answer == 2)).sum() / max(w.sum(), 1e-9)
        p_a = _without_own_answers(theta, se, voter, ia, ib, outcome, w)
        p_att = np.choose(answer, [(1 - cant) * p_a, (1 - cant) * (1 - p_a), np.full(p_a.size, cant)])
        log_like = np.empty((len(pids), 1 + len(careless)))
        log_like[:, 0] = np.bincount(voter, np.log(np.maximum(p_att, 1e-12)), len(pids))
        for k, dist in enumerate(careless):
            log_like[:, k + 1] = np.bincount(voter, np.log(dist[answer]), len(pids))
        log_post = log_like + np.log(shares)
        log_post -= log_post.max(axis=1, keepdims=True)
        post = np.exp(log_post)
        post /= post.sum(axis=1, keepdims=True)
        attentive = post[:, 0]
        shares = post.mean(axis=0)
        shares[0] = max(ATTENTIVE_FLOOR, min(ATTENTIVE_CEILING, shares[0]))
        shares[1:] = np.maximum(shares[1:], 1e-3)
        shares /= shares.sum()
        for k in range(len(careless)):  # add-one smoothed answer counts
            counts = np.bincount(answer, post[voter, k + 1], len(ANSWERS)) + 1
            careless[k] = counts / counts.sum()
    return {pid: float(attentive[n] * cap[n]) for n, pid in enumerate(pids)}


def _without_own_answers(
    theta: np.ndarray, se: np.ndarray, voter: np.ndarray, ia: np.ndarray, ib: np.ndarray, outcome: np.ndarray,
    weight: np.ndarray,
) -> np.ndarray:
    """P("a" wins) for each judgment, by strengths fitted without its
    participant's own answers (one Newton step back per item).

    At ten judgments per item one answer is a tenth of an item's evidence:
    judged against strengths it helped to fit, a random clicker looks like
    a reader. Removing each participant's pull took the quality benchmark's
    Spearman at 10 judgments per item from 0.839 to 0.841 (300 seeds,
    paired difference +0.002 +/- 0.001)."""
    n_items = theta.size
    pull = weight * (outcome - 1 / (1 + np.exp(theta[ib] - theta[ia])))
    # (participant, item) keys made dense through np.unique: 10,000 people
    # times 1,000 items would be 80 MB as a flat array.
    _, slot = np.unique(np.concatenate([voter * n_items + ia, voter * n_items + ib]), return_inverse=True)
    own = np.bincount(slot, np.concatenate([pull, -pull]))
    info = 1 / se ** 2
    theta_a = theta[ia] - own[slot[:ia.size]] / info[ia]
    theta_b = theta[ib] - own[slot[ia.size:]] / info[ib]
    chance: np.ndarray = 1 / (1 + np.exp(theta_b - theta_a))
    return chance


def side_weights(judgments: Sequence[Judgment]) -> np.ndarray:
    """How much each judgment counts: a participant who picks the same side
    nearly every time (clicking without reading) counts less.

    Pairs are shown with random sides, so an honest participant picks "a"
    about half the time. With at least SIDE_MIN_DECISIVE decisive answers, a
    side share s gives weight 1 - max(0, |2s - 1| - SIDE_TOLERANCE) /
    (1 - SIDE_TOLERANCE): 1 up to a 75/25 split, 0 for always the same side."""
    a: dict[str, int] = {}
    decisive: dict[str, int] = {}
    for j in judgments:
        if j.data["choice"] != "cant_decide":
            decisive[j.pid] = decisive.get(j.pid, 0) + 1
            a[j.pid] = a.get(j.pid, 0) + (j.data["choice"] == "a")
    weight = {}
    for pid, n in decisive.items():
        if n >= SIDE_MIN_DECISIVE:
            bias = abs(2 * a[pid] / n - 1)
            weight[pid] = 1 - max(0.0, bias - SIDE_TOLERANCE) / (1 - SIDE_TOLERANCE)
    return np.array([weight.get(j.pid, 1.0) for j in judgments], float)


def scores(strategy: str, settings: Mapping[str, Any], snapshot: EvaluationInput) -> Sequence[ItemScore]:
    items = sorted(snapshot.items)
    if not items:
        return []
    judgments = [j for j in snapshot.judgments if j.kind == KIND]
    weight_of = voter_weights(items, judgments)
    theta, se, ia, ib, outcome = _fit(items, judgments, weight_of)
    # Consensus: how sure the crowd is of the item's decisive comparisons,
    # as the model sees them (2P(observed) - 1, averaged); 1 = unanimous.
    p_a = 1 / (1 + np.exp(theta[ib] - theta[ia]))
    decisive = outcome != 0.5
    sure = np.where(outcome == 1.0, p_a, 1 - p_a) * 2 - 1
    m = len(items)
    n = np.bincount(ia, minlength=m) + np.bincount(ib, minlength=m)
    sure_sum = np.bincount(ia[decisive], sure[decisive], m) + np.bincount(ib[decisive], sure[decisive], m)
    sure_n = np.bincount(ia[decisive], minlength=m) + np.bincount(ib[decisive], minlength=m)
    segments: dict[str, dict[str, float]] = {iid: {} for iid in items}
    by_segment = segment_judgments(judgments, snapshot.profiles)
    for key, seg in sorted(by_segment.items()):
        st, _, sa, sb, _ = _fit(items, seg, weight_of)
        judges = np.bincount(sa, minlength=m) + np.bincount(sb, minlength=m)
        seg_score = _strength_to_score(st)
        for i, iid in enumerate(items):
            if judges[i]:
                segments[iid][key] = round(float(seg_score[i]), 4)
    judges_by_segment = _judges_per_item_segment(judgments, snapshot.profiles)
    score = _strength_to_score(theta)
    low = _strength_to_score(theta - Z95 * se)
    high = _strength_to_score(theta + Z95 * se)
    out = []
    for i, iid in enumerate(items):
        consensus = max(0.0, float(sure_sum[i] / sure_n[i])) if sure_n[i] else 0.0
        big = [v for k, v in segments[iid].items() if judges_by_segment.get((iid, k), 0) >= MIN_SEGMENT_JUDGES]
        controversy = (max(big) - min(big)) if len(big) > 1 else 0.0
        out.append(ItemScore(iid, round(float(score[i]), 4), round(float(low[i]), 4), round(float(high[i]), 4),
                             int(n[i]), round(consensus, 4), round(controversy, 4), segments[iid]))
    return out


def _judges_per_item_segment(
    judgments: Sequence[Judgment], profiles: Mapping[str, Mapping[str, str]]
) -> dict[tuple[str, str], int]:
    seen: dict[tuple[str, str], set[str]] = {}
    for key, seg in segment_judgments(judgments, profiles).items():
        for j in seg:
            for iid in (j.data["a"], j.data["b"]):
                seen.setdefault((iid, key), set()).add(j.pid)
    return {k: len(v) for k, v in seen.items()}
