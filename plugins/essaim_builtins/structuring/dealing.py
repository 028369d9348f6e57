"""Dealing hands for crowd sorting, in time independent of the number of cards.

A :class:`Board` is a per-campaign cache derived from the live state only
(cards, hands, placements, in the order the state holds them), so it is
deterministic and can always be rebuilt: the structuring hook rebuilds it when
it sees a different state object or a state that went backwards.

* Cards wait in **bucket queues by dealt count**, one queue per prompt, so the
  least-dealt card is found in O(1) and a deal moves each of its cards up one
  bucket in O(1). Queues of prompts the sorter could answer themselves are
  tried first at each count level: the sorter understands those cards best.
* Half of a hand (``similar_share``) is filled with lexical neighbours of its
  first card, from a per-card cached lookup: related cards in one hand are what
  lets a sorter say "same idea". Without it two cards of one idea almost never
  meet in random hands of 8 among thousands.
* Stage-2 hands deal **groups** (see :mod:`.groups`) built by a quick
  incremental union of what stage-1 sorters merged, so later boards merge the
  groups of earlier ones. The aggregator, not this quick union, decides the
  final structure.
"""

from __future__ import annotations

import random
from collections import defaultdict
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from itertools import combinations, islice
from typing import Any

from essaim.model.hand_items import group_id, group_members, is_group
from essaim.model.state import CampaignState, Participant

from essaim_builtins.profiles import matches_segment

__all__ = ["BucketQueue", "Board", "DealSettings", "board_for"]

#: Lexical neighbours remembered per card. A hand takes at most a handful.
NEIGHBOURS = 12
#: Largest group the quick union builds for stage-2 hands: a phone shows a
#: group of about a dozen cards at most, and the cap stops one careless merge
#: from chaining everything together.
MAX_GROUP_CARDS = 12
#: Group members (besides the seed) whose neighbours a hand may draw on.
GROUP_NEIGHBOUR_SOURCES = 3
#: Share of a pair's co-placements that must be "same idea" for the quick union.
QUICK_MERGE_SHARE = 0.5
#: A wording neighbour that already has its placements may still join a hand
#: as an *anchor* until it was dealt this many times the hand's limit: late in
#: a big board every neighbour of a card has its placements, and hands then
#: fill with unrelated cards, so a card dealt late meets nobody of its idea
#: and ends an idea of its own. Demo campaign, 3,000 people, 3 placements per
#: card: ARI of ideas 0.34 -> 0.61 for 19% more placements (docs/strategies.md).
ANCHOR_FACTOR = 2
#: Once every card has ``placements_per_card`` placements (the rounds up to
#: ``max_placements_per_card``), a hand takes its cards of each level at
#: random among the first this many of the level (O(window), not O(cards)):
#: in queue order the cards of one hand move up a level together and would
#: meet the same companions again at every level, observing the same pairs
#: instead of new ones. Demo campaign, 300 people, 12 placements per card
#: (5 seeds): ARI of ideas 0.893 -> 0.926 with it at every level above 0.
#: Not in the first rounds: there, seeing the same pairs again is what
#: confirms them (structure benchmark, one board, 3 placements per card:
#: ARI 0.384 -> 0.323 with it).
SHUFFLE_WINDOW = 64


@dataclass(frozen=True, slots=True)
class DealSettings:
    hand_size: int
    placements_per_card: int
    stages: int
    group_placements: int
    similar_share: float
    #: Once every card has ``placements_per_card`` (and stage 2, if any, has
    #: no hand left), cards are dealt again, least-dealt first, up to this.
    max_placements_per_card: int = 0


