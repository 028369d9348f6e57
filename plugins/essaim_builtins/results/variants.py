"""Which evaluated items say the same idea in other words, so that the
ranking shows each idea once (issue 16: near-duplicates must not take
several places of the top 10).

The crowd's structure decides what one idea is; where it left one idea in
several items (a few cards the sorters never saw with the rest, or called
apart by a careless majority), the items' *wordings* point at each other.
Each visible card of an item (the first VARIANT_PROBES, representative
first) looks up its closest wordings in the suggestions' index; the closest
one outside the item, at a match of at least VARIANT_TEXT_MATCH relative to
the card's match with itself, is that card's vote for its item. An
item *points at* the item a strict majority of its probed cards vote for,
if that item is at least as big (so links go towards the idea the crowd
gathered, and two big ideas with a few shared words do not join), and if
the crowd put both in one theme or left the smaller alone in its theme
(a lone theme says nothing against it).

The links depend on the published items only, not on the scores, so they
are computed once per publication (a per-campaign cache), in a worker
thread on a copy of the items' texts with an index of their own: at 20,000
cards and 2,000 items that is 16,000 lookups of about 2 ms, far too long
for the trio thread. The ranking itself stays cheap.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

import trio

from essaim.model.state import CampaignState, Item

from essaim_builtins.collection.similarity import SimilarityIndex

__all__ = ["variant_links", "compute_links", "group_items"]

#: Cards of an item whose wordings vote (representative first): enough for a
#: majority, bounded so that the lookup costs at most this many searches per
#: item (200 items, 8 searches of ~1 ms at 3,000 cards: under a second, once
#: per publication).
VARIANT_PROBES = 8
#: Closest wordings a probed card looks at: identical copies tie with the
#: card itself and may come first.
VARIANT_NEIGHBOURS = 20
#: The same threshold as the aggregation's lone cards (LONE_TEXT_MATCH): the
#: same words, give or take a prefix or a word form.
VARIANT_TEXT_MATCH = 0.6


@dataclass(frozen=True, slots=True)
class _ItemTexts:
    """What the links read of one item, copied on the trio thread."""

    iid: str
    theme: str | None
    #: its visible cards' texts, representative first
    texts: tuple[str, ...]


@dataclass(slots=True)
class _Links:
    """The links of one publication of items (``items`` is the state's dict,
    replaced by every publication)."""

    items: Mapping[str, Item] | None = None
    points_at: dict[str, str] = field(default_factory=dict)


async def variant_links(state: CampaignState) -> dict[str, str]:
    """Item -> the item it is a variant of (see the module docstring)."""
    cache = state.caches.get((__name__, "links"), _Links)
    items = state.items
    if cache.items is not items:
        copy = [_ItemTexts(iid, item.theme, tuple(state.cards[c].text for c in item.cards
                                                   if c in state.cards and not state.cards[c].hidden))
                for iid, item in items.items()]
        points_at = await trio.to_thread.run_sync(compute_links, copy)
        if state.items is items:  # not published again meanwhile
            cache.points_at, cache.items = points_at, items
        return points_at
    return cache.points_at


def compute_links(items: Sequence[_ItemTexts]) -> dict[str, str]:
    """The links between ``items`` (worker thread: reads only its arguments).

    The index holds each distinct wording once, with the items it occurs in:
    a phrasing typed 30 times would otherwise fill every lookup with its own
    copies, and the same wording in two items is the plainest sign of one
    idea."""
    index = SimilarityIndex()
    occurs: list[Counter[str]] = []
    number: dict[str, int] = {}
    for item in items:
        for text in item.texts:
            key = number.get(text)
            if key is None:
                key = number[text] = len(occurs)
                occurs.append(Counter())
                index.add(str(key), text)
            occurs[key][item.iid] += 1
    by_iid = {item.iid: item for item in items}
    items_in_theme = Counter(item.theme for item in items)
    out: dict[str, str] = {}
    for item in items:
        probes = item.texts[:VARIANT_PROBES]
        votes: Counter[str] = Counter()
        for text in probes:
            hits = index.search(text, VARIANT_NEIGHBOURS + 1)
            own = hits[0][1] if hits else 0.0
            for found, score in hits:
                if not own or score / own < VARIANT_TEXT_MATCH:
                    break  # best first
                elsewhere = [(n, iid) for iid, n in occurs[int(found)].items() if iid != item.iid]
                if elsewhere:
                    # The closest wording outside its item decides (most copies first).
                    votes[min(elsewhere, key=lambda e: (-e[0], e[1]))[1]] += 1
                    break
        if not votes:
            continue
        target, count = min(votes.items(), key=lambda kv: (-kv[1], kv[0]))
        theirs = by_iid[target]
        same_theme = item.theme == theirs.theme or items_in_theme[item.theme] == 1
        if 2 * count > len(probes) and len(theirs.texts) >= len(item.texts) and same_theme:
            out[item.iid] = target
    return out


def group_items(ranked: Iterable[str], points_at: Mapping[str, str]) -> list[list[str]]:
    """The ranked items in groups of variants, each group in rank order and
    the groups by their best member; links to unranked items are ignored."""
    order = list(ranked)
    position = {iid: n for n, iid in enumerate(order)}
    parent = {iid: iid for iid in order}

    def find(x: str) -> str:
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    for iid in order:
        target = points_at.get(iid)
        if target in position:
            a, b = find(iid), find(target)
            if a != b:
                # The better-ranked root stays the root: it heads the group.
                a, b = sorted((a, b), key=position.__getitem__)
                parent[b] = a
    groups: dict[str, list[str]] = defaultdict(list)
    for iid in order:
        groups[find(iid)].append(iid)
    return sorted(groups.values(), key=lambda g: position[g[0]])
