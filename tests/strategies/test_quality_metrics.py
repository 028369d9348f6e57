"""The agreement measures of the quality benchmark and the simulator against known values."""

from __future__ import annotations

import pytest

from essaim.simulation.agreement import adjusted_rand_index, kendall_tau, spearman


def test_ari_is_one_for_the_same_partition_under_other_names() -> None:
    assert adjusted_rand_index([1, 1, 2, 2, 3], ["a", "a", "b", "b", "c"]) == pytest.approx(1.0)


def test_ari_known_value() -> None:
    # Classic example: ARI of these two labelings is 0.24242...
    truth = [0, 0, 0, 1, 1, 1]
    found = [0, 0, 1, 1, 2, 2]
    assert adjusted_rand_index(truth, found) == pytest.approx(0.242424, abs=1e-5)


def test_rank_correlations() -> None:
    x = [1, 2, 3, 4, 5]
    assert spearman(x, [10, 20, 30, 40, 50]) == pytest.approx(1.0)
    assert kendall_tau(x, [5, 4, 3, 2, 1]) == pytest.approx(-1.0)
    # One swapped neighbour pair out of 10 pairs: tau = (9 - 1) / 10.
    assert kendall_tau(x, [1, 2, 4, 3, 5]) == pytest.approx(0.8)
    assert spearman(x, [1, 2, 4, 3, 5]) == pytest.approx(0.9)


def test_ari_below_chance_and_partial() -> None:
    truth = [1, 1, 2, 2]
    assert adjusted_rand_index(truth, ["x", "y", "x", "y"]) < 0
    assert 0 < adjusted_rand_index(truth + [3, 3], [1, 1, 2, 2, 2, 3]) < 1


def test_kendall_tau_ties_and_lengths() -> None:
    assert kendall_tau([1, 2, 3], [5, 5, 5]) == 0.0  # undefined: no order on one side
    with pytest.raises(ValueError):
        kendall_tau([1], [1, 2])
