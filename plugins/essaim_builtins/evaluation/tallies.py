"""What evaluation strategies remember between hot-path calls.

A :class:`Tally` is derived from ``state.judgments`` only, counted
incrementally: how often each item was judged (a bucket queue, so the
least-judged item is found in O(1)), what each participant already did, and
any running estimate a method keeps. It is rebuilt when the state object
changes or its judgments went backwards (another engine, a replay).
"""

from __future__ import annotations

import random
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

from essaim import CommandError
from essaim.model.state import CampaignState, Judgment, Participant
from essaim.model.types import EvaluationTask

from essaim_builtins.profiles import segment_keys
from essaim_builtins.structuring.dealing import BucketQueue

__all__ = ["Tally", "tally_for", "item_tally_for", "segment_judgments", "MIN_SEGMENT_JUDGES", "SPREAD", "expect_kind",
           "next_item_task", "already_judged"]

#: Judges a profile segment needs before its score counts towards an item's
#: controversy (results hide smaller segments with the campaign's own
#: min_segment_size on top of this).
MIN_SEGMENT_JUDGES = 5
#: Among the least-judged items, pick at random among this many, so that
#: participants asking at the same moment do not all get the same item.
SPREAD = 4


class Tally:
    """Incremental counts over one campaign's judgments of some kinds."""

    def __init__(self, state: CampaignState, kinds: frozenset[str], touches: Callable[[Judgment], Iterable[str]]) -> None:
        self.kinds = kinds
        self.touches = touches
        self.n = 0
        self.queue = BucketQueue()
        #: The items dict the queue was seeded from: the state replaces it
        #: when items are published, so identity says when to re-seed.
        self.items_known: object = None
        #: The items in a list, for uniform random draws in O(1).
        self.item_ids: list[str] = []
        self.done: dict[str, set[Any]] = defaultdict(set)
        self.tasks: dict[str, int] = defaultdict(int)
        self.extra: dict[str, Any] = {}

    def sync(self, state: CampaignState, absorb: Callable[[Tally, Judgment], None]) -> None:
        if self.items_known is not state.items:
            # Items are published once per evaluation phase: re-seed the queue.
            counts = dict(self.queue.count)
            self.queue = BucketQueue()
            for iid in state.items:
                self.queue.add(iid, counts.get(iid, 0))
            self.items_known = state.items
            self.item_ids = list(state.items)
        for j in state.judgments[self.n:]:
            if j.kind in self.kinds:
                self.tasks[j.pid] += 1
                for iid in self.touches(j):
                    self.queue.bump(iid)
                absorb(self, j)
        self.n = len(state.judgments)

    def out_of_tasks(self, pid: str, limit: int) -> bool:
        return self.tasks.get(pid, 0) >= limit

    def next_item(self, pid: str, max_tasks: int, rng: random.Random) -> str | None:
        """The next item to put to a participant, or None when they are done."""
        if self.out_of_tasks(pid, max_tasks):
            return None
        return self.least_judged_unseen(pid, rng)

    def least_judged_unseen(self, pid: str, rng: random.Random) -> str | None:
        """An item this participant has not judged, among the least judged."""
        done = self.done.get(pid, set())
        for level in range(len(self.queue.buckets)):
            candidates = []
            for iid in self.queue.level(level):  # stops after SPREAD: O(1) per call, not O(items)
                if iid not in done:
                    candidates.append(iid)
                    if len(candidates) == SPREAD:
                        break
            if candidates:
                return candidates[rng.randrange(len(candidates))]
        return None


def tally_for(
    state: CampaignState,
    strategy: str,
    kinds: frozenset[str],
    touches: Callable[[Judgment], Iterable[str]],
    absorb: Callable[[Tally, Judgment], None],
) -> Tally:
    """The campaign's tally for ``strategy``, brought up to date: a cache in
    ``state.caches`` (created on first use, dropped when the campaign
    finishes or is unloaded; see essaim.model.caches)."""
    tally = state.caches.get((__name__, strategy), lambda: Tally(state, kinds, touches))
    tally.sync(state, absorb)
    return tally


def segment_judgments(
    judgments: Sequence[Judgment], profiles: Mapping[str, Mapping[str, str]]
) -> dict[str, list[Judgment]]:
    """Judgments grouped by the "attribute=value" segments of their authors."""
    out: dict[str, list[Judgment]] = defaultdict(list)
    for j in judgments:
        for key in segment_keys(profiles.get(j.pid, {})):
            out[key].append(j)
    return out


def _absorb_item(tally: Tally, j: Judgment) -> None:
    tally.done[j.pid].add(j.data["iid"])


def item_tally_for(state: CampaignState, strategy: str, kind: str) -> Tally:
    """The tally of a method whose judgments are each about one item (``data["iid"]``)."""
    return tally_for(state, strategy, frozenset({kind}), lambda j: (j.data["iid"],), _absorb_item)


def next_item_task(
    state: CampaignState, strategy: str, kind: str, participant: Participant, max_tasks: int, rng: random.Random,
    **extra: Any,
) -> EvaluationTask | None:
    """The next one-item task of a method (a rating, a vote): the least-judged
    item this participant has not judged yet, with ``extra`` payload fields."""
    iid = item_tally_for(state, strategy, kind).next_item(participant.pid, max_tasks, rng)
    if iid is None:
        return None
    return EvaluationTask(kind, {"iid": iid, "title": state.items[iid].title, **extra})


def already_judged(state: CampaignState, strategy: str, kind: str, participant: Participant, iid: str) -> bool:
    """Whether this participant already judged this item with this method."""
    return iid in item_tally_for(state, strategy, kind).done.get(participant.pid, ())


def expect_kind(kind: str, expected: str, asks: str) -> None:
    """Refuse a judgment of another kind than the phase's method takes."""
    if kind != expected:
        raise CommandError(f"this phase {asks}; expected kind {expected!r}, not {kind!r}", code="bad_request")
