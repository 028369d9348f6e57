"""Commands, actors and acknowledgements, and the one declaration of what
each command is.

A :class:`Command` is what a participant or facilitator asks for. Every
command is declared once, as a :class:`CommandSpec`: its name, who may send
it, the shape of its payload (:mod:`essaim.model.schema`) and the handler
that decides what it does. The built-in commands are declared by
:mod:`essaim.engine.commands` through ``registry.add_command``, the same
call a plugin makes. The :class:`CommandTable` built from those
declarations

* checks a command's shape before it reaches the campaign owner
  (:meth:`CommandTable.validate`), so a malformed command costs almost
  nothing and changes nothing;
* gives the owner the handler to run (whether the command is *allowed* —
  phase, ownership, duplicates — is the handler's decision);
* describes every command as JSON Schema (:meth:`CommandTable.json_schema`)
  for published protocol documents.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from essaim.errors import CommandError
from essaim.model.schema import Fields, Invalid

__all__ = [
    "Actor",
    "Command",
    "Ack",
    "FACILITATOR",
    "Sender",
    "Decision",
    "Handler",
    "CommandSpec",
    "CommandTable",
    "MAX_TEXT_CHARS",
    "MAX_MSG_ID_CHARS",
    "MAX_IDS",
    "MAX_EXTEND_SECONDS",
    "MSG_ID_SCHEMA",
    "message_schema",
]

#: Longest text any command may carry. Strategies set their own, smaller,
#: limits (a card is 280 characters by default); this one bounds memory.
MAX_TEXT_CHARS = 2000
#: Client message ids are for idempotency only; 64 characters fit a UUID.
#: Other ids (cards, hands, cases) are the engine's and shorter.
MAX_MSG_ID_CHARS = 64
#: Largest number of ids in one list of a command (a hand is ~8 items).
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


# -- the declaration ------------------------------------------------------------------------

#: Who may send a command: a participant (WebSocket), the facilitator (HTTP
#: API), or only the engine itself (timers, joins, transitions: never
#: accepted from outside).
Sender = Literal["participant", "facilitator", "engine"]

#: What a handler decides: events to record, as ``(event type, data)`` in
#: order. The last event's ``data["result"]`` is the acknowledgement's
#: result. An empty list records nothing (the command is acknowledged at
#: the current seq).
Decision = list[tuple[str, dict[str, Any]]]

#: ``await handler(owner, participant, args)``: ``owner`` is the campaign's
#: owner (its ``state``, ``call(family, hook, ...)`` to ask the campaign's
#: strategies, ``rng()``, ``clock()``), ``participant`` the sending
#: :class:`~essaim.model.state.Participant` (None for the facilitator and
#: the engine), ``args`` the payload, already checked against the spec.
#: Raise :class:`~essaim.errors.CommandError` to refuse.
Handler = Callable[[Any, Any, Mapping[str, Any]], Awaitable[Decision]]


@dataclass(frozen=True, slots=True)
class CommandSpec:
    """One command, declared once.

    ``every_phase``: a participant command allowed in every running phase
    (moderation runs all along); other participant commands are allowed
    only in phases whose type lists them. ``result`` documents the ack's
    ``result`` object. ``plugin`` is filled in by the registry.
    """

    name: str
    sender: Sender
    payload: Fields
    handler: Handler
    description: str = ""
    every_phase: bool = False
    result: Fields = field(default_factory=Fields)
    plugin: str = ""

    def check(self, args: Mapping[str, Any]) -> None:
        """Raise :class:`~essaim.model.schema.Invalid` unless ``args`` fit the payload."""
        self.payload.check(args)

    def json_schema(self) -> dict[str, Any]:
        """The payload as JSON Schema, titled with the command's name."""
        schema = self.payload.json_schema()
        schema["title"] = self.name
        if self.description:
            schema["description"] = self.description
        return schema

    def message_schema(self) -> dict[str, Any]:
        """The whole participant WebSocket message (``type`` and ``id`` next
        to the payload's fields, as docs/protocol.md describes it)."""
        return message_schema(self.name, self.payload, self.description)

    def result_schema(self) -> dict[str, Any]:
        """The ``result`` of this command's ack, as JSON Schema (any object
        when the command declares none)."""
        if not len(self.result):
            return {"type": "object", "title": f"{self.name} result"}
        schema = self.result.json_schema()
        schema["title"] = f"{self.name} result"
        return schema


#: A client message id, as every action and query carries it.
MSG_ID_SCHEMA = {"type": "string", "minLength": 1, "maxLength": MAX_MSG_ID_CHARS,
                 "description": "client message id: a retry with the same id applies once"}


