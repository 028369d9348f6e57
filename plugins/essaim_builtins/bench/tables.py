"""Markdown tables and seed statistics for the quality benchmark's report."""

from __future__ import annotations

import math
import statistics
from collections.abc import Sequence
from typing import Any

__all__ = ["table", "mean", "mean_and_error", "estimate"]


def table(header: Sequence[str], rows: list[list[Any]]) -> str:
    """A Markdown table; floats with three decimals."""

    def cell(v: Any) -> str:
        return f"{v:.3f}" if isinstance(v, float) else str(v)

    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(cell(v) for v in row) + " |" for row in rows]
    return "\n".join(lines)


def mean(runs: Sequence[dict[str, Any]], key: str) -> float:
    value: float = statistics.mean(r[key] for r in runs)
    return value


def mean_and_error(values: Sequence[float]) -> tuple[float, float]:
    """The mean over seeds and its standard error (nan with one seed)."""
    spread = statistics.stdev(values) / len(values) ** 0.5 if len(values) > 1 else math.nan
    return statistics.mean(values), spread


def estimate(values: Sequence[float]) -> str:
    """"0.812 ± 0.004": the mean over seeds ± its standard error."""
    m, se = mean_and_error(values)
    return f"{m:.3f} ± {se:.3f}"
