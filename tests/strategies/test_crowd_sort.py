"""Structuring strategy ``crowd_sort``: dealing and aggregation.

Property tests run 40-60 examples by default; ESSAIM_HYPOTHESIS_EXAMPLES=800
runs a deeper search (about 15 s).
"""

from __future__ import annotations

import os
import sys
import threading
from collections import Counter

from hypothesis import given, settings
from hypothesis import strategies as st

from essaim.model.hand_items import group_id, group_members
from essaim.model.state import Placement
from essaim.model.types import CardInfo, SortingInput

from essaim_builtins.structuring.aggregation import aggregate_placements, evidence_for
from essaim_builtins.structuring.dealing import BucketQueue

from .strategy_campaign import harness


def test_bucket_queue_gives_least_counted_first_in_arrival_order() -> None:
    q = BucketQueue()
    for item in "abc":
        q.add(item)
    q.bump("a")
    assert list(q.level(0)) == ["b", "c"]
    assert list(q.level(1)) == ["a"]
    q.remove("b")
    assert list(q.level(0)) == ["c"] and "b" not in q


def test_bucket_queue_lowest_walks_only_as_far_as_asked() -> None:
    q = BucketQueue()
    for item in "abcd":
        q.add(item)
    for item in "abc":
        q.bump(item)
    assert q.lowest(2) == ["d", "a"]
    q.bump("d")
    q.bump("d")  # level 0 and the hint past it are now empty
    assert q.lowest(10) == ["a", "b", "c", "d"]
    q.add("e")  # a new item at count 0 moves the hint back
    assert q.lowest(1) == ["e"]


def _sorting_campaign(n_cards: int = 24, sort: str = "placements_per_card = 2\nstages = 2"):
    h = harness(sort=sort)
    authors = [h.join({"role": "Office"}) for _ in range(4)]
    h.start_phase(0)
    for i in range(n_cards):
        h.write(authors[i % 4], f"card {i} about topic{i % 6} detail{i}")
    h.emit("phase_ended", index=0, reason="advance")
    h.start_phase(1)
    return h, authors


def test_each_card_is_dealt_k_times_then_groups_are_dealt() -> None:
    h, _authors = _sorting_campaign(sort="placements_per_card = 2\nstages = 2\nmax_placements_per_card = 2")
    sorters = [h.join({"role": "Office"}) for _ in range(6)]
    stages: Counter[int] = Counter()
    for _ in range(4):
        for pid in sorters:
            deal = h.deal(pid)
            if deal is None:
                continue
            stages[deal.stage] += 1
            items = list(deal.items)
            assert len(items) == len(set(items)) <= 8
            assert all(h.state.cards[c].author != pid for i in items for c in group_members(i))
            h.place(pid, [[items[:2]], [items[2:]]], [])
    dealt = Counter(c.dealt for c in h.state.cards.values())
    assert set(dealt) == {2}, dealt  # every card exactly k = 2 times in stage 1
    assert stages[2] > 0, "stage 2 deals the groups formed in stage 1"
    stage2 = [hand for hand in h.state.hands.values() if hand.stage == 2]
    assert all(item.startswith("g:") for hand in stage2 for item in hand.items)


def test_sorters_who_ask_for_more_get_cards_again_up_to_the_maximum() -> None:
    # No wording neighbours (they may be anchors beyond 2 placements; see below).
    h, _authors = _sorting_campaign(sort="placements_per_card = 2\nstages = 1\nmax_placements_per_card = 4\n"
                                         "similar_share = 0")
    sorters = [h.join({"role": "Office"}) for _ in range(12)]
    levels = []
    for _ in range(3):
        for pid in sorters:
            deal = h.deal(pid)
            if deal is None:
                continue
            h.place(pid, [[[i] for i in deal.items]], [])
            levels.append(sorted(c.dealt for c in h.state.cards.values()))
    dealt = [c.dealt for c in h.state.cards.values()]
    # 12 sorters x 3 hands of 8 = 288 > 24 cards x 4: every card reaches
    # the maximum and none goes beyond it.
    assert set(dealt) == {4}, dealt
    # Least-dealt first: no card got a third placement before every card had two.
    for counts in levels:
        assert counts[-1] <= 2 or counts[0] >= 2, counts
    assert h.deal(h.join({"role": "Office"})) is None  # nothing left to sort


