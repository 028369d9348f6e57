"""Degrade, don't die: a store that fails for now makes campaigns refuse
writes with ``unavailable`` while reads go on, and writes resume by
themselves once it is back; nothing acknowledged is lost or applied twice.

The engine's logic is driven here through a store that fails on purpose
(a real MemoryStore underneath, so time is trio's fake clock): an outage,
a commit whose answer is lost, a retry meeting its own first attempt, and
a stop during an outage. The same rules on real failures: a real
PostgreSQL restarted in the middle of a campaign and real lost commits in
test_postgres_outage.py, and a real full disk under SQLite in
tests/server/test_disk_full.py.
"""

from __future__ import annotations

from collections.abc import Sequence

import pytest
import trio
import trio.testing
from engine_session import Session, open_session, template_toml

from essaim import Actor, CampaignTemplate, Command, CommandError, Event, MemoryStore
from essaim.engine._writer import RETRY_MAX_SECONDS, STOP_GRACE_SECONDS
from essaim.errors import StoreConflict, StoreUnavailable
from essaim.store import WriteItem


class FailingStore(MemoryStore):
    """A MemoryStore whose appends fail for now while ``down``; with
    ``lose_answer``, the next append commits and then fails (the reply lost
    on its way back), once."""

    def __init__(self) -> None:
        super().__init__()
        self.down = False
        self.lose_answer = False
        self.appends = 0
        self.checks = 0

    def append(self, batch: Sequence[WriteItem]) -> None:
        self.appends += 1
        if self.down:
            raise StoreUnavailable("disk full (on purpose)")
        super().append(batch)
        if self.lose_answer:
            self.lose_answer = False
            raise StoreUnavailable("connection lost after the commit (on purpose)")

    def written(self, batch: Sequence[WriteItem]) -> bool:
        self.checks += 1
        if self.down:
            raise StoreUnavailable("still down")
        return super().written(batch)


def people(s: Session) -> list[Actor]:
    return [Actor.participant(pid) for pid in s.state.participants]


async def test_an_outage_refuses_writes_keeps_reads_and_resumes_by_itself(autojump_clock: object) -> None:
    store = FailingStore()
    async with open_session(template_toml(), store=store, people=3) as s:
        alice, bob, carol = people(s)
        await s.fac("start")
        await s.act(alice, "write_card", "w1", text="Fewer handovers between the night and day shifts")
        health = s.engine.store_health
        assert health.writable

        store.down = True
        replies: dict[str, tuple[object, CommandError | None]] = {}

        def keep(msg: str):  # type: ignore[no-untyped-def]
            return lambda ack, error: replies.__setitem__(msg, (ack, error))

        # Accepted before the store failed: applied, waiting for its commit.
        s.engine.submit_nowait(s.cid, bob, Command("write_card", {"text": "Spare parts on every floor"}, "w2"),
                               keep("bob"))
        await trio.testing.wait_all_tasks_blocked()
        assert not health.writable and health.outages == 1 and "disk full" in (health.error or "")
        assert "bob" not in replies  # not acknowledged: not durable

        # Now writes are refused, at once, with a retryable code...
        with pytest.raises(CommandError) as refused:
            await s.act(carol, "write_card", "w3", text="A quiet room for calls")
        assert refused.value.code == "unavailable" and "kept" in refused.value.message
        with pytest.raises(CommandError, match="cannot save") as refused:
            await s.engine.join(s.cid, {"site": "North"})
        assert refused.value.code == "unavailable"
        with pytest.raises(CommandError) as refused:
            await s.fac("pause")
        assert refused.value.code == "unavailable"
        # ...a retry of an action already durable is acknowledged, one still
        # waiting is not (its ack comes with the original's)...
        assert (await s.act(alice, "write_card", "w1", text="(a retry)")).duplicate
        with pytest.raises(CommandError) as refused:
            await s.act(bob, "write_card", "w2", text="(a retry)")
        assert refused.value.code == "unavailable"
        # ...and reads go on, from the live state.
        assert len(s.state.cards) == 2 and carol.pid in s.state.participants
        assert [x.text for x in await s.engine.suggest(s.cid, "spare parts")][:1] == ["Spare parts on every floor"]

        attempts = store.appends + store.checks
        await trio.sleep(10 * RETRY_MAX_SECONDS)
        tried = store.appends + store.checks - attempts
        assert 10 <= tried <= 10 + 6  # it keeps trying, with backoff: one try per RETRY_MAX_SECONDS, after a ramp

        store.down = False
        await health.wait_writable()
        await trio.testing.wait_all_tasks_blocked()
        assert health.writable and health.error is None
        ack, error = replies["bob"]
        assert error is None and ack.seq == s.state.seq  # type: ignore[attr-defined]
        # Writes are accepted again, without a restart.
        await s.act(carol, "write_card", "w3", text="A quiet room for calls")
        assert (await s.act(bob, "write_card", "w2", text="(a retry)")).duplicate
        log = store.events(s.cid)
        assert [e.seq for e in log] == list(range(1, len(log) + 1))
        assert sorted(e.data.get("msg") for e in log if e.type == "card_written") == ["w1", "w2", "w3"]


