"""Which profile segments of a score may be shown to anyone.

A score broken down by "attribute=value" segment (``role=Field``) could
point at the people behind it when few of them judged the item: a segment
is shown for an item only when at least the campaign's
``min_segment_size`` *distinct judges of that item* are in it. Counting the
campaign's participants instead would leak: one judge from a large segment
would be shown alone.

This is the one implementation: the results plugin, the live results
frame, the facilitator API and the exports all use it. Build one
:class:`SegmentFilter` per :class:`~essaim.types.Results` (one pass over
the judgments, O(judgments x profile attributes)); each lookup is then a
dict access.
"""

from __future__ import annotations

import dataclasses
from collections import defaultdict
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .state import CampaignState, Judgment
    from .types import Results

__all__ = ["judged_items", "segment_judge_counts", "SegmentFilter", "filter_results"]


def judged_items(j: "Judgment") -> Iterable[str]:
    """The items a judgment is about, for every built-in evaluation kind
    (``pair``: a and b; ``rating``/single: iid; ``vote``-like: the items shown)."""
    d = j.data
    if j.kind == "pair":
        return tuple(i for i in (d.get("a"), d.get("b")) if isinstance(i, str))
    if "iid" in d:
        return (d["iid"],)
    return d.get("shown", ())


def _keys(profile: Mapping[str, str]) -> list[str]:
    return [f"{key}={value}" for key, value in sorted(profile.items())]


def segment_judge_counts(state: "CampaignState") -> dict[tuple[str, str], int]:
    """Distinct judges per (item, "attribute=value"), in one pass over the judgments."""
    seen: dict[tuple[str, str], set[str]] = defaultdict(set)
    keys_of: dict[str, list[str]] = {}
    participants = state.participants
    for j in list(state.judgments):  # a copy: safe to run in a worker thread while the log grows
        keys = keys_of.get(j.pid)
        if keys is None:
            p = participants.get(j.pid)
            keys = keys_of[j.pid] = _keys(p.profile) if p is not None else []
        for iid in judged_items(j):
            for key in keys:
                seen[(iid, key)].add(j.pid)
    return {k: len(v) for k, v in seen.items()}


class SegmentFilter:
    """The segments each item may show, for one state of a campaign."""

    __slots__ = ("min_size", "_judges")

    def __init__(self, judges: Mapping[tuple[str, str], int], min_size: int) -> None:
        self.min_size = min_size
        self._judges = judges

    @classmethod
    def for_state(cls, state: "CampaignState", min_size: int | None = None) -> "SegmentFilter":
        """Counted from the state's judgments; ``min_size`` defaults to the template's."""
        if min_size is None:
            assert state.template is not None
            min_size = state.template.min_segment_size
        return cls(segment_judge_counts(state), min_size)

    def visible(self, iid: str, segments: Mapping[str, float]) -> dict[str, float]:
        """The segments of item ``iid`` judged by at least ``min_size`` distinct people in them."""
        judges = self._judges
        return {k: v for k, v in (segments or {}).items() if judges.get((iid, k), 0) >= self.min_size}

    def results(self, results: "Results") -> "Results":
        """A copy of ``results`` with small segments removed from sheets and scores."""
        return dataclasses.replace(
            results,
            sheets=tuple(dataclasses.replace(s, segments=self.visible(s.iid, s.segments)) for s in results.sheets),
            scores=tuple(dataclasses.replace(s, segments=self.visible(s.iid, s.segments)) for s in results.scores),
        )


def filter_results(state: "CampaignState", results: "Results") -> "Results":
    """``results`` with every segment below the campaign's min_segment_size removed."""
    return SegmentFilter.for_state(state).results(results)
