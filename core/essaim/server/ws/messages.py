"""The participant messages that are not engine commands: ``join`` and
``resume`` (before joining) and the queries ``suggest`` and ``next``.

Declared once with the vocabulary of :mod:`essaim.model.schema`: the
socket checks messages with these declarations
(:func:`check_message`), and ``/asyncapi.json`` publishes them as JSON
Schema, next to the commands' own declarations.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from essaim.errors import CommandError
from essaim.model.commands import MAX_MSG_ID_CHARS
from essaim.model.schema import Fields, Integer, Invalid, Object, Text

__all__ = ["SESSION_MESSAGES", "QUERIES", "QUERY_TYPES", "MAX_SUGGEST_CHARS", "MAX_TOKEN_CHARS",
           "check_message"]

#: Longest text a ``suggest`` query is matched on; a card is shorter.
MAX_SUGGEST_CHARS = 2000
#: Longest token ``resume`` accepts (a real one is 43 characters).
MAX_TOKEN_CHARS = 200
#: BCP 47 language tags are at most 35 characters in practice.
MAX_LANG_CHARS = 35

_CAMPAIGN = Text(MAX_MSG_ID_CHARS, min_len=1, required=True, description="the join code (case-insensitive)")

#: ``join`` and ``resume``: (payload, description), by type.
SESSION_MESSAGES: dict[str, tuple[Fields, str]] = {
    "join": (Fields({
        "campaign": _CAMPAIGN,
        "profile": Object(nullable=True, description="the template's profile attributes (welcome.campaign.profile); "
                          "unknown keys or values outside 'choices' get bad_profile"),
        "lang": Text(MAX_LANG_CHARS, nullable=True, description="the client's language; informational (the "
                     "campaign's language is campaign.language)"),
    }), "Join a campaign as a new participant (the first frame of a connection, or after an error)."),
    "resume": (Fields({
        "campaign": _CAMPAIGN,
        "token": Text(MAX_TOKEN_CHARS, min_len=1, required=True, description="the token from 'welcome'"),
        "seq": Integer(minimum=0, nullable=True,
                       description="the last seq the client saw; informational (the welcome is whole)"),
    }), "Come back as the same participant after a reload or a network drop."),
}

#: The queries: (payload, description), by type. Answered in ``update.replies``; they change nothing.
QUERIES: dict[str, tuple[Fields, str]] = {
    "suggest": (Fields({"text": Text(MAX_SUGGEST_CHARS, required=True, description="the card being typed")}),
                "Cards similar to a text being typed (any phase once joined)."),
    "next": (Fields(), "The next evaluation task (evaluation phases only: elsewhere wrong_phase)."),
}
QUERY_TYPES = frozenset(QUERIES)


def check_message(payload: Fields, msg: Mapping[str, Any], codes: Mapping[str, str] | None = None) -> None:
    """Raise :class:`~essaim.errors.CommandError` unless ``msg`` fits
    ``payload``; ``codes`` gives a field's refusal its own code (a bad
    ``token`` is ``unauthorized``, not ``bad_request``)."""
    try:
        payload.check_mapping(msg)
    except Invalid as error:
        code = (codes or {}).get(error.name, error.code)
        raise CommandError(error.message, code=code) from None
