"""Event stores: where a campaign's events become durable.

The engine talks to a store only through :class:`Store`. Three ship with
Essaim: :class:`SQLiteStore` (the embedded default, durable),
:class:`~essaim.store.postgres.PostgresStore` (PostgreSQL, for several
processes; needs ``pip install 'essaim[postgres]'``, so it is imported only
when a ``postgresql://`` URL asks for it) and :class:`MemoryStore` (tests and
benchmarks; nothing survives the process). :func:`store_at` picks one from
a path or a URL.
"""

from essaim.store.base import Store, StoredCampaign, WriteItem
from essaim.store.location import store_at
from essaim.store.memory import MemoryStore
from essaim.store.sqlite import SQLiteStore

__all__ = ["Store", "StoredCampaign", "WriteItem", "MemoryStore", "SQLiteStore", "store_at"]
