"""Garbage-collector settings for a process holding thousands of sessions.

With the default thresholds (700, 10, 10), full collections paused a
10,000-session process for up to 0.9 s, many times a run (stack-notes).
Raising the first threshold and freezing everything allocated at start-up
(engine state, plugins, modules) out of the collector removed the pauses.
"""

from __future__ import annotations

import gc

__all__ = ["tune_gc", "freeze_startup_objects", "GEN1_THRESHOLD", "GEN2_THRESHOLD"]

#: Young collections between two generation-1 collections (CPython default 10).
GEN1_THRESHOLD = 20
#: Generation-1 collections between two full ones; full ones are the long pauses (default 10).
GEN2_THRESHOLD = 100


def tune_gc(threshold0: int) -> None:
    gc.set_threshold(threshold0, GEN1_THRESHOLD, GEN2_THRESHOLD)


def freeze_startup_objects() -> None:
    """Move everything alive now to the permanent generation: never scanned again."""
    gc.collect()
    gc.freeze()
