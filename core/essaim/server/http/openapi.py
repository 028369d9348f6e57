"""``/openapi.json``: the facilitator API and the server's HTTP routes.

Written by hand next to the routes, with every response body's schema: the
shapes shared with the WebSocket frames (campaign, phase, counters) come
from :mod:`essaim.server.view_schemas`, as in ``/asyncapi.json``, and the
phase actions' bodies from the engine's command declarations.
``tests/server/test_openapi.py`` fails when a route is missing here or a
path here has no route, validates the document against the OpenAPI 3.1
meta-schema, and fuzzes the API from it with schemathesis, checking every
response against its schema.
"""

from __future__ import annotations

from typing import Any

from essaim.engine.commands import BUILTIN_COMMANDS
from essaim.server.view_schemas import PHASE_STATUSES, VIEW_SCHEMAS, closed_object, nullable, ref

__all__ = ["openapi_document", "HTTP_SCHEMAS"]

_ERROR = ref("Error")
_STRING = {"type": "string"}
_INTEGER = {"type": "integer"}
_NUMBER = {"type": "number"}
_SEQ = {"type": "integer", "minimum": 0, "description": "the campaign's durable seq"}
_REACHABLE = {"type": "boolean", "description": "false when only a browser on the server's machine can open it"}
_SEGMENTS = {"type": "object", "additionalProperties": _NUMBER,
             "description": "'attribute=value' -> score, for segments of at least min_segment_size people"}
_CAMPAIGN_ID = {"name": "campaign_id", "in": "path", "required": True, "schema": {"type": "string"},
                "description": "The campaign id returned at creation."}


def _json_response(description: str, schema: dict[str, Any]) -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


def _phase_body() -> dict[str, Any]:
    """The body of the phase actions: the declared payloads of ``extend`` and ``advance``."""
    specs = {spec.name: spec for spec in BUILTIN_COMMANDS}
    extend, advance = specs["extend"].payload.json_schema(), specs["advance"].payload.json_schema()
    return {"type": "object", "properties": {**extend["properties"], **advance["properties"]},
            "description": "extend: {\"seconds\": n} (required: no body is 400 bad_request); "
                           "advance: {\"index\": n}, optional; start, pause, resume: no body (ignored)"}


_IDEA = closed_object({"iid": _STRING, "title": _STRING, "cards": {"type": "array", "items": _STRING},
                       "agreement": _NUMBER})
_THEME = closed_object({"tid": _STRING, "title": _STRING, "ideas": {"type": "array", "items": _IDEA},
                        "agreement": _NUMBER})
_SCORE_FIELDS = {"score": _NUMBER, "low": _NUMBER, "high": _NUMBER, "consensus": _NUMBER, "controversy": _NUMBER,
                 "segments": _SEGMENTS}

