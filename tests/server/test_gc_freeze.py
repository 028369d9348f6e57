"""Sessions are frozen out of the garbage collector, and a closed one still goes.

Full collections used to walk every session's objects (1 s at 10,000
sessions): the Freezer moves survivors out of the collector. That is only
safe if a closed connection is freed by reference counting, since a frozen
reference cycle is never collected: hypercorn's connection objects form one,
which essaim.server.ws.release breaks.
"""

from __future__ import annotations

import gc
import weakref

import trio
from server_fixtures import new_campaign, participant_connection, running_server

from essaim.server.ops.gc_tuning import Freezer
from essaim.server.ws.transports import is_tracked

#: Pings often, so hypercorn's ping task (which holds a closed connection
#: until it next wakes) lets go within the test.
QUICK_PINGS = dict(ping_interval=0.3, read_timeout=1.0)


def _walked_ids() -> set[int]:
    """Objects a collection walks now (the frozen ones are not among them)."""
    return {id(o) for o in gc.get_objects()}


def test_the_freezer_freezes_once_enough_objects_survived():
    survivors = [[i] for i in range(100)]
    assert not Freezer(survivors=10**12).step()  # not enough: nothing happens
    freezer = Freezer(survivors=1)
    assert freezer.step()
    walked = _walked_ids()
    assert all(gc.is_tracked(s) and id(s) not in walked for s in survivors)
    assert freezer.freezes == 1 and freezer.largest >= len(survivors)


async def test_sessions_end_up_frozen_and_a_closed_one_is_freed(tmp_path):
    async with running_server(tmp_path, gc_freeze_survivors=1, **QUICK_PINGS) as server:
        _, code, _ = await new_campaign(server)
        async with participant_connection(server) as a, participant_connection(server) as b:
            await a.join(code)
            await b.join(code)
            server.gc_freezer.step()
            conns = list(server.live)
            walked = _walked_ids()
            for conn in conns:
                for obj in (conn, conn.outbox):
                    assert gc.is_tracked(obj) and id(obj) not in walked
            gone = [weakref.ref(conn) for conn in conns]
            clients = [conn.scope["client"] for conn in conns]
            del conns, conn, obj
        # Closed: frozen objects are freed by reference counting alone (a
        # frozen cycle would stay for ever), hypercorn's included. trio's
        # accept loop holds the stream it accepted last until the next one.
        async with participant_connection(server):
            with trio.fail_after(10):
                while any(ref() is not None for ref in gone) or any(is_tracked(c) for c in clients):
                    await trio.sleep(0.05)
