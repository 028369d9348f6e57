"""The facilitator HTTP API (JSON), docs/protocol.md §8.

Creating and listing campaigns takes the server's admin token; every
campaign route takes that campaign's facilitator token (or the admin
token) in ``Authorization: Bearer``. A participant token is refused
everywhere here. Errors are ``{"error": {"code", "message"}}`` with the
status of :data:`STATUS_BY_CODE`. Nothing returned names a participant in
an anonymous campaign; profile segments below the campaign's
``min_segment_size`` are removed from results and exports.

The routes are the Quart blueprint :data:`api`; they reach the running
server through :func:`essaim.server.context.current_server`. Its error
handlers serve the whole app (a 404 anywhere is JSON).
"""

from __future__ import annotations

import functools
import io
import logging
import zipfile
from collections.abc import Mapping, Sequence
from importlib.resources import files
from itertools import islice
from types import MappingProxyType
from typing import TYPE_CHECKING, Any

import orjson
import trio
from quart import Blueprint, Response, g, request
from quart.blueprints import BlueprintSetupState
from werkzeug.exceptions import HTTPException

from essaim.errors import CommandError, NotFound, TemplateError, Unauthorized
from essaim.model.commands import FACILITATOR, Command
from essaim.model.template import CampaignTemplate
from essaim.plugin import CORE_PLUGINS
from essaim.server.context import ServerContext, current_server
from essaim.server.http.audit import note_actor, note_error
from essaim.server.http.presenter import presenter_url
from essaim.server.proxies import client_address
from essaim.server.views import board_view, campaign_view, counters_view, phase_view, results_document

if TYPE_CHECKING:
    from essaim.model.types import ExportFile

audit_log = logging.getLogger("essaim.audit")

__all__ = ["api", "ApiError", "STATUS_BY_CODE", "PHASE_ACTIONS", "MAX_BODY_BYTES",
           "CARD_FEED_DEFAULT", "CARD_FEED_MAX",
           "builtin_templates", "zip_files"]

#: A template is a few KiB; 256 KiB leaves room for long prompt lists and stops abuse.
MAX_BODY_BYTES = 256 * 1024
#: Cards of the console's live feed per request: what a facilitator can read
#: between two polls, and a bounded answer whatever the campaign's size.
CARD_FEED_DEFAULT = 50
CARD_FEED_MAX = 200
PHASE_ACTIONS = ("start", "pause", "resume", "extend", "advance")
#: Retry-After of a rate-limited join lookup: attempts come back at
#: join_rate_per_second (10/s by default), so a second is plenty.
JOIN_RETRY_AFTER_SECONDS = 1

STATUS_BY_CODE = {
    "bad_request": 400, "bad_json": 400, "bad_template": 400, "too_long": 400, "too_short": 400,
    "unauthorized": 401, "forbidden": 403, "not_found": 404, "wrong_phase": 409, "already_done": 409,
    "limit_exceeded": 409, "too_large": 413, "rate_limited": 429, "busy": 429, "unavailable": 503, "unreadable": 500,
}


class ApiError(Exception):
    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


def _json(obj: Any, status: int = 200) -> Response:
    return Response(orjson.dumps(obj), status=status, mimetype="application/json")


def _error(code: str, message: str) -> Response:
    note_error(code)
    return _json({"error": {"code": code, "message": message}}, STATUS_BY_CODE.get(code, 400))


@functools.cache
def builtin_templates() -> Mapping[str, str]:
    """Template name -> TOML text, shipped in essaim/templates. Read once (at
    start-up, when :data:`api` is registered): package files do not
    change while the server runs, and reading them is blocking I/O."""
    folder = files("essaim").joinpath("templates")
    return MappingProxyType(
        {f.name[:-5]: f.read_text(encoding="utf-8") for f in folder.iterdir() if f.name.endswith(".toml")})


def zip_files(exported: Sequence[ExportFile]) -> bytes:
    """The files of a multi-file export in one zip (CPU-bound: run it in a worker thread)."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as zf:
        for f in exported:
            zf.writestr(f.name, f.content)
    return buffer.getvalue()


def _bearer() -> str | None:
    value = request.headers.get("Authorization", "")
    if value.startswith("Bearer "):
        return value[7:].strip() or None
    return None


async def _body() -> dict[str, Any]:
    data = await request.get_data(cache=False)
    if not data:
        return {}
    try:
        body = orjson.loads(data)
    except orjson.JSONDecodeError:
        raise ApiError("bad_json", "the body must be a JSON object") from None
    if not isinstance(body, dict):
        raise ApiError("bad_json", "the body must be a JSON object")
    return body


def _vote_counts(votes: dict[str, str]) -> dict[str, int]:
    """Juror votes as counts: who voted what is nobody's business."""
    return {"hide": sum(v == "hide" for v in votes.values()), "keep": sum(v == "keep" for v in votes.values())}