class BucketQueue:
    """Items bucketed by a small count; lowest count first, FIFO within one."""

    def __init__(self) -> None:
        self.buckets: list[dict[str, None]] = []
        self.count: dict[str, int] = {}
        #: No item has a lower count than this (a hint, advanced lazily), so
        #: :meth:`lowest` skips the emptied low buckets in amortised O(1).
        self._low = 0

    def __len__(self) -> int:
        return len(self.count)

    def __contains__(self, item: str) -> bool:
        return item in self.count

    def add(self, item: str, count: int = 0) -> None:
        self.remove(item)
        while len(self.buckets) <= count:
            self.buckets.append({})
        self.buckets[count][item] = None
        self.count[item] = count
        self._low = min(self._low, count)

    def remove(self, item: str) -> None:
        old = self.count.pop(item, None)
        if old is not None:
            del self.buckets[old][item]

    def bump(self, item: str) -> None:
        if item in self.count:
            self.add(item, self.count[item] + 1)

    def lowest(self, k: int) -> list[str]:
        """Up to ``k`` items in queue order (lowest count first), in O(k)
        amortised: the hot-path alternative to walking every level."""
        buckets = self.buckets
        while self._low < len(buckets) and not buckets[self._low]:
            self._low += 1
        out: list[str] = []
        for level in range(self._low, len(buckets)):
            for item in buckets[level]:
                out.append(item)
                if len(out) >= k:
                    return out
        return out

    def level(self, count: int) -> Iterator[str]:
        """Items dealt exactly ``count`` times (do not change the queue while iterating)."""
        if count < len(self.buckets):
            yield from self.buckets[count]


class _UnionFind:
    def __init__(self) -> None:
        self.parent: dict[str, str] = {}
        self.size: dict[str, int] = {}

    def find(self, x: str) -> str:
        parent = self.parent
        if x not in parent:
            parent[x] = x
            self.size[x] = 1
            return x
        root = x
        while parent[root] != root:
            root = parent[root]
        while parent[x] != root:
            parent[x], x = root, parent[x]
        return root

    def union(self, a: str, b: str, cap: int) -> tuple[str, str] | None:
        """Join a's and b's sets unless the result would exceed ``cap``;
        returns (kept root, absorbed root) or None."""
        ra, rb = self.find(a), self.find(b)
        if ra == rb or self.size[ra] + self.size[rb] > cap:
            return None
        if self.size[ra] < self.size[rb] or (self.size[ra] == self.size[rb] and rb < ra):
            ra, rb = rb, ra
        self.parent[rb] = ra
        self.size[ra] += self.size.pop(rb)
        return ra, rb


