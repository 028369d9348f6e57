"""Degrade, don't die, on a real PostgreSQL: the server restarted in the
middle of a campaign, and commits whose outcome the engine cannot know
(the connection cut while the commit runs on the server).

Phones here retry a refused action with backoff and the same message id,
as the web app does. Every check is on what the database holds at the
end: each acknowledged action there once, at the seq it was acknowledged
with, and the seqs without a gap.
"""

from __future__ import annotations

import os
import socket
from typing import Any

import psycopg
import pytest
import trio
from engine_session import Session, open_session, template_toml

from essaim import Actor, CommandError
from essaim.bench.throwaway_postgres import ThrowawayPostgres
from essaim.store import store_at

#: Cards each phone writes; the server is stopped once a few are acknowledged.
CARDS_EACH = 10
PHONES = 4
#: One more participant, who tries a card while the store is down.
PROBES = 1
STOP_AFTER_ACKS = 6
#: Hang guard for a whole test (a restart takes a second or two).
TEST_SECONDS = 90


class Phones:
    """Participants writing cards one after another; a refusal with
    ``unavailable`` is retried with backoff, with the same message id."""

    def __init__(self, s: Session) -> None:
        self.s = s
        self.acked: dict[str, int] = {}
        self.refused = 0
        self.some_acked = trio.Event()

    async def phone(self, actor: Actor, index: int) -> None:
        for k in range(CARDS_EACH):
            msg = f"w{index}-{k}"
            backoff = 0.05
            while True:
                try:
                    ack = await self.s.act(actor, "write_card", msg, text=f"Idea {k} of phone {index}: fewer handovers")
                except CommandError as error:
                    assert error.code == "unavailable", error
                    self.refused += 1
                    await trio.sleep(backoff)
                    backoff = min(backoff * 2, 1.0)
                    continue
                self.acked[msg] = ack.seq
                if len(self.acked) >= STOP_AFTER_ACKS:
                    self.some_acked.set()
                break
            await trio.sleep(0.02)  # a person typing, so the outage falls mid-stream


def assert_log_holds_each_ack_once(url: str, cid: str, acked: dict[str, int]) -> None:
    store = store_at(url)
    store.open()
    try:
        log = store.events(cid)
    finally:
        store.close()
    assert [e.seq for e in log] == list(range(1, len(log) + 1))
    written = [(e.data["msg"], e.seq) for e in log if e.type == "card_written"]
    assert len(written) == len({msg for msg, _ in written}), "an action applied twice"
    assert dict(written) == acked


async def test_a_postgresql_restart_in_the_middle_of_a_campaign(
    postgres_server: ThrowawayPostgres, postgres_url: str
) -> None:
    with trio.fail_after(TEST_SECONDS):
        async with open_session(template_toml(), store=postgres_url, people=PHONES + PROBES) as s:
            await s.fac("start")
            phones = Phones(s)
            health = s.engine.store_health
            *writers, probe = (Actor.participant(pid) for pid in s.state.participants)
            async with trio.open_nursery() as nursery:
                for index, actor in enumerate(writers):
                    nursery.start_soon(phones.phone, actor, index)
                await phones.some_acked.wait()
                await trio.to_thread.run_sync(postgres_server.stop)  # "fast": every connection cut
                try:
                    await health.wait_unwritable()  # the writer's next commit found out
                    assert health.error and "PostgreSQL" in health.error
                    with pytest.raises(CommandError) as refused:
                        await s.act(probe, "write_card", "p1", text="Written while the database restarts")
                    assert refused.value.code == "unavailable"
                    # Reads and the live state go on meanwhile.
                    cards = len(s.state.cards)
                    assert cards >= STOP_AFTER_ACKS
                    assert await s.engine.suggest(s.cid, "fewer handovers")
                finally:
                    await trio.to_thread.run_sync(postgres_server.start)
            assert health.writable and health.outages >= 1
            assert len(phones.acked) == PHONES * CARDS_EACH  # every phone got through, by itself
        assert_log_holds_each_ack_once(postgres_url, s.cid, phones.acked)


#: A commit that takes 1.5 s on the server, for the card whose text says so.
SLOW_COMMIT = (
    "CREATE FUNCTION slow_commit() RETURNS trigger LANGUAGE plpgsql AS $$ "
    "BEGIN PERFORM pg_sleep(1.5); RETURN NULL; END $$",
    "CREATE TRIGGER slow_commit AFTER INSERT ON events FOR EACH ROW "
    "WHEN (position('slow commit' in convert_from(NEW.data, 'UTF8')) > 0) EXECUTE FUNCTION slow_commit()",
)


async def wait_for_backend_in_sleep(url: str) -> int:
    """The pid of the server process running our slow commit, once it sleeps."""
    while True:
        rows = await trio.to_thread.run_sync(lambda: query(
            url, "SELECT pid FROM pg_stat_activity WHERE application_name = 'essaim' AND wait_event = 'PgSleep'"))
        if rows:
            return int(rows[0][0])
        await trio.sleep(0.05)  # another process's state: nothing to wait on but its catalog


def query(url: str, sql: str) -> list[tuple[Any, ...]]:
    with psycopg.connect(url, autocommit=True) as conn:
        cur = conn.execute(sql)  # type: ignore[call-overload]
        return cur.fetchall() if cur.description else []


@pytest.mark.parametrize("outcome", ["committed", "rolled back"])
async def test_a_commit_cut_off_midway_is_found_out_before_it_is_retried(postgres_url: str, outcome: str) -> None:
    """Cut the client's socket while the server commits (the server finishes
    the commit: the engine cannot know), or kill the server's process (the
    transaction is rolled back): either way the action is acknowledged once
    and the log has it once."""
    with trio.fail_after(TEST_SECONDS):
        async with open_session(template_toml(), store=postgres_url, people=2) as s:
            alice, bob = (Actor.participant(pid) for pid in s.state.participants)
            await s.fac("start")
            await s.act(bob, "write_card", "w0", text="A first card, before the trigger")
            for statement in SLOW_COMMIT:
                query(postgres_url, statement)
            acked: dict[str, int] = {}

            async def write() -> None:
                acked["w1"] = (await s.act(alice, "write_card", "w1", text="This one has a slow commit")).seq

            async with trio.open_nursery() as nursery:
                nursery.start_soon(write)
                pid = await wait_for_backend_in_sleep(postgres_url)
                if outcome == "committed":
                    # The engine's side of the connection goes; the server's
                    # process sleeps on, then commits.
                    fd = s.engine.store._writes._conn.pgconn.socket  # type: ignore[attr-defined]
                    socket.socket(fileno=os.dup(fd)).shutdown(socket.SHUT_RDWR)
                else:
                    query(postgres_url, f"SELECT pg_terminate_backend({pid})")
            query(postgres_url, "DROP TRIGGER slow_commit ON events")
            await s.act(bob, "write_card", "w2", text="And one after")
            assert s.engine.store_health.writable and s.engine.store_health.outages == 1
    store = store_at(postgres_url)
    store.open()
    try:
        log = store.events(s.cid)
    finally:
        store.close()
    assert [e.seq for e in log] == list(range(1, len(log) + 1))
    written = [(e.data["msg"], e.seq) for e in log if e.type == "card_written"]
    assert [msg for msg, _ in written] == ["w0", "w1", "w2"]
    assert dict(written)["w1"] == acked["w1"]
