"""``/asyncapi.json``: the participant WebSocket protocol as an AsyncAPI 3 document.

Generated, not written: the participant messages come from the same
declarations the server checks them with (the engine's command table,
:mod:`essaim.server.ws.messages` for join, resume and the queries), the
frames from :mod:`essaim.server.view_schemas`. A plugin's command appears
here as soon as it is declared. ``tests/server/test_frame_schemas.py``
validates this document against the AsyncAPI 3.0 meta-schema and every
frame the test suite receives against its schemas.

Operations are from the server's side, as AsyncAPI reads them: the server
*receives* the participant's messages and *sends* the frames.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from essaim.model.commands import message_schema
from essaim.server.view_schemas import SERVER_FRAMES, VIEW_SCHEMAS, ref
from essaim.server.views import PROTOCOL_VERSION
from essaim.server.ws.messages import QUERIES, SESSION_MESSAGES

if TYPE_CHECKING:
    from essaim.model.commands import CommandTable

__all__ = ["asyncapi_document", "participant_message_schemas", "frame_schemas"]

_CHANNEL = "participant"
_FRAME_MESSAGES = {"Welcome": "welcome", "Update": "update", "ErrorFrame": "error"}


def participant_message_schemas(commands: CommandTable) -> dict[str, tuple[dict[str, Any], str]]:
    """Every message a participant may send, by type: (JSON Schema, kind),
    kind being ``session`` (join, resume), ``action`` or ``query``."""
    out: dict[str, tuple[dict[str, Any], str]] = {}
    for name, (fields, description) in SESSION_MESSAGES.items():
        out[name] = (message_schema(name, fields, description, with_id=False), "session")
    for spec in commands:
        if spec.sender == "participant":
            out[spec.name] = (spec.message_schema(), "action")
    for name, (fields, description) in QUERIES.items():
        out[name] = (message_schema(name, fields, description), "query")
    return out


def frame_schemas(commands: CommandTable) -> dict[str, dict[str, Any]]:
    """The schemas the frames need (``components.schemas``): the views, the
    frames, and ``AckResult`` (any participant command's ``result``)."""
    results = [spec.result_schema() for spec in commands if spec.sender == "participant"]
    return {**VIEW_SCHEMAS, "AckResult": {
        "anyOf": results, "description": "the 'result' of the acknowledged command (each command's own shape)"}}


def _server(base_url: str) -> dict[str, Any]:
    parts = urlsplit(base_url)
    return {"host": parts.netloc, "protocol": "wss" if parts.scheme == "https" else "ws",
            "description": "This server; the socket is at the channel's address."}


def asyncapi_document(commands: CommandTable, base_url: str = "") -> dict[str, Any]:
    inbound = participant_message_schemas(commands)
    schemas = frame_schemas(commands)
    messages: dict[str, Any] = {}
    for name, (schema, kind) in inbound.items():
        schemas[name] = schema
        messages[name] = {"name": name, "title": name, "summary": schema.get("description", ""),
                          "payload": ref(name), "tags": [{"name": kind}]}
    for schema_name, name in _FRAME_MESSAGES.items():
        messages[name] = {"name": name, "title": name, "summary": VIEW_SCHEMAS[schema_name].get("description", ""),
                          "payload": ref(schema_name), "tags": [{"name": "frame"}]}
    assert set(_FRAME_MESSAGES) == set(SERVER_FRAMES)

    def channel_message(name: str) -> dict[str, str]:
        return {"$ref": f"#/channels/{_CHANNEL}/messages/{name}"}

    def reply(*names: str) -> dict[str, Any]:
        return {"channel": {"$ref": f"#/channels/{_CHANNEL}"}, "messages": [channel_message(n) for n in names]}

    operations: dict[str, Any] = {}
    for name, (_, kind) in inbound.items():
        operations[f"receive_{name}"] = {
            "action": "receive", "channel": {"$ref": f"#/channels/{_CHANNEL}"},
            "messages": [channel_message(name)],
            "reply": reply("welcome", "error") if kind == "session" else reply("update"),
        }
    for name in _FRAME_MESSAGES.values():
        operations[f"send_{name}"] = {"action": "send", "channel": {"$ref": f"#/channels/{_CHANNEL}"},
                                      "messages": [channel_message(name)]}
    doc: dict[str, Any] = {
        "asyncapi": "3.0.0",
        "info": {
            "title": "Essaim participant protocol", "version": str(PROTOCOL_VERSION),
            "description": "One WebSocket per participant, UTF-8 JSON text frames, one object each "
                           "(docs/protocol.md says the rules: order, retries, limits, close codes). "
                           "The facilitator API is /openapi.json.",
        },
        "defaultContentType": "application/json",
        "channels": {_CHANNEL: {
            "address": "/ws",
            "title": "A participant's socket",
            "description": "Send join or resume first; then actions (acknowledged in update.acks once durable) "
                           "and queries (answered in update.replies).",
            "messages": {name: {"$ref": f"#/components/messages/{name}"} for name in messages},
        }},
        "operations": operations,
        "components": {"schemas": schemas, "messages": messages},
    }
    if base_url:
        doc["servers"] = {"essaim": _server(base_url)}
        doc["channels"][_CHANNEL]["servers"] = [{"$ref": "#/servers/essaim"}]
    return doc