async def test_a_commit_whose_answer_was_lost_is_not_written_twice(autojump_clock: object) -> None:
    store = FailingStore()
    async with open_session(template_toml(), store=store, people=2) as s:
        alice, bob = people(s)
        await s.fac("start")
        store.lose_answer = True
        ack = await s.act(alice, "write_card", "w1", text="Fewer meetings on Mondays")
        assert store.checks >= 1  # the writer asked before retrying, and found it in
        assert s.engine.store_health.writable and s.engine.store_health.outages == 1
        await s.act(bob, "write_card", "w2", text="Shorter approvals")
        log = store.events(s.cid)
        assert [e.seq for e in log] == list(range(1, len(log) + 1))
        assert [e.data.get("msg") for e in log if e.type == "card_written"] == ["w1", "w2"]
        assert ack.seq == next(e.seq for e in log if e.data.get("msg") == "w1")


async def test_a_retry_that_meets_its_own_first_attempt_counts_it_as_written(autojump_clock: object) -> None:
    # The first attempt was still committing on the server when the retry
    # arrived (the check before the retry did not see it yet): the retry is
    # refused for the seqs it takes, and the writer must not take that for
    # another writer.
    class SlowToShow(FailingStore):
        def __init__(self) -> None:
            super().__init__()
            self.hide_next_check = False

        def written(self, batch: Sequence[WriteItem]) -> bool:
            if self.hide_next_check:
                self.hide_next_check = False
                self.checks += 1
                return False
            return super().written(batch)

    store = SlowToShow()
    async with open_session(template_toml(), store=store, people=1) as s:
        [alice] = people(s)
        await s.fac("start")
        store.lose_answer = store.hide_next_check = True
        await s.act(alice, "write_card", "w1", text="Fewer meetings on Mondays")
        assert [e.data.get("msg") for e in store.events(s.cid) if e.type == "card_written"] == ["w1"]
        assert s.engine.store_health.writable


async def test_another_writers_events_at_our_seqs_stop_the_engine(autojump_clock: object) -> None:
    store = FailingStore()
    with pytest.RaisesGroup(StoreConflict, flatten_subgroups=True):
        async with open_session(template_toml(), store=store, people=1) as s:
            await s.fac("start")
            store.append([WriteItem(s.cid, [Event(s.state.seq + 1, "phase_paused", 0.0, {"by": "someone else"})])])
            await s.fac("pause")


async def test_the_phase_timer_runs_through_an_outage(autojump_clock: object) -> None:
    store = FailingStore()
    async with open_session(template_toml(("collect:1m", "evaluate:1m")), store=store, people=1) as s:
        [alice] = people(s)
        await s.fac("start")
        await s.act(alice, "write_card", "w1", text="Fewer meetings on Mondays")
        store.down = True
        await trio.sleep(90)  # the deadline passes with the store down
        assert s.state.phase_index == 1  # the clock did not wait for the disk...
        assert not any(e.type == "phase_ended" for e in store.events(s.cid))  # ...the log does
        store.down = False
        await s.engine.store_health.wait_writable()
        await trio.testing.wait_all_tasks_blocked()
        assert [e.type for e in store.events(s.cid)][-2:] == ["items_published", "phase_started"]


async def break_the_store(s: Session, store: FailingStore) -> None:
    """Take the store down and send one card: its commit finds out."""
    [alice] = people(s)
    await s.fac("start")
    store.down = True
    s.engine.submit_nowait(s.cid, alice, Command("write_card", {"text": "An idea"}, "w1"), lambda a, e: None)
    await trio.testing.wait_all_tasks_blocked()
    assert not s.engine.store_health.writable


async def test_a_new_campaign_is_refused_while_the_store_is_down(autojump_clock: object) -> None:
    store = FailingStore()
    async with open_session(template_toml(), store=store, people=1) as s:
        await break_the_store(s, store)
        with pytest.raises(CommandError) as refused:
            await s.engine.create_campaign(CampaignTemplate.parse(template_toml()))
        assert refused.value.code == "unavailable"
        store.down = False


async def test_stopping_during_an_outage_gives_up_after_a_grace_period(autojump_clock: object) -> None:
    store = FailingStore()
    started = None
    async with open_session(template_toml(), store=store, people=1) as s:
        await break_the_store(s, store)
        started = trio.current_time()
    # Left without hanging: the unwritable batch was never acknowledged.
    assert started is not None and trio.current_time() - started <= STOP_GRACE_SECONDS + RETRY_MAX_SECONDS
    assert not any(e.type == "card_written" for e in store.events(s.cid))
