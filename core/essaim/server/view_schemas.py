"""The JSON shapes the server sends, as JSON Schema: one declaration read by
``/asyncapi.json`` (WebSocket frames), ``/openapi.json`` (HTTP bodies) and
the tests that check every frame the suite sees against it.

:mod:`essaim.server.views` builds these shapes; this module declares them.
Objects are closed (``additionalProperties: false``) wherever the server
controls every key, so a key added to a view without being declared here
fails ``tests/server/test_frame_schemas.py`` instead of surprising a typed
client. Open where plugins decide (an evaluation task's fields, a command's
ack ``result`` for a plugin's command).

Every schema here is written in the subset that JSON Schema draft-07 (what
AsyncAPI 3 documents default to) and draft 2020-12 (OpenAPI 3.1) read the
same way: ``$ref`` never has siblings, ``null`` is a type. References point
at ``#/components/schemas/<Name>``, the same place in both documents.
"""

from __future__ import annotations

from typing import Any

__all__ = ["VIEW_SCHEMAS", "SERVER_FRAMES", "ref", "nullable", "closed_object", "PHASE_STATUSES", "ERROR_CODES"]

#: ``phase.status`` values (docs/protocol.md §2).
PHASE_STATUSES = ("draft", "running", "paused", "between", "finished")
#: The error codes a client may switch on (docs/protocol.md §6); a plugin's
#: handler may raise others, so schemas say ``string`` and list these.
ERROR_CODES = (
    "bad_json", "unknown_type", "not_joined", "bad_request", "too_long", "too_short", "too_large", "not_found",
    "unauthorized", "forbidden", "bad_profile", "bad_template", "wrong_phase", "already_done", "own_card",
    "hand_open", "nothing_left", "rejected", "rate_limited", "plugin_error", "limit_exceeded", "busy",
    "campaign_full", "unavailable", "unreadable", "unknown_command",
)

_STRING = {"type": "string"}
_INTEGER = {"type": "integer"}
_NUMBER = {"type": "number"}
_BOOLEAN = {"type": "boolean"}


def ref(name: str) -> dict[str, Any]:
    """A reference to a schema of this module, as both documents place them."""
    return {"$ref": f"#/components/schemas/{name}"}


def nullable(schema: dict[str, Any]) -> dict[str, Any]:
    return {"anyOf": [schema, {"type": "null"}]}


def _list(items: dict[str, Any]) -> dict[str, Any]:
    return {"type": "array", "items": items}


def closed_object(required: dict[str, Any], optional: dict[str, Any] | None = None, *,
                  description: str = "") -> dict[str, Any]:
    """An object with these keys (``required`` always present) and no other."""
    schema: dict[str, Any] = {"type": "object", "properties": {**required, **(optional or {})},
                              "required": list(required), "additionalProperties": False}
    if description:
        schema["description"] = description
    return schema


_CARD_TEXT = {"type": "string", "description": "a card's text (the collection strategy's limit, 280 by default)"}
_ERROR_CODE = {"type": "string", "description": "stable error code, one of: " + ", ".join(ERROR_CODES)}
_COUNTER_NAMES = ("participants", "cards", "supports", "sorters", "hands", "placements", "flags", "hidden",
                  "judgments")