api = Blueprint("facilitator_api", __name__)


@api.record_once
def _configure(state: BlueprintSetupState) -> None:
    state.app.config["MAX_CONTENT_LENGTH"] = MAX_BODY_BYTES
    builtin_templates()  # read now, not on the first admin request


def require_admin() -> ServerContext:
    """The server, once the request showed its admin token."""
    server = current_server()
    if not server.is_admin(_bearer()):
        raise ApiError("unauthorized", "this needs the server's admin token in 'Authorization: Bearer <token>'")
    note_actor("admin")
    return server


def require_facilitator(campaign_id: str) -> ServerContext:
    """The server, once the request showed the admin token or this campaign's
    facilitator token. Anyone else gets the same 401 for a campaign that does
    not exist as for a wrong token: the API must not tell which campaign ids
    exist (issue 15)."""
    server = current_server()
    engine = server.engine
    token = _bearer()
    if token is not None and server.is_admin(token):
        note_actor("admin")
        engine.campaign(campaign_id)  # the admin may learn that a campaign is unknown
        return server
    try:
        actor = engine.authenticate(campaign_id, token) if token is not None else None
    except (NotFound, Unauthorized):
        actor = None
    if actor is None or actor.role != "facilitator":
        raise ApiError("unauthorized", "this needs the campaign's facilitator token in "
                       "'Authorization: Bearer <token>' (a participant token cannot use this API)")
    note_actor("facilitator")
    return server


@api.app_errorhandler(ApiError)
async def on_api_error(error: ApiError) -> Response:
    return _error(error.code, error.message)


@api.app_errorhandler(CommandError)
async def on_command_error(error: CommandError) -> Response:
    return _error(error.code, error.message)


@api.app_errorhandler(TemplateError)
async def on_template_error(error: TemplateError) -> Response:
    return _error("bad_template", str(error))


@api.app_errorhandler(HTTPException)
async def on_http_error(error: HTTPException) -> Response:
    code = {404: "not_found", 405: "bad_request", 413: "too_large"}.get(error.code or 400, "bad_request")
    note_error(code)
    return _json({"error": {"code": code, "message": error.description or error.name}}, error.code or 400)


# -- server-wide (admin) ----------------------------------------------------------------

@api.get("/api/templates")
async def list_templates() -> Response:
    require_admin()
    return _json({"templates": sorted(builtin_templates())})


@api.post("/api/campaigns")
async def create_campaign() -> Response:
    server = require_admin()
    engine = server.engine
    body = await _body()
    name, text = body.get("template"), body.get("toml")
    if isinstance(name, str) and text is None:
        available = builtin_templates()
        if name not in available:
            raise ApiError("not_found", f"no template {name!r}; available: {sorted(available)}")
        template, source = CampaignTemplate.parse(available[name], source=f"{name}.toml"), f"{name}.toml"
    elif isinstance(text, str) and name is None:
        template, source = CampaignTemplate.parse(text, source="<request>"), "<request>"
    else:
        raise ApiError("bad_request", "send {\"template\": name} or {\"toml\": text}")
    created = await engine.create_campaign(template, source=source)
    audit_log.info("campaign created", extra={"event": "campaign_created", "campaign": created.campaign_id,
                                              "code": created.code, "template": source, "by": "admin",
                                              "client": client_address(request.scope)})
    base = server.base_url
    return _json({
        "campaign_id": created.campaign_id,
        "code": created.code,
        "facilitator_token": created.facilitator_token,
        "join_url": f"{base}/join/{created.code}",
        # In the fragment: browsers never send it, so it stays out of access logs.
        "facilitator_url": f"{base}/facilitator#campaign={created.campaign_id}&token={created.facilitator_token}",
    }, 201)