#: The views the HTTP API shares with the WebSocket frames.
_SHARED_VIEWS = ("Campaign", "Phase", "Counters", "Board")
#: Response bodies of the HTTP API (``components.schemas``, with :data:`VIEW_SCHEMAS`).
HTTP_SCHEMAS: dict[str, dict[str, Any]] = {
    "Error": closed_object({"error": closed_object({"code": _STRING, "message": _STRING})}),
    "Created": closed_object({
        "campaign_id": _STRING, "code": _STRING, "facilitator_token": _STRING, "join_url": _STRING,
        "facilitator_url": {"type": "string", "description": "carries the token in its #fragment"}}),
    "Templates": closed_object({"templates": {"type": "array", "items": _STRING}}),
    "CampaignList": closed_object({"campaigns": {"type": "array", "items": {"anyOf": [
        closed_object({"campaign_id": _STRING, "code": _STRING, "title": _STRING,
                       "status": {"type": "string", "enum": list(PHASE_STATUSES)}, "phase_index": _INTEGER,
                       "participants": _INTEGER, "loaded": {"const": True}}),
        closed_object({"campaign_id": _STRING, "code": _STRING, "status": {"const": "finished"},
                       "loaded": {"const": False}},
                      description="a finished campaign not in memory: asking for it loads it"),
    ]}}}),
    "JoinInfo": closed_object({"campaign": ref("Campaign"),
                               "status": {"type": "string", "enum": list(PHASE_STATUSES)}}),
    "CampaignDetail": closed_object({
        "campaign_id": _STRING, "seq": _SEQ, "campaign": ref("Campaign"), "phase": ref("Phase"),
        "counters": ref("Counters"), "board": ref("Board"),
        "panel": {"type": ["string", "null"], "description": "a plugin's own phase: its console panel module"},
        "links": closed_object({"join_url": _STRING, "reachable": _REACHABLE, "presenter_url": {
            "type": "string", "description": "the presenter screen, its read-only key in the #fragment"}}),
    }),
    "CardFeed": closed_object({
        "cards": {"type": "array", "description": "newest first, hidden ones included (marked)",
                  "items": closed_object({"cid": _STRING, "text": _STRING, "hidden": {"type": "boolean"},
                                          "supporters": _INTEGER, "flags": _INTEGER, "reported": {"type": "boolean"},
                                          "at": {"type": "number", "description": "Unix time it was written"}})},
        "total": _INTEGER, "hidden": _INTEGER}),
    "Presenter": closed_object({
        "campaign": ref("Campaign"),
        "links": closed_object({"join_url": _STRING, "reachable": _REACHABLE}),
        "phase": ref("Phase"),
        "counters": closed_object({name: _INTEGER for name in (
            "participants", "online", "cards", "supports", "placements", "judgments")}),
        "wall": {"type": "array", "items": closed_object({"cid": _STRING, "text": _STRING})},
        "themes": {"type": "array", "items": closed_object({"title": _STRING, "ideas": _INTEGER,
                                                           "cards": _INTEGER})},
        "results": nullable({"type": "array", "items": closed_object({
            "place": _INTEGER, "points": _INTEGER, "title": _STRING, "supporters": _INTEGER, "score": _NUMBER,
            "low": _NUMBER, "high": _NUMBER})}),
    }, description="What the presenter screen shows; never moderation content."),
    "PhaseChanged": closed_object({"seq": _SEQ, "phase": ref("Phase")}),
    "Stats": closed_object({
        "seq": _SEQ, "counters": ref("Counters"), "phase": ref("Phase"), "connections": _INTEGER,
        "participants_online": _INTEGER, "contribution_rate_per_minute": _NUMBER,
        "counters_interval": {"type": "number", "description": "seconds between counter refreshes now"}}),
    "Moderation": closed_object({
        "open_cases": {"type": "array", "items": closed_object({
            "case_id": _STRING, "cid": _STRING, "text": _STRING, "flags": _INTEGER,
            "reasons": {"type": "array", "items": _STRING}, "jury_size": _INTEGER,
            "votes": closed_object({"hide": _INTEGER, "keep": _INTEGER}, description="counts, never who")})},
        "hidden_cards": {"type": "array", "items": closed_object({"cid": _STRING, "text": _STRING})},
        "log": {"type": "array", "items": {
            "type": "object", "required": ["ts", "seq", "cid", "action", "by"],
            "description": "what moderation did, oldest first ('by': screen, jury or facilitator)",
            "properties": {"ts": _NUMBER, "seq": _INTEGER, "cid": _STRING, "case_id": _STRING,
                           "action": _STRING, "by": _STRING,
                           "reasons": {"type": "array", "items": _STRING},
                           "votes": closed_object({"hide": _INTEGER, "keep": _INTEGER})}}},
    }),
    "Decided": closed_object({"seq": _SEQ}),
    "Structure": closed_object({"themes": {"type": "array", "items": _THEME},
                                "offtopic": {"type": "array", "items": _STRING}, "seq": _SEQ}),
    "Results": closed_object({
        "campaign_id": _STRING, "title": _STRING, "seq": _SEQ, "counters": ref("Counters"),
        "sheets": {"type": "array", "items": closed_object({
            "rank": _INTEGER, "place": {"type": "integer", "description": "shared by sheets with the same points"},
            "points": {"type": "integer", "description": "the score out of 100"},
            "iid": _STRING, "title": _STRING, "cards": {"type": "array", "items": _STRING},
            "card_texts": {"type": "array", "items": _STRING}, "supporters": _INTEGER, **_SCORE_FIELDS}, {
            "variants": {"type": "array", "description": "other items grouped under this sheet as the same idea in "
                                                         "other words, best first (their people count in supporters)",
                         "items": closed_object({"iid": _STRING, "title": _STRING, "score": _NUMBER, "low": _NUMBER,
                                                 "high": _NUMBER, "supporters": _INTEGER,
                                                 "card_texts": {"type": "array", "items": _STRING}})},
            "theme": {"type": ["string", "null"], "description": "the crowd's theme of the item (a theme id)"},
            "theme_rank": {"type": "integer", "description": "rank among the sheets of its theme (1 = best)"},
            "support_rank": {"type": "integer", "description": "rank by supporters among all sheets (1 = most)"},
        })},
        "scores": {"type": "array", "items": closed_object({"iid": _STRING, "n": _INTEGER, **_SCORE_FIELDS})},
        "structure": nullable(ref("Structure")),
    }),
    "Health": closed_object({"status": {"type": "string", "enum": ["ok", "draining"]}, "campaigns": _INTEGER,
                             "connections": _INTEGER}),
    "Readiness": closed_object({
        "status": {"type": "string", "enum": ["ready", "not_ready"]},
        "checks": {"type": "object", "additionalProperties": closed_object({"ok": {"type": "boolean"},
                                                                           "detail": _STRING})}}),
}


