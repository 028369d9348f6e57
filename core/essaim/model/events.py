"""Events: the durable facts a campaign's state is derived from.

An accepted command becomes one or more events. Events are appended to the
store with a per-campaign sequence number (1, 2, 3, ... with no gap) and are
never changed. Replaying them through :meth:`CampaignState.apply` rebuilds the
campaign exactly, so anything a strategy decided at random (a hand dealt, a
jury drawn) is written into an event rather than decided again on replay.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import orjson

__all__ = ["Event", "EVENT_TYPES"]

#: Every event type the core understands, with what it records.
EVENT_TYPES: dict[str, str] = {
    "campaign_created": "the campaign, its template and the facilitator token hash",
    "participant_joined": "a participant, their token hash and profile",
    "phase_started": "a phase began (index, deadline)",
    "phase_paused": "the running phase was paused (remaining seconds)",
    "phase_resumed": "the paused phase resumed (new deadline)",
    "phase_extended": "the phase deadline moved (seconds added)",
    "phase_ended": "a phase ended (reason: advance or timeout)",
    "phase_overtime": "a phase's timer ran out and the phase waits for the facilitator",
    "campaign_finished": "the last phase ended",
    "card_written": "a card, its author and the screen's findings",
    "card_supported": "a participant supports a card instead of writing a duplicate",
    "sorter_volunteered": "a participant opted in to sort cards",
    "hand_dealt": "a hand of items dealt to a sorter",
    "hand_placed": "a sorter's grouping of their hand",
    "items_published": "the structured items the evaluation works on, with provenance",
    "card_flagged": "a flag on a card, and the jury drawn if a case opened",
    "jury_voted": "one juror's vote on a case",
    "case_decided": "a moderation decision (jury, facilitator or screen)",
    "judgment_recorded": "an evaluation judgment (pair, rating, vote...)",
}


@dataclass(frozen=True, slots=True)
class Event:
    """One durable fact. ``data`` holds only JSON-serialisable values."""

    seq: int
    type: str
    ts: float
    data: dict[str, Any]

    def encode(self) -> bytes:
        """The stored form of ``data`` (the other fields are columns)."""
        return orjson.dumps(self.data)

    @classmethod
    def decode(cls, seq: int, type: str, ts: float, blob: bytes) -> Event:
        return cls(seq=seq, type=type, ts=ts, data=orjson.loads(blob))
