"""The phase machine, on trio's fake clock: 30-minute campaigns in milliseconds.

Phase timers, pause/resume/extend, overtime, an advance racing the timer,
late joiners, the end of the campaign, and the items published on entering
an evaluation phase. Strategies are the built-in defaults; assertions are
on the engine's behaviour (events, state), not on strategy internals.
"""

from __future__ import annotations

import threading

import pytest
import trio
from engine_session import CAMPAIGN_30_MIN, Session, open_session, template_toml

from essaim import FACILITATOR, Ack, Command, CommandError, PluginHost, WrongPhase, hookimpl
from essaim.model.types import Deal, Idea, Structure, Theme
from essaim.plugin.registry import Registry

MINUTE = 60.0


def phase_log(events: list) -> list[tuple]:
    """(type, index, reason) of the events that move the phase machine."""
    keep = ("phase_started", "phase_ended", "phase_paused", "phase_resumed", "phase_extended",
            "phase_overtime", "items_published", "campaign_finished")
    return [(e.type, e.data.get("index"), e.data.get("reason")) for e in events if e.type in keep]


async def test_timers_run_a_30_minute_campaign_to_its_end(autojump_clock: trio.abc.Clock) -> None:
    async with open_session(people=3) as s:
        rec = s.recorder()
        await s.fac("start")
        started = s.engine.clock()
        texts = ["Fewer meetings on Monday mornings", "One shared planning tool", "Written handover notes"]
        cids = await s.write_cards(texts)

        finished = await rec.wait_for("campaign_finished")

        assert finished.ts - started == pytest.approx(30 * MINUTE, abs=1e-3)
        assert phase_log(rec.events) == [
            ("phase_started", 0, None), ("phase_ended", 0, "timeout"),
            ("phase_started", 1, None), ("phase_ended", 1, "timeout"),
            ("items_published", None, None), ("phase_started", 2, None), ("phase_ended", 2, "timeout"),
            ("phase_started", 3, None), ("phase_ended", 3, "timeout"),
            ("campaign_finished", 4, None),
        ]
        # Each phase lasted exactly its duration.
        starts, ends = rec.of("phase_started"), rec.of("phase_ended")
        assert [round(e.ts - s_.ts, 3) for s_, e in zip(starts, ends)] == [600.0, 600.0, 480.0, 120.0]
        # Nobody sorted: the cards themselves are the items to evaluate.
        assert sorted(tuple(i.cards) for i in s.state.items.values()) == sorted((c,) for c in cids)
        assert sorted(i.title for i in s.state.items.values()) == sorted(texts)
        assert s.state.status == "finished" and s.state.phase is None


async def test_pause_stops_the_timer_and_resume_restarts_it(autojump_clock: trio.abc.Clock) -> None:
    async with open_session(template_toml(("collect:10m", "collect:10m"))) as s:
        await s.fac("start")
        await trio.sleep(4 * MINUTE)
        await s.fac("pause")
        assert s.state.status == "paused"
        assert s.state.remaining == pytest.approx(6 * MINUTE)

        await trio.sleep(60 * MINUTE)
        assert (s.state.status, s.state.phase_index) == ("paused", 0)

        await s.fac("resume")
        assert s.state.deadline == pytest.approx(s.engine.clock() + 6 * MINUTE)
        await trio.sleep(6 * MINUTE - 1)
        assert (s.state.status, s.state.phase_index) == ("running", 0)
        await trio.sleep(2)
        assert (s.state.status, s.state.phase_index) == ("running", 1)


async def test_extend_a_running_phase_moves_its_deadline(autojump_clock: trio.abc.Clock) -> None:
    async with open_session(template_toml(("collect:10m", "collect:10m"))) as s:
        await s.fac("start")
        first_deadline = s.state.deadline
        await trio.sleep(5 * MINUTE)
        await s.fac("extend", seconds=120)
        assert s.state.deadline == pytest.approx(first_deadline + 120)

        await trio.sleep(5 * MINUTE + 1)  # past the original deadline
        assert s.state.phase_index == 0
        await trio.sleep(120)
        assert s.state.phase_index == 1


async def test_extend_a_paused_phase_adds_to_what_remains(autojump_clock: trio.abc.Clock) -> None:
    async with open_session(template_toml(("collect:10m", "collect:10m"))) as s:
        await s.fac("start")
        await trio.sleep(4 * MINUTE)
        await s.fac("pause")
        await s.fac("extend", seconds=60)
        assert s.state.remaining == pytest.approx(7 * MINUTE)
        await trio.sleep(30 * MINUTE)
        assert (s.state.status, s.state.phase_index) == ("paused", 0)

        await s.fac("resume")
        await trio.sleep(7 * MINUTE - 1)
        assert s.state.phase_index == 0
        await trio.sleep(2)
        assert s.state.phase_index == 1