@api.get("/api/campaigns")
async def list_campaigns() -> Response:
    server = require_admin()
    engine = server.engine
    out = []
    for s in engine.loaded_states():
        out.append({"campaign_id": s.campaign_id, "code": s.code, "title": s.template.title if s.template else "",
                    "status": s.status, "phase_index": s.phase_index,
                    "participants": s.counters["participants"], "loaded": True})
    # Finished campaigns not in memory (unused for a while, or still
    # loading after a restart): asking for one loads it.
    for campaign_id, code in sorted(engine.stored_elsewhere().items()):
        out.append({"campaign_id": campaign_id, "code": code, "status": "finished", "loaded": False})
    return _json({"campaigns": out})


# -- public: what a participant sees before joining ------------------------------------------

@api.get("/api/join/<code>")
async def join_info(code: str) -> Response:
    """The campaign's title, language, profile questions and phases, by
    join code: what ``welcome`` tells after joining, so the page can ask
    the profile questions first. The code is public (it is on the join
    link and the QR code); nothing here is secret, but whether a code
    exists is: each lookup spends a join attempt of the client's address,
    as a WebSocket join does."""
    server = current_server()
    engine = server.engine
    if not server.may_attempt_join(request.scope):
        response = _error("rate_limited", "too many join attempts from your address; wait a moment")
        response.headers["Retry-After"] = str(JOIN_RETRY_AFTER_SECONDS)
        return response
    campaign_id = engine.by_code(code)
    state = engine.state(campaign_id)
    return _json({"campaign": campaign_view(state), "status": state.status})


# -- one campaign (facilitator) --------------------------------------------------------------

@api.get("/api/campaigns/<campaign_id>")
async def show_campaign(campaign_id: str) -> Response:
    server = require_facilitator(campaign_id)
    engine = server.engine
    s = engine.state(campaign_id)
    return _json({"campaign_id": campaign_id, "seq": engine.campaign(campaign_id).durable_seq,
                  "campaign": campaign_view(s), "phase": phase_view(engine, s),
                  "counters": counters_view(s, server.hubs.connection_count(campaign_id)),
                  "board": board_view(s), "panel": _panel_url(server, s.phase.type if s.phase else None),
                  "links": {"join_url": f"{server.base_url}/join/{s.code}",
                            "reachable": server.advertised.reachable,
                            "presenter_url": presenter_url(server.base_url, s)}})


def _panel_url(server: ServerContext, phase_type: str | None) -> str | None:
    """Where the console imports the current plugin phase's panel from (None: no panel)."""
    ptype = server.engine.host.registry.phase_types.get(phase_type) if phase_type else None
    web = ptype.web if ptype is not None else None
    return web.url(ptype.name, web.panel) if web is not None and ptype is not None else None


@api.post("/api/campaigns/<campaign_id>/commands/<name>")
async def plugin_command(campaign_id: str, name: str) -> Response:
    """A plugin's facilitator command (its panel's buttons): the body is its
    payload, checked against the command's declared schema like any command."""
    server = require_facilitator(campaign_id)
    spec = server.engine.commands.get(name)
    if spec is None or spec.sender != "facilitator" or spec.plugin in CORE_PLUGINS:
        raise ApiError("not_found", f"no plugin facilitator command {name!r}; the built-in ones have their own "
                                    "endpoints (phase, moderation)")
    body = await _body()
    ack = await server.engine.execute(campaign_id, FACILITATOR, Command(name, body))
    audit_log.info("plugin command", extra={
        "event": "plugin_command", "campaign": campaign_id, "command": name, "plugin": spec.plugin,
        "seq": ack.seq, "by": g.get("essaim_actor"), "client": client_address(request.scope)})
    return _json({"seq": ack.seq, "result": dict(ack.result)})


@api.post("/api/campaigns/<campaign_id>/phase/<action>")
async def control_phase(campaign_id: str, action: str) -> Response:
    server = require_facilitator(campaign_id)
    engine = server.engine
    if action not in PHASE_ACTIONS:
        raise ApiError("not_found", f"no phase action {action!r}; use one of {list(PHASE_ACTIONS)}")
    body = await _body()
    args: dict[str, object] = {}
    if action == "extend":
        args["seconds"] = body.get("seconds")
    elif action == "advance" and "index" in body:
        # The phase the facilitator means to end: a click racing the
        # phase timer must not end the next phase too.
        args["index"] = body["index"]
    ack = await engine.execute(campaign_id, FACILITATOR, Command(action, args))
    return _json({"seq": ack.seq, "phase": phase_view(engine, engine.state(campaign_id))})


