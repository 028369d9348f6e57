"""Commands, actors and acknowledgements, and the checks on their shape.

A :class:`Command` is what a participant or facilitator asks for. Its shape
(types, sizes) is checked here, before it reaches the campaign owner, so a
malformed command costs nothing and changes nothing. Whether it is allowed
(phase, ownership, duplicates) is decided by the owner.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from essaim.errors import CommandError

__all__ = [
    "Actor",
    "Command",
    "Ack",
    "FACILITATOR",
    "PARTICIPANT_COMMAND_TYPES",
    "FACILITATOR_COMMAND_TYPES",
    "MAX_TEXT_CHARS",
    "MAX_MSG_ID_CHARS",
    "check_shape",
]

#: Longest text any command may carry. Strategies set their own, smaller,
#: limits (a card is 280 characters by default); this one bounds memory.
MAX_TEXT_CHARS = 2000
#: Client message ids are for idempotency only; 64 characters fit a UUID.
MAX_MSG_ID_CHARS = 64
#: Largest number of ids in one command (a hand is ~8 items).
MAX_IDS = 64
#: Most seconds one "extend" may add.
MAX_EXTEND_SECONDS = 3600


@dataclass(frozen=True, slots=True)
class Actor:
    role: Literal["participant", "facilitator"]
    pid: str | None = None

    @classmethod
    def participant(cls, pid: str) -> Actor:
        return cls("participant", pid)


FACILITATOR = Actor("facilitator")


@dataclass(frozen=True, slots=True)
class Command:
    """``type`` and ``args`` as a client sends them; ``msg_id`` makes a retry
    apply once."""

    type: str
    args: Mapping[str, Any] = field(default_factory=dict)
    msg_id: str | None = None


@dataclass(frozen=True, slots=True)
class Ack:
    """A durable acknowledgement: the command's last event is at ``seq``.

    ``duplicate`` is True when this acknowledges a retry of a command that
    was already applied (nothing new was recorded).
    """

    seq: int
    result: Mapping[str, Any]
    duplicate: bool = False


# -- shape checks -------------------------------------------------------------------------


def _bad(message: str) -> CommandError:
    return CommandError(message, code="bad_request")


def _text(args: Mapping[str, Any], key: str, *, required: bool = True, limit: int = MAX_TEXT_CHARS) -> None:
    value = args.get(key)
    if value is None and not required:
        return
    if not isinstance(value, str):
        raise _bad(f"'{key}' must be a string")
    if len(value) > limit:
        raise CommandError(f"'{key}' is longer than {limit} characters", code="too_long")


def _id(args: Mapping[str, Any], key: str, *, required: bool = True) -> None:
    _text(args, key, required=required, limit=MAX_MSG_ID_CHARS)


def _ids(value: Any, key: str) -> list[str]:
    if not isinstance(value, list) or len(value) > MAX_IDS or not all(
        isinstance(v, str) and len(v) <= MAX_MSG_ID_CHARS for v in value
    ):
        raise _bad(f"'{key}' must be a list of at most {MAX_IDS} ids")
    return value


def _themes(args: Mapping[str, Any]) -> None:
    themes = args.get("themes", [])
    if not isinstance(themes, list) or len(themes) > MAX_IDS:
        raise _bad("'themes' must be a list of themes; a theme is a list of ideas; an idea is a list of ids")
    for theme in themes:
        if not isinstance(theme, list) or len(theme) > MAX_IDS:
            raise _bad("each theme must be a list of ideas (lists of ids)")
        for idea in theme:
            _ids(idea, "idea")
    _ids(args.get("offtopic", []), "offtopic")


def _kind_data(args: Mapping[str, Any]) -> None:
    _id(args, "kind")
    if not isinstance(args.get("data", {}), dict):
        raise _bad("'data' must be an object")


def _choice(args: Mapping[str, Any], key: str, choices: tuple[str, ...]) -> None:
    if args.get(key) not in choices:
        raise _bad(f"'{key}' must be one of {list(choices)}")


def _seconds(args: Mapping[str, Any]) -> None:
    s = args.get("seconds")
    if isinstance(s, bool) or not isinstance(s, (int, float)) or not 0 < s <= MAX_EXTEND_SECONDS:
        raise _bad(f"'seconds' must be a number of seconds, more than 0 and at most {MAX_EXTEND_SECONDS}")


def _phase_index(args: Mapping[str, Any]) -> None:
    i = args.get("index")
    if i is not None and (isinstance(i, bool) or not isinstance(i, int) or i < 0):
        raise _bad("'index' must be the number of the phase to end (0 for the first), or left out")


def _write_card(a: Mapping[str, Any]) -> None:
    _text(a, "text")
    _id(a, "prompt", required=False)


def _place(a: Mapping[str, Any]) -> None:
    _id(a, "hid")
    _themes(a)


def _flag(a: Mapping[str, Any]) -> None:
    _id(a, "cid")
    _text(a, "reason", required=False, limit=200)


def _judge(a: Mapping[str, Any]) -> None:
    _id(a, "case_id")
    _choice(a, "verdict", ("hide", "keep"))


def _decide(a: Mapping[str, Any]) -> None:
    _id(a, "cid")
    _choice(a, "outcome", ("hide", "keep"))


def _no_args(a: Mapping[str, Any]) -> None:
    pass


_Check = Callable[[Mapping[str, Any]], None]

_PARTICIPANT_SHAPES: dict[str, _Check] = {
    "write_card": _write_card,
    "support_card": lambda a: _id(a, "cid"),
    "volunteer": _no_args,
    "deal": _no_args,
    "place": _place,
    "flag": _flag,
    "judge": _judge,
    "evaluate": _kind_data,
}
_FACILITATOR_SHAPES: dict[str, _Check] = {
    "start": _no_args,
    "pause": _no_args,
    "resume": _no_args,
    "advance": _phase_index,
    "extend": _seconds,
    "decide": _decide,
}

PARTICIPANT_COMMAND_TYPES = frozenset(_PARTICIPANT_SHAPES)
FACILITATOR_COMMAND_TYPES = frozenset(_FACILITATOR_SHAPES)


def check_shape(actor: Actor, command: Command) -> None:
    """Raise CommandError (code ``bad_request``, ``too_long`` or
    ``unknown_command``) unless the command is well-formed for this actor."""
    shapes = _PARTICIPANT_SHAPES if actor.role == "participant" else _FACILITATOR_SHAPES
    check = shapes.get(command.type)
    if check is None:
        other = _FACILITATOR_SHAPES if actor.role == "participant" else _PARTICIPANT_SHAPES
        if command.type in other:
            raise CommandError(
                f"'{command.type}' is a {'facilitator' if actor.role == 'participant' else 'participant'} "
                "command", code="forbidden",
            )
        raise CommandError(
            f"unknown command {command.type!r}; expected one of {sorted(shapes)}", code="unknown_command"
        )
    if command.msg_id is not None and (
        not isinstance(command.msg_id, str) or not 0 < len(command.msg_id) <= MAX_MSG_ID_CHARS
    ):
        raise _bad(f"a message id must be a string of 1 to {MAX_MSG_ID_CHARS} characters")
    if not isinstance(command.args, Mapping):
        raise _bad("command arguments must be an object")
    check(command.args)
