"""Server pings keep connections alive; a peer that sends nothing is dropped after read_timeout."""

from __future__ import annotations

import trio
from server_fixtures import running_server
from test_slow_client import _raw_client
from wsproto.events import Ping


async def test_silent_peer_is_pinged_then_dropped(tmp_path):
    # join_timeout far beyond the wait below: only read_timeout can end this connection in time.
    async with running_server(tmp_path, ping_interval=0.2, read_timeout=1.0, join_timeout=60.0) as server:
        stream, ws = await _raw_client(server)
        pings = 0
        with trio.fail_after(20):
            while True:
                try:
                    data = await stream.receive_some(65536)
                except trio.BrokenResourceError:
                    break
                if not data:
                    break  # the server hung up on a peer that never answered
                ws.receive_data(data)
                # Read pings but never answer: a dead peer as seen from the server.
                pings += sum(isinstance(e, Ping) for e in ws.events())
        assert pings >= 1
        await stream.aclose()
