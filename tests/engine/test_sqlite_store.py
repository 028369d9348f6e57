"""The SQLite store's schema version and migrations, on real files (what
every store does is in test_store_contract.py)."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from essaim import Event, StoreError, open_engine
from essaim.store import SQLiteStore, WriteItem
from essaim.store.sqlite import MIGRATIONS, SCHEMA_VERSION


def user_version(path: Path) -> int:
    conn = sqlite3.connect(path)
    try:
        return conn.execute("PRAGMA user_version").fetchone()[0]
    finally:
        conn.close()


def test_a_new_file_gets_the_current_schema_version(db_path: Path) -> None:
    store = SQLiteStore(db_path)
    store.open()
    store.close()
    assert user_version(db_path) == SCHEMA_VERSION == len(MIGRATIONS)
    conn = sqlite3.connect(db_path)
    tables = {row[0] for row in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    conn.close()
    assert {"events", "snapshots"} <= tables


def test_reopening_keeps_the_data_and_the_version(db_path: Path) -> None:
    store = SQLiteStore(db_path)
    store.open()
    store.append([WriteItem("k1", [Event(1, "campaign_created", 1.0, {"x": 1}), Event(2, "phase_started", 2.0, {})])])
    store.close()
    again = SQLiteStore(db_path)
    again.open()
    try:
        assert [(e.seq, e.type, e.data) for e in again.events("k1")] == [
            (1, "campaign_created", {"x": 1}), (2, "phase_started", {}),
        ]
        assert again.campaign_ids() == ["k1"]
    finally:
        again.close()
    assert user_version(db_path) == SCHEMA_VERSION


def test_a_file_from_a_newer_essaim_is_refused_with_a_clear_error(db_path: Path) -> None:
    conn = sqlite3.connect(db_path)
    conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    conn.close()
    with pytest.raises(StoreError) as refused:
        SQLiteStore(db_path).open()
    message = str(refused.value)
    assert str(db_path) in message and "newer" in message and "upgrade Essaim" in message
    assert user_version(db_path) == SCHEMA_VERSION + 1  # left as it was


async def test_the_engine_refuses_a_newer_file_with_a_store_error(db_path: Path) -> None:
    conn = sqlite3.connect(db_path)
    conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    conn.close()
    with pytest.raises(StoreError, match="upgrade Essaim"):
        async with open_engine(db_path):
            pass  # pragma: no cover - never reached


def test_a_failed_migration_rolls_back_and_says_where(db_path: Path) -> None:
    # A file whose version says "empty" but which already has an events
    # table: the first migration fails; nothing may be half-applied.
    conn = sqlite3.connect(db_path)
    conn.execute("CREATE TABLE events (whatever TEXT)")
    conn.commit()
    conn.close()
    with pytest.raises(StoreError) as refused:
        SQLiteStore(db_path).open()
    assert str(db_path) in str(refused.value)
    assert user_version(db_path) == 0
    conn = sqlite3.connect(db_path)
    tables = {row[0] for row in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    conn.close()
    assert "snapshots" not in tables


def test_a_file_that_is_not_a_database_is_refused(db_path: Path) -> None:
    db_path.write_bytes(b"this is not a SQLite database, just some text " * 100)
    with pytest.raises(StoreError, match=str(db_path)):
        SQLiteStore(db_path).open()
