"""A restart rebuilds exactly the live state: from a snapshot and its tail,
and from the full log alone, on a reused MemoryStore, on SQLite files and on
PostgreSQL.

Snapshots are forced often (``SNAPSHOT_EVERY`` patched small) so restarts
really go through snapshot + tail, which the tests check is the case.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

import orjson
import pytest
import trio
from engine_session import Session, open_session, reopen, template_toml

import essaim
import essaim.engine._owner
import essaim.testing
from essaim import FACILITATOR, Actor, Command, MemoryStore, WrongPhase
from essaim.model.state import CampaignState
from essaim.store import Store

PHASES = ("collect:30m", "sort:30m", "evaluate:30m", "results:30m")
#: Small enough that a short campaign takes several snapshots.
TEST_SNAPSHOT_EVERY = 7


@pytest.fixture(autouse=True)
def frequent_snapshots(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(essaim.engine._owner, "SNAPSHOT_EVERY", TEST_SNAPSHOT_EVERY)
    monkeypatch.setattr(essaim.engine._owner, "SNAPSHOT_FORCE_AFTER", TEST_SNAPSHOT_EVERY)


def state_of(state: CampaignState) -> Any:
    """A deep, JSON-round-tripped copy: what a snapshot would hold."""
    return orjson.loads(orjson.dumps(state.to_dict()))


def replay(cid: str, events: list[Any]) -> CampaignState:
    state = CampaignState(cid)
    for event in events:
        state.apply(event)
    return state


def participants(s: Session) -> list[Actor]:
    """Every participant of the campaign (tests act on their behalf directly)."""
    return [Actor.participant(pid) for pid in s.state.participants]


async def collect_and_moderate(s: Session) -> None:
    people = participants(s)
    await s.fac("start")
    texts = [f"Idea {i}: fewer handovers between teams" for i in range(len(people))]
    texts[0] = "Mail me at jo@example.org about the night shift rota"
    for i, (person, text) in enumerate(zip(people, texts)):
        await s.act(person, "write_card", f"w{i}", text=text)
    for supporter, cid in ((people[1], "c1"), (people[2], "c1"), (people[3], "c2")):
        await s.act(supporter, "support_card", f"s-{cid}", cid=cid)
    await s.fac("pause")
    await s.fac("extend", seconds=60)
    await s.fac("resume")
    await s.fac("extend", seconds=30)
    case_id = (await s.act(people[4], "flag", "f1", cid="c3", reason="off-topic")).result["case_id"]
    for juror in s.state.cases[case_id].jury:
        if s.state.cases[case_id].status != "open":
            break
        await s.act(Actor.participant(juror), "judge", "j1", case_id=case_id, verdict="hide")
    await s.act(people[5], "flag", "f2", cid="c4")
    await s.fac("decide", cid="c4", verdict="hide")
    for _ in range(2):
        joined = await s.engine.join(s.cid, {"site": "South"})
        await s.act(Actor.participant(joined.pid), "write_card", "late", text="A late joiner's idea")


async def sort_evaluate_and_finish(s: Session) -> None:
    rec = s.recorder()
    people = participants(s)
    await s.fac("advance", index=0)
    for sorter in people[:5]:
        hand = (await s.act(sorter, "deal", "d1")).result["hand"]
        if hand is not None:
            items = hand["items"]
            await s.act(sorter, "place", "p1", hid=hand["hid"], themes=[[items[:2]], [items[2:]]])
    await s.fac("advance", index=1)
    with trio.fail_after(30):  # hang guard: the structure is computed in a thread
        await rec.wait_for("phase_started", index=2)
    for person in people:
        for k in range(2):
            task = await s.engine.next_task(s.cid, person.pid)
            if task is None:
                break
            data = {"a": task.payload["a"]["iid"], "b": task.payload["b"]["iid"], "choice": "a"}
            await s.act(person, "evaluate", f"e{k}", kind=task.kind, data=data)
    await s.fac("advance", index=2)
    await s.fac("advance", index=3)
    assert s.state.status == "finished"


async def read_log(store: Store, cid: str) -> list[Any]:
    return await trio.to_thread.run_sync(store.events, cid, 0)


async def assert_restart_equivalent(store: Store | Path, cid: str, live: Any) -> None:
    async with reopen(store, cid) as s2:
        assert state_of(s2.state) == live
        events = await read_log(s2.engine.store, cid)
        assert [e.seq for e in events] == list(range(1, len(events) + 1))
        assert state_of(replay(cid, events)) == live
        stored = await trio.to_thread.run_sync(s2.engine.store.load, cid)
        # A restart went through a snapshot and a tail, not only the log.
        assert stored.snapshot is not None and 0 < stored.snapshot_seq <= s2.state.seq


@pytest.mark.parametrize("store_location", ["memory", "sqlite", "postgres"], indirect=True)
async def test_restarts_rebuild_the_live_state_at_every_stage(store_location: Store | str | Path) -> None:
    store = store_location
    async with open_session(template_toml(PHASES), store=store, people=8) as s:
        await collect_and_moderate(s)
        cid = s.state.campaign_id
        assert s.state.counters["hidden"] >= 1 and s.state.moderation_log
    live = state_of(s.state)
    await assert_restart_equivalent(store, cid, live)

    async with reopen(store, cid) as s:
        await sort_evaluate_and_finish(s)
        assert s.state.placements and s.state.items and s.state.judgments and s.state.cases
        # The fast snapshot form is byte for byte the documented one.
        assert s.state.snapshot() == orjson.dumps(s.state.to_dict())
    live = state_of(s.state)
    assert live["seq"] > TEST_SNAPSHOT_EVERY * 5
    await assert_restart_equivalent(store, cid, live)


async def test_sqlite_without_snapshots_replays_the_whole_log(db_path: Path) -> None:
    async with open_session(template_toml(PHASES), store=db_path, people=8) as s:
        await collect_and_moderate(s)
        await sort_evaluate_and_finish(s)
        cid = s.state.campaign_id
    live = state_of(s.state)
    with sqlite3.connect(db_path) as conn:
        assert conn.execute("SELECT count(*) FROM snapshots").fetchone()[0] == 1
        conn.execute("DELETE FROM snapshots")
    conn.close()
    async with reopen(db_path, cid) as s2:
        stored = await trio.to_thread.run_sync(s2.engine.store.load, cid)
        assert stored.snapshot is None and len(stored.events) == s2.state.seq
        assert state_of(s2.state) == live


async def test_a_restart_between_two_phases_can_be_advanced_again() -> None:
    store = MemoryStore()
    async with open_session(template_toml(PHASES), store=store, people=6) as s:
        await collect_and_moderate(s)
        await s.fac("advance", index=0)
        for sorter in participants(s)[:3]:
            hand = (await s.act(sorter, "deal")).result["hand"]
            await s.act(sorter, "place", hid=hand["hid"], themes=[[hand["items"]]])
        # Ask to advance and shut down at once: the structure is never published.
        s.engine.submit_nowait(s.cid, FACILITATOR, Command("advance", {"index": 1}), lambda ack, err: None)
        cid = s.cid
    assert s.state.status == "between"
    async with reopen(store, cid) as s2:
        assert (s2.state.status, s2.state.phase_index) == ("between", 1)
        with pytest.raises(WrongPhase):
            await s2.act(participants(s2)[0], "write_card", text="Between two phases")
        rec = s2.recorder()
        await s2.fac("advance", index=1)
        with trio.fail_after(30):
            await rec.wait_for("phase_started", index=2)
        assert s2.state.items and all(item.theme is not None for item in s2.state.items.values())


async def test_timers_and_pauses_survive_a_restart(autojump_clock: trio.abc.Clock) -> None:
    store = MemoryStore()
    async with open_session(template_toml(("collect:10m", "collect:10m", "collect:10m")), store=store) as s:
        await s.fac("start")
        cid = s.cid
    # The stored deadline is a wall-clock time; the new engine's timer fires at it.
    async with reopen(store, cid) as s2:
        deadline = s2.state.deadline
        await trio.sleep(deadline - s2.engine.clock() - 1)
        assert s2.state.phase_index == 0
        await trio.sleep(2)
        assert s2.state.phase_index == 1
        await s2.fac("pause")
        remaining = s2.state.remaining
    async with reopen(store, cid) as s3:
        await trio.sleep(3600)
        assert (s3.state.status, s3.state.phase_index, s3.state.remaining) == ("paused", 1, remaining)
        await s3.fac("resume")
        await trio.sleep(remaining + 1)
        assert s3.state.phase_index == 2


async def test_a_restarted_engine_continues_the_sequence(db_path: Path) -> None:
    async with open_session(template_toml(PHASES), store=db_path, people=2) as s:
        await s.fac("start")
        last = await s.act(participants(s)[0], "write_card", "a", text="Before the restart")
        cid = s.cid
    async with reopen(db_path, cid) as s2:
        ack = await s2.act(participants(s2)[1], "write_card", "a", text="After the restart")
        assert ack.seq == last.seq + 1 and not ack.duplicate
        events = await read_log(s2.engine.store, cid)
        assert [e.seq for e in events] == list(range(1, ack.seq + 1))


async def test_snapshots_wait_for_a_phase_change_until_forced(monkeypatch: pytest.MonkeyPatch) -> None:
    """Past SNAPSHOT_EVERY a snapshot waits for the next phase change (a quiet
    moment); past SNAPSHOT_FORCE_AFTER it is taken at once."""
    monkeypatch.setattr(essaim.engine._owner, "SNAPSHOT_EVERY", 3)
    monkeypatch.setattr(essaim.engine._owner, "SNAPSHOT_FORCE_AFTER", 10_000)
    store = MemoryStore()
    async with essaim.testing.open_test_engine(store=store) as engine:
        created = await engine.create_campaign(essaim.testing.make_template(phases=["collect", "evaluate"]))
        cid = created.campaign_id
        await essaim.testing.joined(engine, cid, 6)
        assert store.load(cid).snapshot is None
        await engine.execute(cid, essaim.FACILITATOR, essaim.Command("start"))
        taken = store.load(cid)
        assert taken.snapshot is not None and taken.snapshot_seq == engine.state(cid).seq


async def test_cancelling_the_scope_around_an_engine_closes_it(tmp_path: Path) -> None:
    """A caller's cancel scope around open_engine must end it, not hang it."""
    with trio.move_on_after(30) as outer:
        with trio.CancelScope() as inner:
            async with essaim.open_engine(tmp_path / "e.sqlite3") as engine:
                await engine.create_campaign(essaim.testing.make_template(phases=["collect"]))
                inner.cancel()
                await trio.sleep_forever()
    assert inner.cancelled_caught and not outer.cancelled_caught
    async with essaim.open_engine(tmp_path / "e.sqlite3") as engine:
        assert len(engine.campaign_ids()) == 1
