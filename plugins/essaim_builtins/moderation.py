"""Moderation strategy ``jury``: a screen at submission, and flags judged
by a small random peer jury whose majority hides or keeps the card.

Report counts alone never hide anything: a flag opens a case, and only the
jury (or the facilitator) decides.
"""

from __future__ import annotations

import random
from collections.abc import Mapping
from typing import Any

from essaim import hookimpl
from essaim.registry import Registry
from essaim.state import CampaignState, Card, Case, Participant
from essaim.types import FlagOutcome, Screening, Verdict

from .screening import screen_text

DEFAULT_JURY_SIZE = 5
DEFAULT_QUORUM = 3


@hookimpl
def essaim_register_strategies(registry: Registry) -> None:
    registry.add_strategy(
        "moderation",
        "jury",
        description="Personal data masked at submission; a flag goes to a random peer jury whose majority "
        "decides; the facilitator can override.",
        settings={
            "jury_size": f"jurors drawn per case (default {DEFAULT_JURY_SIZE})",
            "quorum": f"votes needed for a decision (default {DEFAULT_QUORUM})",
        },
    )


@hookimpl
def essaim_moderation_screen(settings: Mapping[str, Any], text: str) -> Screening:
    return screen_text(text)


@hookimpl
def essaim_moderation_flag(
    settings: Mapping[str, Any], state: CampaignState, card: Card, flagger: Participant, rng: random.Random
) -> FlagOutcome:
    size = int(settings.get("jury_size", DEFAULT_JURY_SIZE))
    excluded = {card.author, flagger.pid}
    pool = [pid for pid in state.participants if pid not in excluded]
    jury = rng.sample(pool, min(size, len(pool)))
    return FlagOutcome(jury=tuple(jury), hide_now=False)


@hookimpl
def essaim_moderation_verdict(settings: Mapping[str, Any], state: CampaignState, case: Case) -> Verdict | None:
    quorum = min(int(settings.get("quorum", DEFAULT_QUORUM)), max(1, len(case.jury)))
    votes = list(case.votes.values())
    if len(votes) < quorum:
        return None
    # A tie keeps the card: hiding needs a majority.
    return "hide" if votes.count("hide") > votes.count("keep") else "keep"
