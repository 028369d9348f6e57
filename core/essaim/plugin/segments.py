"""Which profile segments of a score may be shown to anyone.

A score broken down by "attribute=value" segment (``role=Field``) could
point at the people behind it when few of them judged the item: a segment
is shown for an item only when at least the campaign's
``min_segment_size`` *distinct judges of that item* are in it. Counting the
campaign's participants instead would leak: one judge from a large segment
would be shown alone.

This is the one implementation: the engine's results, the results plugin,
the live results frame, the facilitator API and the exports all use it.
Counting is one pass over the judgments, O(judgments x profile
attributes): the engine does it in a worker thread on the snapshot its
scores came from, and hands the counts to the hooks it calls next
(:func:`pinned_segment_counts`); a :class:`SegmentFilter` over the counts
then answers each lookup with a dict access.
"""

from __future__ import annotations

import dataclasses
from collections import defaultdict
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from essaim.model.state import CampaignState, Judgment
    from essaim.model.types import Results

__all__ = ["judged_items", "count_segment_judges", "segment_judge_counts", "pinned_segment_counts",
           "SegmentFilter"]


def judged_items(j: Judgment) -> Iterable[str]:
    """The items a judgment is about, for every built-in evaluation kind
    (``pair``: a and b; ``rating``/single: iid; ``vote``-like: the items shown)."""
    d = j.data
    if j.kind == "pair":
        return tuple(i for i in (d.get("a"), d.get("b")) if isinstance(i, str))
    if "iid" in d:
        return (d["iid"],)
    shown: Iterable[str] = d.get("shown", ())
    return shown


def _keys(profile: Mapping[str, str]) -> list[str]:
    return [f"{key}={value}" for key, value in sorted(profile.items())]


def count_segment_judges(
    judgments: Iterable[Judgment], profiles: Mapping[str, Mapping[str, str]]
) -> dict[tuple[str, str], int]:
    """Distinct judges per (item, "attribute=value"), in one pass over
    ``judgments`` (a snapshot: this runs in a worker thread)."""
    seen: dict[tuple[str, str], set[str]] = defaultdict(set)
    keys_of: dict[str, list[str]] = {}
    for j in judgments:
        keys = keys_of.get(j.pid)
        if keys is None:
            profile = profiles.get(j.pid)
            keys = keys_of[j.pid] = _keys(profile) if profile is not None else []
        for iid in judged_items(j):
            for key in keys:
                seen[(iid, key)].add(j.pid)
    return {k: len(v) for k, v in seen.items()}


#: Counts the engine made for the results being computed (see
#: :func:`pinned_segment_counts`), with the state they belong to.
_pinned: ContextVar[tuple[object, Mapping[tuple[str, str], int]] | None] = ContextVar(
    "essaim_segment_counts", default=None)


@contextmanager
def pinned_segment_counts(state: CampaignState, counts: Mapping[tuple[str, str], int]) -> Iterator[None]:
    """Within this block, :func:`segment_judge_counts` of ``state`` returns ``counts``.

    The engine counts judges in a worker thread, on the snapshot the scores
    were computed from, then calls the results and export hooks on the trio
    thread: the hooks' own count would be a second pass over every judgment
    there (a quarter of a second at 300,000), and would see judgments the
    scores never saw, showing a segment scored by fewer than the minimum."""
    token = _pinned.set((state, counts))
    try:
        yield
    finally:
        _pinned.reset(token)


def segment_judge_counts(state: CampaignState) -> Mapping[tuple[str, str], int]:
    """Distinct judges per (item, "attribute=value"): the engine's counts for
    the results being computed, else one pass over the state's judgments."""
    pinned = _pinned.get()
    if pinned is not None and pinned[0] is state:
        return pinned[1]
    profiles = {pid: p.profile for pid, p in state.participants.items()}
    return count_segment_judges(list(state.judgments), profiles)  # a copy: the log may grow meanwhile


class SegmentFilter:
    """The segments each item may show, for one state of a campaign."""

    __slots__ = ("min_size", "_judges")

    def __init__(self, judges: Mapping[tuple[str, str], int], min_size: int) -> None:
        self.min_size = min_size
        self._judges = judges

    @classmethod
    def for_state(cls, state: CampaignState, min_size: int | None = None) -> SegmentFilter:
        """Counted from the state's judgments; ``min_size`` defaults to the template's."""
        if min_size is None:
            assert state.template is not None
            min_size = state.template.min_segment_size
        return cls(segment_judge_counts(state), min_size)

    def visible(self, iid: str, segments: Mapping[str, float]) -> dict[str, float]:
        """The segments of item ``iid`` judged by at least ``min_size`` distinct people in them."""
        judges = self._judges
        return {k: v for k, v in (segments or {}).items() if judges.get((iid, k), 0) >= self.min_size}

    def results(self, results: Results) -> Results:
        """A copy of ``results`` with small segments removed from sheets and scores."""
        return dataclasses.replace(
            results,
            sheets=tuple(dataclasses.replace(s, segments=self.visible(s.iid, s.segments)) for s in results.sheets),
            scores=tuple(dataclasses.replace(s, segments=self.visible(s.iid, s.segments)) for s in results.scores),
        )
