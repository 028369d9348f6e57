"""The presenter screen's data: ``GET /api/campaigns/{id}/presenter``.

The presenter screen is what a room sees on the projector: the join code and
QR code, live counters, the wall of incoming ideas, the themes forming while
people sort, the phase and its timer, and the top results. It never carries
moderation content (no reports, no reasons, no hidden card): a card hidden
since it reached the wall leaves it at the next poll.

It takes the facilitator token, or the campaign's **presenter key**: a
read-only key derived from the campaign's stored facilitator token hash
(HMAC), so the projector's browser never holds the token that runs the
campaign. The key shows nothing beyond what the screen shows anyway. The
console gets the presenter link from ``GET /api/campaigns/{id}``.

The route is the Quart blueprint :data:`api`; it reaches the running server
through :func:`essaim.server.context.current_server`, and its errors go
through the facilitator API's app-wide handlers.
"""

from __future__ import annotations

import hashlib
import hmac
from itertools import islice
from typing import TYPE_CHECKING, Any

import orjson
from quart import Blueprint, Response, request

from essaim.errors import CommandError, NotFound, Unauthorized
from essaim.model.standing import places, points
from essaim.server.context import ServerContext, current_server
from essaim.server.views import campaign_view, phase_view, results_wanted

if TYPE_CHECKING:
    from essaim.model.state import CampaignState

__all__ = ["api", "presenter_key", "presenter_url",
           "WALL_CARDS", "WALL_THEMES", "REVEALED_RESULTS"]

#: Newest visible cards on the wall: about what a projected wall shows legibly.
WALL_CARDS = 24
#: Themes shown forming during sorting (the biggest).
WALL_THEMES = 8
#: Results revealed at the end, counted down from the last to the first.
REVEALED_RESULTS = 10
#: Characters of the key: 128 bits of an HMAC-SHA256 are plenty for a read-only link.
KEY_CHARS = 32
_KEY_CONTEXT = b"essaim-presenter:"


def presenter_key(state: CampaignState) -> str:
    """The campaign's read-only presenter key (stable across restarts)."""
    mac = hmac.new(state.facilitator_token_hash.encode(), _KEY_CONTEXT + state.campaign_id.encode(), hashlib.sha256)
    return mac.hexdigest()[:KEY_CHARS]


def presenter_url(base_url: str, state: CampaignState) -> str:
    # In the fragment: browsers never send it, so it stays out of access logs.
    return f"{base_url}/present#campaign={state.campaign_id}&key={presenter_key(state)}"


def _wall(state: CampaignState) -> list[dict[str, str]]:
    newest = (c for c in reversed(state.cards.values()) if not c.hidden)
    return [{"cid": c.cid, "text": c.text} for c in islice(newest, WALL_CARDS)]


api = Blueprint("presenter_api", __name__)


def require_presenter(campaign_id: str) -> tuple[ServerContext, CampaignState]:
    """The server and the campaign, once the request showed the presenter key,
    the facilitator token or the admin token. As in the facilitator API, an
    unknown campaign and a wrong key get the same 401: the route must not
    tell which campaign ids exist."""
    server = current_server()
    engine = server.engine
    value = request.headers.get("Authorization", "")
    token = value[7:].strip() if value.startswith("Bearer ") else ""
    if token and server.is_admin(token):
        return server, engine.state(campaign_id)  # the admin may learn that a campaign is unknown
    try:
        state = engine.state(campaign_id)
        if token and (hmac.compare_digest(token.encode(), presenter_key(state).encode())
                      or engine.authenticate(campaign_id, token).role == "facilitator"):
            return server, state
    except (NotFound, Unauthorized):
        pass
    raise CommandError("this needs the campaign's presenter key (from the console's presenter link) "
                       "or its facilitator token in 'Authorization: Bearer <key>'", code="unauthorized")


@api.get("/api/campaigns/<campaign_id>/presenter")
async def presenter(campaign_id: str) -> Response:
    server, state = require_presenter(campaign_id)
    engine = server.engine
    counters = state.counters
    out: dict[str, Any] = {
        "campaign": campaign_view(state),
        "links": {"join_url": f"{server.base_url}/join/{state.code}", "reachable": server.advertised.reachable},
        "phase": phase_view(engine, state),
        "counters": {"participants": counters["participants"], "online": server.hubs.connection_count(campaign_id),
                     "cards": counters["cards"] - counters["hidden"], "supports": counters["supports"],
                     "placements": counters["placements"], "judgments": counters["judgments"]},
        "wall": _wall(state),
        "themes": [],
        "results": None,
    }
    if state.placements:
        structure = await engine.structure(campaign_id, max_age=server.console_read_age())
        out["themes"] = [
            {"title": t.title, "ideas": len(t.ideas), "cards": sum(len(i.cards) for i in t.ideas)}
            for t in structure.themes[:WALL_THEMES]
        ]
    if results_wanted(engine, state):
        results = await engine.results(campaign_id, max_age=server.console_read_age())
        top = results.sheets[:REVEALED_RESULTS]
        out["results"] = [
            {"place": place, "points": points(s.score), "title": s.title, "supporters": s.supporters,
             "score": s.score, "low": s.low, "high": s.high}
            for s, place in zip(top, places([s.score for s in top]))
        ]
    response = Response(orjson.dumps(out), mimetype="application/json")
    response.headers["Cache-Control"] = "no-store"
    return response
