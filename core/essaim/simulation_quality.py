"""How well a crowd recovered the truth: structure and ranking agreement.

Two standard measures, small enough to write out here (no numeric
dependency for two formulas):

* adjusted Rand index between the true ideas of the cards and the items
  the crowd made of them (1 = the same partition, 0 = no better than chance);
* Kendall's tau-b between the crowd's ranking of items and the true value
  of the idea each item stands for (1 = same order, -1 = reversed).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Hashable, Mapping, Sequence
from math import comb, sqrt

__all__ = ["adjusted_rand_index", "kendall_tau"]


def adjusted_rand_index(truth: Mapping[str, Hashable], found: Mapping[str, Hashable]) -> float:
    """ARI of two labellings of the same elements (keys present in both)."""
    keys = [k for k in truth if k in found]
    n = len(keys)
    if n < 2:
        return 1.0
    pairs = Counter((truth[k], found[k]) for k in keys)
    a = Counter(truth[k] for k in keys)
    b = Counter(found[k] for k in keys)
    index = sum(comb(c, 2) for c in pairs.values())
    sum_a = sum(comb(c, 2) for c in a.values())
    sum_b = sum(comb(c, 2) for c in b.values())
    expected = sum_a * sum_b / comb(n, 2)
    top = (sum_a + sum_b) / 2
    if top == expected:
        return 1.0
    return (index - expected) / (top - expected)


def kendall_tau(xs: Sequence[float], ys: Sequence[float]) -> float:
    """Kendall's tau-b of two paired sequences (ties allowed); 0 if undefined."""
    if len(xs) != len(ys):
        raise ValueError("kendall_tau needs two sequences of the same length")
    concordant = discordant = ties_x = ties_y = 0
    n = len(xs)
    for i in range(n):
        for j in range(i + 1, n):
            dx = xs[i] - xs[j]
            dy = ys[i] - ys[j]
            if dx == 0 and dy == 0:
                continue
            if dx == 0:
                ties_x += 1
            elif dy == 0:
                ties_y += 1
            elif (dx > 0) == (dy > 0):
                concordant += 1
            else:
                discordant += 1
    denom = sqrt((concordant + discordant + ties_x) * (concordant + discordant + ties_y))
    return (concordant - discordant) / denom if denom else 0.0
