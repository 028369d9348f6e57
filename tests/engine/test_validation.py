"""Every bad command gets a typed error and changes nothing; retries apply once.

Each case runs against a campaign in the phase where the command would
otherwise be allowed, and compares the whole state (``to_dict``, serialised
before and after) and its ``seq``: a refused command leaves no trace.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import orjson
import pytest
import trio
from engine_session import Session, open_session, reopen, template_toml

from essaim import (
    FACILITATOR,
    Actor,
    Command,
    CommandError,
    EngineLimits,
    LimitExceeded,
    MemoryStore,
    NotFound,
    Unauthorized,
    open_engine,
)
from essaim.model.commands import MAX_MSG_ID_CHARS, MAX_TEXT_CHARS
from essaim.model.template import CampaignTemplate

PHASES = ("collect:10m", "sort:10m", "evaluate:10m")


def frozen(s: Session) -> bytes:
    """The whole state as bytes: equal bytes, equal state."""
    return orjson.dumps(s.state.to_dict())


async def assert_refused(s: Session, actor: Actor, command: Command, code: str | None = None,
                         kind: type[CommandError] = CommandError) -> CommandError:
    before, seq, written = frozen(s), s.state.seq, s.engine.writer.events_written
    with pytest.raises(kind) as refused:
        await s.engine.execute(s.cid, actor, command)
    if code is not None:
        assert refused.value.code == code, refused.value
    assert refused.value.message  # says what to do
    assert s.state.seq == seq
    assert frozen(s) == before
    assert s.engine.writer.events_written == written
    return refused.value


async def collecting(s: Session) -> None:
    """p1..p4 wrote c1..c4; p2 supports c1; p3 flagged c1 (case m1)."""
    await s.fac("start")
    await s.write_cards([f"Card number {i} from participant {i}" for i in range(1, 5)], s.people[:4])
    await s.act(s.people[1], "support_card", cid="c1")
    await s.act(s.people[2], "flag", cid="c1", reason="rude")


# (who, command type, args, expected code); who is a participant index or "fac".
COLLECT_CASES: list[tuple[Any, str, Any, str]] = [
    (0, "write_card", {}, "bad_request"),
    (0, "write_card", {"text": 123}, "bad_request"),
    (0, "write_card", {"text": "x" * (MAX_TEXT_CHARS + 1)}, "too_long"),
    (0, "write_card", {"text": "An idea, " * 40}, "too_long"),  # over the strategy's card limit
    (0, "write_card", {"text": "  a "}, "too_short"),
    (0, "write_card", {"text": "A fine idea", "prompt": "no-such-prompt"}, "bad_request"),
    (0, "write_card", {"text": "A fine idea", "prompt": 7}, "bad_request"),
    (0, "write_card", ["not", "an", "object"], "bad_request"),
    (0, "write_card", {"text": "aaaaaaaaaaaaaaaaaaaaaaaaaaaaa"}, "rejected"),  # the screen refuses junk
    (0, "support_card", {}, "bad_request"),
    (0, "support_card", {"cid": "c999"}, "not_found"),
    (0, "support_card", {"cid": "c1"}, "own_card"),
    (1, "support_card", {"cid": "c1"}, "already_done"),
    (0, "flag", {"cid": "c1"}, "own_card"),
    (0, "flag", {"cid": "c999"}, "not_found"),
    (0, "flag", {"cid": "c2", "reason": "r" * 201}, "too_long"),
    (2, "flag", {"cid": "c1"}, "already_done"),
    (0, "judge", {"case_id": "m999", "verdict": "hide"}, "not_found"),
    (0, "judge", {"case_id": "m1", "verdict": "maybe"}, "bad_request"),
    (0, "deal", {}, "wrong_phase"),
    (0, "place", {"hid": "h1", "themes": []}, "wrong_phase"),
    (0, "evaluate", {"kind": "pair", "data": {}}, "wrong_phase"),
    (0, "evaluate", {"kind": "pair", "data": []}, "bad_request"),
    (0, "dance", {}, "unknown_command"),
    (0, "join", {"profile": {}}, "unknown_command"),
    (0, "timeout", {}, "unknown_command"),
    (0, "publish", {"items": []}, "unknown_command"),
    (0, "start", {}, "forbidden"),
    (0, "advance", {}, "forbidden"),
    (0, "decide", {"cid": "c1", "verdict": "hide"}, "forbidden"),
    ("fac", "write_card", {"text": "The facilitator is not a participant"}, "forbidden"),
    ("fac", "timeout", {}, "unknown_command"),
    ("fac", "publish", {"items": []}, "unknown_command"),
    ("fac", "join", {"profile": {}, "token_hash": "x", "max_participants": 9}, "unknown_command"),
    ("fac", "extend", {}, "bad_request"),
    ("fac", "extend", {"seconds": 0}, "bad_request"),
    ("fac", "extend", {"seconds": -30}, "bad_request"),
    ("fac", "extend", {"seconds": "60"}, "bad_request"),
    ("fac", "extend", {"seconds": True}, "bad_request"),
    ("fac", "extend", {"seconds": 3601}, "bad_request"),
    ("fac", "advance", {"index": "0"}, "bad_request"),
    ("fac", "advance", {"index": -1}, "bad_request"),
    ("fac", "advance", {"index": True}, "bad_request"),
    ("fac", "advance", {"index": 2}, "wrong_phase"),
    ("fac", "decide", {"cid": "c1", "verdict": "delete"}, "bad_request"),
    ("fac", "decide", {"cid": "c999", "verdict": "hide"}, "not_found"),
    ("fac", "start", {}, "wrong_phase"),
    ("fac", "resume", {}, "wrong_phase"),
]


@pytest.mark.parametrize(("who", "ctype", "args", "code"), COLLECT_CASES,
                         ids=[f"{w}-{c}-{code}-{i}" for i, (w, c, _, code) in enumerate(COLLECT_CASES)])
async def test_bad_commands_in_collection_are_refused_and_change_nothing(
    who: Any, ctype: str, args: Any, code: str
) -> None:
    async with open_session(template_toml(PHASES), people=6) as s:
        await collecting(s)
        actor = FACILITATOR if who == "fac" else s.people[who]
        await assert_refused(s, actor, Command(ctype, args), code)


async def test_judging_a_case_you_are_not_on_the_jury_of_is_refused() -> None:
    async with open_session(template_toml(PHASES), people=6) as s:
        await collecting(s)
        case = s.state.cases["m1"]
        outsiders = [p for p in s.people if p.pid not in case.jury]
        assert outsiders  # the author and the flagger at least
        for outsider in outsiders:
            await assert_refused(s, outsider, Command("judge", {"case_id": "m1", "verdict": "hide"}), "not_found")
        juror = Actor.participant(case.jury[0])
        await s.act(juror, "judge", case_id="m1", verdict="keep")
        await assert_refused(s, juror, Command("judge", {"case_id": "m1", "verdict": "hide"}), "already_done")


async def test_bad_message_ids_and_unknown_actors_are_refused() -> None:
    async with open_session(template_toml(PHASES), people=4) as s:
        await collecting(s)
        for msg_id in ("", "m" * (MAX_MSG_ID_CHARS + 1), 42):
            await assert_refused(s, s.people[0], Command("write_card", {"text": "A fine idea"}, msg_id), "bad_request")  # type: ignore[arg-type]
        await assert_refused(s, Actor.participant("p999"), Command("write_card", {"text": "A fine idea"}),
                             "unauthorized", Unauthorized)
        with pytest.raises(Unauthorized):
            s.engine.authenticate(s.cid, "not-a-token")
        with pytest.raises(Unauthorized):
            s.engine.authenticate(s.cid, "")
        with pytest.raises(NotFound):
            await s.engine.execute("no-such-campaign", FACILITATOR, Command("start"))


async def test_a_card_limit_is_enforced_with_limit_exceeded() -> None:
    toml = template_toml(PHASES, phase_settings={0: "max_cards = 2"})
    async with open_session(toml, people=1) as s:
        await s.fac("start")
        await s.write_cards(["First idea here", "Second idea here"])
        await assert_refused(s, s.people[0], Command("write_card", {"text": "Third idea here"}), kind=LimitExceeded)


async def sorting(s: Session) -> tuple[Actor, dict[str, Any]]:
    await collecting(s)
    await s.fac("advance", index=0)
    sorter = s.people[4]
    hand = (await s.act(sorter, "deal")).result["hand"]
    assert hand is not None and len(hand["items"]) >= 2
    return sorter, hand


async def test_bad_placements_are_refused_and_change_nothing() -> None:
    async with open_session(template_toml(PHASES), people=6) as s:
        sorter, hand = await sorting(s)
        hid, items = hand["hid"], hand["items"]
        other = s.people[5]
        cases: list[tuple[Actor, Mapping[str, Any], str]] = [
            (other, {"hid": hid, "themes": [[items]]}, "not_found"),  # someone else's hand
            (sorter, {"hid": "h999", "themes": [[items]]}, "not_found"),
            (sorter, {"hid": hid, "themes": [[["c999"]]]}, "bad_request"),
            (sorter, {"hid": hid, "themes": [[items, items[:1]]]}, "bad_request"),  # an item twice
            (sorter, {"hid": hid, "themes": [[items[:1]]], "offtopic": items[:1]}, "bad_request"),
            (sorter, {"hid": hid, "themes": "all of them"}, "bad_request"),
            (sorter, {"hid": hid, "themes": [["c1"]]}, "bad_request"),  # an idea must be a list
            (sorter, {"hid": hid, "themes": [[items]], "offtopic": "c1"}, "bad_request"),
            (sorter, {"hid": hid, "themes": [[[7]]]}, "bad_request"),
            (sorter, {"hid": hid, "themes": [[["c1"]] * 65]}, "bad_request"),
        ]
        for actor, args, code in cases:
            await assert_refused(s, actor, Command("place", args), code)
        await assert_refused(s, sorter, Command("deal"), "hand_open")
        await assert_refused(s, sorter, Command("write_card", {"text": "Writing while sorting"}), "wrong_phase")
        await s.act(sorter, "place", hid=hid, themes=[[items]])
        await assert_refused(s, sorter, Command("place", {"hid": hid, "themes": [[items]]}), "already_done")


async def test_bad_evaluations_are_refused_and_change_nothing() -> None:
    async with open_session(template_toml(PHASES), people=6) as s:
        await collecting(s)
        await s.fac("advance", index=0)
        await s.fac("advance", index=1)
        a, b = sorted(s.state.items)[:2]
        judge = s.people[0]
        # The strategy decides these (its codes are its own): a typed refusal, no trace.
        for data in ({"a": a, "b": a, "choice": "a"}, {"a": a, "b": "i-none", "choice": "a"},
                     {"a": a, "b": b, "choice": "both"}, {}):
            await assert_refused(s, judge, Command("evaluate", {"kind": "pair", "data": data}))
        await assert_refused(s, judge, Command("evaluate", {"kind": 5, "data": {}}), "bad_request")
        await s.act(judge, "evaluate", kind="pair", data={"a": a, "b": b, "choice": "a"})
        await assert_refused(s, judge, Command("evaluate", {"kind": "pair", "data": {"a": b, "b": a, "choice": "b"}}))


BAD_PROFILES: list[tuple[Any, str]] = [
    ({"team": "Blue"}, "bad_profile"),
    ({"site": "Atlantis"}, "bad_profile"),
    ({"site": 3}, "bad_profile"),
    ({"site": "N" * 81}, "bad_profile"),
    (["site", "North"], "bad_request"),
]


@pytest.mark.parametrize(("profile", "code"), BAD_PROFILES)
async def test_a_bad_profile_at_join_is_refused(profile: Any, code: str) -> None:
    async with open_session(template_toml(PHASES), people=1) as s:
        before, seq = frozen(s), s.state.seq
        with pytest.raises(CommandError) as refused:
            await s.engine.join(s.cid, profile)
        assert refused.value.code == code
        assert (frozen(s), s.state.seq) == (before, seq)


async def test_a_required_profile_attribute_and_a_full_campaign_are_refused() -> None:
    toml = template_toml(PHASES).replace('choices = ["North", "South"]', 'choices = ["North", "South"]\nrequired = true')
    async with open_engine(None, limits=EngineLimits(max_participants=2)) as engine:
        created = await engine.create_campaign(CampaignTemplate.parse(toml))
        s = Session(engine, created.campaign_id)
        with pytest.raises(CommandError) as refused:
            await engine.join(s.cid, {})
        assert refused.value.code == "bad_profile"
        await s.join(2)
        before = frozen(s)
        with pytest.raises(LimitExceeded) as full:
            await engine.join(s.cid, {"site": "South"})
        assert full.value.code == "campaign_full" and frozen(s) == before


# -- idempotency ---------------------------------------------------------------------------


async def test_a_retried_message_is_applied_once_and_acknowledged_twice() -> None:
    async with open_session(template_toml(PHASES), people=2) as s:
        await s.fac("start")
        author = s.people[0]
        first = await s.act(author, "write_card", "m-1", text="Shorter weekly meetings")
        before = frozen(s)
        again = await s.act(author, "write_card", "m-1", text="Shorter weekly meetings")
        assert (again.seq, dict(again.result), again.duplicate) == (first.seq, dict(first.result), True)
        assert not first.duplicate and frozen(s) == before
        # The id is what counts, not the content: a retry never applies twice.
        changed = await s.act(author, "write_card", "m-1", text="Something else entirely")
        assert changed.duplicate and frozen(s) == before
        # Ids are per participant: another participant may use the same one.
        other = await s.act(s.people[1], "write_card", "m-1", text="Longer lunch breaks")
        assert not other.duplicate and s.state.counters["cards"] == 2


async def test_duplicates_queued_together_apply_once() -> None:
    async with open_session(template_toml(PHASES), people=1) as s:
        await s.fac("start")
        acks: list[Any] = []
        done = trio.Event()

        def reply(ack: Any, error: Any) -> None:
            acks.append((ack, error))
            if len(acks) == 3:
                done.set()

        command = Command("write_card", {"text": "Sent three times at once"}, "m-dup")
        for _ in range(3):
            s.engine.submit_nowait(s.cid, s.people[0], command, reply)
        await done.wait()
        assert [error for _, error in acks] == [None, None, None]
        assert sorted(ack.duplicate for ack, _ in acks) == [False, True, True]
        assert len({ack.seq for ack, _ in acks}) == 1
        assert s.state.counters["cards"] == 1


async def test_a_refused_message_can_be_retried_once_the_phase_allows_it() -> None:
    async with open_session(template_toml(PHASES), people=1) as s:
        command = Command("write_card", {"text": "Sent before the start"}, "m-early")
        await assert_refused(s, s.people[0], command, "wrong_phase")
        await s.fac("start")
        ack = await s.engine.execute(s.cid, s.people[0], command)
        assert not ack.duplicate and s.state.counters["cards"] == 1


@pytest.mark.parametrize("store_kind", ["memory", "sqlite"])
async def test_a_retry_after_a_restart_is_still_a_duplicate(store_kind: str, db_path: Any) -> None:
    store = MemoryStore() if store_kind == "memory" else db_path
    async with open_session(template_toml(PHASES), store=store, people=2) as s:
        await s.fac("start")
        author = s.people[0]
        first = await s.act(author, "write_card", "m-1", text="Kept across a restart")
        supporter = s.people[1]
        supported = await s.act(supporter, "support_card", "m-2", cid=first.result["cid"])
        cid = s.cid
    async with reopen(store, cid) as s2:
        before = frozen(s2)
        again = await s2.act(author, "write_card", "m-1", text="Kept across a restart")
        assert (again.seq, dict(again.result), again.duplicate) == (first.seq, dict(first.result), True)
        again = await s2.act(supporter, "support_card", "m-2", cid=first.result["cid"])
        assert (again.seq, again.duplicate) == (supported.seq, True)
        assert frozen(s2) == before


async def test_a_retried_deciding_vote_is_acknowledged_again_not_refused() -> None:
    """The deciding vote's last event is the jury's decision: a retry with the
    same message id must still find it and get the same ack."""
    async with open_session(template_toml(PHASES), people=8) as s:
        await collecting(s)
        case = s.state.cases["m1"]
        jurors = [Actor.participant(pid) for pid in case.jury]
        acks = []
        for n, juror in enumerate(jurors):
            acks.append(await s.act(juror, "judge", msg_id=f"v{n}", case_id="m1", verdict="hide"))
            if s.state.cases["m1"].status != "open":
                break
        assert acks[-1].result["decided"] == "hide"
        before = (s.state.seq, s.state.to_dict())
        again = await s.act(jurors[len(acks) - 1], "judge", msg_id=f"v{len(acks) - 1}", case_id="m1", verdict="hide")
        assert again.duplicate and again.seq == acks[-1].seq and again.result == acks[-1].result
        assert (s.state.seq, s.state.to_dict()) == before


async def test_a_failing_subscriber_does_not_stop_the_engine() -> None:
    async with open_session(template_toml(PHASES), people=3) as s:
        def broken(events: list[Any]) -> None:
            raise RuntimeError("a subscriber with a bug")

        s.engine.owner(s.cid).subscribe(broken)
        await collecting(s)
        ack = await s.act(s.people[0], "write_card", text="still accepted after a subscriber failed")
        assert s.state.cards[ack.result["cid"]].text.startswith("still accepted")
