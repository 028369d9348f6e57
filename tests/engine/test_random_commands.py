"""Random command streams (valid and not) through a whole campaign.

A seeded generator plays participants who send every kind of command with
plausible and broken arguments, and reuse message ids. For every command:
a refusal is a typed error that leaves the state byte for byte unchanged,
a duplicate ack changes nothing, and the seq never goes back. At the end a
restart (snapshot + tail) and a full replay both equal the live state.
Seeds and the campaign id are fixed, so a run replays exactly (the
engine's draws, such as a flag's jury, are seeded by the campaign id).
"""

from __future__ import annotations

import random
import secrets
import types
from pathlib import Path
from typing import Any

import orjson
import pytest
import trio
from engine_session import Session, open_session, reopen, template_toml

import essaim.engine._engine
import essaim.engine._owner
from essaim import FACILITATOR, Actor, Command, CommandError, MemoryStore
from essaim.model.state import CampaignState

PHASES = ("collect:30m", "sort:30m", "evaluate:30m", "results:30m")
COMMANDS_PER_PHASE = 120
PEOPLE = 8
TEXTS = [
    "Fewer meetings on Monday mornings", "A shared planning board for all sites",
    "Written handover notes between shifts", "ab", "x" * 300, "Call me on +33 6 12 34 56 78",
    "zzzzzzzzzzzzzzzzzzzzzzzz", "Better coffee in the canteen", "   ",
]


TOPICS = ["parking", "night shifts", "spare parts", "training", "travel budget", "safety walks", "email overload",
          "planning tools"]
PHASE_COMMANDS = {
    "collect": ["write_card", "write_card", "support_card", "flag", "judge"],
    "sort": ["volunteer", "deal", "deal", "place", "place", "support_card", "judge"],
    "evaluate": ["evaluate", "evaluate", "evaluate", "flag", "judge"],
    "results": ["flag", "judge"],
}
ALL_COMMANDS = ["write_card", "support_card", "volunteer", "deal", "place", "flag", "judge", "evaluate"]


class RandomParticipant:
    """Draws commands for one campaign from a seeded generator."""

    def __init__(self, rng: random.Random, s: Session) -> None:
        self.rng = rng
        self.s = s

    def pick(self, pool: list[str], bogus: str) -> str:
        return self.rng.choice(pool) if pool and self.rng.random() < 0.85 else bogus

    def command(self, actor: Actor) -> Command:
        rng, state = self.rng, self.s.state
        cards, hands, cases, items = list(state.cards), list(state.hands), list(state.cases), list(state.items)
        if rng.random() < 0.75 and state.phase is not None:
            # Mostly what the phase is for, so that enough is accepted.
            ctype = rng.choice(PHASE_COMMANDS[state.phase.type])
        else:
            ctype = rng.choice(ALL_COMMANDS)
        args: dict[str, Any]
        if ctype == "write_card":
            args = {"text": rng.choice(TEXTS)}
            if rng.random() < 0.2:
                args["prompt"] = rng.choice(["p1", "nope"])
        elif ctype in ("support_card", "flag"):
            args = {"cid": self.pick(cards, "c999")}
            if ctype == "flag" and rng.random() < 0.5:
                args["reason"] = rng.choice(["rude", "off-topic", "r" * 250])
        elif ctype == "place":
            own = state.open_hands.get(actor.pid or "")
            hid = own if own and rng.random() < 0.7 else self.pick(hands, "h999")
            held = list(state.hands[hid].items) if hid in state.hands else ["c1"]
            rng.shuffle(held)
            cut = rng.randint(0, len(held))
            themes = [[held[:cut]], [held[cut:]]] if rng.random() < 0.8 else [[held + held[:1]]]
            args = {"hid": hid, "themes": themes}
        elif ctype == "judge":
            duty = state.jury_duty.get(actor.pid or "", [])
            case_id = rng.choice(duty) if duty and rng.random() < 0.7 else self.pick(cases, "m999")
            args = {"case_id": case_id, "verdict": rng.choice(["hide", "keep", "keep", "maybe"])}
        elif ctype == "evaluate":
            a, b = self.pick(items, "i999"), self.pick(items, "i998")
            args = {"kind": "pair", "data": {"a": a, "b": b, "choice": rng.choice(["a", "b", "cant_decide"])}}
        else:
            args = {}
        msg_id = f"m{rng.randint(0, 20)}" if rng.random() < 0.6 else None
        return Command(ctype, args, msg_id)

    def facilitator_command(self) -> Command:
        rng = self.rng
        ctype = rng.choice(["pause", "resume", "extend", "decide"])
        if ctype == "extend":
            return Command("extend", {"seconds": rng.choice([30, 60, 0])})
        if ctype == "decide":
            return Command("decide", {"cid": self.pick(list(self.s.state.cards), "c999"),
                                      "verdict": rng.choice(["hide", "keep"])})
        return Command(ctype)


