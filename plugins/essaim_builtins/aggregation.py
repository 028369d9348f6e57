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
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from essaim.state import Placement
from essaim.types import Idea, SortingInput, Structure, Theme

from .groups import card_key, group_members

__all__ = ["Evidence", "aggregate_placements", "agglomerate"]


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

    #: Node numbers fit in 32 bits; a pair key is a * BIG + b.
    BIG = 1 << 32

    def node(self, cid: str) -> int:
        number = self.index.get(cid)
        if number is None:
            number = self.index[cid] = len(self.index)
        return number

    def add(self, placements: Sequence[Placement]) -> None:
        """Count new placements into the evidence."""
        rows: dict[int, list[list[int]]] = defaultdict(list)  # flat length -> rows of (node, item, idea, theme)
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
                rows[len(nodes)].append(nodes + items + ideas + themes)
        new_keys, new_n, new_idea, new_theme = [self.keys], [self.n], [self.idea], [self.theme]
        for length, block in rows.items():
            arr = np.asarray(block, dtype=np.int64).reshape(len(block), 4, length)
            left, right = np.triu_indices(length, 1)
            node_l, node_r = arr[:, 0, left], arr[:, 0, right]
            keep = (arr[:, 1, left] != arr[:, 1, right]) & (node_l != node_r)
            lo = np.minimum(node_l, node_r)[keep]
            hi = np.maximum(node_l, node_r)[keep]
            new_keys.append(lo * self.BIG + hi)
            new_n.append(np.ones(lo.size, np.int64))
            new_idea.append((arr[:, 2, left] == arr[:, 2, right])[keep].astype(np.int64))
            new_theme.append((arr[:, 3, left] == arr[:, 3, right])[keep].astype(np.int64))
        keys = np.concatenate(new_keys)
        self.keys, inverse = np.unique(keys, return_inverse=True)
        size = self.keys.size
        self.n = np.bincount(inverse, np.concatenate(new_n), size).astype(np.int64)
        self.idea = np.bincount(inverse, np.concatenate(new_idea), size).astype(np.int64)
        self.theme = np.bincount(inverse, np.concatenate(new_theme), size).astype(np.int64)


class _Cache:
    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.evidence = Evidence()


_caches: dict[str, _Cache] = {}
_caches_lock = threading.Lock()


def evidence_for(snapshot: SortingInput) -> Evidence:
    """The campaign's evidence, counting only placements not seen before.

    Rebuilt from scratch whenever the snapshot does not extend what was
    counted (another engine, a replay, a shuffled test input)."""
    with _caches_lock:
        cache = _caches.setdefault(snapshot.campaign_id, _Cache())
    with cache.lock:
        ev = cache.evidence
        done = len(ev.counted)
        placements = snapshot.placements
        if done > len(placements) or not all(a is b for a, b in zip(ev.counted, placements)):
            ev = cache.evidence = Evidence()
            done = 0
        if done < len(placements):
            ev.add(placements[done:])
        return Evidence(ev.index, ev.keys, ev.n, ev.idea, ev.theme, dict(ev.placed), dict(ev.offtopic), list(ev.counted))


def agglomerate(
    n_nodes: int, a: np.ndarray, b: np.ndarray, yes: np.ndarray, n: np.ndarray, threshold: float
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
    share = yes / n
    good = (yes > 0) & (share >= threshold)
    heap = [(-float(s), -int(y), int(x), int(z), 0, 0) for s, y, x, z in zip(share[good], yes[good], a[good], b[good])]
    heapq.heapify(heap)
    while heap:
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
        ratio = ys / cs
        for other, r, yy in zip(uniq[(ys > 0) & (ratio >= threshold)], ratio[(ys > 0) & (ratio >= threshold)],
                                ys[(ys > 0) & (ratio >= threshold)]):
            o = int(other)
            first, second = (keep, o) if keep < o else (o, keep)
            heapq.heappush(heap, (-float(r), -int(yy), first, second, int(version[first]), int(version[second])))
    return labels


def _share(yes: np.ndarray, n: np.ndarray) -> float:
    total = int(n.sum())
    return round(float(yes.sum()) / total, 3) if total else 1.0


def aggregate_placements(
    snapshot: SortingInput, *, idea_threshold: float, theme_threshold: float, offtopic_share: float = 0.5
) -> Structure:
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
    n, idea_yes, theme_yes = ev.n[live], ev.idea[live], ev.theme[live]

    idea_of = agglomerate(len(cards), lo, hi, idea_yes, n, idea_threshold)
    # Idea graph: sum the evidence between cards of different ideas.
    idea_roots = np.unique(idea_of)
    idea_number = np.searchsorted(idea_roots, idea_of)
    ia, ib = idea_number[lo], idea_number[hi]
    cross = ia != ib
    pair = np.minimum(ia, ib)[cross] * Evidence.BIG + np.maximum(ia, ib)[cross]
    ukeys, inv = np.unique(pair, return_inverse=True)
    t_yes = np.bincount(inv, theme_yes[cross], ukeys.size).astype(np.int64)
    t_n = np.bincount(inv, n[cross], ukeys.size).astype(np.int64)
    theme_of = agglomerate(idea_roots.size, ukeys // Evidence.BIG, ukeys % Evidence.BIG, t_yes, t_n, theme_threshold)

    same_idea = idea_of[lo] == idea_of[hi]
    supporters = {cid: len(snapshot.cards[cid].supporters) for cid in cards}
    ideas_by_theme: dict[int, list[Idea]] = defaultdict(list)
    theme_cards: dict[int, list[int]] = defaultdict(list)
    members_of: dict[int, list[int]] = defaultdict(list)
    for r, root in enumerate(idea_of):
        members_of[int(root)].append(r)
    # Per-idea agreement: share of "same idea" votes among its observed inner
    # pairs; a lone card: share of "not the same" among its observed pairs.
    inner_yes = np.bincount(idea_number[lo][same_idea], idea_yes[same_idea], idea_roots.size)
    inner_n = np.bincount(idea_number[lo][same_idea], n[same_idea], idea_roots.size)
    touch_yes = np.bincount(np.concatenate([lo, hi]), np.concatenate([idea_yes, idea_yes]), len(cards))
    touch_n = np.bincount(np.concatenate([lo, hi]), np.concatenate([n, n]), len(cards))
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
    th_yes = np.bincount(th_lo, theme_yes[same_theme], len(theme_number))
    th_n = np.bincount(th_lo, n[same_theme], len(theme_number))
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
