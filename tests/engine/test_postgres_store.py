"""The PostgreSQL store's own matters, on a real server: schema versions and
migrations, URLs, and what it says when the server is not there (what every
store does is in test_store_contract.py)."""

from __future__ import annotations

from typing import Any

import pytest

from essaim import Event, StoreError, open_engine
from essaim.errors import StoreUnavailable
from essaim.store import WriteItem, store_at

psycopg = pytest.importorskip("psycopg", reason="the PostgreSQL store needs psycopg: pip install 'essaim[postgres]'")

from realservers import free_port  # noqa: E402

from essaim.bench.throwaway_postgres import ThrowawayPostgres  # noqa: E402
from essaim.store.base import sql_statements  # noqa: E402
from essaim.store.postgres import MIGRATIONS, SCHEMA_VERSION, PostgresStore  # noqa: E402


def query(url: str, sql: str, *params: Any) -> list[tuple[Any, ...]]:
    with psycopg.connect(url, autocommit=True) as conn:
        cur = conn.execute(sql, params or None)  # type: ignore[call-overload]
        return cur.fetchall() if cur.description else []


def schema_at_version(url: str, version: int) -> None:
    """What an Essaim that knew ``version`` migrations left in the schema."""
    if version == 0:
        return  # an older Essaim never ran here: not even the version table
    with psycopg.connect(url, autocommit=True) as conn, conn.transaction():
        conn.execute("CREATE TABLE essaim_schema (version integer NOT NULL)")
        conn.execute("INSERT INTO essaim_schema VALUES (%s)", (version,))
        for migration in MIGRATIONS[:version]:
            for statement in sql_statements(migration):
                conn.execute(statement)  # type: ignore[call-overload]


def tables(url: str) -> set[str]:
    return {row[0] for row in query(url, "SELECT tablename FROM pg_tables WHERE schemaname = current_schema()")}


def indexes(url: str) -> set[str]:
    return {row[0] for row in query(url, "SELECT indexname FROM pg_indexes WHERE schemaname = current_schema()")}


def test_an_empty_database_gets_the_current_schema(postgres_url: str) -> None:
    store = store_at(postgres_url)
    assert isinstance(store, PostgresStore)
    store.open()
    store.close()
    assert query(postgres_url, "SELECT version FROM essaim_schema") == [(SCHEMA_VERSION,)]
    assert {"essaim_schema", "events", "snapshots"} <= tables(postgres_url)
    assert "events_finished" in indexes(postgres_url)
    # Opening again changes nothing (and finds the version row, not a second one).
    again = store_at(postgres_url)
    again.open()
    again.close()
    assert query(postgres_url, "SELECT version FROM essaim_schema") == [(SCHEMA_VERSION,)]


@pytest.mark.parametrize("previous", range(1, SCHEMA_VERSION))
def test_a_database_of_a_previous_version_is_migrated_and_keeps_its_events(postgres_url: str, previous: int) -> None:
    schema_at_version(postgres_url, previous)
    query(postgres_url, "INSERT INTO events VALUES ('k1', 1, 'campaign_created', 1.0, %s), "
                        "('k1', 2, 'campaign_finished', 2.0, '\\x7b7d')", b'{"code":"OLD123"}')
    store = store_at(postgres_url)
    store.open()
    try:
        assert query(postgres_url, "SELECT version FROM essaim_schema") == [(SCHEMA_VERSION,)]
        assert store.finished_campaigns() == {"k1": "OLD123"}
        store.append([WriteItem("k1", [Event(3, "phase_started", 3.0, {})])])
        assert [e.seq for e in store.events("k1")] == [1, 2, 3]
    finally:
        store.close()
    assert "events_finished" in indexes(postgres_url)


def test_a_database_of_a_newer_essaim_is_refused_and_left_alone(postgres_url: str) -> None:
    schema_at_version(postgres_url, SCHEMA_VERSION)
    query(postgres_url, "UPDATE essaim_schema SET version = %s", SCHEMA_VERSION + 1)
    with pytest.raises(StoreError, match=r"newer than this Essaim understands.*upgrade Essaim"):
        store_at(postgres_url).open()
    assert query(postgres_url, "SELECT version FROM essaim_schema") == [(SCHEMA_VERSION + 1,)]


async def test_the_engine_refuses_a_newer_database_with_a_store_error(postgres_url: str) -> None:
    schema_at_version(postgres_url, SCHEMA_VERSION)
    query(postgres_url, "UPDATE essaim_schema SET version = %s", SCHEMA_VERSION + 1)
    with pytest.raises(StoreError, match="upgrade Essaim"):
        async with open_engine(postgres_url):
            pass  # pragma: no cover - never reached


def test_a_failed_migration_changes_nothing(postgres_url: str) -> None:
    # A schema whose version says "empty" but which already has a snapshots
    # table: the first migration fails half-way; none of it may stay.
    query(postgres_url, "CREATE TABLE snapshots (whatever text)")
    with pytest.raises(StoreError, match="already exists"):
        store_at(postgres_url).open()
    assert tables(postgres_url) == {"snapshots"}


def test_a_server_that_is_not_there_is_unavailable_and_the_password_stays_secret() -> None:
    url = f"postgresql://essaim:s3cret-pw@127.0.0.1:{free_port()}/essaim"
    with pytest.raises(StoreUnavailable) as refused:
        store_at(url).open()
    message = str(refused.value)
    assert "127.0.0.1" in message and "s3cret-pw" not in message


def test_the_url_may_override_the_connection_settings(postgres_server: ThrowawayPostgres) -> None:
    store = PostgresStore(postgres_server.url() + "?connect_timeout=2&application_name=essaim-test")
    assert store.conninfo["connect_timeout"] == "2" and store.conninfo["application_name"] == "essaim-test"
    assert store.conninfo["tcp_user_timeout"] > 0  # a default the URL did not set


def test_a_malformed_url_says_what_is_expected() -> None:
    with pytest.raises(StoreError, match="postgresql://user@host:port/database"):
        store_at("postgresql://essaim@db.example/essaim?nonsense=1")
