"""A small campaign for strategy tests: the real state reducer and the
built-in strategies called through their hooks (see essaim.bench.quality_harness)."""

from __future__ import annotations

from essaim.bench.quality_harness import Harness
from essaim.template import CampaignTemplate

TEMPLATE = """
[campaign]
title = "strategies"
min_segment_size = {min_segment}
[[profile]]
key = "role"
label = "Role"
choices = ["Field", "Office"]
[[phase]]
type = "collect"
duration = 60
[phase.settings]
prompts = [{{ id = "all", text = "Any idea?" }}, {{ id = "field", text = "Field only?", segment = {{ role = "Field" }} }}]
[[phase]]
type = "sort"
duration = 60
[phase.settings]
{sort}
[[phase]]
type = "evaluate"
duration = 60
strategy = "{evaluation}"
[phase.settings]
{evaluate}
[moderation]
strategy = "jury"
[moderation.settings]
{moderation}
"""

_count = 0


def harness(*, sort: str = "", evaluation: str = "pairwise", evaluate: str = "", moderation: str = "",
            min_segment: int = 1) -> Harness:
    """A fresh campaign (unique id, so no strategy cache is shared)."""
    global _count
    _count += 1
    text = TEMPLATE.format(sort=sort, evaluation=evaluation, evaluate=evaluate, moderation=moderation,
                           min_segment=min_segment)
    return Harness(CampaignTemplate.parse(text), f"test{_count}")
