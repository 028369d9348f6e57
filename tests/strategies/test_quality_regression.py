"""The quality benchmark's claims, on one seed each (deterministic, ~2 s):
a change that makes a strategy lose to its baseline fails here before it
shows in ``make bench-quality``."""

from __future__ import annotations

from essaim_builtins.bench.crowds import simulate_moderation, simulate_ranking, simulate_structure
from essaim_builtins.bench.duplicates import suggestion_quality
from essaim_builtins.bench.opinion_crowd import simulate_opinions
from essaim_builtins.bench.word_index import WordIndex
from essaim_builtins.collection.similarity import SimilarityIndex


def test_crowd_sorting_beats_text_similarity_at_three_placements_per_card() -> None:
    for stages in (1, 2):
        run = simulate_structure(1, 3, stages=stages)
        assert run["crowd_idea"] > run["text_idea"], (stages, run)


def test_adaptive_bradley_terry_beats_raw_win_counts() -> None:
    run = simulate_ranking(1, 10)
    assert run["bt_adaptive_spearman"] > run["wins_spearman"], run
    assert run["ratings_spearman"] > run["wins_spearman"], run


def test_bradley_terry_intervals_cover_the_truth_with_careful_voters() -> None:
    coverage = [simulate_ranking(seed, 10, careless=0.0)["bt_adaptive_coverage"] for seed in (1, 2, 3)]
    assert sum(coverage) / 3 >= 0.9, coverage  # 0.85 with the former prior of one virtual game


def test_juries_are_more_precise_than_three_flags_against_adversaries() -> None:
    run = simulate_moderation(1)
    assert run["jury_precision"] > run["flags3_precision"], run


def test_scaling_sparse_voters_finds_planted_opinion_groups_better_than_plain_pca() -> None:
    run = simulate_opinions(1, 4)
    assert run["ari"] > run["plain_ari"] + 0.05, run


def test_stems_and_trigrams_suggest_more_duplicates_than_words_without_losing_precision() -> None:
    before, now = suggestion_quality(WordIndex), suggestion_quality(SimilarityIndex)
    assert now["recall_all"] > before["recall_all"] + 0.05, (before, now)
    assert now["precision_all"] >= before["precision_all"], (before, now)
    assert now["recall_word forms"] > 0.5, now
