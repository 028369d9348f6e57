"""A Pol.is-style crowd with planted opinion groups, for the quality benchmark.

Each planted group has its own chance of agreeing with each statement (a
stance every group shares plus the group's own pull), people vote on a few
statements each (8 to 32 of 200, least-voted first, through the
``agree_disagree`` strategy's hooks), and the opinion map must find the
planted groups: adjusted Rand index of the opinion groups against them, and
the number of groups it chose.

People who voted little sit near the centre of the map (their unseen votes
are imputed with the statement means), which is what Pol.is's scaling of
sparse voters is for.
"""

from __future__ import annotations

import math
import random
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from typing import Any

from essaim.simulation.agreement import adjusted_rand_index

from essaim_builtins.bench.crowds import bench_template
from essaim_builtins.bench.harness import Harness
from essaim_builtins.bench.tables import estimate, mean_and_error, table
from essaim_builtins.evaluation.opinions import DEFAULT_MIN_VOTES, opinion_map

__all__ = ["simulate_opinions", "opinion_section"]

#: Spread of the stance every group shares, and of each group's own pull,
#: on the logit scale: groups disagree on about half the statements.
SHARED_STANCE = 1.0
GROUP_PULL = 1.5
#: Chance of "pass" on any statement.
PASS_SHARE = 0.1


def simulate_opinions(
    seed: int, groups: int, *, statements: int = 200, voters: int = 300, votes: tuple[int, int] = (8, 32),
) -> dict[str, Any]:
    """ARI of the opinion groups found against ``groups`` planted ones, and
    the number of groups found (``ari``, ``k``), and the same for the plain
    PCA without Pol.is's scaling of sparse voters (``plain_ari``,
    ``plain_k``), on the same votes."""
    rng = random.Random(f"opinions:{seed}:{groups}")
    shares = [rng.uniform(0.5, 1.5) for _ in range(groups)]
    stance = [rng.gauss(0, SHARED_STANCE) for _ in range(statements)]
    agree = [[1 / (1 + math.exp(-(stance[s] + rng.gauss(0, GROUP_PULL)))) for s in range(statements)]
             for _ in range(groups)]
    h = Harness(bench_template({}, "agree_disagree", {"max_tasks": statements}), f"opinions{seed}g{groups}")
    people = [h.join({"role": rng.choice("ab")}) for _ in range(voters)]
    planted = {pid: rng.choices(range(groups), shares)[0] for pid in people}
    budget = {pid: rng.randint(*votes) for pid in people}
    h.start_phase(0)
    for n in range(statements):
        h.write(people[n % voters], f"statement {n}")
    h.publish()
    h.start_phase(2)
    # Round-robin, as people vote at the same time: the least-voted
    # statement is the least voted among everyone's votes so far.
    for turn in range(max(budget.values())):
        for pid in people:
            if turn >= budget[pid]:
                continue
            task = h.next_task(pid)
            if task is None:
                continue
            iid = task.payload["iid"]
            s = int(h.state.items[iid].title.split()[1])
            roll = rng.random()
            vote = "pass" if roll < PASS_SHARE else ("agree" if rng.random() < agree[planted[pid]][s] else "disagree")
            h.judge(pid, "vote", {"iid": iid, "vote": vote})
    out: dict[str, Any] = {}
    for label, scale in (("", True), ("plain_", False)):
        m = opinion_map(list(h.state.items), h.state.judgments, min_votes=DEFAULT_MIN_VOTES,
                        seed=f"{h.state.campaign_id}:{h.state.seq}", scale_sparse=scale)
        placed = sorted(m.group)
        out[f"{label}ari"] = adjusted_rand_index([planted[p] for p in placed], [m.group[p] for p in placed])
        out[f"{label}k"] = m.n_groups
    return out


#: Planted opinion groups of the benchmark's crowds.
PLANTED_GROUPS = (3, 4)
#: Gain of the scaling the outside comparison measured (+0.06-0.08 ARI).
TARGET_GAIN = 0.06


def opinion_section(seeds: Sequence[int], log: Callable[[str], None]) -> tuple[str, list[str]]:
    """The opinion-groups table and its target lines."""
    rows: list[list[Any]] = []
    targets = []
    for groups in PLANTED_GROUPS:
        runs = [simulate_opinions(s, groups) for s in seeds]
        gain = [r["ari"] - r["plain_ari"] for r in runs]
        rows.append([groups, estimate([r["ari"] for r in runs]), estimate([r["plain_ari"] for r in runs]),
                     estimate(gain), _k_counts(r["k"] for r in runs), _k_counts(r["plain_k"] for r in runs)])
        g, se = mean_and_error(gain)
        right_k = sum(r["k"] == groups for r in runs)
        targets.append(
            f"- opinion groups, {groups} planted, 8-32 votes of 200 per person: Pol.is scaling gains {g:+.3f} ARI "
            f"(standard error over {len(runs)} seeds {se:.3f}; {'meets' if g >= TARGET_GAIN else 'below'} the "
            f"+{TARGET_GAIN:.2f} measured outside); k = {groups} in {right_k} of {len(runs)} seeds")
        log(f"opinion groups ({groups} planted) done")
    header = ["planted groups", "ARI, Pol.is scaling (shipped)", "ARI, plain PCA", "gain (paired)",
              "groups found, shipped", "groups found, plain PCA"]
    return table(header, rows), targets


def _k_counts(ks: Iterable[int]) -> str:
    """"3×7, 5×1": how often each number of groups was chosen."""
    return ", ".join(f"{k}×{n}" for k, n in sorted(Counter(ks).items()))
