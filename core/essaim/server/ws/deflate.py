"""Refuse permessage-deflate in hypercorn's WebSocket handshake.

hypercorn accepts permessage-deflate whenever a client offers it (there is
no setting: pgjones/hypercorn#307) and every browser offers it. Compression
triples the memory of a connection (~150 KiB instead of ~49 KiB) and costs
~50% more CPU on broadcasts, for frames of a few hundred bytes that barely
compress. This module wraps hypercorn's ``Handshake.accept`` so the offer
is ignored: the handshake answers with no ``Sec-WebSocket-Extensions`` and
wsproto runs without the extension. ``tests/server/test_deflate.py`` checks
it on a real server against a client that offers deflate.
"""

from __future__ import annotations

from typing import Any

from hypercorn.protocol import ws_stream

__all__ = ["refuse_permessage_deflate", "original_accept"]

#: hypercorn's own ``Handshake.accept``, kept for the test that proves the patch matters.
original_accept = getattr(ws_stream.Handshake.accept, "__wrapped__", ws_stream.Handshake.accept)


def _accept_without_extensions(self: Any, *args: Any, **kwargs: Any) -> Any:
    # The offer was parsed from the request headers; forgetting it makes
    # hypercorn answer as if no extension had been offered.
    self.extensions = None
    return original_accept(self, *args, **kwargs)


_accept_without_extensions.__wrapped__ = original_accept  # type: ignore[attr-defined]


def refuse_permessage_deflate() -> None:
    """Install the wrapper (idempotent)."""
    ws_stream.Handshake.accept = _accept_without_extensions  # type: ignore[method-assign]
