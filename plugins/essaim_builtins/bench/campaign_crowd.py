"""The demo campaign end to end, for the quality benchmark: does the top 10
show ten different ideas?

``essaim simulate``'s crowd (:mod:`essaim.simulation`: 14 true ideas in 5
themes, each written with a few phrasings, Zipf-like popularity; people who
write, support suggested cards, sort hands and compare pairs) goes through
the demo template's strategies by their hooks, in rounds (everyone acts
once per round, as a live crowd interleaves), seeded and deterministic. What
a leader reads is measured against the truth:

* **distinct true ideas in the top 10 sheets** (10 = no idea twice);
* **ideas split**: the share of true ideas that appear on several sheets;
* **ARI of ideas**: adjusted Rand index of the cards' items against their
  true ideas (the structure the sheets inherit);
* **ARI of sheets**: the same for the cards as the sheets group them (an
  item with its variants): grouping must not join distinct ideas.
"""

from __future__ import annotations

import random
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

from essaim.model.hand_items import group_members
from essaim.model.types import OpportunitySheet
from essaim.simulation import (
    CrowdHabits,
    Person,
    Truth,
    answer,
    make_crowd,
    make_truth,
    phrase,
    simulation_template,
    sort_hand,
)
from essaim.simulation.agreement import adjusted_rand_index

from essaim_builtins.bench.harness import Harness
from essaim_builtins.bench.tables import estimate, mean_and_error, table
from essaim_builtins.structuring import DEFAULT_IDEA_THRESHOLD, DEFAULT_THEME_THRESHOLD
from essaim_builtins.structuring.aggregation import aggregate_placements

__all__ = ["simulate_campaign", "campaign_section"]

#: Evaluation answers per person at most (the pairwise default max_tasks).
MAX_JUDGMENTS = 30
#: Suggestions a person looks at while typing (EngineLimits.max_suggestions).
SUGGESTIONS = 5
TOP = 10


@dataclass(slots=True)
class SortedCampaign:
    """A demo campaign once its crowd has written and sorted."""

    h: Harness
    crowd: list[Person]
    pids: list[str]
    truth: Truth
    card_truth: dict[str, str]
    habits: CrowdHabits
    rng: random.Random


def simulate_campaign(seed: int, participants: int) -> dict[str, Any]:
    """One demo campaign by ``participants`` simulated people; the top-10
    measures (see the module docstring), and the ARI of ideas the same
    sorting gives without attaching lone cards (``ari_before``)."""
    c = sorted_campaign(seed, participants)
    before = aggregate_placements(c.h.sorting_snapshot(), idea_threshold=DEFAULT_IDEA_THRESHOLD,
                                  theme_threshold=DEFAULT_THEME_THRESHOLD, attach_lone=False)
    items_before = {cid: idea.iid for theme in before.themes for idea in theme.ideas for cid in idea.cards}
    c.h.publish(c.h.aggregate())
    out = evaluate(c)
    cards = sorted(c.card_truth)
    out["ari_before"] = adjusted_rand_index([c.card_truth[x] for x in cards],
                                            [items_before.get(x, f"missing:{x}") for x in cards])
    out["items_before"] = len(set(items_before.values()))
    return out


def sorted_campaign(seed: int, participants: int, sort_settings: Mapping[str, Any] | None = None) -> SortedCampaign:
    """Collection and sorting of one demo campaign, seeded (``sort_settings``
    on top of the demo's, for comparisons)."""
    habits = CrowdHabits()
    truth = make_truth(seed)
    crowd = make_crowd(truth, participants, seed, habits)
    theme_of_idea = {idea.key: idea.theme for idea in truth.ideas()}
    template = simulation_template()
    if sort_settings:
        template = replace(template, phases=tuple(
            replace(ph, settings={**ph.settings, **sort_settings}) if ph.type == "sort" else ph
            for ph in template.phases))
    h = Harness(template, f"campaign{seed}n{participants}")
    pids = [h.join(person.profile) for person in crowd]
    card_truth: dict[str, str] = {}
    rng = random.Random(f"campaign:{seed}:{participants}")

    # Collection: everyone writes their intents, round by round; a person
    # supports a suggested card of the same idea instead, sometimes.
    h.start_phase(0)
    rounds = max((len(p.intents) for p in crowd), default=0)
    for turn in range(rounds):
        for person, pid in zip(crowd, pids):
            if turn >= len(person.intents) or person.intents[turn] in ("offtopic", "personal"):
                continue  # moderation is measured elsewhere
            idea = person.intents[turn]
            text = phrase(truth.idea(idea), rng)
            if _support_instead(h, pid, text, idea, card_truth, rng, habits):
                continue
            card_truth[h.write(pid, text)] = idea
    h.emit("phase_ended", index=0, reason="advance")

    # Sorting: volunteers take hands in turn until the board is done.
    h.start_phase(1)

    def truth_of(item: str) -> str:
        votes = Counter(card_truth[c] for c in group_members(item) if c in card_truth)
        return votes.most_common(1)[0][0] if votes else f"unknown:{item}"

    sorters = [pid for person, pid in zip(crowd, pids) if person.sorter]
    hands = Counter[str]()
    active = list(sorters)
    while active:
        for pid in list(active):
            deal = h.deal(pid) if hands[pid] < habits.max_hands else None
            if deal is None:
                active.remove(pid)
                continue
            hands[pid] += 1
            themes, offtopic = sort_hand(list(deal.items), truth_of, lambda label: theme_of_idea.get(label, label),
                                         rng, habits.sort_error)
            h.place(pid, themes, offtopic)
    h.emit("phase_ended", index=1, reason="advance")
    return SortedCampaign(h, crowd, pids, truth, card_truth, habits, rng)


