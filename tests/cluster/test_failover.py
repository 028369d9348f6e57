"""Owner failover: campaigns leased on PostgreSQL, taken over, fenced.

Two or three ClusterEngines in one trio run stand for processes on
different machines, sharing one real PostgreSQL store (a schema per test)
and one real redis-server; each runs in a task of its own, so one can stop
while the others go on. The kill -9, SIGSTOP and partition versions of
these faults, with real processes, are in ``make chaos`` (loadtests/chaos).
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import psycopg
import pytest
import trio
from realservers.redis import RedisServer
from test_replication import STEP, TEMPLATE

from essaim import FACILITATOR, Actor, CampaignTemplate, Command
from essaim.cluster import ClusterEngine, open_cluster_engine
from essaim.cluster.bus import Add, Bus
from essaim.cluster.lease import Leases
from essaim.cluster.ownership import SCAN_SECONDS
from essaim.cluster.wire import epoch_key, events_key
from essaim.errors import CommandError
from essaim.model.events import Event
from essaim.store.postgres import PostgresStore


class Process:
    """One engine in a task of its own, stopped on demand (a clean shutdown)."""

    def __init__(self, engine: ClusterEngine, stop: trio.Event, stopped: trio.Event) -> None:
        self.engine, self._stop, self._stopped = engine, stop, stopped

    async def stop(self) -> None:
        self._stop.set()
        with trio.fail_after(STEP):
            await self._stopped.wait()


@asynccontextmanager
async def processes(valkey: str, store: str, n: int) -> AsyncIterator[list[Process]]:
    async def run(task_status: trio.TaskStatus[Process]) -> None:
        stop, stopped = trio.Event(), trio.Event()
        try:
            async with open_cluster_engine(valkey, store) as engine:
                task_status.started(Process(engine, stop, stopped))
                await stop.wait()
        finally:
            stopped.set()

    async with trio.open_nursery() as nursery:
        started = [await nursery.start(run) for _ in range(n)]
        try:
            yield started
        finally:
            for p in started:
                await p.stop()


async def owned_by(p: Process, cid: str) -> int:
    """Wait until ``p`` owns the campaign; its epoch."""
    with trio.fail_after(STEP):
        while cid not in p.engine.ownership.epochs:  # type: ignore[union-attr]
            await trio.sleep(SCAN_SECONDS / 4)
    return p.engine.ownership.epochs[cid]  # type: ignore[union-attr]


async def started_with_a_participant(owner: ClusterEngine, gateway: ClusterEngine) -> tuple[str, Actor]:
    """A campaign created by ``owner``, started, with a participant on ``gateway``."""
    cid = (await owner.create_campaign(TEMPLATE)).campaign_id
    with trio.fail_after(STEP):
        await gateway.ready(cid)
    joined = await gateway.join(cid, {"site": "North"})
    await gateway.execute(cid, FACILITATOR, Command("start"))
    return cid, gateway.authenticate(cid, joined.token)


def card(i: int, msg: str) -> Command:
    return Command("write_card", {"text": f"Idea {i}: fewer handovers between shifts"}, msg)


def written(store_url: str, cid: str) -> list[str]:
    """Message ids of the cards in the log, in order (each must be there once)."""
    store = PostgresStore(store_url)
    try:
        return [e.data["msg"] for e in store.events(cid) if e.type == "card_written"]
    finally:
        store.close()


async def test_valkey_refuses_a_stale_epochs_entries(redis_server: RedisServer) -> None:
    bus = await Bus.connect(redis_server.url)
    try:
        def entry(seq: int, epoch: int) -> Add:
            return Add("essaim:k:events", {"b": b"[]", "e": str(epoch).encode()}, ident=f"{seq}-0", maxlen=100,
                       fence=("essaim:k:epoch", epoch))

        ok1, ok2, stale, newer = await bus.add_many([entry(1, 1), entry(2, 2), entry(3, 1), entry(4, 3)])
        assert (ok1, ok2, newer) == (b"1-0", b"2-0", b"4-0")
        assert isinstance(stale, Exception) and "FENCED" in str(stale)
        assert await bus.get("essaim:k:epoch") == b"3"
        # An id at or below the stream's top is refused as ever, fenced or not.
        (again,) = await bus.add_many([entry(4, 3)])
        assert isinstance(again, Exception) and "equal or smaller" in str(again)
    finally:
        await bus.close()


def taken(leases: Leases, mine: list[str]) -> list[str]:
    """What a scan takes once the server has let go of a lock: it frees a
    closed or ended session's locks as soon as its backend exits, a moment
    after the socket closes (scans repeat every SCAN_SECONDS in a cluster)."""
    deadline = time.monotonic() + STEP
    while time.monotonic() < deadline:
        got = leases.scan(mine, take=True)
        if got:
            return got
        time.sleep(0.05)
    return []


def test_a_lease_goes_with_its_session_or_its_silence(postgres_url: str) -> None:
    store = PostgresStore(postgres_url)
    store.open()
    a = Leases(store.conninfo, store.where, lease_seconds=60.0)
    b = Leases(store.conninfo, store.where, lease_seconds=1.0)
    try:
        a.connect()
        b.connect()
        a.lock_new("k1", "a")
        assert b.scan([], take=True) == []  # held
        a.close()  # the session ends (as with kill -9: the socket closes): free at once
        assert taken(b, []) == ["k1"]
        assert b.scan(["k1"], take=True) == []  # ours already: not taken twice
        a.connect()
        assert a.scan([], take=True) == []
        # b goes silent past its lease (a paused process): the server ends its session
        time.sleep(1.5)
        assert taken(a, []) == ["k1"]
        # b's session is gone: it finds out on its next use, and cannot take it back
        with pytest.raises(Exception, match="lock session"):
            b.scan(["k1"], take=True)
        b.connect()
        epoch = store.claim("k1", "a")
        assert b.relock({"k1": epoch - 1}) == {"k1": False}  # held by a, and claimed since
        a.close()
        assert taken(b, []) == ["k1"]
        b.unlock("k1")
        assert b.relock({"k1": epoch - 1}) == {"k1": False}  # free, but claimed since: not b's
        assert b.relock({"k1": epoch}) == {"k1": True}
    finally:
        a.close()
        b.close()
        store.close()


async def test_an_owner_that_stops_hands_over_and_the_phones_go_on(redis_server: RedisServer,
                                                                  postgres_url: str) -> None:
    async with processes(redis_server.url, postgres_url, 2) as (a, b):
        cid, actor = await started_with_a_participant(a.engine, b.engine)
        assert await owned_by(a, cid) == 1
        before = [await b.engine.execute(cid, actor, card(i, f"m{i}")) for i in range(3)]
        await a.stop()
        assert await owned_by(b, cid) == 2
        after = [await b.engine.execute(cid, actor, card(i, f"m{i}")) for i in range(3, 6)]
        again = await b.engine.execute(cid, actor, card(0, "m0"))  # a retry through the new owner
        assert again.duplicate and again.seq == before[0].seq
        assert [ack.seq for ack in before + after] == list(range(4, 10))
        assert written(postgres_url, cid) == [f"m{i}" for i in range(6)]
        assert b.engine.campaign(cid).state.seq == 9


async def test_requests_in_flight_are_sent_again_to_the_new_owner(redis_server: RedisServer,
                                                                 postgres_url: str) -> None:
    async with processes(redis_server.url, postgres_url, 2) as (a, b):
        cid, actor = await started_with_a_participant(a.engine, b.engine)
        a.engine.owner_link.detach(cid)  # the owner stops reading its requests (a frozen process)
        outcome: list[object] = []
        done = trio.Event()

        def reply(ack: object, error: object) -> None:
            outcome.append(error or ack)
            done.set()

        b.engine.submit_nowait(cid, actor, card(1, "m1"), reply)
        with trio.move_on_after(1.0):
            await done.wait()
        assert not outcome  # nobody answers it...
        await a.stop()  # ...until the owner goes and b takes over: b sends it again
        with trio.fail_after(STEP):
            await done.wait()
        ack = outcome[0]
        assert not isinstance(ack, Exception) and ack.result["cid"] == "c1", ack  # type: ignore[attr-defined]
        assert b.engine.gateway.resent >= 1
        assert written(postgres_url, cid) == ["m1"]


async def test_a_stale_owner_is_fenced_steps_down_and_the_action_lands_once(redis_server: RedisServer,
                                                                           postgres_url: str) -> None:
    async with processes(redis_server.url, postgres_url, 2) as (a, b):
        cid, actor = await started_with_a_participant(a.engine, b.engine)
        await b.engine.execute(cid, actor, card(0, "m0"))
        # Another process claims the campaign behind a's back (a missed its lease).
        claimer = PostgresStore(postgres_url)
        epoch = claimer.claim(cid, "elsewhere")
        claimer.close()
        with pytest.raises(CommandError) as refused:
            await b.engine.execute(cid, actor, card(1, "m1"))
        assert refused.value.code == "unavailable"
        assert cid not in a.engine.ownership.epochs  # type: ignore[union-attr]
        assert a.engine.loaded_owner(cid) is None
        # a let the lease go: the next scan (a's or b's) takes it, at a newer epoch,
        # and the phone's retry of the refused action lands once.
        with trio.fail_after(STEP):
            while not any(cid in p.engine.ownership.epochs for p in (a, b)):  # type: ignore[union-attr]
                await trio.sleep(SCAN_SECONDS / 4)
        assert max(p.engine.ownership.epochs.get(cid, 0) for p in (a, b)) > epoch  # type: ignore[union-attr]
        with trio.fail_after(STEP):
            while True:
                try:
                    ack = await b.engine.execute(cid, actor, card(1, "m1"))
                    break
                except CommandError as error:
                    assert error.code == "unavailable", error
                    await trio.sleep(0.2)
        assert not ack.duplicate
        assert written(postgres_url, cid) == ["m0", "m1"]


def two_phases(first: str) -> CampaignTemplate:
    """Two collect phases, the first lasting ``first``: its end is what a takeover must not miss."""
    return CampaignTemplate.parse(f"""
