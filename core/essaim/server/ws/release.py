"""Free hypercorn's objects of a closed connection without the cyclic GC.

Each hypercorn connection is a reference cycle: ``TCPServer.protocol`` holds
the protocol objects, which hold ``TCPServer.protocol_send``, a bound
method of the server. Without help, only a collection frees a closed
connection's objects (~30 of them, with h11's buffers). Since sessions are
frozen out of the collector (:mod:`essaim.server.ops.gc_tuning`), such a
cycle would never be collected: every reconnect would leak. This module
wraps ``TCPServer.run`` to drop the server's references to its protocol and
task group once the connection is over (nothing of it runs any more: the
task group has exited), so reference counting frees the lot at once.
``tests/server/test_gc_freeze.py`` checks a closed session leaves nothing.
"""

from __future__ import annotations

from typing import Any

from hypercorn.trio import tcp_server

__all__ = ["release_closed_connections"]

_original_run = getattr(tcp_server.TCPServer.run, "__wrapped__", tcp_server.TCPServer.run)


async def _run_then_release(self: Any) -> None:
    try:
        await _original_run(self)
    finally:
        # The task group has exited: no task of this connection is left to use them.
        self.__dict__.pop("protocol", None)
        self.__dict__.pop("_task_group", None)


_run_then_release.__wrapped__ = _original_run  # type: ignore[attr-defined]


def release_closed_connections() -> None:
    """Install the wrapper (idempotent)."""
    tcp_server.TCPServer.run = _run_then_release  # type: ignore[method-assign]
