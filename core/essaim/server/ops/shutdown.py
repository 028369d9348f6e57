"""Stop on SIGTERM or SIGINT: drain participant sockets (1012), then the engine.

The signal only sets ``server.stop_requested``; the drain itself runs in
hypercorn's shutdown trigger (:meth:`EssaimServer.shutdown_trigger`), and
the engine closes after hypercorn returns, so everything acknowledged is
durable when the process exits.
"""

from __future__ import annotations

import logging
import signal
from typing import TYPE_CHECKING

import trio

if TYPE_CHECKING:
    from essaim.server.context import ServerContext

__all__ = ["stop_on_signals", "STOP_SIGNALS"]

log = logging.getLogger("essaim.server")

STOP_SIGNALS = (signal.SIGTERM, signal.SIGINT)


async def stop_on_signals(server: ServerContext, *, task_status: trio.TaskStatus[None] = trio.TASK_STATUS_IGNORED) -> None:
    with trio.open_signal_receiver(*STOP_SIGNALS) as signals:
        task_status.started()
        async for signum in signals:
            log.info("stopping", extra={"event": "stop", "signal": signal.Signals(signum).name})
            server.stop_requested.set()
            return
