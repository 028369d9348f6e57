"""Evaluation strategy ``agree_disagree`` (Pol.is style).

Participants vote agree / disagree / pass on one statement (idea) at a time,
least-voted first. Voters with enough votes are placed on an opinion map
(PCA of the vote matrix, missing votes imputed with the statement's mean, as
Pol.is does, and each voter's position stretched by sqrt(statements / own
votes) so that people who voted little are not all pulled to the centre) and
split into 2-5 **opinion groups** by k-means (k chosen by silhouette). Each statement's score is its *group-aware consensus*: the
geometric mean over groups of P(agree | group) (Laplace-smoothed), so a
statement ranks high only if every group agrees; its consensus is how surely
every group goes the crowd's overall way; its controversy is the largest gap
in P(agree) between two groups.
"""

from __future__ import annotations

import math
import random
import zlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from essaim import CommandError
from essaim.model.schema import Integer
from essaim.model.state import CampaignState, Judgment, Participant
from essaim.model.types import EvaluationInput, EvaluationTask, ItemScore

from essaim_builtins.evaluation.judgment_data import require_choice, require_item, require_object
from essaim_builtins.evaluation.tallies import already_judged, expect_kind, next_item_task
from essaim_builtins.profiles import segment_keys

KIND = "vote"
VOTES = {"agree": 1, "disagree": -1, "pass": 0}
DEFAULT_MAX_TASKS = 40
#: Pol.is clusters only voters with at least 7 votes: fewer place a voter
#: on the map by noise. Smaller campaigns can lower it.
DEFAULT_MIN_VOTES = 7
MAX_GROUPS = 5
KMEANS_ITERATIONS = 100
KMEANS_RESTARTS = 4
#: Silhouette is O(n^2): estimate it on a sample this big.
SILHOUETTE_SAMPLE = 1500
Z95 = 1.96

SETTINGS = {
    "max_tasks": Integer(minimum=1, default=DEFAULT_MAX_TASKS, description="statements one participant votes on"),
    "min_votes": Integer(minimum=1, default=DEFAULT_MIN_VOTES,
                         description="votes a participant needs to be placed in an opinion group"),
}
DESCRIPTION = "Agree / disagree / pass on ideas; opinion groups (PCA + k-means) and group-aware consensus."


def next_task(
    strategy: str, settings: Mapping[str, Any], state: CampaignState, participant: Participant, rng: random.Random
) -> EvaluationTask | None:
    max_tasks = int(settings.get("max_tasks", DEFAULT_MAX_TASKS))
    return next_item_task(state, strategy, KIND, participant, max_tasks, rng)


def check(
    strategy: str, settings: Mapping[str, Any], state: CampaignState, participant: Participant,
    kind: str, data: Mapping[str, Any],
) -> Mapping[str, Any]:
    expect_kind(kind, KIND, "asks agree/disagree/pass")
    data = require_object(data)
    iid = require_item(state, data, "iid")
    vote = require_choice(data, "vote", tuple(VOTES))
    if already_judged(state, strategy, KIND, participant, iid):
        raise CommandError("you already voted on this idea", code="already_done")
    return {"iid": iid, "vote": vote}


@dataclass(frozen=True, slots=True)
class OpinionMap:
    """Voters, statements, the vote matrix and the opinion groups."""

    voters: tuple[str, ...]
    items: tuple[str, ...]
    votes: np.ndarray  # voters x items: 1 agree, -1 disagree, 0 pass, nan unseen
    group: Mapping[str, int]  # voter -> group (only voters with enough votes)
    n_groups: int
    coordinates: Mapping[str, tuple[float, float]]


