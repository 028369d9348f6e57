"""What the routes and the participant socket need from the running server.

:class:`ServerContext` is the narrow interface the WebSocket path
(:mod:`essaim.server.ws.participant`), the HTTP routes (:mod:`essaim.server.http`)
and the operations (:mod:`essaim.server.ops`) depend on. It sits below them,
and :class:`~essaim.server.app.EssaimServer`, which builds them all, sits above
and implements it: so no module of the server imports the app, and the
server's modules form no import cycle (``tests/test_layers.py``).

Quart routes reach it with :func:`current_server`: :func:`attach` puts it in the
app's ``extensions`` when the app is built.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Protocol, cast

from quart import Quart, current_app

if TYPE_CHECKING:
    import trio

    from essaim.engine import Engine
    from essaim.server.advertise import Advertised
    from essaim.server.ops.metrics import GcPauses, ServerMetrics
    from essaim.server.settings import Settings
    from essaim.server.ws.fanout import Hubs

__all__ = ["ServerContext", "LiveSocket", "attach", "current_server"]

#: The key of the context in ``app.extensions``.
EXTENSION = "essaim.server"


class LiveSocket(Protocol):
    """An open participant socket, as the drain and the slow-client sweeper see it."""

    @property
    def sending_since(self) -> float | None:
        """trio time the frame being sent was handed over; None when idle."""
        ...

    def cut_off_slow(self) -> None: ...

    def shutdown(self, code: int) -> None: ...


class ServerContext(Protocol):
    """One running server: its engine, settings, figures and open sockets."""

    @property
    def engine(self) -> Engine: ...

    @property
    def settings(self) -> Settings: ...

    @property
    def nursery(self) -> trio.Nursery:
        """Outlives every connection: for work that must finish after one closes."""
        ...

    @property
    def metrics(self) -> ServerMetrics: ...

    @property
    def gc_pauses(self) -> GcPauses: ...

    @property
    def hubs(self) -> Hubs: ...

    @property
    def live(self) -> set[LiveSocket]:
        """Every open participant socket, joined or not."""
        ...

    @property
    def stop_requested(self) -> trio.Event:
        """Set when a shutdown is asked for (signal, test); the drain follows."""
        ...

    @property
    def draining(self) -> bool: ...

    @property
    def base_url(self) -> str:
        """Base of the links (join, QR code, facilitator) other devices open."""
        ...

    @property
    def advertised(self) -> Advertised: ...

    def console_read_age(self) -> float:
        """How old the results and structure a facilitator console gets may be."""
        ...

    def is_admin(self, token: str | None) -> bool: ...

    def may_attempt_join(self, scope: Mapping[str, Any]) -> bool:
        """Spend one join attempt of the client behind ``scope``, if it has one left."""
        ...

    def forget(self, conn: LiveSocket) -> None:
        """A participant socket closed."""
        ...


def attach(app: Quart, server: ServerContext) -> None:
    """Make ``server`` what :func:`current_server` returns in ``app``'s requests."""
    app.extensions[EXTENSION] = server


def current_server() -> ServerContext:
    """The server handling the current Quart request."""
    return cast("ServerContext", current_app.extensions[EXTENSION])
