"""The engine benchmark runs and counts what it claims (tiny sizes, no timing)."""

from __future__ import annotations

from pathlib import Path

import pytest

from essaim.bench.engine import main, run_once
from essaim.bench.throwaway_postgres import ThrowawayPostgres


@pytest.mark.parametrize("store", ["memory", "sqlite", "postgres"])
@pytest.mark.parametrize("path", ["submit_nowait", "execute"])
async def test_one_repetition_acknowledges_every_command(
    store: str, path: str, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    postgres = request.getfixturevalue("postgres_server") if store == "postgres" else None
    schemas_before = schemas(postgres) if postgres is not None else None
    result = await run_once(store, path, participants=12, cards_each=2, supports_each=2, pairs_each=3,
                            workdir=tmp_path, postgres=postgres)
    assert result.errors == 0
    assert (result.collect.commands, result.evaluate.commands) == (12 * 4, 12 * 3)
    if store != "memory":
        assert result.batch_events is not None and result.batch_events.count > 0
        assert list(tmp_path.iterdir()) == []  # the temporary database is removed
    if postgres is not None:
        assert schemas(postgres) == schemas_before  # and so is the schema


def schemas(postgres: ThrowawayPostgres) -> set[str]:
    import psycopg

    with psycopg.connect(postgres.url(), autocommit=True) as conn:
        return {row[0] for row in conn.execute("SELECT nspname FROM pg_namespace")}


def test_the_command_line_prints_rates_ratio_and_commit_figures(capsys: pytest.CaptureFixture[str]) -> None:
    # PostgreSQL's figures are the same code on another store (above); a
    # throwaway server per call would cost seconds here.
    assert main(["--participants", "8", "--cards", "1", "--supports", "1", "--pairs", "2",
                 "--repetitions", "1", "--stores", "memory", "sqlite"]) == 0
    out = capsys.readouterr().out
    for expected in ("submit_nowait: durable/in-memory =", "execute: durable/in-memory =",
                     "events per commit", "commit latency"):
        assert expected in out
