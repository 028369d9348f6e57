"""A small campaign for strategy tests: the real state reducer and the
built-in strategies called through their hooks (see essaim_builtins.bench.harness)."""

from __future__ import annotations

import tomllib

from essaim.testing import make_template

from essaim_builtins.bench.harness import Harness

PROMPTS = [{"id": "all", "text": "Any idea?"}, {"id": "field", "text": "Field only?", "segment": {"role": "Field"}}]

_count = 0


def harness(*, sort: str = "", evaluation: str = "pairwise", evaluate: str = "", moderation: str = "",
            min_segment: int = 1) -> Harness:
    """A fresh campaign (unique id, so no strategy cache is shared): collect,
    sort, evaluate; ``sort``, ``evaluate`` and ``moderation`` are the TOML
    lines of those phases' settings."""
    global _count
    _count += 1
    template = make_template(
        ({"type": "collect", "settings": {"prompts": PROMPTS}},
         {"type": "sort", "settings": tomllib.loads(sort)},
         {"type": "evaluate", "strategy": evaluation, "settings": tomllib.loads(evaluate)}),
        title="strategies", moderation={"strategy": "jury", "settings": tomllib.loads(moderation)},
        min_segment_size=min_segment,
    )
    return Harness(template, f"test{_count}")
