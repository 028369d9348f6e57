"""Built-in phase types: the four phases of the method, plus results."""

from __future__ import annotations

from essaim import hookimpl
from essaim.plugin.registry import Registry


@hookimpl
def essaim_register_phase_types(registry: Registry) -> None:
    registry.add_phase_type(
        "collect",
        family="collection",
        default_strategy="prompts",
        commands={"write_card", "support_card"},
        description="Participants answer prompts fitted to their profile; answers become cards.",
    )
    registry.add_phase_type(
        "sort",
        family="structuring",
        default_strategy="crowd_sort",
        commands={"volunteer", "deal", "place", "support_card"},
        description="Volunteers sort hands of cards into ideas and themes.",
    )
    registry.add_phase_type(
        "evaluate",
        family="evaluation",
        default_strategy="pairwise",
        commands={"evaluate"},
        description="The crowd evaluates the structured items.",
    )
    registry.add_phase_type(
        "results",
        family=None,
        commands=set(),
        description="Everyone sees the ranked results.",
    )