def opinion_map(
    items: Sequence[str], judgments: Sequence[Judgment], *, min_votes: int = DEFAULT_MIN_VOTES, seed: str = "",
    scale_sparse: bool = True,
) -> OpinionMap:
    """The vote matrix and opinion groups. Deterministic for given inputs.

    ``scale_sparse`` (the default) stretches each voter's position by
    sqrt(statements / their votes), as Pol.is does; False is the plain PCA,
    kept as the quality benchmark's baseline."""
    items = tuple(sorted(items))
    col = {iid: i for i, iid in enumerate(items)}
    voters = tuple(sorted({j.pid for j in judgments if j.kind == KIND}))
    row = {pid: i for i, pid in enumerate(voters)}
    votes = np.full((len(voters), len(items)), np.nan)
    for j in judgments:
        if j.kind == KIND and j.data["iid"] in col:
            votes[row[j.pid], col[j.data["iid"]]] = VOTES[j.data["vote"]]
    counted = (~np.isnan(votes)).sum(axis=1) >= max(1, min_votes)
    group: dict[str, int] = {}
    coordinates: dict[str, tuple[float, float]] = {}
    n_groups = 0
    if counted.sum() >= 4 and len(items) >= 2:
        x = votes[counted]
        seen_n = (~np.isnan(x)).sum(axis=0)
        means = np.nansum(x, axis=0) / np.maximum(seen_n, 1)
        x = np.where(np.isnan(x), means, x) - means
        _, _, vt = np.linalg.svd(x, full_matrices=False)
        xy = x @ vt[:2].T
        if xy.shape[1] == 1:
            xy = np.hstack([xy, np.zeros((xy.shape[0], 1))])
        if scale_sparse:
            # Pol.is's sparsity-aware projection: a voter's unseen votes were
            # imputed with the statement means, which pulls someone who voted
            # on 10 of 200 statements towards the centre; stretching their
            # position by sqrt(statements / own votes) puts them back where
            # their votes point (quality benchmark: +0.07 to +0.12 ARI with
            # 3-4 planted groups, and k no longer drifts to 5).
            own = (~np.isnan(votes[counted])).sum(axis=1)
            xy = xy * np.sqrt(len(items) / own)[:, None]
        rng = np.random.default_rng(zlib.crc32(seed.encode()))
        labels, n_groups = _best_kmeans(xy, rng)
        for pid, g, point in zip(np.array(voters)[counted], labels, xy):
            group[str(pid)] = int(g)
            coordinates[str(pid)] = (round(float(point[0]), 4), round(float(point[1]), 4))
    return OpinionMap(voters, items, votes, group, n_groups, coordinates)


def _kmeans(x: np.ndarray, k: int, rng: np.random.Generator) -> tuple[np.ndarray, float]:
    best: tuple[np.ndarray, float] | None = None
    for _ in range(KMEANS_RESTARTS):
        centres = x[[int(rng.integers(len(x)))]]
        while len(centres) < k:  # k-means++ seeding
            d = ((x[:, None, :] - centres[None]) ** 2).sum(-1).min(axis=1)
            total = d.sum()
            pick = int(rng.choice(len(x), p=d / total)) if total > 0 else int(rng.integers(len(x)))
            centres = np.vstack([centres, x[pick]])
        for _ in range(KMEANS_ITERATIONS):
            labels = ((x[:, None, :] - centres[None]) ** 2).sum(-1).argmin(axis=1)
            new = np.array([x[labels == c].mean(axis=0) if (labels == c).any() else centres[c] for c in range(k)])
            if np.allclose(new, centres):
                break
            centres = new
        inertia = float(((x - centres[labels]) ** 2).sum())
        if best is None or inertia < best[1]:
            best = (labels, inertia)
    assert best is not None
    return best


def _silhouette(x: np.ndarray, labels: np.ndarray, rng: np.random.Generator) -> float:
    if len(x) > SILHOUETTE_SAMPLE:
        pick = rng.choice(len(x), SILHOUETTE_SAMPLE, replace=False)
        x, labels = x[pick], labels[pick]
    d = np.sqrt(((x[:, None, :] - x[None]) ** 2).sum(-1))
    ks = np.unique(labels)
    if len(ks) < 2:
        return -1.0
    mean_to = np.stack([d[:, labels == k].mean(axis=1) for k in ks], axis=1)
    own = np.searchsorted(ks, labels)
    sizes = np.array([(labels == k).sum() for k in ks])
    a = mean_to[np.arange(len(x)), own] * sizes[own] / np.maximum(sizes[own] - 1, 1)
    mean_to[np.arange(len(x)), own] = np.inf
    b = mean_to.min(axis=1)
    s = (b - a) / np.maximum(np.maximum(a, b), 1e-12)
    return float(np.nan_to_num(s).mean())


