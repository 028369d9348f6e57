"""Fixtures of the engine tests (helpers live in engine_session.py)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from essaim.store import MemoryStore, Store, store_at

#: The stores every store contract test runs on.
STORE_KINDS = ("memory", "sqlite", "postgres")


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    """A fresh SQLite file for one test."""
    return tmp_path / "essaim.sqlite3"


@pytest.fixture
def store_location(request: pytest.FixtureRequest, tmp_path: Path) -> Store | str | Path:
    """What ``open_engine`` takes for the store kind of ``request.param``
    (indirect parametrisation): a MemoryStore (reused, it stands for a
    restart), a SQLite path, or a PostgreSQL URL with a schema of its own."""
    kind = getattr(request, "param", "sqlite")
    if kind == "memory":
        return MemoryStore()
    if kind == "postgres":
        return str(request.getfixturevalue("postgres_url"))
    return tmp_path / "essaim.sqlite3"


@pytest.fixture(params=STORE_KINDS)
def make_store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Callable[[], Store]]:
    """Make an opened store of each kind, on one location per test: a second
    call is a restart (a new SQLite or PostgreSQL store on the same file or
    schema; for memory, the same store opened again). Closed at the end."""
    if request.param == "memory":
        memory = MemoryStore()
        location: Store | str | Path = memory
    elif request.param == "postgres":
        location = str(request.getfixturevalue("postgres_url"))
    else:
        location = tmp_path / "essaim.sqlite3"
    opened: list[Store] = []

    def make() -> Store:
        store = store_at(location)
        store.open()
        opened.append(store)
        return store

    yield make
    for store in opened:
        store.close()