VIEW_SCHEMAS: dict[str, dict[str, Any]] = {
    # -- shared by welcome, update and the HTTP API --------------------------------------------
    "Campaign": closed_object({
        "code": {"type": "string", "description": "the join code"},
        "title": _STRING,
        "anonymity": _STRING,
        "language": _STRING,
        "profile": _list(closed_object({"key": _STRING, "label": _STRING, "choices": _list(_STRING),
                                        "required": _BOOLEAN})),
        "phases": _list(closed_object({"index": _INTEGER, "type": _STRING, "title": _STRING,
                                       "duration": {"type": "number", "description": "seconds"},
                                       "strategy": {"type": ["string", "null"]}})),
    }, {
        "translations": {
            "type": "object",
            "description": "the template's texts by language tag (its [translations.<lang>] tables): each "
                           "optional: title, phases (titles in phase order), prompts (by id), profile (by key: "
                           "label, choices as a table from the template's choice to its translation)",
            "additionalProperties": closed_object({}, {
                "title": _STRING, "phases": _list(_STRING),
                "prompts": {"type": "object", "additionalProperties": _STRING},
                "profile": {"type": "object", "additionalProperties": closed_object({}, {
                    "label": _STRING, "choices": {"type": "object", "additionalProperties": _STRING}})},
            }),
        },
    }, description="The campaign as participants see it."),
    "Phase": closed_object({
        "index": {"type": "integer", "minimum": -1,
                  "description": "the phase's index in campaign.phases; -1 before the start (status draft) "
                                 "and len(phases) once finished"},
        "type": {"type": ["string", "null"], "description": "the phase's type; null before the start and once "
                                                            "finished"},
        "title": {"type": ["string", "null"], "description": "null before the start and once finished"},
        "status": {"type": "string", "enum": list(PHASE_STATUSES)},
        "deadline": {"type": ["number", "null"], "description": "Unix time the phase ends (while running)"},
        "remaining": {"type": ["number", "null"], "description": "seconds left (while paused)"},
        "overtime": _BOOLEAN,
        "server_time": {"type": "number", "description": "the server's Unix time when this was built"},
        "allowed": {"type": "array", "items": _STRING,
                    "description": "the actions possible now (empty unless running)"},
    }, {
        "screen": {"type": ["string", "null"], "description": "a plugin's own phase: the URL of its screen "
                                                            "module (null: the app's generic screen)"},
        "settings": {"type": "object", "description": "a plugin's own phase: the template's settings of it"},
    }, description="Where the campaign is."),
    "Counters": {
        "type": "object",
        "description": "Campaign-wide counts. They change only when something happens: they are not a "
                       "heartbeat (a quiet campaign sends no frame).",
        "properties": {**{name: {"type": "integer", "minimum": 0} for name in _COUNTER_NAMES},
                       "online": {"type": "integer", "minimum": 0,
                                  "description": "open connections to the campaign (WebSocket frames and "
                                                 "GET /api/campaigns/{id} only)"}},
        "required": list(_COUNTER_NAMES),
        "additionalProperties": False,
    },
    "OwnCard": closed_object({"cid": _STRING, "text": _CARD_TEXT, "hidden": _BOOLEAN,
                              "supporters": {"type": "integer", "minimum": 0}}),
    "HandCard": closed_object({"cid": _STRING, "text": _CARD_TEXT}, {
        "members": _list(closed_object({"cid": _STRING, "text": _CARD_TEXT}))},
        description="A hand item: a card, or (later boards, id 'g:...') a group with its members."),
    "Hand": closed_object({"hid": _STRING, "items": _list(_STRING), "stage": _INTEGER,
                           "cards": _list(ref("HandCard"))}),
    "You": closed_object({
        "prompts": _list(closed_object({"id": _STRING, "text": _STRING})),
        "cards": _list(ref("OwnCard")),
        "sorter": _BOOLEAN,
        "hand": nullable(ref("Hand")),
        "jury": _list(closed_object({"case_id": _STRING, "cid": _STRING, "text": _CARD_TEXT, "reason": _STRING})),
    }, {"board": ref("Board")}, description="What concerns this participant alone; always sent whole."),
    "Board": {"description": "A plugin's own phase: what its state shows (the plugin decides the shape; "
                             "docs/plugins.md, 'Writing a new phase'); null in other phases."},
    "ResultSheet": closed_object({
        "rank": _INTEGER, "place": _INTEGER, "points": _INTEGER, "iid": _STRING, "title": _STRING,
        "score": _NUMBER, "low": _NUMBER, "high": _NUMBER, "supporters": _INTEGER, "consensus": _NUMBER,
        "controversy": _NUMBER, "cards": _list(_STRING),
        "segments": {"type": "object", "additionalProperties": _NUMBER},
    }, description="A ranked opportunity sheet as participants see it."),
    "Task": {
        "type": "object", "required": ["kind"],
        "description": "An evaluation task: 'kind' and what the evaluation strategy shows (docs/strategies.md); "
                       "every idea in it carries 'cid', the card its title shows.",
        "properties": {"kind": _STRING, "iid": _STRING, "title": _STRING, "cid": _STRING,
                       "a": {"type": "object"}, "b": {"type": "object"}, "items": _list({"type": "object"})},
    },
    # -- answers inside an update ---------------------------------------------------------------
    "Ack": closed_object({
        "id": _STRING, "seq": {"type": "integer", "minimum": 0, "description": "the action's durable seq"},
        "result": ref("AckResult"),
    }, {"duplicate": {"const": True, "description": "a retry of an action already applied"}}),
    "ErrorEntry": closed_object({
        "id": {"type": ["string", "null"], "maxLength": 64,
               "description": "the action's or query's id; null when the frame had no valid id"},
        "code": _ERROR_CODE, "message": _STRING}),
    "Reply": {"anyOf": [
        closed_object({"id": _STRING, "suggestions": _list(closed_object({
            "cid": _STRING, "text": _CARD_TEXT, "score": _NUMBER}))}, description="the answer to 'suggest'"),
        closed_object({"id": _STRING, "task": nullable(ref("Task"))}, description="the answer to 'next'"),
    ]},
    # -- the frames (server -> participant) -----------------------------------------------------
    "Welcome": closed_object({
        "type": {"const": "welcome"},
        "protocol": {"const": 1, "description": "the protocol version"},
        "resumed": _BOOLEAN,
        "token": {"type": ["string", "null"], "description": "the secret to resume with (null for a spectator)"},
        "pid": {"type": ["string", "null"]},
        "seq": {"type": "integer", "minimum": 0},
        "campaign": ref("Campaign"),
        "phase": ref("Phase"),
        "counters": ref("Counters"),
        "board": ref("Board"),
        "you": nullable(ref("You")),
        "results": nullable(_list(ref("ResultSheet"))),
    }, {"spectator": {"const": True, "description": "the campaign is finished: no participant was made; "
                                                    "the socket closes with 1000 after this frame"}},
        description="The answer to join and resume: the whole state, replacing the client's."),
    "Update": closed_object({
        "type": {"const": "update"},
        "seq": {"type": "integer", "minimum": 0, "description": "the durable seq this frame reflects; never goes back"},
    }, {
        "acks": _list(ref("Ack")),
        "errors": _list(ref("ErrorEntry")),
        "replies": _list(ref("Reply")),
        "phase": ref("Phase"),
        "counters": ref("Counters"),
        "board": ref("Board"),
        "you": ref("You"),
        "results": _list(ref("ResultSheet")),
    }, description="Everything pending for this client; each section replaces the client's copy."),
    "ErrorFrame": closed_object({"type": {"const": "error"}, "code": _ERROR_CODE, "message": _STRING},
                                description="A connection-level problem (before joining, or a refused join)."),
}

#: The frames a server sends, by name (each a schema of :data:`VIEW_SCHEMAS`).
SERVER_FRAMES = ("Welcome", "Update", "ErrorFrame")