def _best_kmeans(xy: np.ndarray, rng: np.random.Generator) -> tuple[np.ndarray, int]:
    best_labels, best_k, best_s = np.zeros(len(xy), np.int64), 1, -math.inf
    for k in range(2, min(MAX_GROUPS, len(xy) - 1) + 1):
        labels, _ = _kmeans(xy, k, rng)
        s = _silhouette(xy, labels, rng)
        if s > best_s + 1e-9:
            best_labels, best_k, best_s = labels, k, s
    # Number groups by size (largest first) so the output is stable.
    sizes = np.bincount(best_labels, minlength=best_k)
    order = np.argsort(-sizes, kind="stable")
    relabel = np.empty(best_k, np.int64)
    relabel[order] = np.arange(best_k)
    return relabel[best_labels], best_k


def group_counts(m: OpinionMap) -> dict[int, np.ndarray]:
    """Per group: (agree, disagree, seen) per statement (3 x items)."""
    rows = {pid: i for i, pid in enumerate(m.voters)}
    out = {}
    for g in range(max(1, m.n_groups)):
        members = [rows[p] for p, gg in m.group.items() if gg == g] if m.n_groups else list(range(len(m.voters)))
        v = m.votes[members] if members else np.full((0, len(m.items)), np.nan)
        out[g] = np.stack([(v == 1).sum(axis=0), (v == -1).sum(axis=0), (~np.isnan(v)).sum(axis=0)])
    return out


def scores(strategy: str, settings: Mapping[str, Any], snapshot: EvaluationInput) -> Sequence[ItemScore]:
    judgments = [j for j in snapshot.judgments if j.kind == KIND]
    m = opinion_map(list(snapshot.items), judgments,
                    min_votes=int(settings.get("min_votes", DEFAULT_MIN_VOTES)),
                    seed=f"{snapshot.campaign_id}:{snapshot.seq}")
    counts = group_counts(m)
    agree_p = np.stack([(c[0] + 1) / (c[2] + 2) for c in counts.values()])  # groups x items
    disagree_p = np.stack([(c[1] + 1) / (c[2] + 2) for c in counts.values()])
    seen = np.stack([c[2] for c in counts.values()])
    log_score = np.log(agree_p).mean(axis=0)
    # Var(log p) ~ (1 - p) / (p (n + 2)) per group; the mean's variance over G groups.
    var = ((1 - agree_p) / (agree_p * (seen + 2))).sum(axis=0) / agree_p.shape[0] ** 2
    score = np.exp(log_score)
    low, high = np.exp(log_score - Z95 * np.sqrt(var)), np.exp(log_score + Z95 * np.sqrt(var))
    # Consensus: how surely every group goes the crowd's overall way (agree
    # or disagree): the geometric mean over groups of P(that way | group).
    agree_total = sum(c[0] for c in counts.values())
    disagree_total = sum(c[1] for c in counts.values())
    overall_way = np.where(agree_total >= disagree_total, agree_p, disagree_p)
    consensus = np.exp(np.log(overall_way).mean(axis=0))
    controversy = agree_p.max(axis=0) - agree_p.min(axis=0)
    col = {iid: i for i, iid in enumerate(m.items)}
    seg: dict[str, dict[str, list[int]]] = {iid: {} for iid in m.items}
    for j in judgments:
        if j.data["iid"] in col:
            for key in segment_keys(snapshot.profiles.get(j.pid, {})):
                tally = seg[j.data["iid"]].setdefault(key, [0, 0])
                tally[0] += j.data["vote"] == "agree"
                tally[1] += 1
    n_votes = (~np.isnan(m.votes)).sum(axis=0) if len(m.voters) else np.zeros(len(m.items), int)
    out = []
    for i, iid in enumerate(m.items):
        out.append(ItemScore(
            iid=iid, score=round(float(score[i]), 4), low=round(float(low[i]), 4),
            high=round(float(min(1.0, high[i])), 4), n=int(n_votes[i]),
            consensus=round(float(consensus[i]), 4), controversy=round(float(controversy[i]), 4),
            segments={k: round((a + 1) / (n + 2), 4) for k, (a, n) in sorted(seg[iid].items())},
        ))
    return out