def test_cards_dealt_again_meet_new_companions() -> None:
    # In queue order the cards of one hand move up a level together and the
    # second round would deal the first round's hands again.
    h, _authors = _sorting_campaign(sort="placements_per_card = 1\nstages = 1\nmax_placements_per_card = 2\n"
                                         "similar_share = 0")
    sorters = [h.join({"role": "Office"}) for _ in range(6)]
    hands = []
    for pid in sorters:
        deal = h.deal(pid)
        assert deal is not None
        hands.append(frozenset(deal.items))
        h.place(pid, [[[i] for i in deal.items]], [])
    first, second = hands[:3], hands[3:]
    assert set().union(*first) == set(h.state.cards)  # round 1: every card once
    assert all(c.dealt == 2 for c in h.state.cards.values())  # round 2: every card again
    assert set(second) != set(first)


def test_a_card_dealt_late_meets_neighbours_that_already_have_their_placements() -> None:
    texts = ["one day a week without any meetings"] * 4 + [f"unrelated card {w}" for w in
                                                          "alpha beta gamma delta epsilon zeta eta theta".split()]
    h = harness(sort="placements_per_card = 1\nstages = 1\nmax_placements_per_card = 2\nhand_size = 4")
    authors = [h.join({"role": "Office"}) for _ in range(2)]
    h.start_phase(0)
    for n, text in enumerate(texts[:-1]):
        h.write(authors[n % 2], text)
    h.emit("phase_ended", index=0, reason="advance")
    h.start_phase(1)
    sorters = [h.join({"role": "Office"}) for _ in range(6)]
    for pid in sorters[:3]:  # the first cards, the meeting ones with them, get their placement
        deal = h.deal(pid)
        assert deal is not None
        h.place(pid, [[[i] for i in deal.items]], [])
    late = h.write(authors[0], "one day a week without meetings please")
    deal = h.deal(sorters[3])
    assert deal is not None and deal.items[0] == late
    meeting = {c for c in deal.items if "meetings" in h.state.cards[c].text and c != late}
    assert meeting, "the late card is dealt with wording neighbours as anchors"
    assert all(h.state.cards[c].dealt <= 2 for c in h.state.cards)  # anchors stop at the maximum


def test_sorters_never_get_their_own_cards_nor_a_card_twice() -> None:
    h, authors = _sorting_campaign(n_cards=12, sort="placements_per_card = 3\nstages = 1")
    seen: dict[str, list[str]] = {}
    for _ in range(6):
        for pid in authors:
            deal = h.deal(pid)
            if deal is None:
                continue
            seen.setdefault(pid, []).extend(deal.items)
            h.place(pid, [[[i] for i in deal.items]], [])
    for pid, items in seen.items():
        assert len(items) == len(set(items))
        assert all(h.state.cards[c].author != pid for c in items)


def test_profile_fitting_prompts_come_first_at_equal_counts() -> None:
    h = harness(sort="placements_per_card = 1\nstages = 1\nsimilar_share = 0")
    office, field = h.join({"role": "Office"}), h.join({"role": "Field"})
    h.start_phase(0)
    for i in range(8):
        h.write(office, f"general idea {i}", prompt="all")
    for i in range(8):
        h.write(office, f"field idea {i}", prompt="field")
    h.start_phase(1)
    deal = h.deal(field)
    assert deal is not None
    assert all(h.state.cards[c].prompt == "field" for c in deal.items)


def test_a_new_state_object_rebuilds_the_dealer() -> None:
    first, _ = _sorting_campaign(n_cards=8)
    sorter = first.join({"role": "Office"})
    deal = first.deal(sorter)
    assert deal is not None
    # Same campaign id, fresh state (a replay in another engine): nothing stale.
    second = harness()
    second.state.campaign_id = first.state.campaign_id
    pid = second.join({"role": "Office"})
    assert second.deal(pid) is None  # no card in this state


