"""A real PostgreSQL (Debian's ``postgresql`` package) on loopback, for tests.

One server per test session (``initdb`` takes seconds), from
:class:`essaim.bench.throwaway_postgres.ThrowawayPostgres`: a fresh
temporary folder, a free port, ``runuser -u postgres`` as root. Each test
gets its own schema (:func:`postgres_url`), as empty as a new database and
far cheaper to make. A test that needs the server down (a restart in the
middle of a campaign) calls ``postgres_server.stop()`` and ``.start()``.
"""

from __future__ import annotations

import importlib.util
import os
from collections.abc import Iterator

import pytest

from essaim.bench.throwaway_postgres import DEBIAN_BIN_GLOB, ThrowawayPostgres
from realservers import REQUIRE_ENV, require_binary

__all__ = ["postgres_server", "postgres_url"]


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[ThrowawayPostgres]:
    initdb = require_binary("initdb", package="postgresql", search=("/" + DEBIAN_BIN_GLOB,))
    if importlib.util.find_spec("psycopg") is None:
        message = "the PostgreSQL store needs psycopg: pip install -e '.[postgres]' (make venv does)"
        if os.environ.get(REQUIRE_ENV) == "1":
            pytest.fail(message, pytrace=False)
        pytest.skip(message)
    with ThrowawayPostgres.started(initdb) as server:
        yield server


@pytest.fixture
def postgres_url(postgres_server: ThrowawayPostgres) -> Iterator[str]:
    """A PostgreSQL store URL whose tables go in a fresh schema of this test's own."""
    schema = postgres_server.new_schema()
    yield postgres_server.url(schema)
