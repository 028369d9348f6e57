"""The benchmark's plumbing: histogram deltas from /metrics, py-spy
summaries, and one small real run of the lean generator against a baseline
server on 127.0.0.1."""

from __future__ import annotations

import asyncio
import re
from pathlib import Path

import pytest

from loadtests import bench, slo
from loadtests.profiling import summarize_collapsed
from loadtests.servers import bucket_quantile
from loadtests.workload import CONSOLE_POLL_SECONDS, CONSOLE_SLOW_POLL_SECONDS, console_paths


def test_bucket_quantile_of_the_observations_between_two_scrapes() -> None:
    before = [(0.01, 100.0), (0.1, 100.0), (1.0, 100.0), (float("inf"), 100.0)]
    after = [(0.01, 190.0), (0.1, 198.0), (1.0, 200.0), (float("inf"), 200.0)]
    assert bucket_quantile(before, after, 0.5) == 0.01
    assert bucket_quantile(before, after, 0.99) == 1.0
    assert bucket_quantile(after, after, 0.99) == 0.0


def test_py_spy_summary_counts_self_and_inclusive_time(tmp_path: Path) -> None:
    raw = tmp_path / "raw.txt"
    raw.write_text(
        "main (a/app.py:1);send (x/net.py:5) 30\n"
        "main (a/app.py:1);encode (x/json.py:9) 10\n", encoding="utf-8")
    text = summarize_collapsed(raw)
    assert "40 samples" in text
    assert " 75.0%  x/net.py:send" in text and "100.0%  a/app.py:main" in text


@pytest.mark.parametrize("kind", ["bare", "uvicorn-paced"])
def test_the_lean_generator_runs_a_campaign_level_against_a_baseline_server(kind: str) -> None:
    """Real sockets, a real server process: 30 sessions through the short phases
    (uvicorn-paced: the fastest common Python stack in make bench, phase frames paced)."""
    # A 3 s window, not 1 s: on a loaded machine 30 joins can take most of a
    # second, and a session's first action comes after its think time.
    result = asyncio.run(bench.run_level(kind, 30, window=3.0, server_cpu=None,
                                         objectives=slo.Objectives(ack_p95_ms=1e6, ack_p99_ms=1e6,
                                                                   staleness_p95_ms=1e6)))
    assert result.welcomed == 30
    assert result.held, result.breaches
    assert result.actions > 0 and result.frames_per_second > 0


def test_sessions_from_several_generator_processes_are_counted_as_one_fleet() -> None:
    """--processes 3: two worker processes and this one; their tallies add up."""
    result = asyncio.run(bench.run_level("bare", 30, window=1.0, server_cpu=None, processes=3,
                                         objectives=slo.Objectives(ack_p95_ms=1e6, ack_p99_ms=1e6,
                                                                   staleness_p95_ms=1e6)))
    assert result.welcomed == 30, result.breaches
    assert result.held, result.breaches


def test_tallies_of_workers_survive_their_json_lines() -> None:
    import orjson

    from loadtests.behaviour import Sample
    from loadtests.fleet_processes import add_tally, tally_to_dict
    from loadtests.lean import Tally

    worker, total = Tally(), Tally()
    worker.add([Sample("ack", "ack write_card", 0.012), Sample("connect", "connect+welcome", 0.2, error="Boom")])
    add_tally(total, orjson.loads(orjson.dumps(tally_to_dict(worker), option=orjson.OPT_NON_STR_KEYS)))
    add_tally(total, orjson.loads(orjson.dumps(tally_to_dict(worker), option=orjson.OPT_NON_STR_KEYS)))
    assert total.measured.requests == 4 and total.measured.failures == 2 and total.measured.connection_errors == 2
    assert total.measured.acks == {k: 2 * v for k, v in worker.measured.acks.items()}
    assert total.by_name["ack write_card"] == {k: 2 * v for k, v in worker.by_name["ack write_card"].items()}


def test_the_lean_generator_watches_essaim_with_a_facilitator_console() -> None:
    """Against essaim, the level polls as an open console does; its results
    poll shows in its own column and counts as requests (no failure)."""
    result = asyncio.run(bench.run_level("essaim", 30, window=1.0, server_cpu=None,
                                         objectives=slo.Objectives(ack_p95_ms=1e6, ack_p99_ms=1e6,
                                                                   staleness_p95_ms=1e6)))
    assert result.held, result.breaches
    assert result.console_results_p99 > 0


def test_the_load_console_polls_what_the_facilitator_console_polls() -> None:
    """workload's console constants and reads follow facilitator.js."""
    js = (Path(__file__).parents[2] / "core/essaim/web/static/facilitator.js").read_text(encoding="utf-8")
    assert re.search(rf"const POLL_MS = {CONSOLE_POLL_SECONDS * 1000:.0f};", js)
    assert re.search(rf"const SLOW_POLL_MS = {CONSOLE_SLOW_POLL_SECONDS * 1000:.0f};", js)
    fast = {name for name, _ in console_paths("c1", slow=False)}
    slow = {name for name, _ in console_paths("c1", slow=True)}
    assert fast == {"console campaign", "console stats", "console moderation"}
    assert slow - fast == {"console structure", "console results"}
    for read in ("stats", "moderation", "structure", "results"):
        assert f"`${{base}}/{read}`" in js, read


def test_a_console_reads_structure_and_results_on_its_first_poll_then_every_slow_period() -> None:
    from loadtests.workload import ConsolePolls

    polls = ConsolePolls("c1")
    slow_at = [t for t in range(0, 13, 2) if "console results" in {name for name, _ in polls.reads(float(t))}]
    assert slow_at == [0, 6, 12]