def evaluate(c: SortedCampaign) -> dict[str, Any]:
    """Everyone answers pairs in turn, by their own values; then the sheets
    are measured against the truth."""
    h, crowd, pids, truth, card_truth, habits, rng = c.h, c.crowd, c.pids, c.truth, c.card_truth, c.habits, c.rng
    h.start_phase(2)
    value_of_item = {}
    for iid, item in h.state.items.items():
        votes = Counter(card_truth.get(c) for c in item.cards)
        votes.pop(None, None)
        value_of_item[iid] = votes.most_common(1)[0][0] if votes else None
    for _ in range(MAX_JUDGMENTS):
        for person, pid in zip(crowd, pids):
            task = h.next_task(pid)
            if task is None:
                continue

            def value(iid: str, role: str = person.profile["role"]) -> float:
                key = value_of_item.get(iid)
                if key is None:
                    return -2.0
                idea = truth.idea(key)
                return idea.value + truth.role_bias.get((role, idea.theme), 0.0)

            data = answer(task, value, rng, habits)
            if data is not None:
                h.judge(pid, task.kind, data)
    scores = h.scores()
    out = _measure(h.sheets(scores=scores), structure_cards(h), card_truth, value_of_item)
    ungrouped = _measure(h.sheets({"group_variants": False}, scores), structure_cards(h), card_truth, value_of_item)
    out["distinct_top_ungrouped"] = ungrouped["distinct_top"]
    out["ari_sheets"] = _sheets_ari(h, h.sheets(scores=scores), card_truth)
    return out


def _sheets_ari(h: Harness, sheets: Sequence[OpportunitySheet], card_truth: dict[str, str]) -> float:
    """ARI of the cards grouped as the sheets show them (an item's cards with
    those of its variants): does grouping join distinct ideas?"""
    sheet_of = {cid: s.iid for s in sheets for iid in (s.iid, *(v.iid for v in s.variants))
                for cid in h.state.items[iid].cards}
    cards = sorted(card_truth)
    return adjusted_rand_index([card_truth[c] for c in cards], [sheet_of.get(c, f"missing:{c}") for c in cards])


def structure_cards(h: Harness) -> dict[str, str]:
    """Card -> the item it was published in."""
    return {cid: iid for iid, item in h.state.items.items() for cid in item.cards}


def _support_instead(
    h: Harness, pid: str, text: str, idea: str, card_truth: dict[str, str], rng: random.Random, habits: CrowdHabits
) -> bool:
    """As ``essaim simulate``: the first suggestion saying the same idea is
    supported with chance ``support_share``."""
    for suggestion in h.similar(text, SUGGESTIONS):
        card = h.state.cards[suggestion.cid]
        if card_truth.get(suggestion.cid) != idea or card.author == pid or pid in card.supporters:
            continue
        if rng.random() >= habits.support_share:
            return False
        h.emit("card_supported", cid=suggestion.cid, pid=pid)
        return True
    return False


def _measure(
    sheets: Sequence[OpportunitySheet], item_of: dict[str, str], card_truth: dict[str, str],
    idea_of_item: dict[str, str | None],
) -> dict[str, Any]:
    top = [idea_of_item.get(s.iid) for s in sheets[:TOP]]
    sheets_per_idea = Counter(idea_of_item.get(s.iid) for s in sheets)
    sheets_per_idea.pop(None, None)
    cards = sorted(card_truth)
    return {
        "distinct_top": len({t for t in top if t is not None}),
        "split_share": sum(1 for n in sheets_per_idea.values() if n > 1) / max(1, len(sheets_per_idea)),
        "ari": adjusted_rand_index([card_truth[c] for c in cards], [item_of.get(c, f"missing:{c}") for c in cards]),
        "sheets": len(sheets),
        "top": top,
    }


TARGET_DISTINCT = 10


def campaign_section(seeds: Mapping[int, Sequence[int]], log: Callable[[str], None]) -> tuple[str, list[str]]:
    """The top-10 table and its target lines; ``seeds`` by crowd size."""
    rows: list[list[Any]] = []
    targets = []
    for size, size_seeds in seeds.items():
        runs = [simulate_campaign(s, size) for s in size_seeds]
        distinct = [float(r["distinct_top"]) for r in runs]
        rows.append([size, estimate(distinct), sum(r["distinct_top"] == TARGET_DISTINCT for r in runs),
                     estimate([float(r["distinct_top_ungrouped"]) for r in runs]),
                     estimate([r["split_share"] for r in runs]), estimate([r["ari"] for r in runs]),
                     estimate([r["ari_sheets"] for r in runs]),
                     estimate([r["ari_before"] for r in runs]), estimate([float(r["sheets"]) for r in runs]),
                     estimate([float(r["items_before"]) for r in runs])])
        m, se = mean_and_error(distinct)
        targets.append(
            f"- distinct true ideas in the top {TOP} sheets, {size:,} people (demo campaign, 14 true ideas): {m:.2f} "
            f"(standard error over {len(runs)} seeds {se:.2f}; 10 in {rows[-1][2]} of {len(runs)} seeds; "
            f"{'meets' if min(distinct) >= TARGET_DISTINCT else 'below'} the target of 10 in every seed); "
            f"ARI of ideas {estimate([r['ari'] for r in runs])} (without attaching lone cards "
            f"{estimate([r['ari_before'] for r in runs])}), of the sheets with their variants "
            f"{estimate([r['ari_sheets'] for r in runs])}")
        log(f"campaign {size} people done")
    header = ["people", f"distinct true ideas in the top {TOP}", "seeds with 10", "the same, variants not grouped",
              "true ideas split over sheets", "ARI of ideas", "ARI of sheets (with their variants)",
              "ARI, lone cards left alone", "sheets", "items, lone cards left alone"]
    return table(header, rows), targets
