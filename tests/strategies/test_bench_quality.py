"""``make bench-quality`` runs end to end and prints every table and target."""

from __future__ import annotations

import pytest

from essaim_builtins.bench.quality import main


def test_quick_quality_benchmark_prints_its_tables_and_targets(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--quick"]) == 0
    out = capsys.readouterr().out
    for heading in ("## Structure", "## Ranking", "against the share of careless voters", "## Moderation", "## Opinion groups", "## Duplicate suggestions", "## The demo campaign's top 10",
                    "## Targets"):
        assert heading in out
    assert "Spearman at 10 judgments per item, 30% careless voters, 10.0 answers per person (120 items)" in out
    assert "3.3 answers per person (40 items)" in out
    assert "standard error over 2 seeds" in out
    assert "themes-only crowd, similar-card hands, 3 placements per card" in out
    assert "- adaptive Bradley-Terry, 20% clickers + 10% reversed voters, 120 items" in out
    assert "coverage of the 95% intervals" in out
    assert "- 95% interval coverage (Bradley-Terry, 10 judgments per item)" in out
    assert "- distinct true ideas in the top 10 sheets, 300 people" in out
    assert "duplicate suggestions, labelled set of 204 French/English cards" in out
    assert "opinion groups, 4 planted, 8-32 votes of 200 per person: Pol.is scaling gains" in out