# -- aggregation -------------------------------------------------------------------------


def _snapshot(n_cards: int, placements: list[Placement], hidden: frozenset[str] = frozenset(),
              campaign: str = "agg") -> SortingInput:
    cards = {f"c{i}": CardInfo(f"c{i}", "p0", f"text {i}", (), f"c{i}" in hidden) for i in range(1, n_cards + 1)}
    return SortingInput(campaign, len(placements), cards, tuple(placements), {})


def _p(hid: str, sorter: str, themes: list, offtopic: list | None = None, stage: int = 1) -> Placement:
    return Placement(hid, sorter, stage, themes, offtopic or [], 0.0)


def _ideas(structure) -> list[set[str]]:
    return sorted((set(i.cards) for i in structure.ideas()), key=sorted)


def test_agreed_merges_become_ideas_and_themes() -> None:
    placements = [
        _p("h1", "s1", [[["c1", "c2"], ["c3"]], [["c4"]]]),
        _p("h2", "s2", [[["c1", "c2"], ["c3"]], [["c4"]]]),
        _p("h3", "s3", [[["c1"], ["c2"], ["c3"]], [["c4"]]]),
    ]
    s = aggregate_placements(_snapshot(4, placements), idea_threshold=0.5, theme_threshold=0.5)
    assert _ideas(s) == [{"c1", "c2"}, {"c3"}, {"c4"}]
    theme_of = {c: t.tid for t in s.themes for i in t.ideas for c in i.cards}
    assert theme_of["c1"] == theme_of["c3"] != theme_of["c4"]
    idea = next(i for i in s.ideas() if "c1" in i.cards)
    assert idea.agreement == round(2 / 3, 3)  # plain share of sorters, not reliability-weighted


def test_offtopic_majority_and_hidden_cards_leave_the_structure() -> None:
    placements = [
        _p("h1", "s1", [[["c1"], ["c2"]]], ["c3"]),
        _p("h2", "s2", [[["c1"], ["c2"]]], ["c3"]),
        _p("h3", "s3", [[["c1"], ["c2"], ["c3"]]]),
    ]
    s = aggregate_placements(_snapshot(4, placements, hidden=frozenset({"c4"})), idea_threshold=0.5,
                             theme_threshold=0.5)
    assert s.offtopic == ("c3",)
    assert {c for i in s.ideas() for c in i.cards} == {"c1", "c2"}


def test_stage_two_groups_merge_the_groups_of_stage_one() -> None:
    # Two stage-1 hands formed two groups; a stage-2 sorter saw both and merged them.
    placements = [
        _p("h1", "s1", [[["c1", "c2"]]]),
        _p("h2", "s2", [[["c3", "c4"]]]),
        _p("h3", "s3", [[[group_id(["c1", "c2"]), group_id(["c3", "c4"])]]], stage=2),
    ]
    s = aggregate_placements(_snapshot(4, placements), idea_threshold=0.5, theme_threshold=0.5)
    assert _ideas(s) == [{"c1", "c2", "c3", "c4"}]


def test_one_careless_merge_does_not_join_two_well_observed_ideas() -> None:
    # c1,c2 and c3,c4 are two ideas seen together by three sorters who kept
    # them apart; one sorter merges c2 with c3. Average linkage keeps them apart.
    apart = [[["c1", "c2"], ["c3", "c4"]]]
    placements = [_p(f"h{i}", f"s{i}", apart) for i in range(3)]
    placements.append(_p("h9", "s9", [[["c1", "c2", "c3", "c4"]]]))
    s = aggregate_placements(_snapshot(4, placements), idea_threshold=0.5, theme_threshold=0.5)
    assert _ideas(s) == [{"c1", "c2"}, {"c3", "c4"}]


