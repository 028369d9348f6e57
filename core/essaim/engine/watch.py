"""Waiting for a campaign to reach a state, without polling.

The simulator's facilitator and participants, and tests, need to wait for
"phase 2 is running" or "phase 1 is over". A :class:`CampaignWatcher`
subscribes to the campaign owner and wakes its waiters each time events
become durable; they re-check their condition on the live state.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING

import trio

from essaim.model.state import CampaignState

if TYPE_CHECKING:
    from essaim.engine import Engine

__all__ = ["CampaignWatcher", "watch_campaign", "phase_running", "phase_over"]

Condition = Callable[[CampaignState], bool]


class CampaignWatcher:
    """Wakes waiters whenever a batch of a campaign's events is durable."""

    def __init__(self, engine: Engine, campaign_id: str) -> None:
        self.state = engine.state(campaign_id)
        self._changed = trio.Event()
        self._unsubscribe = engine.campaign(campaign_id).subscribe(self._on_events)

    def _on_events(self, events: object) -> None:
        self._changed.set()
        self._changed = trio.Event()

    async def wait_until(self, condition: Condition) -> CampaignState:
        """Return the live state as soon as ``condition(state)`` holds."""
        while not condition(self.state):
            await self._changed.wait()
        return self.state

    def close(self) -> None:
        self._unsubscribe()


@contextmanager
def watch_campaign(engine: Engine, campaign_id: str) -> Iterator[CampaignWatcher]:
    """A :class:`CampaignWatcher` that unsubscribes on exit."""
    watcher = CampaignWatcher(engine, campaign_id)
    try:
        yield watcher
    finally:
        watcher.close()


def phase_running(index: int) -> Condition:
    """Phase ``index`` is running or paused; past the last phase: finished."""

    def condition(state: CampaignState) -> bool:
        assert state.template is not None
        if index >= len(state.template.phases):
            return state.status == "finished"
        return state.phase_index == index and state.status in ("running", "paused")

    return condition


def phase_over(index: int) -> Condition:
    """Phase ``index`` has ended (the next one may still be in preparation)."""

    def condition(state: CampaignState) -> bool:
        return (
            state.status == "finished"
            or state.phase_index > index
            or (state.phase_index == index and state.status == "between")
        )

    return condition
