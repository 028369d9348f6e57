"""The SLO gate's arithmetic: percentiles, breaches, env overrides."""

from __future__ import annotations

import pytest

from loadtests import slo


def test_percentile_of_a_histogram() -> None:
    hist = {1: 90, 100: 9, 1000: 1}
    assert slo.percentile(hist, 0.5) == 1
    assert slo.percentile(hist, 0.95) == 100
    assert slo.percentile(hist, 0.999) == 1000
    assert slo.percentile({}, 0.99) == 0.0


def test_record_rounds_like_locust_so_histograms_merge() -> None:
    h: dict[int, int] = {}
    for seconds in (0.0123, 0.4567, 2.345, 12.3):
        slo.record(h, seconds)
    assert h == {12: 1, 460: 1, 2300: 1, 12000: 1}
    assert slo.merge([h, {12: 2}])[12] == 3


def test_a_clean_run_meets_every_objective() -> None:
    m = slo.Measured(requests=10_000, failures=5, acks={20: 9_900, 300: 100}, pushes={500: 10})
    assert slo.check(m, slo.Objectives()) == []


@pytest.mark.parametrize(
    ("measured", "slo_name"),
    [
        (slo.Measured(requests=1000, failures=2, acks={10: 1}), "failure ratio"),
        (slo.Measured(requests=100, acks={10: 90, 300: 10}), "ack p95 ms"),
        (slo.Measured(requests=1000, acks={10: 985, 600: 15}), "ack p99 ms"),
        (slo.Measured(requests=10, acks={10: 1}, pushes={2500: 10}), "update staleness p95 ms"),
        (slo.Measured(requests=10, connection_errors=1), "connection errors"),
    ],
)
def test_each_breach_names_the_slo_and_the_value(measured: slo.Measured, slo_name: str) -> None:
    breaches = slo.check(measured, slo.Objectives())
    assert [b.slo for b in breaches] == [slo_name]
    assert str(breaches[0]).startswith(f"SLO BREACHED: {slo_name} = ")


def test_thresholds_come_from_the_environment() -> None:
    o = slo.Objectives.from_env({"ESSAIM_SLO_ACK_P95_MS": "1", "ESSAIM_SLO_CONNECTION_ERRORS": "3"})
    assert o.ack_p95_ms == 1.0 and o.max_connection_errors == 3 and o.ack_p99_ms == 500.0
    assert [b.slo for b in slo.check(slo.Measured(requests=1, acks={5: 1}), o)] == ["ack p95 ms"]
    with pytest.raises(SystemExit, match="ESSAIM_SLO_ACK_P99_MS"):
        slo.Objectives.from_env({"ESSAIM_SLO_ACK_P99_MS": "fast"})


def test_the_verdict_for_a_pipeline_says_what_the_exit_code_says() -> None:
    import json
    clean = slo.Measured(requests=1000, failures=0)
    for ms in (20, 40, 60):
        slo.record(clean.acks, ms / 1000)
    verdict = slo.verdict(clean, slo.Objectives(), [], profile="smoke")
    assert verdict["passed"] is True and verdict["exit_code"] == 0 and verdict["profile"] == "smoke"
    assert verdict["measured"]["acks"] == 3 and verdict["measured"]["ack_p99_ms"] == 60
    slow = slo.Measured(requests=1000, failures=0)
    slo.record(slow.acks, 0.9)
    breaches = slo.check(slow, slo.Objectives())
    verdict = slo.verdict(slow, slo.Objectives(), breaches)
    assert verdict["passed"] is False and verdict["exit_code"] == 1
    assert {b["slo"] for b in verdict["breaches"]} == {"ack p95 ms", "ack p99 ms"}
    assert json.loads(json.dumps(verdict)) == verdict  # plain JSON