def test_a_card_the_crowd_left_alone_joins_the_idea_of_its_wording() -> None:
    texts = {"c1": "One day a week without meetings", "c2": "A day without any meeting every week",
             "c3": "one day a week without meetings!", "c4": "Cheaper lunches at the canteen",
             "c5": "One day a week without meetings please"}
    cards = {cid: CardInfo(cid, "p0", text, (), False) for cid, text in texts.items()}
    # c1 and c2 are one idea; c3 was only ever dealt with c4 (kept apart);
    # c5 was dealt with c1 and called another idea.
    placements = [_p("h1", "s1", [[["c1", "c2"]]]), _p("h2", "s2", [[["c1", "c2"]]]),
                  _p("h3", "s3", [[["c3"], ["c4"]]]), _p("h4", "s4", [[["c1"], ["c5"]]])]
    snapshot = SortingInput("lone", 4, cards, tuple(placements), {})
    s = aggregate_placements(snapshot, idea_threshold=0.5, theme_threshold=0.5)
    assert _ideas(s) == [{"c1", "c2", "c3"}, {"c4"}, {"c5"}]
    # Left alone, as the crowd left it:
    plain = aggregate_placements(snapshot, idea_threshold=0.5, theme_threshold=0.5, attach_lone=False)
    assert _ideas(plain) == [{"c1", "c2"}, {"c3"}, {"c4"}, {"c5"}]


@st.composite
def _random_placements(draw):
    n_cards = draw(st.integers(2, 12))
    cards = [f"c{i}" for i in range(1, n_cards + 1)]
    placements = []
    for h in range(draw(st.integers(0, 12))):
        hand = draw(st.lists(st.sampled_from(cards), min_size=1, max_size=8, unique=True))
        slots = draw(st.lists(st.integers(0, 5), min_size=len(hand), max_size=len(hand)))
        themes: dict[int, dict[int, list[str]]] = {}
        off = []
        for cid, slot in zip(hand, slots):
            if slot == 5:
                off.append(cid)
            else:
                themes.setdefault(slot % 2, {}).setdefault(slot, []).append(cid)
        placements.append(_p(f"h{h}", f"s{draw(st.integers(0, 4))}",
                             [list(ideas.values()) for ideas in themes.values()], off))
    hidden = frozenset(draw(st.lists(st.sampled_from(cards), max_size=2)))
    return n_cards, placements, hidden


@settings(max_examples=int(os.environ.get("ESSAIM_HYPOTHESIS_EXAMPLES", "60")), deadline=None)
@given(_random_placements(), st.randoms(use_true_random=False))
def test_order_of_placements_does_not_change_the_structure(case, rnd) -> None:
    n_cards, placements, hidden = case
    shuffled = list(placements)
    rnd.shuffle(shuffled)
    a = aggregate_placements(_snapshot(n_cards, placements, hidden, "order-a"), idea_threshold=0.5,
                             theme_threshold=0.5)
    b = aggregate_placements(_snapshot(n_cards, shuffled, hidden, "order-b"), idea_threshold=0.5,
                             theme_threshold=0.5)
    assert a.to_dict() == b.to_dict()


@settings(max_examples=int(os.environ.get("ESSAIM_HYPOTHESIS_EXAMPLES", "60")), deadline=None)
@given(_random_placements())
def test_every_visible_card_ends_in_exactly_one_idea_or_offtopic(case) -> None:
    n_cards, placements, hidden = case
    s = aggregate_placements(_snapshot(n_cards, placements, hidden, "provenance"), idea_threshold=0.5,
                             theme_threshold=0.5)
    in_ideas = [c for i in s.ideas() for c in i.cards]
    assert len(in_ideas) == len(set(in_ideas)), "a card in two ideas"
    visible = {f"c{i}" for i in range(1, n_cards + 1)} - hidden
    assert set(in_ideas) | set(s.offtopic) == visible
    assert not set(in_ideas) & set(s.offtopic)
    assert all(0.0 <= i.agreement <= 1.0 for i in s.ideas())


