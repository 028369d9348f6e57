"""The server: one engine, the participant socket, the facilitator API, operations.

:class:`EssaimServer` ties an open engine to its connections and hubs;
:meth:`EssaimServer.asgi` is the ASGI app hypercorn serves: ``/ws`` goes
straight to :class:`~essaim.server.ws.participant.ParticipantSocket` (a bare
ASGI route), everything else to the Quart app (facilitator API, static web
app, ``/healthz``, ``/metrics``, ``/openapi.json``).
"""

from __future__ import annotations

import hmac
import logging
import secrets
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import trio
from quart import Response, request
from quart_trio import QuartTrio

from essaim.server.advertise import advertised
from essaim.server.context import LiveSocket, attach
from essaim.server.http.audit import register_audit
from essaim.server.http.facilitator import api as facilitator_api
from essaim.server.http.monitoring import MONITORING_KEY, register_monitoring_routes
from essaim.server.http.presenter import api as presenter_api
from essaim.server.http.security_headers import add_security_headers
from essaim.server.http.site import register_site_routes
from essaim.server.http.unread_body import UnreadBodyGuard
from essaim.server.ops.gc_tuning import Freezer
from essaim.server.ops.metrics import GcPauses, ServerMetrics
from essaim.server.proxies import ProxyHeaders, client_address
from essaim.server.ratelimit import AddressBuckets
from essaim.server.ws.fanout import Hubs
from essaim.server.ws.participant import CLOSE_RESTART, ParticipantSocket

if TYPE_CHECKING:
    from essaim.engine import Engine
    from essaim.server.settings import Settings

__all__ = ["EssaimServer"]

log = logging.getLogger("essaim.server")


class EssaimServer:
    """Everything the routes share. Create inside a nursery that outlives the server."""

    def __init__(self, engine: Engine, settings: Settings, nursery: trio.Nursery) -> None:
        self.engine = engine
        self.settings = settings
        self.nursery = nursery
        self.metrics = ServerMetrics()
        self.gc_pauses = GcPauses()
        #: Freezes what survives so collections never walk the sessions (set by ``serve``).
        self.gc_freezer = Freezer(settings.gc_freeze_survivors)
        self.hubs = Hubs(engine, settings, self.metrics, nursery)
        self.proxies = ProxyHeaders(settings.trusted_proxies, settings.proxy_headers)
        #: Join attempts per client address, on every path that tells whether a
        #: join code exists (the WebSocket join/resume, GET /api/join/{code}):
        #: the code is public, and guessing must cost the same everywhere.
        self.join_attempts = AddressBuckets(settings.join_rate_per_second, settings.join_burst)
        #: Every open participant socket, joined or not (for drain and the slow-client sweeper).
        self.live: set[LiveSocket] = set()
        self.admin_token = settings.admin_token or secrets.token_urlsafe(24)
        #: Set when a shutdown is asked for (signal, test); the drain follows.
        self.stop_requested = trio.Event()
        #: Set once a drain started and the last socket closed.
        self.drained = trio.Event()
        self.draining = False
        #: Where links printed and returned by the API point; the real port is filled in once listening.
        self.advertised = advertised(settings)
        #: The port of the metrics_address listener once listening (0: none).
        self.monitoring_port = 0
        self.participant_socket = ParticipantSocket(self)
        self.quart = self._build_quart()
        #: The Quart app behind the guard that keeps early answers (413) from hanging keep-alive connections.
        self.http_app = UnreadBodyGuard(self.quart)

    @property
    def base_url(self) -> str:
        """Base of the links (join, QR code, facilitator) other devices open."""
        return self.advertised.base_url

    def console_read_age(self) -> float:
        """How old the results and structure a facilitator console gets may
        be: ``results_max_age``, longer with many connections (see settings)."""
        return max(self.settings.results_max_age, len(self.live) / self.settings.results_age_connections)

    def _build_quart(self) -> QuartTrio:
        # No Quart static folder: its built-in /static route would shadow site_routes' one.
        app = QuartTrio("essaim.server", static_folder=None)
        app.config["JSON_SORT_KEYS"] = False
        attach(app, self)
        register_monitoring_routes(app, self)
        register_audit(app)
        register_site_routes(app, self)
        app.register_blueprint(facilitator_api)
        app.register_blueprint(presenter_api)

        @app.after_request
        async def security_headers(response: Response) -> Response:
            secured: Response = add_security_headers(response, request.host)
            return secured

        return app

    def may_attempt_join(self, scope: Mapping[str, Any]) -> bool:
        """Spend one join attempt of the client behind ``scope``, if it has one left."""
        return self.join_attempts.take(client_address(scope), trio.current_time())

    def is_admin(self, token: str | None) -> bool:
        return bool(token) and hmac.compare_digest(token.encode(), self.admin_token.encode())  # type: ignore[union-attr]

    # -- ASGI ---------------------------------------------------------------------------------

    async def asgi(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] in ("http", "websocket"):
            scope = self.proxies.apply(scope)  # who the client is, behind a trusted proxy
            server_address = scope.get("server")
            if self.monitoring_port and server_address and server_address[1] == self.monitoring_port:
                scope[MONITORING_KEY] = True  # the metrics_address listener: monitoring routes only
        if scope["type"] == "websocket" and scope["path"] == "/ws" and MONITORING_KEY not in scope:
            await self.participant_socket(scope, receive, send)
        else:
            await self.http_app(scope, receive, send)

    # -- background work --------------------------------------------------------------------

    async def sweep_slow_clients(self) -> None:
        """Cut off clients whose frame has been stuck on its way out for too long.

        A deadline watchdog over all connections (one task, not one per
        connection): hypercorn shields socket writes, so the writer itself
        cannot time out."""
        timeout = self.settings.slow_client_timeout
        while True:
            await trio.sleep(max(0.05, timeout / 4))
            now = trio.current_time()
            for conn in list(self.live):
                since = conn.sending_since
                if since is not None and now - since > timeout:
                    conn.cut_off_slow()

    async def drain(self) -> None:
        """Close every participant socket with 1012, then wait (bounded) for them to go."""
        conns = list(self.live)
        log.info("draining", extra={"event": "drain", "connections": len(conns)})
        self.draining = True
        if not conns:
            self.drained.set()
        for conn in conns:
            conn.shutdown(CLOSE_RESTART)
        with trio.move_on_after(self.settings.drain_timeout):
            await self.drained.wait()

    def forget(self, conn: LiveSocket) -> None:
        """A socket closed."""
        self.live.discard(conn)
        if self.draining and not self.live:
            self.drained.set()

    async def shutdown_trigger(self) -> None:
        """For hypercorn: returns once a stop was asked for and sockets are drained.

        Closing the sockets here (not in Quart's ``after_serving``, which runs
        too late) gives clients 1012 at once instead of 1006 after
        hypercorn's graceful timeout."""
        await self.stop_requested.wait()
        await self.drain()
