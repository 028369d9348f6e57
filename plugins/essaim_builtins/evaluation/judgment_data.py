"""Type checks of a judgment's ``data``, shared by the evaluation strategies.

``data`` comes from the client as JSON: any field may hold any type. A value
of the wrong type is the client's mistake and must come back as a
``bad_request`` that says what was expected, never as a plugin failure
(an unhashable list used as an item id, say).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from essaim import CommandError
from essaim.model.state import CampaignState

__all__ = ["require_object", "require_item", "require_items", "require_choice", "require_mapping"]


def _bad(message: str) -> CommandError:
    return CommandError(message, code="bad_request")


def require_object(data: Any) -> Mapping[str, Any]:
    """The judgment data itself, which must be a JSON object."""
    if not isinstance(data, Mapping):
        raise _bad("'data' must be an object, such as {\"iid\": \"ic1\", ...}")
    return data


def require_item(state: CampaignState, data: Mapping[str, Any], key: str) -> str:
    """``data[key]``: the id (a string) of one of the campaign's items."""
    value = data.get(key)
    if not isinstance(value, str) or value not in state.items:
        raise _bad(f"'{key}' must be the id of an item of this campaign (a string such as \"ic1\")")
    return value


def require_items(state: CampaignState, data: Mapping[str, Any], key: str, default: list[str] | None = None
                  ) -> list[str]:
    """``data[key]``: a list of item ids (strings) of the campaign, each once."""
    value = data.get(key, default)
    if not isinstance(value, list) or not all(isinstance(i, str) and i in state.items for i in value) \
            or len(set(value)) != len(value):
        raise _bad(f"'{key}' must be a list of distinct item ids of this campaign (strings such as \"ic1\")")
    return value


def require_choice(data: Mapping[str, Any], key: str, choices: tuple[str, ...]) -> str:
    """``data[key]``: one of a few fixed strings."""
    value = data.get(key)
    if not isinstance(value, str) or value not in choices:
        raise _bad(f"'{key}' must be one of {', '.join(repr(c) for c in choices)}")
    return value


def require_mapping(data: Mapping[str, Any], key: str, expected: str, default: Any = None) -> Mapping[str, Any]:
    """``data[key]``: an object; ``expected`` says of what, for the message."""
    value = data.get(key, default)
    if not isinstance(value, Mapping):
        raise _bad(f"'{key}' must be an object mapping {expected}")
    return value
