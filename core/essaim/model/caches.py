"""Per-campaign caches that plugins derive from a campaign's state.

Hot-path hooks must answer in microseconds for thousands of cards, so the
built-in strategies keep incremental indexes (the similarity index, the
dealing board, evaluation tallies, aggregation evidence). Such a cache is
*derived*: it can always be rebuilt from the state, so it is never stored
or replayed. This module gives each campaign one :class:`CampaignCaches`
(``state.caches``, and ``snapshot.caches`` on the snapshots worker-thread
hooks read) with a defined lifetime:

* **created on first use** — ``state.caches.get(key, factory)`` calls
  ``factory()`` the first time a key is asked for;
* **dropped** when the campaign finishes, when it is unloaded (a finished
  campaign unused for a while), and when the engine closes; asked for
  again, it is created anew and rebuilt from the state;
* **never shared across a replay or a restart**: a rebuilt campaign is a
  new state object with new, empty caches, so a cache never sees a state
  other than the one it was fed from.

Keys are per plugin: use a tuple starting with your plugin's module name,
``(__name__, "index")``. A cache must only hold what can be recomputed
from the state; durable plugin state (what custom phases need, issue 18)
belongs in events and a reducer, not here.

Thread safety: ``get`` may be called from the trio thread and from worker
threads at once (it creates one value per key); a dropped cache that a
worker thread still holds stays usable by that thread, and the next
``get`` creates a fresh one. A cache shared by the trio thread and worker
threads must protect its own contents.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Hashable, Iterator
from typing import Any, TypeVar

__all__ = ["CampaignCaches"]

T = TypeVar("T")


class CampaignCaches:
    """One campaign's derived caches, by key. See the module docstring."""

    __slots__ = ("_values", "_lock", "drops")

    def __init__(self) -> None:
        self._values: dict[Hashable, Any] = {}
        self._lock = threading.Lock()
        #: How many times the caches were dropped (for tests and metrics).
        self.drops = 0

    def get(self, key: Hashable, factory: Callable[[], T]) -> T:
        """The cache under ``key``, made by ``factory()`` on first use."""
        try:
            return self._values[key]  # type: ignore[no-any-return]
        except KeyError:
            pass
        with self._lock:
            value = self._values.get(key)
            if value is None:
                value = self._values[key] = factory()
            return value

    def peek(self, key: Hashable) -> Any:
        """The cache under ``key`` if it exists, else None (never creates one)."""
        return self._values.get(key)

    def __contains__(self, key: object) -> bool:
        return key in self._values

    def __iter__(self) -> Iterator[Hashable]:
        return iter(list(self._values))

    def __len__(self) -> int:
        return len(self._values)

    def clear(self) -> None:
        """Drop every cache (the engine does, when the campaign finishes, is
        unloaded, or the engine closes)."""
        with self._lock:
            if self._values:
                self.drops += 1
            self._values = {}

    def __repr__(self) -> str:
        return f"CampaignCaches({sorted(map(repr, self._values))})"
