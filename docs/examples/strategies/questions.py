"""Collection, from scratch: ``questions``, one open question per profile
segment, with the simplest useful duplicate detection.

A collection strategy implements three hooks: the prompts a participant
answers, the check of a new card, and suggestions of similar cards while
someone types. The suggestions keep a small word index in the campaign's
``state.caches``: made on first use, fed only the cards added since the
last call, dropped by the engine when the campaign finishes.

Run by tests/plugins/test_strategy_examples.py.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Mapping, Sequence
from typing import Any

from essaim import CommandError, hookimpl
from essaim.model.schema import Integer, ListOf, Object, Text
from essaim.model.state import CampaignState, Participant
from essaim.model.types import Prompt, Suggestion

_WORD = re.compile(r"[^\W\d_]{3,}")


@hookimpl
def essaim_register_strategies(registry: Any) -> None:
    registry.add_strategy("collection", "questions", description="One question per profile segment.", settings={
        "questions": ListOf(Object({
            "id": Text(64, required=True, description="the prompt id"),
            "text": Text(500, required=True, description="the question"),
            "role": Text(80, description="only for participants with this role"),
        }), min_items=1, description="the questions"),
        "max_chars": Integer(minimum=10, maximum=2000, default=200, description="longest card"),
    })


@hookimpl
def essaim_collection_prompts(settings: Mapping[str, Any], participant: Participant) -> Sequence[Prompt]:
    role = participant.profile.get("role")
    return [Prompt(q["id"], q["text"]) for q in settings.get("questions", ())
            if q.get("role") in (None, role)]


@hookimpl
def essaim_collection_check_card(settings: Mapping[str, Any], participant: Participant, text: str,
                                 prompt: str | None) -> str:
    text = " ".join(text.split())
    if len(text) < 3 or len(text) > int(settings.get("max_chars", 200)):
        raise CommandError(f"a card holds 3 to {settings.get('max_chars', 200)} characters", code="too_long")
    if prompt is not None and prompt not in {p.id for p in essaim_collection_prompts(settings, participant)}:
        raise CommandError(f"unknown question {prompt!r}", code="bad_request")
    return text


class WordIndex:
    """Which cards use which word; fed incrementally from one state."""

    def __init__(self) -> None:
        self.cards: dict[str, set[str]] = defaultdict(set)
        self.seen = 0

    def update(self, state: CampaignState) -> None:
        for card in list(state.cards.values())[self.seen:]:
            for word in set(_WORD.findall(card.text.casefold())):
                self.cards[word].add(card.cid)
        self.seen = len(state.cards)


@hookimpl
def essaim_collection_similar(state: CampaignState, text: str, limit: int) -> Sequence[Suggestion]:
    index = state.caches.get((__name__, "words"), WordIndex)
    index.update(state)
    words = set(_WORD.findall(text.casefold()))
    shared: dict[str, int] = defaultdict(int)
    for word in words:
        for cid in index.cards.get(word, ()):
            shared[cid] += 1
    ranked = sorted(shared.items(), key=lambda kv: (-kv[1], kv[0]))
    return [Suggestion(cid, state.cards[cid].text, round(n / len(words), 3))
            for cid, n in ranked if not state.cards[cid].hidden][:limit]
