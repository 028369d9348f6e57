"""hypercorn's configuration and listening sockets, from our settings.

The defaults changed here, and why (stack-notes): ``backlog`` 4096 for the
reconnect storm after a restart; ``websocket_max_message_size`` 64 KiB
(cards and votes are small; above it the client gets 1009);
``websocket_ping_interval`` 20 s to keep NAT and load-balancer mappings
alive; ``read_timeout`` 60 s, the only dead-peer detector since hypercorn
never checks pongs; no access log (one line per request would dwarf the
work at 10,000 sessions; our own JSON logs say what matters).
"""

from __future__ import annotations

import logging
import socket

from hypercorn.config import Config, Sockets

from essaim.server.settings import Settings, split_address

__all__ = ["hypercorn_config", "listening_sockets"]


def _bind(host: str, port: int) -> str:
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


def hypercorn_config(settings: Settings) -> Config:
    config = Config()
    config.bind = [_bind(settings.host, settings.port)]
    if settings.metrics_address:
        config.bind.append(_bind(*split_address(settings.metrics_address)))  # the monitoring listener, second
    config.worker_class = "trio"
    config.backlog = settings.backlog
    config.websocket_max_message_size = settings.max_message_bytes
    config.websocket_ping_interval = settings.ping_interval
    config.read_timeout = int(settings.read_timeout)
    config.graceful_timeout = settings.graceful_timeout
    config.accesslog = None
    config.errorlog = logging.getLogger("hypercorn.error")
    return config


def listening_sockets(config: Config, settings: Settings) -> Sockets:
    """Bound and listening; accepted sockets inherit the send buffer size."""
    sockets = config.create_sockets()
    for sock in sockets.insecure_sockets:
        if settings.socket_send_buffer:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, settings.socket_send_buffer)
        sock.listen(config.backlog)
    return sockets