async def play_phase(s: Session, player: RandomParticipant, people: list[Actor], stats: dict[str, int]) -> None:
    for _ in range(COMMANDS_PER_PHASE):
        paused = s.state.status == "paused"
        if player.rng.random() < (0.3 if paused else 0.06):
            actor, command = FACILITATOR, player.facilitator_command()
        else:
            actor = player.rng.choice(people)
            command = player.command(actor)
        before, seq = orjson.dumps(s.state.to_dict()), s.state.seq
        try:
            ack = await s.engine.execute(s.cid, actor, command)
        except CommandError as refused:
            assert refused.code and refused.message
            assert s.state.seq == seq and orjson.dumps(s.state.to_dict()) == before, (command, refused)
            stats["refused"] += 1
            continue
        if ack.duplicate:
            assert s.state.seq == seq and orjson.dumps(s.state.to_dict()) == before, command
            assert ack.seq <= seq
            stats["duplicate"] += 1
        else:
            assert s.state.seq >= seq and ack.seq == s.state.seq
            stats["applied"] += 1
    if s.state.status == "paused":
        await s.fac("resume")


@pytest.mark.parametrize("seed", [1, 2, 3])
async def test_random_commands_keep_every_invariant(seed: int, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(essaim.engine._owner, "SNAPSHOT_EVERY", 25)
    monkeypatch.setattr(essaim.engine._owner, "SNAPSHOT_FORCE_AFTER", 25)
    fixed_id = types.SimpleNamespace(token_hex=lambda n: "c0ffee" * (n // 3), token_urlsafe=secrets.token_urlsafe,
                                     choice=secrets.choice, randbelow=secrets.randbelow)
    monkeypatch.setattr(essaim.engine._engine, "secrets", fixed_id)
    store = MemoryStore()
    stats = {"refused": 0, "duplicate": 0, "applied": 0}
    async with open_session(template_toml(PHASES), store=store, people=PEOPLE) as s:
        player = RandomParticipant(random.Random(seed), s)
        rec = s.recorder()
        await s.fac("start")
        # Enough distinct cards that the crowd's structure has several items.
        await s.write_cards([f"Distinct idea {k}: {topic}" for k, topic in enumerate(TOPICS * 2)])
        for index in range(len(PHASES)):
            await play_phase(s, player, s.people, stats)
            await s.fac("advance", index=index)
            if index + 1 < len(PHASES):
                with trio.fail_after(30):  # hang guard: a structure may be computed in a thread
                    await rec.wait_for("phase_started", index=index + 1)
        live = orjson.loads(orjson.dumps(s.state.to_dict()))
        cid = s.cid
    # Every kind of outcome happened, or the test proves little.
    assert min(stats.values()) > 10, stats
    assert live["counters"]["cards"] and live["counters"]["judgments"] and live["counters"]["flags"], (live["counters"], len(live["items"]))

    async with reopen(store, cid) as restarted:
        assert orjson.loads(orjson.dumps(restarted.state.to_dict())) == live
    replayed = CampaignState(cid)
    for event in store.events(cid):
        replayed.apply(event)
    assert orjson.loads(orjson.dumps(replayed.to_dict())) == live


async def test_random_commands_on_sqlite_survive_a_restart(db_path: Path) -> None:
    stats = {"refused": 0, "duplicate": 0, "applied": 0}
    async with open_session(template_toml(PHASES), store=db_path, people=PEOPLE) as s:
        player = RandomParticipant(random.Random(7), s)
        await s.fac("start")
        await play_phase(s, player, s.people, stats)
        live = orjson.loads(orjson.dumps(s.state.to_dict()))
        cid = s.cid
    assert stats["applied"] > 10
    async with reopen(db_path, cid) as restarted:
        assert orjson.loads(orjson.dumps(restarted.state.to_dict())) == live
