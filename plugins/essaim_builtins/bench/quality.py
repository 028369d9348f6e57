"""Crowd quality benchmark: ``make bench-quality`` (``python -m essaim_builtins.bench.quality``).

Simulated crowds with a known ground truth (see :mod:`.crowds`) go
through the built-in strategies' hooks; each method is measured against a
simple baseline in the same run, on the same simulated people:

* structure: adjusted Rand index (ideas, themes) against stage-1 placements
  per card, crowd sorting against text similarity alone, and a crowd that
  sorts into themes (piles) against one that says "same idea";
* ranking: Spearman and Kendall tau against judgments per item, Bradley-Terry
  (random and adaptive pairs) and ratings against raw win counts; adaptive
  pairs against random ones with clickers and reversed voters; coverage of
  the 95% intervals and reliability (SSR) in every crowd mix;
* moderation: precision and recall of hiding, peer juries against "hide after
  3 flags", with 20% adversarial flaggers;
* the demo campaign's top 10: distinct true ideas among the 10 best sheets,
  ideas split over several sheets, ARI of ideas, at 300 and 3,000 people;
* duplicate suggestions: recall in the top 5 and precision on a labelled
  French/English set, and keystroke latency at 20,000 cards, against the
  word index suggestions used before;
* opinion groups: adjusted Rand index of ``agree_disagree``'s groups against
  planted ones, with Pol.is's scaling of sparse voters against plain PCA.

Seeded and reproducible; prints Markdown tables (means over seeds).
"""

from __future__ import annotations

import argparse
import os
import platform
import time
from collections.abc import Callable, Sequence
from typing import Any

from essaim_builtins.bench.campaign_crowd import campaign_section
from essaim_builtins.bench.crowds import (
    CLICKERS_ITEMS,
    THEMES_ONLY_EFFORT,
    clickers_section,
    simulate_moderation,
    simulate_ranking,
    simulate_structure,
    themes_only_section,
)
from essaim_builtins.bench.duplicates import LATENCY_CARDS, duplicates_section
from essaim_builtins.bench.opinion_crowd import opinion_section
from essaim_builtins.bench.tables import estimate, mean, mean_and_error, table

__all__ = ["main"]

PLACEMENTS_PER_CARD = (1, 2, 3, 5, 8, 10)
JUDGMENTS_PER_ITEM = (1, 2, 5, 10, 15, 20)
#: Items in the ranking simulation (simulate_ranking's default).
RANKED_ITEMS = 40
STRUCTURE_SEEDS = (1, 2, 3)
#: Twenty seeds: one seed's Spearman at 10 judgments per item varies by about
#: 0.06, so five seeds left a ±0.03 standard error, as large as the effects
#: measured; twenty bring it to about 0.013 (printed with the target).
RANKING_SEEDS = tuple(range(1, 21))
MODERATION_SEEDS = (1, 2, 3, 4, 5)
#: The 0.85 target is checked on more seeds than the table: at 20 seeds the
#: standard error (~0.011) is as large as the gap to the target, and the 20
#: first seeds happen to sit 0.006 above the mean of 300.
TARGET_SEEDS = tuple(range(1, 201))
#: Shares of careless voters at which the target effort is also measured.
CARELESS_SHARES = (0.0, 0.1, 0.2, 0.3)
#: Voters in the ranking simulation (simulate_ranking's default).
RANKING_VOTERS = 60
#: Items of the target check's second crowd: the same 60 people at 10
#: judgments per item give 10 answers each (120 x 10 / 2 / 60) instead of
#: 3.3 with 40 items. The product asks each person up to 30 pairs
#: (pairwise.DEFAULT_MAX_TASKS); 3.3 answers is too little evidence to tell
#: who is careless, so both efforts are reported.
TARGET_ITEMS = 120
#: Opinion-group crowds: one seed's ARI varies by about 0.1 (k-means can
#: land on another number of groups), so a dozen seeds.
OPINION_SEEDS = tuple(range(1, 13))
#: Demo campaigns by crowd size (the target: 300 and 3,000 people). One
#: 3,000-person campaign takes minutes (3,000 cards sorted, 90,000 pairs).
CAMPAIGN_SEEDS = {300: tuple(range(1, 6)), 3000: (1, 2)}


