"""How well a crowd recovered a known truth, for the quality benchmark and
the campaign simulator alike: adjusted Rand index between two clusterings
(1 = the same partition, ~0 = chance), Spearman's rho and Kendall's tau-b
between two rankings (1 = same order, -1 = reversed). Computed here: no
scipy or scikit-learn dependency for three formulas."""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Hashable, Sequence

__all__ = ["adjusted_rand_index", "spearman", "kendall_tau"]


def _comb2(n: int) -> float:
    return n * (n - 1) / 2


def adjusted_rand_index(truth: Sequence[Hashable], found: Sequence[Hashable]) -> float:
    """Hubert and Arabie's ARI: 1 for identical clusterings, ~0 for chance."""
    if len(truth) != len(found):
        raise ValueError("both clusterings must label the same elements")
    n = len(truth)
    if n < 2:
        return 1.0
    pairs = sum(_comb2(c) for c in Counter(zip(truth, found)).values())
    a = sum(_comb2(c) for c in Counter(truth).values())
    b = sum(_comb2(c) for c in Counter(found).values())
    expected = a * b / _comb2(n)
    top = (a + b) / 2
    if top == expected:
        return 1.0
    return (pairs - expected) / (top - expected)


def _ranks(values: Sequence[float]) -> list[float]:
    order = sorted(range(len(values)), key=lambda i: values[i])
    ranks = [0.0] * len(values)
    i = 0
    while i < len(order):
        j = i
        while j + 1 < len(order) and values[order[j + 1]] == values[order[i]]:
            j += 1
        for k in range(i, j + 1):
            ranks[order[k]] = (i + j) / 2 + 1
        i = j + 1
    return ranks


def spearman(x: Sequence[float], y: Sequence[float]) -> float:
    """Spearman's rho: Pearson correlation of the ranks (ties get mean ranks)."""
    rx, ry = _ranks(x), _ranks(y)
    n = len(x)
    mx, my = sum(rx) / n, sum(ry) / n
    cov = sum((a - mx) * (b - my) for a, b in zip(rx, ry))
    vx = math.sqrt(sum((a - mx) ** 2 for a in rx))
    vy = math.sqrt(sum((b - my) ** 2 for b in ry))
    return cov / (vx * vy) if vx and vy else 0.0


def kendall_tau(x: Sequence[float], y: Sequence[float]) -> float:
    """Kendall's tau-b, 0 if undefined (O(n^2): callers rank tens of items)."""
    if len(x) != len(y):
        raise ValueError("kendall_tau needs two sequences of the same length")
    concordant = discordant = ties_x = ties_y = 0
    n = len(x)
    for i in range(n):
        for j in range(i + 1, n):
            dx, dy = x[i] - x[j], y[i] - y[j]
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
    denom = math.sqrt((concordant + discordant + ties_x) * (concordant + discordant + ties_y))
    return (concordant - discordant) / denom if denom else 0.0
