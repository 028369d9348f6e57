"""Aggregating sorters' placements into the crowd's consensus structure.

Evidence, per pair of cards: how many placements showed both (``n``), how
many put them in the same idea (``idea``) and in the same theme (``theme``).
A stage-2 placement of groups (:mod:`.groups`) is evidence about every pair
of cards across the groups it shows. Counting is vectorised with numpy and
kept incrementally per campaign, so a re-aggregation only counts new
placements; the counts do not depend on the order of placements.

Clustering is **average-linkage agglomeration** on that sparse evidence:
repeatedly join the two clusters whose observed cross pairs have the highest
share of "same" votes, while that share is at least the threshold. Unlike
joining every pair above the threshold (union-find), one careless sorter who
merges two big ideas is outvoted by every other pair observed between them.
Ties are broken by card id, so the result is a function of the evidence only.
Ideas are clustered from cards, then themes from ideas, the same way.
"""

from __future__ import annotations

import heapq
import threading
from array import array
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from essaim.model.hand_items import card_key, group_members
from essaim.model.state import Placement
from essaim.model.types import Idea, SortingInput, Structure, Theme

from essaim_builtins.collection.similarity import SimilarityIndex

__all__ = ["Evidence", "aggregate_placements", "agglomerate", "attach_lone_cards"]

#: Pseudo-votes "not the same" added to every pair and cluster pair before
#: comparing with the threshold, in units of an average sorter: a single
#: call by an average sorter still joins two cards (1 / 1.5 > 0.5), a single
#: call by a sorter the others contradict does not.
PRIOR_VOTES = 0.5
#: Weight of a sorter the others never confirm: small, not zero, so a lone
#: sorter's placements still count when nobody else saw the same cards.
MIN_SORTER_WEIGHT = 0.05
#: A lone card joins the idea of its closest wording when the cosine
#: (relative to the card's match with itself) is at least this: the same
#: words, give or take a prefix ("I think...") or a word form. The benchmark
#: campaigns gave the same figures from 0.4 to 0.8.
LONE_TEXT_MATCH = 0.6
#: Closest wordings a lone card looks at: identical wordings tie, and at
#: thousands of cards a dozen copies of one phrasing may come first, some of
#: them fragments too.
LONE_NEIGHBOURS = 40
#: Ideas of at most this many cards are *fragments*: they join the idea
#: their cards' wordings point to, as lone cards do (a fragment is a few
#: copies of one phrasing the crowd never happened to see with the rest).
#: Demo campaign, 3,000 people: 250 -> 66 ideas, ARI 0.61 -> 0.65 (1 seed).
FRAGMENT_CARDS = 3