[campaign]
title = "Phase timer"
[[phase]]
type = "collect"
title = "Ideas"
duration = "{first}"
[[phase]]
type = "collect"
title = "More ideas"
duration = "10m"
""")


async def test_the_new_owner_arms_the_phase_timer_from_the_stored_deadline(redis_server: RedisServer,
                                                                          postgres_url: str) -> None:
    template = two_phases(first="3s")
    async with processes(redis_server.url, postgres_url, 2) as (a, b):
        cid = (await a.engine.create_campaign(template)).campaign_id
        await b.engine.ready(cid)
        await b.engine.execute(cid, FACILITATOR, Command("start"))
        await a.stop()  # well before the deadline
        await owned_by(b, cid)
        replica = await b.engine.gateway.replicated(cid)
        with trio.fail_after(STEP):
            while replica.state.phase_index != 1:
                await trio.sleep(0.1)
        ended = [e for e in b.engine.store.events(cid) if e.type == "phase_ended"]
        assert [e.data["reason"] for e in ended] == ["timeout"]


def test_terminated_lock_sessions_are_what_a_takeover_waits_for(postgres_url: str) -> None:
    """The lock session is the lease: PostgreSQL ending it (idle, killed,
    restarted) frees every lock it held, and nothing else does."""
    store = PostgresStore(postgres_url)
    store.open()
    a = Leases(store.conninfo, store.where)
    b = Leases(store.conninfo, store.where)
    try:
        a.connect()
        b.connect()
        a.lock_new("k1", "a")
        a.lock_new("k2", "a")
        with psycopg.connect(**store.conninfo, autocommit=True) as admin:  # as a restart or an admin would
            admin.execute("SELECT pg_terminate_backend(%s)", (a.backend_pid,))
        assert sorted(taken(b, [])) == ["k1", "k2"]
    finally:
        a.close()
        b.close()
        store.close()


async def test_a_deadline_that_passed_while_nobody_owned_the_campaign_ends_the_phase_at_once(
        redis_server: RedisServer, postgres_url: str) -> None:
    """The new owner arms the timer from the *stored* deadline, not from a
    fresh phase duration: taken over 11 minutes into a 10-minute phase (b's
    clock set ahead), the phase ends at the takeover, not 10 minutes later."""
    template = two_phases(first="10m")
    async with processes(redis_server.url, postgres_url, 2) as (a, b):
        cid = (await a.engine.create_campaign(template)).campaign_id
        await b.engine.ready(cid)
        await b.engine.execute(cid, FACILITATOR, Command("start"))
        owner = a.engine.loaded_owner(cid)
        assert owner is not None and owner.state.deadline is not None
        deadline = owner.state.deadline
        b.engine._trio_offset += 11 * 60  # b takes over 11 minutes later, as far as its clock knows
        await a.stop()
        await owned_by(b, cid)
        replica = await b.engine.gateway.replicated(cid)
        with trio.fail_after(STEP):  # a fresh 10-minute timer would not end it within STEP
            while replica.state.phase_index != 1:
                await trio.sleep(0.1)
        ended = [e for e in b.engine.store.events(cid) if e.type == "phase_ended"]
        assert [e.data["reason"] for e in ended] == ["timeout"]
        assert ended[0].ts >= deadline  # ended by b's clock, past the deadline a stored


async def test_a_stale_owners_late_publication_is_refused_by_the_stream(redis_server: RedisServer,
                                                                       postgres_url: str) -> None:
    """A batch the old owner committed before the takeover but publishes only
    after it (paused between the two): Valkey refuses it, no replica sees it.
    b's publisher stands in for the old owner's (same code, the old epoch):
    the old process itself is gone, and a pause between commit and publish
    cannot be placed from outside (``make chaos`` pauses real owners)."""
    async with processes(redis_server.url, postgres_url, 2) as (a, b):
        cid, actor = await started_with_a_participant(a.engine, b.engine)
        await b.engine.execute(cid, actor, card(0, "m0"))
        await a.stop()
        epoch = await owned_by(b, cid)
        bus = await Bus.connect(redis_server.url)
        try:
            with trio.fail_after(STEP):  # the new owner's tip has raised the stream's epoch
                while await bus.get(epoch_key(cid)) != str(epoch).encode():
                    await trio.sleep(0.1)
            top = await bus.last_id(events_key(cid))
            replica = await b.engine.gateway.replicated(cid)
            seq = replica.state.seq
            link = b.engine.owner_link
            fenced = link.fenced
            late = Event(seq + 1, "card_written", time.time(), {"pid": "p1", "msg": "late", "text": "never seen"})
            link._on_events(cid, epoch - 1, [late])
            await link.flush()
            assert link.fenced == fenced + 1
            assert await bus.last_id(events_key(cid)) == top
            ack = await b.engine.execute(cid, actor, card(1, "m1"))  # the campaign goes on at seq + 1
            assert ack.seq == seq + 1
            assert replica.state.seq == seq + 1
        finally:
            await bus.close()
        assert written(postgres_url, cid) == ["m0", "m1"]