@api.get("/api/campaigns/<campaign_id>/stats")
async def stats(campaign_id: str) -> Response:
    server = require_facilitator(campaign_id)
    engine = server.engine
    s = engine.state(campaign_id)
    return _json({"seq": engine.campaign(campaign_id).durable_seq, "counters": dict(s.counters),
                  "phase": phase_view(engine, s), **server.hubs.stats(campaign_id)})


@api.get("/api/campaigns/<campaign_id>/moderation")
async def moderation(campaign_id: str) -> Response:
    server = require_facilitator(campaign_id)
    engine = server.engine
    s = engine.state(campaign_id)
    cases = [
        {"case_id": c.case_id, "cid": c.cid, "text": s.cards[c.cid].text, "flags": len(c.flaggers),
         "reasons": [r for r in c.reasons if r], "jury_size": len(c.jury), "votes": _vote_counts(c.votes)}
        for c in s.cases.values() if c.status == "open"
    ]
    hidden = [{"cid": c.cid, "text": c.text} for c in s.cards.values() if c.hidden]
    log = [{k: (_vote_counts(v) if k == "votes" else v) for k, v in entry.items()} for entry in s.moderation_log]
    return _json({"open_cases": cases, "hidden_cards": hidden, "log": log})


@api.post("/api/campaigns/<campaign_id>/moderation")
async def decide(campaign_id: str) -> Response:
    server = require_facilitator(campaign_id)
    engine = server.engine
    body = await _body()
    ack = await engine.execute(campaign_id, FACILITATOR,
                               Command("decide", {"cid": body.get("cid"), "verdict": body.get("verdict")}))
    audit_log.info("moderation override", extra={
        "event": "moderation_override", "campaign": campaign_id, "cid": body.get("cid"),
        "verdict": body.get("verdict"), "seq": ack.seq, "by": g.get("essaim_actor"),
        "client": client_address(request.scope)})
    return _json({"seq": ack.seq})


@api.get("/api/campaigns/<campaign_id>/cards")
async def card_feed(campaign_id: str) -> Response:
    """The newest cards first, hidden ones included (marked): the console's
    live feed, where the facilitator hides a card (and undoes it) with
    POST .../moderation."""
    server = require_facilitator(campaign_id)
    try:
        limit = int(request.args.get("limit", CARD_FEED_DEFAULT))
    except ValueError:
        raise ApiError("bad_request", f"'limit' must be a whole number from 1 to {CARD_FEED_MAX}") from None
    if not 1 <= limit <= CARD_FEED_MAX:
        raise ApiError("bad_request", f"'limit' must be a whole number from 1 to {CARD_FEED_MAX}")
    s = server.engine.state(campaign_id)
    cases = s.open_case_by_card
    cards = [{"cid": c.cid, "text": c.text, "hidden": c.hidden, "supporters": len(c.supporters),
              "flags": c.flags, "reported": c.cid in cases, "at": c.created_at}
             for c in islice(reversed(s.cards.values()), limit)]
    return _json({"cards": cards, "total": len(s.cards), "hidden": s.counters["hidden"]})


@api.get("/api/campaigns/<campaign_id>/structure")
async def structure(campaign_id: str) -> Response:
    server = require_facilitator(campaign_id)
    engine = server.engine
    return _json((await engine.structure(campaign_id, max_age=server.console_read_age())).to_dict())


@api.get("/api/campaigns/<campaign_id>/results")
async def results(campaign_id: str) -> Response:
    server = require_facilitator(campaign_id)
    engine = server.engine
    return _json(results_document(await engine.results(campaign_id, max_age=server.console_read_age())))


@api.get("/api/campaigns/<campaign_id>/export/<format>")
async def export(campaign_id: str, format: str) -> Response:
    fmt = format
    server = require_facilitator(campaign_id)
    engine = server.engine
    if fmt not in engine.host.registry.export_formats:
        raise ApiError("not_found", f"no export format {fmt!r}; available: {sorted(engine.host.registry.export_formats)}")
    exported = await engine.export(campaign_id, fmt)
    if len(exported) == 1:
        f = exported[0]
        response = Response(f.content, mimetype=f.media_type)
        response.headers["Content-Disposition"] = f'attachment; filename="{f.name}"'
        return response
    response = Response(await trio.to_thread.run_sync(zip_files, exported), mimetype="application/zip")
    response.headers["Content-Disposition"] = f'attachment; filename="{campaign_id}-{fmt}.zip"'
    return response