async def test_a_manual_phase_runs_into_overtime_until_the_facilitator_advances(
    autojump_clock: trio.abc.Clock,
) -> None:
    async with open_session(template_toml(("collect:10m", "collect:5m"), manual=[0]), people=1) as s:
        rec = s.recorder()
        await s.fac("start")
        await trio.sleep(10 * MINUTE + 1)
        state = s.state
        assert (state.status, state.phase_index, state.overtime, state.deadline) == ("running", 0, True, None)
        # Participants keep working in overtime.
        await s.act(s.people[0], "write_card", text="Still collecting in overtime")

        await trio.sleep(60 * MINUTE)
        assert state.phase_index == 0 and len(rec.of("phase_overtime")) == 1

        # Extending in overtime sets a new deadline from now...
        await s.fac("extend", seconds=90)
        assert not state.overtime
        assert state.deadline == pytest.approx(s.engine.clock() + 90)
        # ...after which the phase is in overtime again, still not advanced.
        await trio.sleep(91)
        assert (state.phase_index, state.overtime) == (0, True)
        assert len(rec.of("phase_overtime")) == 2

        await s.fac("advance", index=0)
        assert (state.status, state.phase_index, state.overtime) == ("running", 1, False)
        assert rec.of("phase_ended")[-1].data["reason"] == "advance"


async def _submit_both(s: Session, first: Command, second: Command) -> list[tuple[Ack | None, CommandError | None]]:
    """Queue two facilitator commands back to back (no yield in between), as a
    click and the phase timer arriving together; their outcomes, in that order."""
    outcomes: list[tuple[Ack | None, CommandError | None] | None] = [None, None]
    both = trio.Event()

    def reply_for(index: int):  # type: ignore[no-untyped-def]
        def reply(ack: Ack | None, error: CommandError | None) -> None:
            outcomes[index] = (ack, error)
            if None not in outcomes:
                both.set()
        return reply

    owner = s.engine.owner(s.cid)
    for index, command in enumerate((first, second)):
        # The owner's own queue: "timeout" is what the phase timer sends.
        owner.submit_nowait(FACILITATOR, command, reply_for(index))
    await both.wait()
    return outcomes  # type: ignore[return-value]


@pytest.mark.parametrize("timer_first", [True, False], ids=["timer-first", "click-first"])
async def test_an_advance_racing_the_timer_never_advances_twice(
    autojump_clock: trio.abc.Clock, timer_first: bool
) -> None:
    async with open_session(template_toml(("collect:10m", "collect:10m", "collect:10m"))) as s:
        rec = s.recorder()
        await s.fac("start")
        # The click lands just before the deadline, or the timer's message
        # exactly at it (the real timer may then queue a second one).
        await trio.sleep(s.state.deadline - s.engine.clock() - (0 if timer_first else 0.001))
        click, timer = Command("advance", {"index": 0}), Command("timeout")

        outcomes = await _submit_both(s, *((timer, click) if timer_first else (click, timer)))

        assert s.state.phase_index == 1
        assert [e.data["index"] for e in rec.of("phase_ended")] == [0]
        click_error = outcomes[1 if timer_first else 0][1]
        if timer_first:
            # The click names the phase it meant to end; it is already over.
            assert isinstance(click_error, WrongPhase)
            assert rec.of("phase_ended")[0].data["reason"] == "timeout"
        else:
            assert click_error is None
            assert rec.of("phase_ended")[0].data["reason"] == "advance"
        # The new phase keeps its full duration: the stale timer did nothing.
        await trio.sleep(10 * MINUTE - 1)
        assert s.state.phase_index == 1


async def test_the_real_timer_and_a_click_at_the_deadline_end_one_phase(autojump_clock: trio.abc.Clock) -> None:
    async with open_session(template_toml(("collect:10m",) * 6)) as s:
        rec = s.recorder()
        await s.fac("start")
        for index in range(5):
            await trio.sleep(s.state.deadline - s.engine.clock())
            try:
                await s.fac("advance", index=index)
            except WrongPhase:
                pass  # the timer was first
            assert s.state.phase_index == index + 1
        await rec.wait_for("phase_started", index=5)  # everything durable
        assert [e.data["index"] for e in rec.of("phase_ended")] == [0, 1, 2, 3, 4]


