"""Event stores: where a campaign's events become durable.

The engine talks to a store only through :class:`Store`. Two ship with
Essaim: :class:`SQLiteStore` (the embedded default, durable) and
:class:`MemoryStore` (tests and benchmarks; nothing survives the process).
"""

from essaim.store.base import Store, StoredCampaign, WriteItem
from essaim.store.memory import MemoryStore
from essaim.store.sqlite import SQLiteStore

__all__ = ["Store", "StoredCampaign", "WriteItem", "MemoryStore", "SQLiteStore"]
