"""Every frame an in-process server sends during the test suite is checked
against the schemas ``/asyncapi.json`` publishes (issue 15: one source of
truth for the messages).

``tests/conftest.py`` wraps :meth:`Connection.send` for every test: a frame
that does not fit its schema is recorded (never raised inside the server,
which would change what the test sees) and fails the test that produced it,
naming the frame and what does not fit.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import jsonschema_rs
import orjson

from essaim.model.commands import CommandTable
from essaim.server.http.asyncapi import frame_schemas
from essaim.server.ws.participant import Connection

__all__ = ["FrameChecker", "checking_frames"]

_SCHEMA_BY_TYPE = {"welcome": "Welcome", "update": "Update", "error": "ErrorFrame"}


class FrameChecker:
    """Validators of the three frames, for one command table (a plugin's
    command adds its ack result)."""

    def __init__(self, commands: CommandTable) -> None:
        components = {"schemas": frame_schemas(commands)}
        self.validators = {
            frame_type: jsonschema_rs.Draft202012Validator(
                {"components": components, "$ref": f"#/components/schemas/{name}"})
            for frame_type, name in _SCHEMA_BY_TYPE.items()}

    def problems(self, frame: Any) -> list[str]:
        if not isinstance(frame, dict) or frame.get("type") not in self.validators:
            return [f"not a frame of a known type: {str(frame)[:200]}"]
        return [f"{'/'.join(map(str, e.instance_path)) or '<frame>'}: {e.message}"
                for e in self.validators[frame["type"]].iter_errors(frame)]


@contextmanager
def checking_frames(seen: list[str]) -> Iterator[list[int]]:
    """While inside, every text frame a Connection sends is validated;
    problems are appended to ``seen``. Yields a one-item list: the count of
    frames checked."""
    original = Connection.send
    checkers: dict[int, tuple[CommandTable, FrameChecker]] = {}
    count = [0]

    async def send(self: Connection, message: dict[str, Any]) -> None:
        if message.get("type") == "websocket.send" and message.get("text") is not None:
            commands = self.server.engine.commands
            entry = checkers.get(id(commands))
            if entry is None or entry[0] is not commands:
                entry = checkers[id(commands)] = (commands, FrameChecker(commands))
            count[0] += 1
            frame = orjson.loads(message["text"])
            for problem in entry[1].problems(frame):
                seen.append(f"{frame.get('type')} frame: {problem}\n  in {message['text'][:600]}")
        await original(self, message)

    Connection.send = send  # type: ignore[method-assign]
    try:
        yield count
    finally:
        Connection.send = original  # type: ignore[method-assign]
