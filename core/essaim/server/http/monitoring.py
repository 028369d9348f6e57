"""Routes for machines that watch the server: ``/healthz``, ``/readyz``, ``/metrics``,
and the timing of every HTTP request for ``/metrics``.

``/metrics`` names campaigns and counts their participants, so on the main
listener it takes ``Authorization: Bearer <metrics_token>`` (or the admin
token). The ``metrics_address`` listener serves these three routes only,
without a token: bind it where only the monitoring network reaches.
Everything else there answers 404, like an unknown path.
"""

from __future__ import annotations

import hmac
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import orjson
import trio
from quart import Response, g, request

from essaim.server.ops.metrics import UNMATCHED_ROUTE
from essaim.server.ops.prometheus import CONTENT_TYPE, render_metrics
from essaim.server.ops.readiness import check_readiness

if TYPE_CHECKING:
    from quart_trio import QuartTrio

    from essaim.server.context import ServerContext

__all__ = ["register_monitoring_routes", "MONITORING_PATHS", "MONITORING_KEY", "on_monitoring_listener"]

MONITORING_PATHS = frozenset({"/healthz", "/readyz", "/metrics"})
#: Set in the scope of requests that arrived on the metrics_address listener.
MONITORING_KEY = "essaim.monitoring"


def on_monitoring_listener(scope: Mapping[str, object]) -> bool:
    return bool(scope.get(MONITORING_KEY))


def _json(body: Any, status: int) -> Response:
    return Response(orjson.dumps(body), status=status, mimetype="application/json")


def _bearer_token() -> str:
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    return token.strip() if scheme == "Bearer" else ""


def register_monitoring_routes(app: QuartTrio, server: ServerContext) -> None:
    metrics = server.metrics

    def may_read_metrics() -> bool:
        if on_monitoring_listener(request.scope):
            return True
        token = _bearer_token()
        if not token:
            return False
        wanted = server.settings.metrics_token
        return (bool(wanted) and hmac.compare_digest(token.encode(), wanted.encode())) or server.is_admin(token)

    @app.before_request
    async def start_timing() -> Response | None:
        g.essaim_started = trio.current_time()
        if on_monitoring_listener(request.scope) and request.path not in MONITORING_PATHS:
            return _json({"error": {"code": "not_found", "message": "this listener serves "
                                    f"{sorted(MONITORING_PATHS)} only"}}, 404)
        return None

    @app.after_request
    async def record_timing(response: Response) -> Response:
        started = g.get("essaim_started")
        if started is not None:
            rule = request.url_rule.rule if request.url_rule is not None else UNMATCHED_ROUTE
            metrics.observe_http(rule, request.method, response.status_code, trio.current_time() - started)
        return response

    @app.get("/healthz")
    async def healthz() -> Response:
        """Liveness: the process and its loop answer. Draining is said, not failed:
        restarting a process that is stopping on purpose cures nothing."""
        return _json({"status": "draining" if server.draining else "ok",
                      "campaigns": len(server.engine.campaign_ids()), "connections": len(server.live)}, 200)

    @app.get("/readyz")
    async def readyz() -> Response:
        readiness = await check_readiness(server)
        return _json(readiness.to_dict(), 200 if readiness.ready else 503)

    @app.get("/metrics")
    async def prometheus_metrics() -> Response:
        if not may_read_metrics():
            response = _json({"error": {"code": "unauthorized", "message": "/metrics needs 'Authorization: Bearer "
                                        "<metrics_token>' (setting metrics_token), or the metrics_address listener"}},
                             401)
            response.headers["WWW-Authenticate"] = 'Bearer realm="metrics"'
            return response
        return Response(await render_metrics(server), content_type=CONTENT_TYPE)
