"""Aggregating sorters' placements into a consensus structure.

For every pair of cards, count the placements where both were in the same
hand, and among those, how often they were put in the same idea and in the
same theme. Pairs above a threshold are joined (union-find), so the result
does not depend on the order of placements.
"""

from __future__ import annotations

from collections import defaultdict
from itertools import combinations

from essaim.types import Idea, SortingInput, Structure, Theme


class _UnionFind:
    def __init__(self) -> None:
        self.parent: dict[str, str] = {}

    def find(self, x: str) -> str:
        self.parent.setdefault(x, x)
        root = x
        while self.parent[root] != root:
            root = self.parent[root]
        while self.parent[x] != root:
            self.parent[x], x = root, self.parent[x]
        return root

    def union(self, a: str, b: str) -> None:
        ra, rb = self.find(a), self.find(b)
        if ra != rb:
            # Smallest id wins, so the result is independent of order.
            if rb < ra:
                ra, rb = rb, ra
            self.parent[rb] = ra


def _key(cid: str) -> tuple[int, str]:
    digits = "".join(ch for ch in cid if ch.isdigit())
    return (int(digits) if digits else 0, cid)


def aggregate_placements(snapshot: SortingInput, *, idea_threshold: float, theme_threshold: float) -> Structure:
    together: dict[tuple[str, str], int] = defaultdict(int)
    same_idea: dict[tuple[str, str], int] = defaultdict(int)
    same_theme: dict[tuple[str, str], int] = defaultdict(int)
    offtopic: dict[str, int] = defaultdict(int)
    placed: dict[str, int] = defaultdict(int)
    for p in snapshot.placements:
        items = sorted({i for theme in p.themes for idea in theme for i in idea} | set(p.offtopic))
        for cid in items:
            placed[cid] += 1
        for cid in p.offtopic:
            offtopic[cid] += 1
        for pair in combinations(items, 2):
            together[pair] += 1
        for theme in p.themes:
            members = sorted(i for idea in theme for i in idea)
            for pair in combinations(members, 2):
                same_theme[pair] += 1
            for idea in theme:
                for pair in combinations(sorted(idea), 2):
                    same_idea[pair] += 1

    visible = {cid for cid, c in snapshot.cards.items() if not c.hidden}
    off = {cid for cid in visible if placed[cid] and offtopic[cid] / placed[cid] > 0.5}
    cards = sorted(visible - off, key=_key)

    ideas_uf = _UnionFind()
    for cid in cards:
        ideas_uf.find(cid)
    for (a, b), n in same_idea.items():
        if a in ideas_uf.parent and b in ideas_uf.parent and n / together[(a, b)] >= idea_threshold:
            ideas_uf.union(a, b)
    idea_members: dict[str, list[str]] = defaultdict(list)
    for cid in cards:
        idea_members[ideas_uf.find(cid)].append(cid)

    themes_uf = _UnionFind()
    for root in idea_members:
        themes_uf.find(root)
    theme_votes: dict[tuple[str, str], list[int]] = defaultdict(lambda: [0, 0])
    for (a, b), n in together.items():
        if a in ideas_uf.parent and b in ideas_uf.parent:
            ra, rb = ideas_uf.find(a), ideas_uf.find(b)
            if ra != rb:
                key = (ra, rb) if ra < rb else (rb, ra)
                votes = theme_votes[key]
                votes[0] += same_theme.get((a, b), 0)
                votes[1] += n
    for (ra, rb), (yes, n) in theme_votes.items():
        if yes / n >= theme_threshold:
            themes_uf.union(ra, rb)

    def agreement(members: list[str], counts: dict[tuple[str, str], int]) -> float:
        pairs = [(a, b) if a < b else (b, a) for a, b in combinations(members, 2)]
        seen = [(counts.get(p, 0), together[p]) for p in pairs if together.get(p)]
        if not seen:
            return 1.0
        return round(sum(y for y, _ in seen) / sum(n for _, n in seen), 3)

    def title(members: list[str]) -> str:
        best = max(members, key=lambda c: (len(snapshot.cards[c].supporters), -_key(c)[0]))
        return snapshot.cards[best].text

    by_theme: dict[str, list[str]] = defaultdict(list)
    for root in sorted(idea_members, key=_key):
        by_theme[themes_uf.find(root)].append(root)
    themes = []
    for t, roots in enumerate(sorted(by_theme.values(), key=lambda r: _key(r[0])), start=1):
        ideas = tuple(
            Idea(
                iid=f"i{root}",
                title=title(idea_members[root]),
                cards=tuple(idea_members[root]),
                agreement=agreement(idea_members[root], same_idea),
            )
            for root in roots
        )
        all_cards = [c for root in roots for c in idea_members[root]]
        themes.append(
            Theme(tid=f"t{t}", title=ideas[0].title, ideas=ideas, agreement=agreement(all_cards, same_theme))
        )
    return Structure(themes=tuple(themes), offtopic=tuple(sorted(off, key=_key)), seq=snapshot.seq)
