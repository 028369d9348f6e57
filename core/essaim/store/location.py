"""Which store a location names: a ``postgresql://`` URL, or a SQLite file."""

from __future__ import annotations

from pathlib import Path

from essaim.errors import StoreError
from essaim.store.base import Store
from essaim.store.memory import MemoryStore
from essaim.store.sqlite import SQLiteStore

__all__ = ["store_at", "is_url"]

_POSTGRES_SCHEMES = ("postgresql://", "postgres://")


def is_url(location: str | Path) -> bool:
    """True for a ``postgresql://`` (or ``postgres://``) URL."""
    return isinstance(location, str) and location.startswith(_POSTGRES_SCHEMES)


def store_at(location: Store | str | Path | None) -> Store:
    """A store for ``location``: a Store as it is, None for a MemoryStore, a
    PostgreSQL URL for a PostgresStore, any other string or path for the
    SQLite file there."""
    if location is None:
        return MemoryStore()
    if isinstance(location, (str, Path)):
        if is_url(location):
            try:
                from essaim.store.postgres import PostgresStore
            except ImportError as exc:
                raise StoreError(
                    f"a PostgreSQL store needs psycopg, which is not installed ({exc}); "
                    "install it with: pip install 'essaim[postgres]'"
                ) from None
            return PostgresStore(str(location))
        if "://" in str(location):
            raise StoreError(f"unknown store URL scheme in {str(location).split('://')[0]!r}://...; "
                             "use postgresql://user@host:port/database, or a SQLite file path")
        return SQLiteStore(location)
    return location