@settings(max_examples=int(os.environ.get("ESSAIM_HYPOTHESIS_EXAMPLES", "40")), deadline=None)
@given(_random_placements())
def test_incremental_counting_equals_counting_at_once(case) -> None:
    n_cards, placements, hidden = case
    half = len(placements) // 2
    campaign = "incremental"
    aggregate_placements(_snapshot(n_cards, placements[:half], hidden, campaign), idea_threshold=0.5,
                         theme_threshold=0.5)
    grown = aggregate_placements(_snapshot(n_cards, placements, hidden, campaign), idea_threshold=0.5,
                                 theme_threshold=0.5)
    once = aggregate_placements(_snapshot(n_cards, placements, hidden, "at-once"), idea_threshold=0.5,
                                theme_threshold=0.5)
    assert grown.to_dict() == once.to_dict()


@settings(max_examples=int(os.environ.get("ESSAIM_HYPOTHESIS_EXAMPLES", "40")), deadline=None)
@given(st.integers(2, 8), st.integers(1, 5))
def test_unanimous_merges_are_kept_together(n_cards, sorters) -> None:
    cards = [f"c{i}" for i in range(1, n_cards + 1)]
    placements = [_p(f"h{i}", f"s{i}", [[cards]]) for i in range(sorters)]
    s = aggregate_placements(_snapshot(n_cards, placements, campaign="unanimous"), idea_threshold=0.5,
                             theme_threshold=0.5)
    assert _ideas(s) == [set(cards)]


def test_concurrent_aggregations_on_growing_snapshots_equal_sequential_ones() -> None:
    """The facilitator's GET /structure, the results hub and the phase
    transition may aggregate the same campaign at once, in worker threads:
    one extending the cached evidence must not disturb the other reading it."""
    n_cards, per_hand, n_hands = 1600, 8, 200
    cards = [f"c{i}" for i in range(1, n_cards + 1)]
    # Every hand brings new cards, so each extension adds nodes to the index.
    placements = [_p(f"h{h}", f"s{h % 7}", [[cards[h * per_hand:h * per_hand + 4],
                                            cards[h * per_hand + 4:(h + 1) * per_hand]]])
                  for h in range(n_hands)]
    prefixes = list(range(20, n_hands + 1, 20))
    expected = {k: aggregate_placements(_snapshot(n_cards, placements[:k], campaign=f"alone-{k}"),
                                        idea_threshold=0.5, theme_threshold=0.5).to_dict() for k in prefixes}
    got: dict[tuple[int, int], dict] = {}
    errors: list[BaseException] = []

    def aggregate(worker: int) -> None:
        try:
            # One reads ever longer snapshots while the other keeps extending
            # the same cache to the newest one.
            for k in (prefixes if worker else [n_hands] * len(prefixes)):
                got[worker, k] = aggregate_placements(_snapshot(n_cards, placements[:k], campaign="shared"),
                                                      idea_threshold=0.5, theme_threshold=0.5).to_dict()
        except BaseException as exc:  # reported to the test thread below
            errors.append(exc)

    interval = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)  # switch threads often, so the threads really interleave
    try:
        threads = [threading.Thread(target=aggregate, args=(w,)) for w in (0, 1)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    finally:
        sys.setswitchinterval(interval)
    assert not errors, errors
    assert got and all(result == expected[k] for (_, k), result in got.items())


def test_evidence_handed_out_does_not_change_when_the_cache_grows() -> None:
    """What a reader got from the cache stays as it was while another thread
    counts newer placements into the cache (the race above, made certain)."""
    cards = [f"c{i}" for i in range(1, 33)]
    placements = [_p(f"h{h}", "s1", [[cards[h * 8:h * 8 + 4], cards[h * 8 + 4:(h + 1) * 8]]]) for h in range(4)]
    first = evidence_for(_snapshot(32, placements[:2], campaign="handed-out"))
    index, placed = dict(first.index), dict(first.placed)
    evidence_for(_snapshot(32, placements, campaign="handed-out"))
    assert first.index == index and first.placed == placed