@dataclass(slots=True)
class Evidence:
    """Pair and card counts from a set of placements (order-independent)."""

    index: dict[str, int] = field(default_factory=dict)  # cid -> stable node number
    keys: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))  # a * BIG + b, a < b
    n: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))
    idea: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))
    theme: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))
    placed: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    offtopic: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    #: The placements counted, in order: a later snapshot must extend them
    #: (the very same objects) to be counted incrementally.
    counted: list[Placement] = field(default_factory=list)
    #: One row per observed pair per placement, for weighting sorters.
    sorters: dict[str, int] = field(default_factory=dict)
    obs_key: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))
    obs_sorter: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int32))
    obs_idea: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int8))
    obs_theme: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int8))

    #: Node numbers fit in 32 bits; a pair key is a * BIG + b.
    BIG = 1 << 32

    def node(self, cid: str) -> int:
        number = self.index.get(cid)
        if number is None:
            number = self.index[cid] = len(self.index)
        return number

    def add(self, placements: Sequence[Placement]) -> None:
        """Count new placements into the evidence."""
        # Flat length -> rows of (nodes, items, ideas, themes), in flat int
        # arrays: no list per row, so little garbage for the collector.
        rows: dict[int, array[int]] = defaultdict(lambda: array("q"))
        row_sorters: dict[int, list[int]] = defaultdict(list)
        for p in placements:
            self.counted.append(p)
            nodes: list[int] = []
            items: list[int] = []
            ideas: list[int] = []
            themes: list[int] = []
            label = 0
            for t, theme in enumerate(p.themes):
                for idea in theme:
                    label += 1
                    for item in idea:
                        label_item = len(items) and items[-1] + 1
                        for cid in group_members(item):
                            self.placed[cid] += 1
                            nodes.append(self.node(cid))
                            items.append(label_item)
                            ideas.append(label)
                            themes.append(t)
            for item in p.offtopic:
                label += 1
                label_item = len(items) and items[-1] + 1
                for cid in group_members(item):
                    self.placed[cid] += 1
                    self.offtopic[cid] += 1
                    nodes.append(self.node(cid))
                    items.append(label_item)
                    ideas.append(-label)
                    themes.append(-label)
            if len(nodes) > 1:
                block = rows[len(nodes)]
                block.extend(nodes)
                block.extend(items)
                block.extend(ideas)
                block.extend(themes)
                row_sorters[len(nodes)].append(self.sorters.setdefault(p.sorter, len(self.sorters)))
        new_keys, new_n, new_idea, new_theme = [self.keys], [self.n], [self.idea], [self.theme]
        obs_key, obs_sorter, obs_idea, obs_theme = [self.obs_key], [self.obs_sorter], [self.obs_idea], [self.obs_theme]
        for length, block in rows.items():
            arr = np.frombuffer(block, dtype=np.int64).reshape(-1, 4, length)
            left, right = np.triu_indices(length, 1)
            node_l, node_r = arr[:, 0, left], arr[:, 0, right]
            keep = (arr[:, 1, left] != arr[:, 1, right]) & (node_l != node_r)
            lo = np.minimum(node_l, node_r)[keep]
            hi = np.maximum(node_l, node_r)[keep]
            new_keys.append(lo * self.BIG + hi)
            new_n.append(np.ones(lo.size, np.int64))
            new_idea.append((arr[:, 2, left] == arr[:, 2, right])[keep].astype(np.int64))
            new_theme.append((arr[:, 3, left] == arr[:, 3, right])[keep].astype(np.int64))
            who = np.broadcast_to(np.asarray(row_sorters[length], np.int32)[:, None], keep.shape)[keep]
            obs_key.append(new_keys[-1])
            obs_sorter.append(who)
            obs_idea.append(new_idea[-1].astype(np.int8))
            obs_theme.append(new_theme[-1].astype(np.int8))
        keys = np.concatenate(new_keys)
        self.keys, inverse = np.unique(keys, return_inverse=True)
        size = self.keys.size
        self.n = np.bincount(inverse, np.concatenate(new_n), size).astype(np.int64)
        self.idea = np.bincount(inverse, np.concatenate(new_idea), size).astype(np.int64)
        self.theme = np.bincount(inverse, np.concatenate(new_theme), size).astype(np.int64)
        self.obs_key = np.concatenate(obs_key)
        self.obs_sorter = np.concatenate(obs_sorter)
        self.obs_idea = np.concatenate(obs_idea)
        self.obs_theme = np.concatenate(obs_theme)

    def weighted(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Per-pair (n, idea, theme) with each sorter weighted by reliability.

        A sorter's reliability is their balanced agreement with the other
        sorters who saw the same pairs: the share of their "same" calls the
        others' majority confirms, averaged with the share of their
        "different" calls it confirms (each with one pseudo-count of each
        kind), on "same idea" and on "same theme" calls alike, counting only
        the kinds of call the sorter made: a crowd that sorts into piles
        (themes of lone cards) never says "same idea", and is weighed by its
        theme calls (quality benchmark: ARI of its themes 0.355 -> 0.489 at
        10 placements per card with similar-card hands). Weight = 2 x reliability - 1, at least MIN_SORTER_WEIGHT: a
        sorter merging at random counts far less than a careful one, and with
        no overlap at all every sorter weighs the same."""
        if not self.obs_key.size:
            return self.n.astype(float), self.idea.astype(float), self.theme.astype(float)
        at = np.searchsorted(self.keys, self.obs_key)
        others_n = self.n[at] - 1
        has = others_n > 0
        m = len(self.sorters)
        # Balanced agreement with the others' majority, on "same idea" calls
        # and on "same theme" calls alike: a crowd that says "same" only by
        # putting cards in one theme is weighed by those calls.
        hits = np.zeros(m)
        kinds = np.zeros(m)
        for calls, counts in ((self.obs_idea, self.idea), (self.obs_theme, self.theme)):
            others_yes = counts[at] - calls
            majority = np.zeros(at.size, bool)
            majority[has] = others_yes[has] * 2 >= others_n[has]
            merged = calls == 1
            agree = merged == majority
            for side in (merged, ~merged):
                made = np.bincount(self.obs_sorter[has & side], minlength=m)
                right = np.bincount(self.obs_sorter[has & side & agree], minlength=m)
                # Only the kinds of call a sorter made count (with one
                # pseudo-count each way): no "same idea" call at all says
                # nothing about a sorter, it is not half wrong.
                hits += np.where(made > 0, (right + 1) / (made + 2), 0.0)
                kinds += made > 0
        reliability = np.where(kinds > 0, hits / np.maximum(kinds, 1), 0.5)
        # Multiples of 1/1024 add up exactly, so sums do not depend on the
        # order of placements.
        per_sorter = np.clip(2 * reliability - 1, MIN_SORTER_WEIGHT, 1.0)
        # In units of the average sorter, so PRIOR_VOTES means the same with
        # or without overlap between sorters.
        seen = np.bincount(self.obs_sorter, minlength=m) > 0
        per_sorter = per_sorter / per_sorter[seen].mean()
        weight = (np.round(per_sorter * 1024) / 1024)[self.obs_sorter]
        size = self.keys.size
        return (np.bincount(at, weight, size), np.bincount(at, weight * self.obs_idea, size),
                np.bincount(at, weight * self.obs_theme, size))


class _Cache:
    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.evidence = Evidence()


def evidence_for(snapshot: SortingInput) -> Evidence:
    """The campaign's evidence, counting only placements not seen before: a
    cache in ``snapshot.caches`` (the campaign's; dropped when it finishes
    or is unloaded, see essaim.model.caches).

    Rebuilt from scratch whenever the snapshot does not extend what was
    counted (a shuffled test input fed to the same caches)."""
    cache = snapshot.caches.get((__name__, "evidence"), _Cache)
    with cache.lock:
        ev = cache.evidence
        done = len(ev.counted)
        placements = snapshot.placements
        if done > len(placements) or not all(a is b for a, b in zip(ev.counted, placements)):
            ev = cache.evidence = Evidence()
            done = 0
        if done < len(placements):
            ev.add(placements[done:])
        # A copy of everything ``add`` mutates in place, taken under the lock:
        # another thread may count newer placements into the cache while the
        # caller reads this (the arrays are replaced, never changed in place).
        return Evidence(dict(ev.index), ev.keys, ev.n, ev.idea, ev.theme, dict(ev.placed), dict(ev.offtopic),
                        list(ev.counted), dict(ev.sorters), ev.obs_key, ev.obs_sorter, ev.obs_idea, ev.obs_theme)


def agglomerate(
    n_nodes: int, a: np.ndarray, b: np.ndarray, yes: np.ndarray, n: np.ndarray, threshold: float,
    prior: float = 0.0,
) -> np.ndarray:
    """Average-linkage agglomeration on a sparse graph; returns a cluster label
    per node (the smallest node number in its cluster).

    Node numbers must already be in tie-break order (lower first). Edges are
    observed pairs with ``yes`` "same" votes out of ``n``; two clusters join
    while the share of "same" votes over all their observed cross pairs is the
    highest and at least ``threshold``."""
    labels = np.arange(n_nodes)
    if a.size == 0:
        return labels
    # Adjacency (both directions), sorted by node, as CSR.
    src = np.concatenate([a, b])
    dst = np.concatenate([b, a])
    order = np.argsort(src, kind="stable")
    dst, w_yes, w_n = dst[order], np.concatenate([yes, yes])[order], np.concatenate([n, n])[order]
    start = np.searchsorted(src[order], np.arange(n_nodes + 1))
    members: dict[int, list[int]] = {}
    version = np.zeros(n_nodes, np.int64)
    share = yes / (n + prior)
    good = (yes > 0) & (share >= threshold)
    # The initial pairs are taken in sorted order from numpy arrays; only
    # pairs of merged clusters go through a (small) heap. Millions of heap
    # tuples would cost seconds of garbage collection on the trio thread.
    order0 = np.lexsort((b[good], a[good], -yes[good], -share[good]))
    init = (-share[good][order0], -yes[good][order0], a[good][order0], b[good][order0])
    init_s, init_y, init_a, init_b = (x.tolist() for x in init)
    pos, total = 0, len(init_a)
    heap: list[tuple[float, float, int, int, int, int]] = []
    while heap or pos < total:
        if pos < total and (not heap or (init_s[pos], init_y[pos], init_a[pos], init_b[pos]) < heap[0][:4]):
            x, z, vx, vz = init_a[pos], init_b[pos], 0, 0
            pos += 1
        else:
            _, _, x, z, vx, vz = heapq.heappop(heap)
        if labels[x] != x or labels[z] != z or version[x] != vx or version[z] != vz:
            continue
        keep, drop = (x, z) if x < z else (z, x)
        group = members.pop(drop, [drop])
        merged = members.setdefault(keep, [keep])
        merged.extend(group)
        labels[group] = keep
        version[keep] += 1
        version[drop] += 1
        slices = [slice(start[m], start[m + 1]) for m in merged]
        nbr = labels[np.concatenate([dst[s] for s in slices])]
        y = np.concatenate([w_yes[s] for s in slices])
        c = np.concatenate([w_n[s] for s in slices])
        outside = nbr != keep
        if not outside.any():
            continue
        nbr, y, c = nbr[outside], y[outside], c[outside]
        uniq, inv = np.unique(nbr, return_inverse=True)
        ys = np.bincount(inv, y, uniq.size)
        cs = np.bincount(inv, c, uniq.size)
        ratio = ys / (cs + prior)
        for other, r, yy in zip(uniq[(ys > 0) & (ratio >= threshold)], ratio[(ys > 0) & (ratio >= threshold)],
                                ys[(ys > 0) & (ratio >= threshold)]):
            o = int(other)
            first, second = (keep, o) if keep < o else (o, keep)
            heapq.heappush(heap, (-float(r), -float(yy), first, second, int(version[first]), int(version[second])))
    return labels


def attach_lone_cards(
    texts: Sequence[str], idea_of: np.ndarray, lo: np.ndarray, hi: np.ndarray, yes: np.ndarray, n: np.ndarray,
) -> np.ndarray:
    """Fragments of two to FRAGMENT_CARDS cards, then cards the crowd left
    alone, join the idea of their closest wording.

    A card dealt only among cards of other ideas gets no "same idea" call at
    all and ends up an idea of its own: at 3 placements per card, a tenth of
    the cards of a 300-person campaign and a third at 3,000, each then
    evaluated (and ranked) as if it were another idea; a few copies of one
    phrasing end up the same way. Each card of such a small idea votes for
    the idea of its most similar card by the suggestions' index (cosine,
    relative to the card's match with itself, at least LONE_TEXT_MATCH)
    among bigger ideas (twice its size at least; more than FRAGMENT_CARDS
    for a fragment, two cards for a lone card); it joins the idea at least
    half its cards vote for, unless the crowd saw them together and said
    "not the same" (share of "same" below a half). Fragments move first,
    then lone cards, each onto ideas that stay where they are, so nothing
    chains; bigger ideas are never moved: the crowd decided those."""
    index: SimilarityIndex | None = None
    for smallest, largest, target_above in ((2, FRAGMENT_CARDS, FRAGMENT_CARDS), (1, 1, 1)):
        size = np.bincount(idea_of, minlength=len(texts))
        small = (size[idea_of] >= smallest) & (size[idea_of] <= largest)
        if not small.any():
            continue
        if index is None:
            index = SimilarityIndex()
            for rank, text in enumerate(texts):
                index.add(str(rank), text)
        idea_of = _attach(index, texts, idea_of, size, small, target_above, lo, hi, yes, n)
    return idea_of


def _attach(
    index: SimilarityIndex, texts: Sequence[str], idea_of: np.ndarray, size: np.ndarray, small: np.ndarray,
    target_above: int, lo: np.ndarray, hi: np.ndarray, yes: np.ndarray, n: np.ndarray,
) -> np.ndarray:
    """One pass of :func:`attach_lone_cards`: the ideas of the ``small`` cards
    join ideas of more than ``target_above`` cards."""
    # Crowd evidence between each small idea and the ideas it was seen with.
    touching = (small[lo] | small[hi]) & (idea_of[lo] != idea_of[hi])
    seen: dict[tuple[int, int], list[float]] = defaultdict(lambda: [0.0, 0.0])
    for x, y, yy, nn in zip(idea_of[lo[touching]].tolist(), idea_of[hi[touching]].tolist(),
                            yes[touching].tolist(), n[touching].tolist()):
        for pair in ((x, y), (y, x)):
            tally = seen[pair]
            tally[0] += yy
            tally[1] += nn
    members: dict[int, list[int]] = defaultdict(list)
    for card in np.flatnonzero(small).tolist():
        members[int(idea_of[card])].append(card)
    out = idea_of.copy()
    for idea, cards in members.items():
        votes: dict[int, int] = defaultdict(int)
        for card in cards:
            hits = index.search(texts[card], LONE_NEIGHBOURS + 1)
            # A card's match with itself is the best there is (identical
            # wordings tie with it and may push it out of the first hits).
            own = hits[0][1] if hits else 0.0
            for cid, score in hits:
                if not own or score / own < LONE_TEXT_MATCH:
                    break  # hits come best first
                target = int(idea_of[int(cid)])
                if target == idea or size[target] <= target_above or size[target] < 2 * len(cards):
                    continue
                said = seen.get((idea, target))
                if said is not None and said[1] > 0 and said[0] < 0.5 * said[1]:
                    continue  # the crowd saw them together and kept them apart
                votes[target] += 1
                break
        if votes:
            target, count = max(votes.items(), key=lambda kv: (kv[1], -kv[0]))
            if 2 * count >= len(cards):
                out[cards] = target
    return out


def _share(yes: np.ndarray, n: np.ndarray) -> float:
    total = int(n.sum())
    return round(float(yes.sum()) / total, 3) if total else 1.0


def aggregate_placements(
    snapshot: SortingInput, *, idea_threshold: float, theme_threshold: float, offtopic_share: float = 0.5,
    attach_lone: bool = True,
) -> Structure:
    """The crowd's structure; ``attach_lone=False`` leaves lone cards alone
    (:func:`attach_lone_cards`), for the quality benchmark's comparison."""
    ev = evidence_for(snapshot)
    visible = [cid for cid, c in snapshot.cards.items() if not c.hidden]
    off = sorted(
        (cid for cid in visible if ev.placed.get(cid) and ev.offtopic.get(cid, 0) > offtopic_share * ev.placed[cid]),
        key=card_key,
    )
    off_set = set(off)
    cards = sorted((cid for cid in visible if cid not in off_set), key=card_key)
    rank = {cid: i for i, cid in enumerate(cards)}

    # Evidence restricted to live cards, renumbered in tie-break order.
    to_rank = np.full(len(ev.index) + 1, -1, np.int64)
    for cid, number in ev.index.items():
        if cid in rank:
            to_rank[number] = rank[cid]
    ra = to_rank[ev.keys // Evidence.BIG] if ev.keys.size else np.zeros(0, np.int64)
    rb = to_rank[ev.keys % Evidence.BIG] if ev.keys.size else np.zeros(0, np.int64)
    live = (ra >= 0) & (rb >= 0)
    ra, rb = ra[live], rb[live]
    lo, hi = np.minimum(ra, rb), np.maximum(ra, rb)
    # Clustering weighs sorters by reliability; agreement scores report the
    # plain share of sorters, which is what a facilitator can check.
    w_n, w_idea, w_theme = ev.weighted()
    n, idea_yes, theme_yes = w_n[live], w_idea[live], w_theme[live]
    raw_n, raw_idea, raw_theme = ev.n[live], ev.idea[live], ev.theme[live]

    idea_of = agglomerate(len(cards), lo, hi, idea_yes, n, idea_threshold, PRIOR_VOTES)
    if attach_lone:
        idea_of = attach_lone_cards([snapshot.cards[c].text for c in cards], idea_of, lo, hi, idea_yes, n)
    # Idea graph: sum the evidence between cards of different ideas.
    idea_roots = np.unique(idea_of)
    idea_number = np.searchsorted(idea_roots, idea_of)
    ia, ib = idea_number[lo], idea_number[hi]
    cross = ia != ib
    pair = np.minimum(ia, ib)[cross] * Evidence.BIG + np.maximum(ia, ib)[cross]
    ukeys, inv = np.unique(pair, return_inverse=True)
    t_yes = np.bincount(inv, theme_yes[cross], ukeys.size)
    t_n = np.bincount(inv, n[cross], ukeys.size)
    theme_of = agglomerate(idea_roots.size, ukeys // Evidence.BIG, ukeys % Evidence.BIG, t_yes, t_n, theme_threshold, PRIOR_VOTES)

    same_idea = idea_of[lo] == idea_of[hi]
    supporters = {cid: len(snapshot.cards[cid].supporters) for cid in cards}
    ideas_by_theme: dict[int, list[Idea]] = defaultdict(list)
    theme_cards: dict[int, list[int]] = defaultdict(list)
    members_of: dict[int, list[int]] = defaultdict(list)
    for r, root in enumerate(idea_of):
        members_of[int(root)].append(r)
    # Per-idea agreement: share of "same idea" votes among its observed inner
    # pairs; a lone card: share of "not the same" among its observed pairs.
    inner_yes = np.bincount(idea_number[lo][same_idea], raw_idea[same_idea], idea_roots.size)
    inner_n = np.bincount(idea_number[lo][same_idea], raw_n[same_idea], idea_roots.size)
    touch_yes = np.bincount(np.concatenate([lo, hi]), np.concatenate([raw_idea, raw_idea]), len(cards))
    touch_n = np.bincount(np.concatenate([lo, hi]), np.concatenate([raw_n, raw_n]), len(cards))
    centrality = np.bincount(np.concatenate([lo[same_idea], hi[same_idea]]),
                             np.concatenate([idea_yes[same_idea], idea_yes[same_idea]]), len(cards))
    for number, root in enumerate(idea_roots):
        ranks = members_of[int(root)]
        if len(ranks) > 1:
            agreement = round(float(inner_yes[number] / inner_n[number]), 3) if inner_n[number] else 1.0
        else:
            r = ranks[0]
            agreement = round(1 - float(touch_yes[r] / touch_n[r]), 3) if touch_n[r] else 1.0
        best = max(ranks, key=lambda r: (supporters[cards[r]], centrality[r], -r))
        idea = Idea(
            iid=f"i{cards[ranks[0]]}",
            title=snapshot.cards[cards[best]].text,
            cards=tuple(cards[r] for r in sorted(ranks, key=lambda r: (r != best, r))),
            agreement=agreement,
        )
        ideas_by_theme[int(theme_of[number])].append(idea)
        theme_cards[int(theme_of[number])].extend(ranks)

    same_theme = theme_of[idea_number[lo]] == theme_of[idea_number[hi]]
    theme_number = {root: i for i, root in enumerate(sorted(ideas_by_theme))}
    th_lo = np.array([theme_number[int(t)] for t in theme_of], np.int64)[idea_number[lo][same_theme]] \
        if lo.size else np.zeros(0, np.int64)
    th_yes = np.bincount(th_lo, raw_theme[same_theme], len(theme_number))
    th_n = np.bincount(th_lo, raw_n[same_theme], len(theme_number))
    themes = []
    for root, ideas in ideas_by_theme.items():
        ideas.sort(key=lambda i: (-len(i.cards), card_key(i.cards[0])))
        t = theme_number[root]
        themes.append(Theme(
            tid=f"t{cards[min(theme_cards[root])]}",
            title=ideas[0].title,
            ideas=tuple(ideas),
            agreement=round(float(th_yes[t] / th_n[t]), 3) if th_n[t] else 1.0,
        ))
    themes.sort(key=lambda t: (-sum(len(i.cards) for i in t.ideas), card_key(t.tid[1:])))
    return Structure(themes=tuple(themes), offtopic=tuple(off), seq=snapshot.seq)