def _errors() -> dict[str, Any]:
    return {"default": _json_response("An error: bad request (400), token (401), not found (404), "
                                      "wrong phase (409), too large (413, code too_large), rate limited (429).", _ERROR)}


def _op(summary: str, responses: dict[str, Any], *, security: str | None = None,
        parameters: list[dict[str, Any]] | None = None, body: dict[str, Any] | None = None) -> dict[str, Any]:
    op: dict[str, Any] = {"summary": summary, "responses": {**responses, **_errors()}}
    if security:
        op["security"] = [{security: []}]
    if parameters:
        op["parameters"] = parameters
    if body:
        op["requestBody"] = {"required": False, "content": {"application/json": {"schema": body}}}
    return op


def _page(summary: str) -> dict[str, Any]:
    return {"get": {"summary": summary, "responses": {
        "200": {"description": "HTML page", "content": {"text/html": {"schema": {"type": "string"}}}},
        "404": {"description": "The web app is not installed", "content": {"text/plain": {"schema": {"type": "string"}}}},
    }}}


def openapi_document(base_url: str = "") -> dict[str, Any]:
    fac = "facilitator"
    adm = "admin"
    paths: dict[str, Any] = {
        "/api/templates": {"get": _op("Built-in template names", {"200": _json_response(
            "Names", ref("Templates"))}, security=adm)},
        "/api/campaigns": {
            "post": _op("Create a campaign from a built-in template name or TOML text",
                        {"201": _json_response("Created", ref("Created"))},
                        security=adm, body={"oneOf": [
                            {"type": "object", "properties": {"template": {"type": "string"}},
                             "required": ["template"], "additionalProperties": False},
                            {"type": "object", "properties": {"toml": {"type": "string"}},
                             "required": ["toml"], "additionalProperties": False}]}),
            "get": _op("List campaigns", {"200": _json_response("Campaigns", ref("CampaignList"))}, security=adm),
        },
        "/api/join/{code}": {"get": _op(
            "Public: a campaign's title, language, profile questions and phases, by join code",
            {"200": _json_response("The campaign as participants see it", ref("JoinInfo"))},
            parameters=[{"name": "code", "in": "path", "required": True, "schema": {"type": "string"},
                         "description": "The join code (case-insensitive)."}])},
        "/api/campaigns/{campaign_id}": {"get": _op(
            "Campaign, phase and counters", {"200": _json_response("The campaign", ref("CampaignDetail"))}, security=fac,
            parameters=[_CAMPAIGN_ID])},
        "/api/campaigns/{campaign_id}/phase/{action}": {"post": _op(
            "Phase control: start, pause, resume; extend with {\"seconds\": n}; advance with {\"index\": n}, "
            "the phase to end (a late click after the phase timer then ends nothing: 409 wrong_phase)",
            {"200": _json_response("The new phase", ref("PhaseChanged"))},
            security=fac, parameters=[_CAMPAIGN_ID, {
                "name": "action", "in": "path", "required": True,
                "schema": {"type": "string", "enum": ["start", "pause", "resume", "extend", "advance"]}}],
            body=_phase_body())},
        "/api/campaigns/{campaign_id}/stats": {"get": _op(
            "Live counters, connections and contribution rate", {"200": _json_response("Stats", ref("Stats"))}, security=fac,
            parameters=[_CAMPAIGN_ID])},
        "/api/campaigns/{campaign_id}/moderation": {
            "get": _op("Open cases, hidden cards and the moderation log", {"200": _json_response("Moderation", ref("Moderation"))},
                       security=fac, parameters=[_CAMPAIGN_ID]),
            "post": _op("The facilitator's last word on a card", {"200": _json_response("Recorded", ref("Decided"))},
                        security=fac, parameters=[_CAMPAIGN_ID], body={
                            "type": "object", "properties": {"cid": {"type": "string"},
                                                             "verdict": {"type": "string", "enum": ["hide", "keep"]}},
                            "required": ["cid", "verdict"]}),
        },
        "/api/campaigns/{campaign_id}/cards": {"get": _op(
            "The newest cards first, hidden ones marked: the console's live feed", {"200": _json_response("Cards", ref("CardFeed"))},
            security=fac, parameters=[_CAMPAIGN_ID, {
                "name": "limit", "in": "query", "required": False,
                "schema": {"type": "integer", "minimum": 1, "maximum": 200, "default": 50}}])},
        "/api/campaigns/{campaign_id}/presenter": {"get": _op(
            "What the presenter screen shows: counters, the wall of new ideas, themes forming, the top results; "
            "never moderation content. Takes the presenter key or the facilitator token",
            {"200": _json_response("Presenter data", ref("Presenter"))}, security=fac, parameters=[_CAMPAIGN_ID])},
        "/api/campaigns/{campaign_id}/commands/{name}": {"post": _op(
            "A plugin phase's facilitator command (its console panel's buttons); the body is its payload, "
            "checked against the schema the plugin declared",
            {"200": _json_response("Recorded", closed_object({"seq": _SEQ, "result": {
                "type": "object", "description": "the command's result, as the plugin declared it"}}))},
            security=fac, body={"type": "object", "description": "the command's payload"}, parameters=[_CAMPAIGN_ID, {
                "name": "name", "in": "path", "required": True, "schema": {"type": "string"},
                "description": "the command's name, as the plugin declared it"}])},
        "/api/campaigns/{campaign_id}/structure": {"get": _op(
            "The crowd's live structure", {"200": _json_response("Structure", ref("Structure"))}, security=fac,
            parameters=[_CAMPAIGN_ID])},
        "/api/campaigns/{campaign_id}/results": {"get": _op(
            "Ranked opportunity sheets, scores and structure", {"200": _json_response("Results", ref("Results"))}, security=fac,
            parameters=[_CAMPAIGN_ID])},
        "/api/campaigns/{campaign_id}/export/{format}": {"get": _op(
            "Export the results (json, csv, ...)",
            {"200": {"description": "The exported file (a zip when the format makes several)",
                     "content": {"application/json": {"schema": {}}, "text/csv": {"schema": {"type": "string"}},
                                 "application/zip": {"schema": {"type": "string"}}}}},
            security=fac, parameters=[_CAMPAIGN_ID, {"name": "format", "in": "path", "required": True,
                                                     "schema": {"type": "string"}}])},
        "/healthz": {"get": {"summary": "Liveness: 200 while the process serves (status 'draining' while it stops)",
                             "responses": {"200": _json_response("Alive", ref("Health"))}}},
        "/readyz": {"get": {"summary": "Readiness: 200 when new people may be sent here, 503 with the failing checks",
                            "responses": {"200": _json_response("Ready", ref("Readiness")),
                                          "503": _json_response("Not ready", ref("Readiness"))}}},
        "/metrics": {"get": {"summary": "Prometheus metrics (the metrics token, or no token on metrics_address)",
                             "security": [{"metrics": []}, {"admin": []}], "responses": {
            "200": {"description": "Text format 0.0.4", "content": {"text/plain": {"schema": {"type": "string"}}}},
            "401": _json_response("No or wrong token", _ERROR)}}},
        "/openapi.json": {"get": {"summary": "This document", "responses": {"200": _json_response(
            "OpenAPI 3.1", {"type": "object", "required": ["openapi", "paths"]})}}},
        "/asyncapi.json": {"get": {"summary": "The participant WebSocket protocol (/ws), every message and frame",
                                   "responses": {"200": _json_response("AsyncAPI 3.0", {
                                       "type": "object", "required": ["asyncapi", "channels", "operations"]})}}},
        "/": _page("The participant web app"),
        "/join/{code}": {"get": {**_page("The participant web app, with a join code")["get"], "parameters": [
            {"name": "code", "in": "path", "required": True, "schema": {"type": "string"}}]}},
        "/facilitator": _page("The facilitator web app"),
        "/present": _page("The presenter screen (for the projector)"),
        "/favicon.ico": {"get": {"summary": "The web app's icon (SVG)", "responses": {
            "200": {"description": "The icon", "content": {"image/svg+xml": {"schema": {"type": "string"}}}}}}},
        "/static/{name}": {"get": {"summary": "Files of the web app", "parameters": [
            {"name": "name", "in": "path", "required": True, "schema": {"type": "string"}}], "responses": {
            "200": {"description": "The file", "content": {"*/*": {"schema": {}}}},
            "404": {"description": "No such file", "content": {"text/plain": {"schema": {"type": "string"}}}}}}},
        "/plugins/{phase_type}/{name}": {"get": {
            "summary": "A plugin phase type's web files: its phone screen and console panel (ES modules)",
            "parameters": [{"name": "phase_type", "in": "path", "required": True, "schema": {"type": "string"}},
                           {"name": "name", "in": "path", "required": True, "schema": {"type": "string"}}],
            "responses": {
                "200": {"description": "The file", "content": {"*/*": {"schema": {}}}},
                "404": {"description": "No such file", "content": {"text/plain": {"schema": {"type": "string"}}}}}}},
    }
    return {
        "openapi": "3.1.0",
        "info": {"title": "Essaim facilitator API", "version": "1",
                 "description": "Participants use the WebSocket at /ws (docs/protocol.md); facilitators and "
                                "operators use these routes."},
        "servers": [{"url": base_url}] if base_url else [],
        "paths": paths,
        "components": {
            "securitySchemes": {
                "admin": {"type": "http", "scheme": "bearer", "description": "The server's admin token"},
                "metrics": {"type": "http", "scheme": "bearer", "description": "The metrics_token setting"},
                "facilitator": {"type": "http", "scheme": "bearer",
                                "description": "The campaign's facilitator token (the admin token works too)"},
            },
            "schemas": {**{name: VIEW_SCHEMAS[name] for name in _SHARED_VIEWS}, **HTTP_SCHEMAS},
        },
    }