def message_schema(name: str, payload: Fields, description: str = "", *, with_id: bool = True) -> dict[str, Any]:
    """A WebSocket message as JSON Schema: ``type`` (``name``), the client's
    ``id`` when ``with_id``, and ``payload``'s fields, from the same
    declaration the server checks messages with."""
    schema = payload.json_schema()
    schema["title"] = name
    if description:
        schema["description"] = description
    schema["properties"] = {"type": {"const": name}, **({"id": MSG_ID_SCHEMA} if with_id else {}),
                            **schema["properties"]}
    schema["required"] = ["type", *(["id"] if with_id else []), *schema.get("required", ())]
    return schema


class CommandTable:
    """Every declared command, by name; filled through ``Registry.add_command``."""

    __slots__ = ("_specs", "_checks", "participant", "facilitator", "every_phase")

    def __init__(self) -> None:
        self._specs: dict[str, CommandSpec] = {}
        #: name -> (spec, its sender, its payload's compiled check): one lookup per command.
        self._checks: dict[str, tuple[CommandSpec, str, Callable[[Mapping[str, Any]], None]]] = {}
        #: Names of the commands each actor may send (read on every message).
        self.participant: frozenset[str] = frozenset()
        self.facilitator: frozenset[str] = frozenset()
        #: Participant commands allowed in every running phase.
        self.every_phase: frozenset[str] = frozenset()

    def add(self, spec: CommandSpec) -> None:
        """Declare a command. Raises ValueError when the name is taken."""
        other = self._specs.get(spec.name)
        if other is not None:
            raise ValueError(f"command {spec.name!r} is already declared by {other.plugin or 'essaim'!r}")
        self._specs[spec.name] = spec
        self._checks[spec.name] = (spec, spec.sender, spec.payload.check_mapping)
        by = {"participant": set(), "facilitator": set(), "every_phase": set()}  # type: dict[str, set[str]]
        for s in self._specs.values():
            if s.sender in by:
                by[s.sender].add(s.name)
            if s.every_phase:
                by["every_phase"].add(s.name)
        self.participant = frozenset(by["participant"])
        self.facilitator = frozenset(by["facilitator"])
        self.every_phase = frozenset(by["every_phase"])

    def __iter__(self) -> Iterator[CommandSpec]:
        return iter(self._specs.values())

    def __contains__(self, name: object) -> bool:
        return name in self._specs

    def __len__(self) -> int:
        return len(self._specs)

    def get(self, name: str) -> CommandSpec | None:
        return self._specs.get(name)

    def validate(self, actor: Actor, command: Command) -> CommandSpec:
        """The command's spec, if it is well-formed and this actor may send it.

        Raises :class:`~essaim.errors.CommandError` with code
        ``unknown_command``, ``forbidden`` (the other role's command),
        ``bad_request`` or ``too_long``.
        """
        entry = self._checks.get(command.type) if command.type.__class__ is str else None
        if entry is None or entry[1] != actor.role:
            raise self._refusal(actor, command)
        msg_id = command.msg_id
        if msg_id is not None and (msg_id.__class__ is not str or not 0 < len(msg_id) <= MAX_MSG_ID_CHARS):
            raise CommandError(f"a message id must be a string of 1 to {MAX_MSG_ID_CHARS} characters",
                               code="bad_request")
        args = command.args
        if args.__class__ is not dict and not isinstance(args, Mapping):
            raise CommandError("command arguments must be an object", code="bad_request")
        try:
            entry[2](args)
        except Invalid as error:
            raise CommandError(error.message, code=error.code) from None
        return entry[0]

    def _refusal(self, actor: Actor, command: Command) -> CommandError:
        spec = self._specs.get(command.type) if isinstance(command.type, str) else None
        if spec is not None and spec.sender in ("participant", "facilitator"):
            return CommandError(f"'{command.type}' is a {spec.sender} command", code="forbidden")
        mine = sorted(self.participant if actor.role == "participant" else self.facilitator)
        return CommandError(f"unknown command {command.type!r}; expected one of {mine}", code="unknown_command")

    def json_schema(self, sender: Sender | None = None) -> dict[str, Any]:
        """JSON Schema of every command's payload (of ``sender``'s commands
        only, if given), keyed by command name under ``$defs``."""
        return {
            "$schema": "https://json-schema.org/draft/2020-12/schema",
            "$defs": {spec.name: spec.json_schema() for spec in self._specs.values()
                      if sender is None or spec.sender == sender},
        }
