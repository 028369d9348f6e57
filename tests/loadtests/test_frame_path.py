"""The frame-path benchmark runs: real connections joined to a real server,
every writer sends its frame each round (it would time out otherwise)."""

from __future__ import annotations

from pathlib import Path

from loadtests.frame_path import measure


async def test_the_frame_path_benchmark_measures_the_engine_and_the_bare_writer(tmp_path: Path) -> None:
    result = await measure(connections=5, rounds=2, data_dir=str(tmp_path / "data"))
    assert set(result) == {"essaim ack", "essaim phase+you", "bare writer"}
    assert all(us > 0 for us in result.values())
