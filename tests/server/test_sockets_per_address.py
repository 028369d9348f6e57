"""One client address cannot hoard sockets: past ``max_sockets_per_address``
open participant sockets, a new one is closed with 1013 (try again later).

Before the fix one address could hold 1,500 idle sockets (and more): each is
a file descriptor and two tasks, so one script could starve the server of
descriptors for everyone else.
"""

from __future__ import annotations

from contextlib import AsyncExitStack

import pytest
import trio
from server_fixtures import new_campaign, participant_connection, running_server
from trio_websocket import ConnectionClosed

from essaim.server.ws.participant import CLOSE_TRY_AGAIN_LATER

CAP = 3


async def _refused(server, **kwargs) -> str:
    """The close reason of a socket the server closes at once."""
    async with participant_connection(server, **kwargs) as p:
        with trio.fail_after(10), pytest.raises(ConnectionClosed) as closed:
            await p.recv()
    assert closed.value.reason.code == CLOSE_TRY_AGAIN_LATER
    return closed.value.reason.reason or ""


async def test_sockets_over_the_cap_are_closed_and_freed_ones_reused(tmp_path):
    async with running_server(tmp_path, max_sockets_per_address=CAP) as server:
        _, code, _ = await new_campaign(server)
        async with AsyncExitStack() as stack:
            joined = await stack.enter_async_context(participant_connection(server))
            await joined.join(code)  # a joined socket counts as much as an idle one
            idle = [await stack.enter_async_context(participant_connection(server)) for _ in range(CAP - 1)]
            assert "too many" in await _refused(server)
            assert server.metrics.address_limit_refused == 1
            await idle[0].ws.aclose()
            with trio.fail_after(10):
                while server.participant_socket.sockets_of("127.0.0.1") >= CAP:  # the server sees the close
                    await trio.sleep(0.01)
            async with participant_connection(server) as again:
                await again.join(code)
        with trio.fail_after(10):
            while server.participant_socket.sockets_of("127.0.0.1"):
                await trio.sleep(0.01)
        assert server.participant_socket.tracked_addresses() == 0, "no entry kept for an address with no socket"


async def test_the_cap_is_per_client_address_behind_a_trusted_proxy(tmp_path):
    async with running_server(tmp_path, max_sockets_per_address=1, trusted_proxies=("127.0.0.1",)) as server:
        first = [(b"X-Forwarded-For", b"198.51.100.1")]
        async with participant_connection(server, extra_headers=first):
            await _refused(server, extra_headers=first)
            async with participant_connection(server, extra_headers=[(b"X-Forwarded-For", b"198.51.100.2")]) as other:
                await other.send({"type": "join", "campaign": "NOPE00"})
                assert (await other.recv())["code"] == "not_found"  # accepted and served
