"""Find the TCP stream behind a WebSocket, to cut off a client that stopped reading.

hypercorn shields the socket write of each frame (``TCPServer.protocol_send``)
and serialises writes behind a lock, so once a client stops reading and the
kernel buffers are full, nothing sent through ASGI (not even a close frame)
gets through, and cancelling the sender does not help. The only way to free
the connection at once is to close its socket, which wakes the blocked
write with ``ClosedResourceError``. ASGI does not expose the socket, so this
module wraps ``TCPServer.__init__`` to remember each stream by the peer
address hypercorn also puts in the ASGI scope (``scope["client"]``).
"""

from __future__ import annotations

import weakref
from typing import Any

import trio
from hypercorn.trio import tcp_server
from hypercorn.utils import parse_socket_addr

__all__ = ["track_transports", "abort_transport", "tracked_count", "is_tracked"]

_streams: weakref.WeakValueDictionary[tuple[Any, ...], Any] = weakref.WeakValueDictionary()
_original_init = getattr(tcp_server.TCPServer.__init__, "__wrapped__", tcp_server.TCPServer.__init__)


def _init_and_track(self: Any, app: Any, config: Any, context: Any, state: Any, stream: Any) -> None:
    _original_init(self, app, config, context, state, stream)
    sock = getattr(stream, "socket", None)
    if sock is None:  # TLS stream: reach the TCP stream below it
        sock = getattr(getattr(stream, "transport_stream", None), "socket", None)
    if sock is None:
        return
    try:
        key = parse_socket_addr(sock.family, sock.getpeername())
    except OSError:
        return  # already gone
    if key is not None:
        _streams[tuple(key)] = stream


_init_and_track.__wrapped__ = _original_init  # type: ignore[attr-defined]


def track_transports() -> None:
    """Install the wrapper (idempotent)."""
    tcp_server.TCPServer.__init__ = _init_and_track  # type: ignore[method-assign]


def tracked_count() -> int:
    return len(_streams)


def is_tracked(client: Any) -> bool:
    """Whether the stream of ``client`` (scope["client"]) is still alive."""
    return tuple(client) in _streams


async def abort_transport(client: Any) -> bool:
    """Close the socket of the connection from ``client`` (scope["client"]).

    Returns False when it is unknown (already closed)."""
    if not client:
        return False
    stream = _streams.pop(tuple(client), None)
    if stream is None:
        return False
    with trio.CancelScope(shield=True):
        try:
            await stream.aclose()
        except (trio.BrokenResourceError, trio.ClosedResourceError, OSError):
            pass
    return True