async def test_the_facilitator_advances_through_every_phase_to_the_end(autojump_clock: trio.abc.Clock) -> None:
    async with open_session(people=2) as s:
        rec = s.recorder()
        await s.fac("start")
        await s.write_cards(["Clearer priorities each week", "A quieter open space"])
        for index in range(len(CAMPAIGN_30_MIN)):
            await s.fac("advance", index=index)
        # Sorting happened nowhere, so items were published synchronously.
        assert s.state.status == "finished"
        assert rec.of("campaign_finished")[0].data["index"] == len(CAMPAIGN_30_MIN)
        assert len(s.state.items) == 2
        with pytest.raises(WrongPhase):
            await s.fac("advance")


async def test_late_joiners_take_part_in_whatever_phase_is_running(autojump_clock: trio.abc.Clock) -> None:
    async with open_session(people=2) as s:
        rec = s.recorder()
        (early,) = await s.join(1)
        await s.fac("start")
        await trio.sleep(3 * MINUTE)
        (collector,) = await s.join(1)
        ack = await s.act(collector, "write_card", text="Joined three minutes late")
        await s.write_cards(["An early idea", "Another early idea"], s.people[:2])

        await rec.wait_for("phase_started", index=1)
        (sorter,) = await s.join(1)
        hand = (await s.act(sorter, "deal")).result["hand"]
        assert hand is not None and ack.result["cid"] in hand["items"]
        assert s.state.participants[sorter.pid].sorter
        # The hand is left unplaced: no placements, so the cards become the items.

        await rec.wait_for("phase_started", index=2)
        (judge,) = await s.join(1)
        a, b = sorted(s.state.items)[:2]
        await s.act(judge, "evaluate", kind="pair", data={"a": a, "b": b, "choice": "a"})

        await rec.wait_for("phase_started", index=3)
        (reader,) = await s.join(1)
        await s.act(reader, "flag", cid=ack.result["cid"], reason="checking flags in results")

        await rec.wait_for("campaign_finished")
        (after,) = await s.join(1)
        assert after.pid in s.state.participants and early.pid in s.state.participants
        assert s.state.counters["judgments"] == 1 and s.state.counters["flags"] == 1
        with pytest.raises(WrongPhase):
            await s.act(after, "write_card", text="Too late now")


async def test_items_come_from_the_crowds_structure_when_sorting_happened() -> None:
    # The real clock: aggregation runs in a worker thread, and the fake clock
    # would jump to the next deadline while it waits for the thread.
    async with open_session(template_toml(("collect:30m", "sort:30m", "evaluate:30m")), people=6) as s:
        rec = s.recorder()
        await s.fac("start")
        texts = [f"Idea number {i} about our weekly planning" for i in range(8)]
        await s.write_cards(texts)
        await s.fac("advance", index=0)
        placed = 0
        for sorter in s.people:
            hand = (await s.act(sorter, "deal")).result["hand"]
            if hand is None:
                continue
            items = hand["items"]
            await s.act(sorter, "place", hid=hand["hid"], themes=[[items[:2], items[2:]]])
            placed += 1
        assert placed > 0
        expected = await s.engine.structure(s.cid)

        await s.fac("advance", index=1)
        published = await rec.wait_for("items_published")

        assert published.data["items"] == [
            {"iid": idea.iid, "title": idea.title, "cards": list(idea.cards), "theme": theme.tid,
             "agreement": idea.agreement}
            for theme in expected.themes for idea in theme.ideas
        ]
        assert all(item.theme is not None for item in s.state.items.values())
        assert rec.types()[-2:] == ["items_published", "phase_started"]
        assert s.state.phase_index == 2


class GatedSort:
    """A structuring strategy whose aggregation waits until the test releases it,
    to show the owner keeps serving while the structure is computed."""

    #: Seconds the worker thread waits for the test at most (a hang guard).
    GATE_SECONDS = 30.0

    def __init__(self) -> None:
        self.started = threading.Event()
        self.release = threading.Event()
        self.threads: list[threading.Thread] = []

    @hookimpl
    def essaim_register_strategies(self, registry: Registry) -> None:
        registry.add_strategy("structuring", "gated_sort", description="Test: aggregation waits for a gate.")

    @hookimpl
    def essaim_structuring_deal(self, state, sorter, rng):  # type: ignore[no-untyped-def]
        items = tuple(c.cid for c in state.cards.values() if c.author != sorter.pid and not c.dealt)[:4]
        return Deal(items) if items else None

    @hookimpl
    def essaim_structuring_aggregate(self, snapshot):  # type: ignore[no-untyped-def]
        self.threads.append(threading.current_thread())
        self.started.set()
        self.release.wait(self.GATE_SECONDS)
        cards = sorted({i for p in snapshot.placements for theme in p.themes for idea in theme for i in idea})
        return Structure(themes=(Theme("t1", "Everything", (Idea("i1", "All together", tuple(cards), 1.0),), 1.0),))