class Board:
    """What the dealer knows about one campaign, kept in step with its state."""

    def __init__(self, state: CampaignState, prompts: list[Mapping[str, Any]]) -> None:
        self.prompt_segments = {str(p["id"]): p.get("segment") for p in prompts if "id" in p}
        self.queues: dict[str | None, BucketQueue] = defaultdict(BucketQueue)
        self.seen: dict[str, set[str]] = defaultdict(set)
        self.members: dict[str, list[str]] = {}  # group root -> cards
        self.groups = BucketQueue()
        self.unions = _UnionFind()
        self.pair_yes: dict[tuple[str, str], int] = defaultdict(int)
        self.pair_n: dict[tuple[str, str], int] = defaultdict(int)
        self.offtopic: dict[str, int] = defaultdict(int)
        self.neighbours: dict[str, tuple[str, ...]] = {}
        self.n_cards = self.n_hands = self.n_placements = 0
        self.seq = 0

    # -- keeping up with the state ---------------------------------------------------

    def sync(self, state: CampaignState) -> None:
        for card in islice(state.cards.values(), self.n_cards, None):
            self.queues[card.prompt].add(card.cid)
            self.unions.find(card.cid)
            self.members[card.cid] = [card.cid]
            self.groups.add(card.cid)
        self.n_cards = len(state.cards)
        for hand in islice(state.hands.values(), self.n_hands, None):
            seen = self.seen[hand.sorter]
            for item in hand.items:
                seen.add(item)
                if is_group(item):
                    cards = group_members(item)
                    if cards:
                        self.groups.bump(self.unions.find(cards[0]))
                else:
                    dealt = state.cards.get(item)
                    if dealt is not None:
                        self.queues[dealt.prompt].bump(item)
        self.n_hands = len(state.hands)
        for placement in state.placements[self.n_placements:]:
            self._learn(placement.themes, placement.offtopic)
        self.n_placements = len(state.placements)
        self.seq = state.seq

    def _learn(self, themes: list[list[list[str]]], offtopic: list[str]) -> None:
        for item in offtopic:
            for cid in group_members(item):
                self.offtopic[cid] += 1
        ideas = [idea for theme in themes for idea in theme]
        if not any(is_group(i) for idea in ideas for i in idea):
            present = sorted(i for idea in ideas for i in idea)
            for pair in combinations(present, 2):
                self.pair_n[pair] += 1
            for idea in ideas:
                for pair in combinations(sorted(idea), 2):
                    self.pair_yes[pair] += 1
                    if self.pair_yes[pair] >= QUICK_MERGE_SHARE * self.pair_n[pair]:
                        self._merge(*pair)
        else:
            for idea in ideas:
                heads = [group_members(i)[0] for i in idea if group_members(i)]
                for other in heads[1:]:
                    self._merge(heads[0], other)

    def _merge(self, a: str, b: str) -> None:
        joined = self.unions.union(a, b, MAX_GROUP_CARDS)
        if joined is None:
            return
        kept, absorbed = joined
        count = min(self.groups.count.get(kept, 0), self.groups.count.get(absorbed, 0))
        self.groups.remove(absorbed)
        self.groups.add(kept, count)
        self.members[kept].extend(self.members.pop(absorbed))

    # -- dealing ---------------------------------------------------------------------

    def deal_cards(
        self,
        state: CampaignState,
        sorter: Participant,
        settings: DealSettings,
        similar: Callable[[str], list[str]],
        limit: int | None = None,
        rng: random.Random | None = None,
    ) -> list[str]:
        """A stage-1 hand: least-dealt cards first, profile-fitting prompts
        first at each level, half of it lexical neighbours of the first card,
        among cards dealt fewer than ``limit`` times (default
        ``placements_per_card``); with ``rng``, cards that already have
        ``placements_per_card`` come in random order within SHUFFLE_WINDOW
        (see there)."""
        k, size = limit or settings.placements_per_card, settings.hand_size
        seen = self.seen.get(sorter.pid, set())

        def eligible(cid: str) -> bool:
            card = state.cards[cid]
            return not card.hidden and card.author != sorter.pid and cid not in seen

        # Prompts written for the sorter's own segment first, then prompts for
        # everyone, then the rest.
        own = [q for prompt, q in self.queues.items() if self._fits(prompt, sorter) and self._segmented(prompt)]
        everyone = [q for prompt, q in self.queues.items() if self._fits(prompt, sorter) and not self._segmented(prompt)]
        fitting = own + everyone
        others = [q for prompt, q in self.queues.items() if not self._fits(prompt, sorter)]
        hand: list[str] = []
        taken: set[str] = set()
        for level in range(k):
            for queue in fitting + others:
                for cid in self._level_order(queue, level, settings.placements_per_card, rng):
                    if cid not in taken and eligible(cid):
                        if not hand:
                            hand.append(cid)
                            taken.add(cid)
                            self._add_neighbours(hand, taken, state, settings, similar, eligible, k)
                        else:
                            hand.append(cid)
                            taken.add(cid)
                        if len(hand) >= size:
                            return hand
        return hand

    @staticmethod
    def _level_order(queue: BucketQueue, level: int, first_shuffled: int,
                     rng: random.Random | None) -> Iterator[str]:
        """A level's cards: at ``first_shuffled`` and above, the first
        SHUFFLE_WINDOW of them in random order, then the rest in queue order."""
        cards = queue.level(level)
        if level < first_shuffled or rng is None:
            yield from cards
            return
        window = list(islice(cards, SHUFFLE_WINDOW))
        rng.shuffle(window)
        yield from window
        yield from cards

    def _add_neighbours(
        self,
        hand: list[str],
        taken: set[str],
        state: CampaignState,
        settings: DealSettings,
        similar: Callable[[str], list[str]],
        eligible: Callable[[str], bool],
        limit: int,
    ) -> None:
        """Neighbours still short of ``limit`` placements first, then anchors
        (neighbours dealt fewer than ANCHOR_FACTOR x ``limit`` times, and
        never more than the campaign's maximum placements per card)."""
        want = round((settings.hand_size - 1) * settings.similar_share)
        if want <= 0:
            return
        near = list(self._near(hand[0], similar))
        most = max(settings.placements_per_card, settings.max_placements_per_card)
        for cap in (limit, min(ANCHOR_FACTOR * limit, most)):
            for cid in near:
                if want <= 0:
                    return
                card = state.cards.get(cid)
                if card is None or cid in taken or not eligible(cid):
                    continue
                if self.queues[card.prompt].count.get(cid, cap) < cap:
                    hand.append(cid)
                    taken.add(cid)
                    want -= 1

    def _near(self, seed: str, similar: Callable[[str], list[str]]) -> Iterator[str]:
        """Lexical neighbours of the seed, then of the other cards of its
        current group: each card of an idea brings its own words, so the
        crowd's merges widen the net for the next hands."""
        yielded = {seed}
        members = self.members.get(self.unions.find(seed), [seed])
        for member in [seed] + [m for m in members if m != seed][:GROUP_NEIGHBOUR_SOURCES]:
            if member not in self.neighbours:
                self.neighbours[member] = tuple(similar(member))
            for cid in self.neighbours[member]:
                if cid not in yielded:
                    yielded.add(cid)
                    yield cid

    def deal_groups(
        self, state: CampaignState, sorter: Participant, settings: DealSettings, similar: Callable[[str], list[str]]
    ) -> list[str]:
        """A stage-2 hand: groups of stage-1 cards, least-dealt first, half of
        it groups holding neighbours of the first group's first card."""
        seen = self.seen.get(sorter.pid, set())
        hand: list[str] = []
        roots: set[str] = set()

        def as_group(root: str) -> str | None:
            cards = [c for c in self.members.get(root, ()) if self._alive(state, c)]
            if not cards or cards == [c for c in cards if state.cards[c].author == sorter.pid]:
                return None
            gid = group_id(cards)
            return None if gid in seen else gid

        for level in range(settings.group_placements):
            for root in list(self.groups.level(level)):
                if root in roots:
                    continue
                gid = as_group(root)
                if gid is None:
                    continue
                hand.append(gid)
                roots.add(root)
                if len(hand) == 1:
                    want = round((settings.hand_size - 1) * settings.similar_share)
                    if root not in self.neighbours:
                        self.neighbours[root] = tuple(similar(root))
                    for cid in self.neighbours[root]:
                        if want <= 0:
                            break
                        other = self.unions.find(cid)
                        if other in roots or self.groups.count.get(other, settings.group_placements) >= settings.group_placements:
                            continue
                        near = as_group(other)
                        if near is not None:
                            hand.append(near)
                            roots.add(other)
                            want -= 1
                if len(hand) >= settings.hand_size:
                    return hand
        return hand

    def _alive(self, state: CampaignState, cid: str) -> bool:
        card = state.cards.get(cid)
        if card is None or card.hidden:
            return False
        return not (card.placed and self.offtopic.get(cid, 0) * 2 > card.placed)

    def _segmented(self, prompt: str | None) -> bool:
        return bool(prompt and self.prompt_segments.get(prompt))

    def _fits(self, prompt: str | None, sorter: Participant) -> bool:
        return matches_segment(self.prompt_segments.get(prompt) if prompt else None, sorter.profile)


def board_for(state: CampaignState, prompts: list[Mapping[str, Any]]) -> Board:
    """The campaign's board, brought up to date: a cache in ``state.caches``
    (created on first use, dropped when the campaign finishes or is
    unloaded; see essaim.model.caches)."""
    board = state.caches.get((__name__, "board"), lambda: Board(state, prompts))
    board.sync(state)
    return board
