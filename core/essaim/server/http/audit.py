"""The audit trail of the HTTP API, in the JSON logs.

Every facilitator action (a request that changes something: ``POST``,
``PUT``, ``PATCH``, ``DELETE`` under ``/api/``) is one ``facilitator_action``
line: who (``admin``, ``facilitator`` or ``none`` when the token was
refused), what (method, route rule, campaign, phase action), the result
(status and error code) and the client address. A read that fails is an
``api_error`` line. Lines that no valid token earned are sampled
(:mod:`essaim.server.ops.sampled_log`): a script hammering the API cannot
flood the log. Tokens never appear: the route rule is logged, not the URL,
and headers never are.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from quart import Response, g, request

from essaim.server.ops.metrics import UNMATCHED_ROUTE
from essaim.server.ops.sampled_log import SampledLog
from essaim.server.proxies import client_address

if TYPE_CHECKING:
    from quart_trio import QuartTrio

__all__ = ["register_audit", "note_actor", "note_error", "CHANGING_METHODS"]

log = logging.getLogger("essaim.audit")

CHANGING_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})


def note_actor(role: str) -> None:
    """Who the request's token stands for (``admin``, ``facilitator``), once checked."""
    g.essaim_actor = role


def note_error(code: str) -> None:
    """The error code the request is answered with."""
    g.essaim_error = code


def register_audit(app: QuartTrio) -> None:
    unauthenticated = SampledLog(log)
    failed_reads = SampledLog(log)

    @app.after_request
    async def audit(response: Response) -> Response:
        if not request.path.startswith("/api/"):
            return response
        changing = request.method in CHANGING_METHODS
        status = response.status_code
        if not changing and status < 400:
            return response
        args = request.view_args or {}
        actor = g.get("essaim_actor", "none")
        fields = {
            "by": actor, "method": request.method,
            "route": request.url_rule.rule if request.url_rule is not None else UNMATCHED_ROUTE,
            "campaign": args.get("campaign_id"), "action": args.get("action"), "status": status,
            "code": g.get("essaim_error"), "client": client_address(request.scope),
        }
        level = logging.ERROR if status >= 500 else logging.INFO if status < 400 else logging.WARNING
        if changing and actor != "none":
            log.log(level, "facilitator action", extra={"event": "facilitator_action", **fields})
        else:
            sampler = unauthenticated if actor == "none" else failed_reads
            event = "facilitator_action" if changing else "api_error"
            sampler.log(level, "API request refused" if changing else "API error", event, **fields)
        return response