async def test_the_structure_is_computed_off_the_owner_while_commands_wait_between_phases() -> None:
    gate = GatedSort()
    host = PluginHost.load(extra=[gate])
    toml = template_toml(("collect:30m", "sort:30m", "evaluate:30m"), strategies={1: "gated_sort"})
    async with open_session(toml=toml, people=2, plugins=host) as s:
        rec = s.recorder()
        await s.fac("start")
        await s.write_cards(["First card to group", "Second card to group", "Third one"], s.people[:1])
        await s.fac("advance", index=0)
        hand = (await s.act(s.people[1], "deal")).result["hand"]
        await s.act(s.people[1], "place", hid=hand["hid"], themes=[[hand["items"]]])

        await s.fac("advance", index=1)
        with trio.fail_after(30):  # hang guard only
            await trio.to_thread.run_sync(gate.started.wait, 30)
        try:
            # Between two phases: the owner still answers, and refuses what
            # needs a running phase.
            assert s.state.status == "between"
            before = s.state.seq
            (late,) = await s.join(1)
            assert s.state.seq == before + 1
            for actor, command in [
                (late, Command("write_card", {"text": "Sent between phases"})),
                (s.people[0], Command("evaluate", {"kind": "pair", "data": {}})),
                (FACILITATOR, Command("advance")),
                (FACILITATOR, Command("pause")),
                (FACILITATOR, Command("extend", {"seconds": 60})),
            ]:
                with pytest.raises(WrongPhase):
                    await s.engine.execute(s.cid, actor, command)
        finally:
            gate.release.set()
        with trio.fail_after(30):
            await rec.wait_for("phase_started", index=2)
        assert gate.threads and all(t is not threading.main_thread() for t in gate.threads)
        (item,) = s.state.items.values()
        assert sorted(item.cards) == sorted(hand["items"])


WRONG_PHASE_CASES = {
    "draft": [
        ("participant", "write_card", {"text": "Before the start"}),
        ("participant", "flag", {"cid": "c1"}),
        ("facilitator", "pause", {}),
        ("facilitator", "resume", {}),
        ("facilitator", "extend", {"seconds": 30}),
        ("facilitator", "advance", {}),
    ],
    "running": [
        ("participant", "deal", {}),
        ("participant", "evaluate", {"kind": "pair", "data": {}}),
        ("facilitator", "start", {}),
        ("facilitator", "resume", {}),
        ("facilitator", "advance", {"index": 3}),
    ],
    "paused": [
        ("participant", "write_card", {"text": "While paused"}),
        ("participant", "support_card", {"cid": "c1"}),
        ("participant", "flag", {"cid": "c1"}),
        ("facilitator", "pause", {}),
        ("facilitator", "start", {}),
    ],
    "finished": [
        ("participant", "write_card", {"text": "After the end"}),
        ("participant", "flag", {"cid": "c1"}),
        ("facilitator", "start", {}),
        ("facilitator", "pause", {}),
        ("facilitator", "resume", {}),
        ("facilitator", "extend", {"seconds": 30}),
        ("facilitator", "advance", {}),
    ],
}


@pytest.mark.parametrize("status", list(WRONG_PHASE_CASES))
async def test_commands_outside_their_phase_are_refused_with_wrong_phase(
    autojump_clock: trio.abc.Clock, status: str
) -> None:
    async with open_session(template_toml(("collect:10m",)), people=2) as s:
        if status != "draft":
            await s.fac("start")
            await s.write_cards(["A card to act on"], s.people[:1])
        if status == "paused":
            await s.fac("pause")
        if status == "finished":
            await s.fac("advance")
        assert s.state.status == status
        for role, ctype, args in WRONG_PHASE_CASES[status]:
            actor = s.people[1] if role == "participant" else FACILITATOR
            before, seq = s.state.to_dict(), s.state.seq
            frozen = repr(before)
            with pytest.raises(WrongPhase) as refused:
                await s.engine.execute(s.cid, actor, Command(ctype, args))
            assert refused.value.code == "wrong_phase", (ctype, refused.value)
            assert s.state.seq == seq and repr(s.state.to_dict()) == frozen, ctype