def structure_table(seeds: Sequence[int], efforts: Sequence[int], log: Callable[[str], None]) -> tuple[str, bool]:
    rows = []
    wins_from_3 = True
    for k in efforts:
        crowd = [simulate_structure(s, k) for s in seeds]
        one_board = [simulate_structure(s, k, stages=1) for s in seeds]
        plain = [simulate_structure(s, k, similar_share=0.0, stages=1) for s in seeds]
        rows.append([k, mean(crowd, "slots_per_card"), mean(crowd, "crowd_idea"), mean(one_board, "crowd_idea"),
                     mean(plain, "crowd_idea"), mean(crowd, "text_idea"), mean(crowd, "crowd_theme"),
                     mean(crowd, "text_theme")])
        if k >= 3 and min(mean(crowd, "crowd_idea"), mean(one_board, "crowd_idea")) <= mean(crowd, "text_idea"):
            wins_from_3 = False
        log(f"structure k={k} done")
    header = ["placements/card", "items sorted/card (2 boards)", "crowd ARI ideas, 2 boards",
              "crowd, 1 board", "crowd, 1 board, random hands", "text-only ARI ideas (best threshold)",
              "crowd ARI themes, 2 boards", "text-only ARI themes"]
    return table(header, rows), wins_from_3


def ranking_table(seeds: Sequence[int], efforts: Sequence[int], log: Callable[[str], None]) -> str:
    rows = []
    for j in efforts:
        runs = [simulate_ranking(s, j) for s in seeds]
        careful = [simulate_ranking(s, j, careless=0.0) for s in seeds]
        row: list[Any] = [j, j * RANKED_ITEMS // 2]
        for method in ("wins", "bt_random", "bt_adaptive", "ratings"):
            row += [mean(runs, f"{method}_spearman"), mean(runs, f"{method}_kendall")]
        row += [mean(careful, "bt_adaptive_spearman"), mean(careful, "ratings_spearman")]
        rows.append(row)
        log(f"ranking j={j} done")
    header = ["judgments/item", "pair answers", "win count ρ", "win count τ", "BT random pairs ρ", "BT random pairs τ",
              "BT adaptive ρ", "BT adaptive τ", "ratings ρ", "ratings τ",
              "BT adaptive ρ, careful voters only", "ratings ρ, careful voters only"]
    return table(header, rows)


Runs = dict[tuple[float, int], list[dict[str, float]]]


def careless_table(
    seeds: Sequence[int], shares: Sequence[float], log: Callable[[str], None]
) -> tuple[str, dict[int, tuple[float, float]], Runs]:
    """Spearman at 10 judgments per item against the share of careless
    voters, on many seeds, with the 60 voters giving 3.3 answers each (40
    items) or 10 each (TARGET_ITEMS); returns the table and, per number of
    items, (mean, standard error) of adaptive Bradley-Terry at the
    benchmark's share (the last one), and the runs by (share, items)."""
    rows = []
    at_target: dict[int, tuple[float, float]] = {}
    every: Runs = {}
    for share in shares:
        row: list[Any] = [f"{share:.0%}"]
        for n_items in (RANKED_ITEMS, TARGET_ITEMS):
            runs = every[(share, n_items)] = [simulate_ranking(s, 10, careless=share, n_items=n_items) for s in seeds]
            bt = mean_and_error([r["bt_adaptive_spearman"] for r in runs])
            ratings = mean_and_error([r["ratings_spearman"] for r in runs])
            row += [f"{bt[0]:.3f} ± {bt[1]:.3f}", mean(runs, "wins_spearman"), f"{ratings[0]:.3f} ± {ratings[1]:.3f}"]
            at_target[n_items] = bt
        rows.append(row)
        log(f"careless share {share:.0%} done")
    header = ["careless voters"]
    for n_items in (RANKED_ITEMS, TARGET_ITEMS):
        each = f"{n_items} items ({_answers_each(n_items):.1f} answers/person)"
        header += [f"BT adaptive ρ, {each}", "win count ρ", "ratings ρ (2× the answers)"]
    return table(header, rows), at_target, every


#: Where the 95% intervals' coverage should land (issue 19).
COVERAGE_TARGET = (0.93, 0.97)


def intervals_table(every: Runs) -> tuple[str, list[str]]:
    """Coverage of the 95% intervals and reliability, in every crowd mix of
    the careless-voters table (same runs): the share of items whose true
    log-strength is inside its interval, the scale separation reliability
    comparative-judgement studies report (SSR) and what it estimates, the
    squared correlation with the truth."""
    rows: list[list[Any]] = []
    coverages = []
    for (share, n_items), runs in every.items():
        row: list[Any] = [f"{share:.0%}", n_items]
        for method in ("bt_adaptive", "bt_random"):
            values = [r[f"{method}_coverage"] for r in runs]
            coverages.append((mean_and_error(values), f"{method.split('_')[1]} pairs, {share:.0%} careless, "
                                                       f"{n_items} items"))
            row += [estimate(values), mean(runs, f"{method}_ssr"), mean(runs, f"{method}_r2")]
        rows.append(row)
    header = ["careless voters", "items", "coverage, BT adaptive", "SSR", "r² with the truth",
              "coverage, BT random pairs", "SSR", "r² with the truth"]
    low, high = COVERAGE_TARGET
    inside = [label for (m, _), label in coverages if low <= m <= high]
    (worst, worst_se), worst_label = min(coverages, key=lambda c: min(c[0][0] - low, high - c[0][0]))
    n = len(next(iter(every.values())))
    targets = [
        f"- 95% interval coverage (Bradley-Terry, 10 judgments per item), {len(inside)} of {len(coverages)} crowd "
        f"mixes within {low:.0%}-{high:.0%}; furthest: {worst:.3f} (standard error over {n} seeds {worst_se:.3f}; "
        f"{worst_label})"]
    return table(header, rows), targets


def _answers_each(n_items: int) -> float:
    """Pair answers per voter at 10 judgments per item."""
    return n_items * 10 / 2 / RANKING_VOTERS


def moderation_table(seeds: Sequence[int], log: Callable[[str], None]) -> tuple[str, bool]:
    runs = [simulate_moderation(s) for s in seeds]
    log("moderation done")
    rows = [
        ["peer jury (7 jurors, quorum 3, lead of 2)", mean(runs, "jury_precision"), mean(runs, "jury_recall")],
        ["hide after 3 flags", mean(runs, "flags3_precision"), mean(runs, "flags3_recall")],
    ]
    better = all(r["jury_precision"] > r["flags3_precision"] for r in runs)
    return table(["moderation (20% adversarial)", "precision", "recall"], rows), better


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="one seed and fewer effort levels (a smoke run)")
    args = parser.parse_args(argv)
    start = time.perf_counter()

    def log(msg: str) -> None:
        print(f"  [{time.perf_counter() - start:6.1f}s] {msg}", flush=True)

    s_seeds = STRUCTURE_SEEDS[:1] if args.quick else STRUCTURE_SEEDS
    r_seeds = RANKING_SEEDS[:1] if args.quick else RANKING_SEEDS
    m_seeds = MODERATION_SEEDS[:1] if args.quick else MODERATION_SEEDS
    k_grid = (1, 3) if args.quick else PLACEMENTS_PER_CARD
    j_grid = (2, 10) if args.quick else JUDGMENTS_PER_ITEM

    print(f"# Essaim crowd quality — python {platform.python_version()}, {os.cpu_count()} CPUs, {platform.machine()}")
    structure, crowd_wins = structure_table(s_seeds, k_grid, log)
    piles_effort = 3 if args.quick else THEMES_ONLY_EFFORT
    piles, piles_targets = themes_only_section(s_seeds, log, piles_effort)
    ranking = ranking_table(r_seeds, j_grid, log)
    t_seeds = TARGET_SEEDS[:2] if args.quick else TARGET_SEEDS
    shares = CARELESS_SHARES[-1:] if args.quick else CARELESS_SHARES
    careless, at_target, every = careless_table(t_seeds, shares, log)
    clickers, clickers_targets = clickers_section(RANKING_SEEDS[:2] if args.quick else RANKING_SEEDS, log)
    intervals, interval_targets = intervals_table(every)
    moderation, jury_better = moderation_table(m_seeds, log)
    o_seeds = OPINION_SEEDS[:1] if args.quick else OPINION_SEEDS
    opinions, opinion_targets = opinion_section(o_seeds, log)
    campaigns, campaign_targets = campaign_section({300: (1,)} if args.quick else CAMPAIGN_SEEDS, log)
    duplicates, duplicate_targets = duplicates_section(log, 2_000 if args.quick else LATENCY_CARDS)
    print(f"\n## Structure (ARI, mean of {len(s_seeds)} seeds; ~320 cards, 40 ideas in 8 themes, 4% spam)\n")
    print(structure)
    print(f"\nThe same sorters expressing their groups as \"same idea\" or as themes (piles of lone cards); one "
          f"board, {piles_effort} placements per card:\n")
    print(piles)
    print(f"\n## Ranking (mean of {len(r_seeds)} seeds; {RANKED_ITEMS} items, {RANKING_VOTERS} voters: 70% careful, 20% one-sided, "
          "10% random)\n")
    print("A pair judgment counts for both of its items, a rating for its one item: at j judgments per item,")
    print(f"pairwise takes {RANKED_ITEMS} × j / 2 answers (column 2) and ratings {RANKED_ITEMS} × j.\n")
    print(ranking)
    print(f"\nAt 10 judgments per item, against the share of careless voters (two thirds one-sided, one third "
          f"random; the same {RANKING_VOTERS} voters with {RANKED_ITEMS} or {TARGET_ITEMS} items; "
          f"mean of {len(t_seeds)} seeds):\n")
    print(careless)
    print("\nThe same runs: coverage of the 95% intervals (true log-strength = 2 × (quality − mean)), and "
          "reliability as comparative-judgement studies report it (SSR) beside the squared correlation with the "
          "truth it estimates:\n")
    print(intervals)
    print(f"\nAdaptive pairs against voters who click (a random side on each pair) or read and reverse, and a "
          f"clean crowd ({CLICKERS_ITEMS} items, 10 judgments per item, same people for both pair rules):\n")
    print(clickers)
    print(f"\n## Moderation (mean of {len(m_seeds)} seeds; 300 participants, 400 cards, 8% abusive)\n")
    print(moderation)
    print(f"\n## Opinion groups (agree_disagree; mean ± standard error over {len(o_seeds)} seeds; 200 statements, "
          "300 voters with 8-32 votes each)\n")
    print(opinions)
    print("\n## The demo campaign's top 10 (essaim simulate's crowd: 14 true ideas, 5 themes; mean ± standard error "
          "over seeds; how many sheets of the top 10 say different true ideas)\n")
    print(campaigns)
    print("\n## Duplicate suggestions (labelled French/English cards; each card typed as a query against all the "
          "others)\n")
    print(duplicates)
    print("\n## Targets\n")
    print(f"- crowd sorting (1 and 2 boards) beats text-only from 3 placements per card: {'yes' if crowd_wins else 'NO'}")
    for n_items in (TARGET_ITEMS, RANKED_ITEMS):
        rho, se = at_target[n_items]
        print(f"- Bradley-Terry (adaptive) Spearman at 10 judgments per item, {shares[-1]:.0%} careless voters, "
              f"{_answers_each(n_items):.1f} answers per person ({n_items} items): {rho:.3f} "
              f"(standard error over {len(t_seeds)} seeds {se:.3f}) ({'meets' if rho >= 0.85 else 'below'} the 0.85 target)")
    print(f"- juries strictly more precise than 'hide after 3 flags' in every seed: {'yes' if jury_better else 'NO'}")
    for line in piles_targets + clickers_targets + interval_targets + opinion_targets + duplicate_targets + campaign_targets:
        print(line)
    print(f"\ntotal {time.perf_counter() - start:.1f}s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
