"""``/openapi.json``: the facilitator API and the server's HTTP routes.

Written by hand next to the routes; ``tests/server/test_openapi.py`` fails
when a route is missing here or a path here has no route, and fuzzes the
API from this document with schemathesis.
"""

from __future__ import annotations

from typing import Any

__all__ = ["openapi_document"]

_ERROR = {"$ref": "#/components/schemas/Error"}
_OBJECT = {"type": "object"}
_CAMPAIGN_ID = {"name": "campaign_id", "in": "path", "required": True, "schema": {"type": "string"},
                "description": "The campaign id returned at creation."}


def _json_response(description: str, schema: dict[str, Any] | None = None) -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": schema or _OBJECT}}}


def _errors() -> dict[str, Any]:
    return {"default": _json_response("An error: bad request (400), token (401), not found (404), "
                                      "wrong phase (409), too large (413), rate limited (429).", _ERROR)}


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
            "Names", {"type": "object", "properties": {"templates": {"type": "array", "items": {"type": "string"}}},
                      "required": ["templates"]})}, security=adm)},
        "/api/campaigns": {
            "post": _op("Create a campaign from a built-in template name or TOML text",
                        {"201": _json_response("Created", {"$ref": "#/components/schemas/Created"})},
                        security=adm, body={"oneOf": [
                            {"type": "object", "properties": {"template": {"type": "string"}},
                             "required": ["template"], "additionalProperties": False},
                            {"type": "object", "properties": {"toml": {"type": "string"}},
                             "required": ["toml"], "additionalProperties": False}]}),
            "get": _op("List campaigns", {"200": _json_response("Campaigns")}, security=adm),
        },
        "/api/join/{code}": {"get": _op(
            "Public: a campaign's title, language, profile questions and phases, by join code",
            {"200": _json_response("The campaign as participants see it", {
                "type": "object", "properties": {"campaign": _OBJECT}, "required": ["campaign"]})},
            parameters=[{"name": "code", "in": "path", "required": True, "schema": {"type": "string"},
                         "description": "The join code (case-insensitive)."}])},
        "/api/campaigns/{campaign_id}": {"get": _op(
            "Campaign, phase and counters", {"200": _json_response("The campaign")}, security=fac,
            parameters=[_CAMPAIGN_ID])},
        "/api/campaigns/{campaign_id}/phase/{action}": {"post": _op(
            "Phase control: start, pause, resume; extend with {\"seconds\": n}; advance with {\"index\": n}, "
            "the phase to end (a late click after the phase timer then ends nothing: 409 wrong_phase)",
            {"200": _json_response("The new phase", {"type": "object", "properties": {
                "seq": {"type": "integer"}, "phase": _OBJECT}, "required": ["seq", "phase"]})},
            security=fac, parameters=[_CAMPAIGN_ID, {
                "name": "action", "in": "path", "required": True,
                "schema": {"type": "string", "enum": ["start", "pause", "resume", "extend", "advance"]}}],
            body={"type": "object", "properties": {"seconds": {"type": "number", "exclusiveMinimum": 0,
                                                               "maximum": 3600},
                                                   "index": {"type": "integer", "minimum": 0}}})},
        "/api/campaigns/{campaign_id}/stats": {"get": _op(
            "Live counters, connections and contribution rate", {"200": _json_response("Stats")}, security=fac,
            parameters=[_CAMPAIGN_ID])},
        "/api/campaigns/{campaign_id}/moderation": {
            "get": _op("Open cases, hidden cards and the moderation log", {"200": _json_response("Moderation")},
                       security=fac, parameters=[_CAMPAIGN_ID]),
            "post": _op("The facilitator's last word on a card", {"200": _json_response("Recorded")},
                        security=fac, parameters=[_CAMPAIGN_ID], body={
                            "type": "object", "properties": {"cid": {"type": "string"},
                                                             "verdict": {"type": "string", "enum": ["hide", "keep"]}},
                            "required": ["cid", "verdict"]}),
        },
        "/api/campaigns/{campaign_id}/cards": {"get": _op(
            "The newest cards first, hidden ones marked: the console's live feed", {"200": _json_response("Cards")},
            security=fac, parameters=[_CAMPAIGN_ID, {
                "name": "limit", "in": "query", "required": False,
                "schema": {"type": "integer", "minimum": 1, "maximum": 200, "default": 50}}])},
        "/api/campaigns/{campaign_id}/presenter": {"get": _op(
            "What the presenter screen shows: counters, the wall of new ideas, themes forming, the top results; "
            "never moderation content. Takes the presenter key or the facilitator token",
            {"200": _json_response("Presenter data")}, security=fac, parameters=[_CAMPAIGN_ID])},
        "/api/campaigns/{campaign_id}/commands/{name}": {"post": _op(
            "A plugin phase's facilitator command (its console panel's buttons); the body is its payload, "
            "checked against the schema the plugin declared",
            {"200": _json_response("Recorded", {"type": "object", "properties": {
                "seq": {"type": "integer"}, "result": _OBJECT}, "required": ["seq", "result"]})},
            security=fac, body=_OBJECT, parameters=[_CAMPAIGN_ID, {
                "name": "name", "in": "path", "required": True, "schema": {"type": "string"},
                "description": "the command's name, as the plugin declared it"}])},
        "/api/campaigns/{campaign_id}/structure": {"get": _op(
            "The crowd's live structure", {"200": _json_response("Structure")}, security=fac,
            parameters=[_CAMPAIGN_ID])},
        "/api/campaigns/{campaign_id}/results": {"get": _op(
            "Ranked opportunity sheets, scores and structure", {"200": _json_response("Results")}, security=fac,
            parameters=[_CAMPAIGN_ID])},
        "/api/campaigns/{campaign_id}/export/{format}": {"get": _op(
            "Export the results (json, csv, ...)",
            {"200": {"description": "The exported file (a zip when the format makes several)",
                     "content": {"application/json": {"schema": {}}, "text/csv": {"schema": {"type": "string"}},
                                 "application/zip": {"schema": {"type": "string"}}}}},
            security=fac, parameters=[_CAMPAIGN_ID, {"name": "format", "in": "path", "required": True,
                                                     "schema": {"type": "string"}}])},
        "/healthz": {"get": {"summary": "Liveness: 200 while the process serves (status 'draining' while it stops)",
                             "responses": {"200": _json_response("Alive")}}},
        "/readyz": {"get": {"summary": "Readiness: 200 when new people may be sent here, 503 with the failing checks",
                            "responses": {"200": _json_response("Ready"), "503": _json_response("Not ready")}}},
        "/metrics": {"get": {"summary": "Prometheus metrics (the metrics token, or no token on metrics_address)",
                             "security": [{"metrics": []}, {"admin": []}], "responses": {
            "200": {"description": "Text format 0.0.4", "content": {"text/plain": {"schema": {"type": "string"}}}},
            "401": _json_response("No or wrong token")}}},
        "/openapi.json": {"get": {"summary": "This document", "responses": {"200": _json_response("OpenAPI 3.1")}}},
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
            "schemas": {
                "Error": {"type": "object", "required": ["error"], "properties": {"error": {
                    "type": "object", "required": ["code", "message"],
                    "properties": {"code": {"type": "string"}, "message": {"type": "string"}}}}},
                "Created": {"type": "object", "required": [
                    "campaign_id", "code", "facilitator_token", "join_url", "facilitator_url"], "properties": {
                    "campaign_id": {"type": "string"}, "code": {"type": "string"},
                    "facilitator_token": {"type": "string"}, "join_url": {"type": "string"},
                    "facilitator_url": {"type": "string"}}},
            },
        },
    }
