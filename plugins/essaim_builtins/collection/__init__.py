"""Collection strategy ``prompts``: prompts per profile segment, card checks,
and similar-card suggestions from an incremental lexical index."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping, Sequence
from typing import Any

from essaim import CommandError, LimitExceeded, hookimpl
from essaim.model.commands import MAX_MSG_ID_CHARS, MAX_TEXT_CHARS
from essaim.model.schema import Integer, ListOf, Object, Text
from essaim.model.state import CampaignState, Participant
from essaim.model.types import Prompt, Suggestion
from essaim.plugin.registry import Registry

from essaim_builtins.collection.similarity import SimilarityIndex
from essaim_builtins.profiles import matches_segment

#: Defaults; a template overrides them in [phase.settings].
DEFAULT_MAX_CHARS = 280
DEFAULT_MIN_CHARS = 3
DEFAULT_MAX_CARDS = 30

_SPACES = re.compile(r"\s+")

SETTINGS = {
    "prompts": ListOf(Object({
        "id": Text(MAX_MSG_ID_CHARS, required=True, description="what write_card's 'prompt' names"),
        "text": Text(MAX_TEXT_CHARS, min_len=1, required=True, description="the question shown"),
        "segment": Object(description="{attribute = value or [values]}: only participants whose profile matches"),
    }), description="the open prompts", default=[{"id": "p1", "text": "What is your idea?"}]),
    # A card is a command's text: never more than MAX_TEXT_CHARS.
    "max_chars": Integer(minimum=1, maximum=MAX_TEXT_CHARS, default=DEFAULT_MAX_CHARS, description="longest card"),
    "min_chars": Integer(minimum=0, maximum=MAX_TEXT_CHARS, default=DEFAULT_MIN_CHARS, description="shortest card"),
    "max_cards": Integer(minimum=1, default=DEFAULT_MAX_CARDS, description="cards one participant may write"),
}



@hookimpl
def essaim_register_strategies(registry: Registry) -> None:
    registry.add_strategy(
        "collection",
        "prompts",
        description="Open prompts, each optionally limited to a profile segment; similar cards suggested while typing.",
        settings=SETTINGS,
    )


def _prompts(settings: Mapping[str, Any]) -> list[dict[str, Any]]:
    prompts = settings.get("prompts") or [{"id": "p1", "text": "What is your idea?"}]
    return [p for p in prompts if isinstance(p, dict) and "id" in p and "text" in p]


@hookimpl
def essaim_collection_prompts(
    settings: Mapping[str, Any], state: CampaignState, participant: Participant
) -> Sequence[Prompt]:
    return [
        Prompt(str(p["id"]), str(p["text"]))
        for p in _prompts(settings)
        if matches_segment(p.get("segment"), participant.profile)
    ]


def normalize(text: str) -> str:
    """NFC, no control characters, single spaces."""
    text = unicodedata.normalize("NFC", text)
    text = "".join(ch for ch in text if unicodedata.category(ch)[0] != "C" or ch in "\n\t")
    return _SPACES.sub(" ", text).strip()


@hookimpl
def essaim_collection_check_card(
    settings: Mapping[str, Any], state: CampaignState, participant: Participant, text: str, prompt: str | None
) -> str:
    clean = normalize(text)
    low = int(settings.get("min_chars", DEFAULT_MIN_CHARS))
    high = int(settings.get("max_chars", DEFAULT_MAX_CHARS))
    if len(clean) < low:
        raise CommandError(f"a card needs at least {low} characters", code="too_short")
    if len(clean) > high:
        raise CommandError(f"a card holds at most {high} characters; shorten it or split it", code="too_long")
    if prompt is not None:
        allowed = {p.id for p in essaim_collection_prompts(settings, state, participant)}
        if prompt not in allowed:
            raise CommandError(f"unknown prompt {prompt!r}; answer one of {sorted(allowed)}", code="bad_request")
    limit = int(settings.get("max_cards", DEFAULT_MAX_CARDS))
    if participant.cards_written >= limit:
        raise LimitExceeded(f"you have written {limit} cards, the most this campaign takes; thank you!")
    return clean


def index_for(state: CampaignState) -> SimilarityIndex:
    """The campaign's index, brought up to date with new cards: a cache in
    ``state.caches`` (created on first use, dropped when the campaign
    finishes or is unloaded; see essaim.model.caches)."""
    index = state.caches.get((__name__, "similarity"), SimilarityIndex)
    index.update(state)
    return index


@hookimpl
def essaim_collection_similar(
    settings: Mapping[str, Any], state: CampaignState, text: str, limit: int
) -> Sequence[Suggestion]:
    index = index_for(state)
    return [
        Suggestion(cid, state.cards[cid].text, round(score, 3))
        for cid, score in index.search(text, limit)
        if not state.cards[cid].hidden
    ]

