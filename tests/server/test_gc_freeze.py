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

import pytest
import trio
from server_fixtures import new_campaign, participant_connection, running_server

from essaim.server.ops.gc_tuning import FREEZE_MAX_WAIT_SECONDS, FREEZER_LOOP_SHARE, YOUNG_PROMOTION_LOOKS, Freezer
from essaim.server.ws.transports import is_tracked

#: Pings often, so hypercorn's ping task (which holds a closed connection
#: until it next wakes) lets go within the test.
QUICK_PINGS = dict(ping_interval=0.3, read_timeout=1.0)


def _walked_ids() -> set[int]:
    """Objects a collection walks now (the frozen ones are not among them)."""
    return {id(o) for o in gc.get_objects()}


def _promote_then_step(freezer: Freezer) -> bool:
    gc.collect(0)  # what is young now gets old
    return freezer.step()


@pytest.fixture
def no_automatic_collections():
    """Only the test's own collections run (an automatic one would promote objects behind its back)."""
    gc.disable()
    try:
        yield
    finally:
        gc.enable()


@pytest.mark.usefixtures("no_automatic_collections")
def test_the_freezer_freezes_once_enough_objects_got_old():
    freezer, picky = Freezer(survivors=1), Freezer(survivors=10**12)
    survivors = [[i] for i in range(100)]
    assert not freezer.step()  # no collection since: nothing got old
    gc.collect(0)  # the survivors are promoted: old now
    assert not picky.step()  # not enough of them
    assert freezer.step()
    walked = _walked_ids()
    assert all(gc.is_tracked(s) and id(s) not in walked for s in survivors)
    assert freezer.freezes == 1 and freezer.largest >= len(survivors)
    assert not freezer.step()  # its own collection is no news: nothing got old since


@pytest.mark.usefixtures("no_automatic_collections")
def test_objects_left_young_by_quiet_collectors_are_promoted_then_frozen():
    freezer, picky = Freezer(survivors=1), Freezer(survivors=10**12)
    survivors = [[i] for i in range(100)]  # and no collection comes to promote them
    for _ in range(YOUNG_PROMOTION_LOOKS - 1):
        assert not freezer.step() and not picky.step()
    assert not picky.step() and picky.promotions == 0  # too few young ones to bother
    assert freezer.step() and freezer.promotions == 1
    walked = _walked_ids()
    assert all(id(s) not in walked for s in survivors)

@pytest.mark.usefixtures("no_automatic_collections")
def test_after_a_freeze_the_freezer_rests_in_proportion_to_how_long_it_took():
    now = [0.0]
    freezer = Freezer(survivors=1, clock=lambda: now[0])
    gc.collect(0)
    assert freezer.step()
    rest = min(freezer.longest / FREEZER_LOOP_SHARE, FREEZE_MAX_WAIT_SECONDS)
    survivors = [[i] for i in range(100)]
    gc.collect(0)  # old again at once...
    now[0] = rest * 0.99
    assert not freezer.step()  # ...but the Freezer rests
    now[0] = rest * 1.01
    assert freezer.step() and freezer.freezes == 2
    assert all(id(s) not in _walked_ids() for s in survivors)

async def test_sessions_end_up_frozen_and_a_closed_one_is_freed(tmp_path):
    async with running_server(tmp_path, gc_freeze_survivors=1, **QUICK_PINGS) as server:
        _, code, _ = await new_campaign(server)
        async with participant_connection(server) as a, participant_connection(server) as b:
            await a.join(code)
            await b.join(code)
            with trio.fail_after(10):  # it may be resting after a freeze of its own
                while not _promote_then_step(server.gc_freezer):
                    await trio.sleep(0.05)
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
