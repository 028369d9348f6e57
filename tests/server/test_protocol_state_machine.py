"""Stateful protocol fuzzing (issue 15): a hypothesis state machine drives
several participants (real WebSockets) and a facilitator (real HTTP) against
one real server on loopback, with valid and invalid messages in random
order, and checks the protocol's promises after every step:

* no server error: no 5xx, no close 1011, no error-level log line, no
  ``plugin_error``; every message gets its answer;
* a rejected message changes nothing: the campaign's seq is the same before
  and after it, and no event in the log carries a rejected action's id;
* seq never goes back, on a connection nor across a ``resume``;
* every ack is durable: the event log holds the acknowledged action, with
  its sender and id, at the acknowledged seq; a retry is acknowledged again
  with the same seq and result, marked ``duplicate``;
* the final state equals a replay of the log.

One server serves the whole run (starting one per example would cost more
than the example); each example gets a campaign of its own, so the
invariants are per campaign. Steps are sequential: each waits for its
answer, so the campaign is quiet when the seq is compared. Every frame is
also checked against /asyncapi.json by tests/conftest.py.

Budget: FUZZ_EXAMPLES x FUZZ_STEPS, well under a minute on a shared 2-core
machine; ``ESSAIM_SLOW=1`` runs ten times more examples.
"""

from __future__ import annotations

import logging
import os
from collections import Counter
from collections.abc import Iterator
from typing import Any, ClassVar

import orjson
import pytest
import requests
import trio
import websocket
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, rule, run_state_machine_as_test
from server_fixtures import ThreadedServer, threaded_server

#: Examples (campaigns) and steps per example in the default suite.
FUZZ_EXAMPLES = 200 if os.environ.get("ESSAIM_SLOW") == "1" else 16
FUZZ_STEPS = 30
#: What a step does, drawn with these weights: mostly participants acting.
STEPS_DRAWN = ["act"] * 8 + ["misbehave"] * 3 + ["reconnect"] * 2 + ["moves on"] * 3 + ["join", "phase", "decide"]
#: Participant steps in a phase before the facilitator may move on.
STEPS_PER_PHASE = 3
PARTICIPANTS = 3
#: Seconds to wait for any one answer (a loaded CI machine; answers take milliseconds).
ANSWER_TIMEOUT = 20
#: Error codes that would mean the server, not the message, is at fault.
SERVER_FAULTS = {"plugin_error", "unreadable", "unavailable", "busy"}

#: The actions and queries participant_acts draws from: writing most often, as people do.
ACTIONS_DRAWN = ["write_card"] * 4 + ["support_card"] * 2 + ["deal", "place"] * 2 + [
    "volunteer", "flag", "judge", "suggest", "next", "evaluate", "evaluate"]
ACTION_TYPES = ["write_card", "support_card", "volunteer", "deal", "place", "flag", "judge", "evaluate"]
ALL_TYPES = ["join", "resume", "suggest", "next", *ACTION_TYPES, "start", "advance", "teleport", ""]
FIELD_NAMES = ["text", "cid", "hid", "themes", "offtopic", "reason", "case_id", "verdict", "kind", "data",
               "prompt", "campaign", "token", "profile", "seq"]
JSON_SCALARS = st.one_of(st.none(), st.booleans(), st.integers(-2**40, 2**40), st.floats(allow_nan=False,
                         allow_infinity=False), st.text(max_size=20), st.just("x" * 2001))
JSON_VALUES = st.recursive(JSON_SCALARS, lambda inner: st.one_of(
    st.lists(inner, max_size=3), st.dictionaries(st.text(max_size=6), inner, max_size=3)), max_leaves=5)
#: JSON numbers a client library can send (orjson, like most, stops at 64 bits; bigger ones are in JUNK_FRAMES).
INT64 = st.integers(-2**63, 2**63 - 1)
BAD_IDS = st.one_of(st.just(""), st.just("x" * 65), INT64, st.none(), st.lists(st.text(max_size=3),
                    max_size=2), st.text(min_size=1, max_size=64))
PROFILES = st.one_of(st.none(), st.just({"role": "Field", "site": "North"}),
                     st.dictionaries(st.text(max_size=8), JSON_SCALARS, max_size=3))
JUNK_FRAMES = st.one_of(st.none(), st.binary(max_size=20),
                        st.sampled_from([b"[1, 2]", b"null", b"\"join\"", b"{", b"\xff\xfe",
                                         b'{"type": "write_card", "id": 123456789012345678901234567890}']))
#: Card texts: ordinary sentences most of the time, then anything, then the edges (limits, formulas, a phone number).
CARD_TEXT = st.one_of(
    st.lists(st.sampled_from(["meetings", "take", "too", "long", "the", "tools", "are", "slow", "travel", "budget",
                              "réunions", "trop", "longues"]), min_size=2, max_size=12).map(" ".join),
    st.text(st.characters(codec="utf-8"), min_size=3, max_size=60),
    st.sampled_from(["=HYPERLINK(\"http://x\")", "call me at 06 12 34 56 78", "  ", "ab", "é" * 280, "x" * 281]))


class Crash(AssertionError):
    """The server broke a promise of the protocol."""


class Phone:
    """One participant's connection: a blocking WebSocket and what the
    protocol says the client keeps (seq, own cards, hand, jury)."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.ws: websocket.WebSocket | None = None
        self.token: str | None = None
        self.pid: str | None = None
        self.max_seq = 0
        self.you: dict[str, Any] | None = None
        self.phase: dict[str, Any] | None = None
        self.counter = 0

    def connect(self) -> None:
        self.ws = websocket.create_connection(self.url, timeout=ANSWER_TIMEOUT)
        self.seq_on_connection = 0

    def close(self) -> None:
        if self.ws is not None:
            self.ws.close()
            self.ws = None

    def next_id(self) -> str:
        self.counter += 1
        return f"v{self.counter}"

    def send(self, obj: Any, *, binary: bytes | None = None) -> None:
        assert self.ws is not None
        if binary is not None:
            self.ws.send_binary(binary)
        else:
            self.ws.send(orjson.dumps(obj).decode())

    def frame(self) -> dict[str, Any]:
        """The next frame; a close frame raises (1011 is a server error)."""
        assert self.ws is not None
        opcode, data = self.ws.recv_data(control_frame=True)
        if opcode == websocket.ABNF.OPCODE_CLOSE:
            code = int.from_bytes(data[:2], "big") if len(data) >= 2 else None
            if code == 1011:
                raise Crash("the server closed a socket with 1011 (server error)")
            raise ConnectionError(f"closed {code}")
        if opcode not in (websocket.ABNF.OPCODE_TEXT, websocket.ABNF.OPCODE_BINARY):
            return self.frame()
        if opcode == websocket.ABNF.OPCODE_BINARY:
            raise Crash("the server sent a binary frame")
        frame = orjson.loads(data)
        seq = frame.get("seq")
        if isinstance(seq, int):
            if frame["type"] == "update" and seq < self.seq_on_connection:
                raise Crash(f"seq went back on a connection: {seq} after {self.seq_on_connection}")
            if seq < self.max_seq and frame["type"] == "welcome" and frame.get("resumed"):
                raise Crash(f"a resume's welcome is at seq {seq}, behind {self.max_seq} already seen")
            self.seq_on_connection = max(self.seq_on_connection, seq)
            self.max_seq = max(self.max_seq, seq)
        if frame["type"] in ("welcome", "update"):
            if frame.get("you") is not None:
                self.you = frame["you"]
            if "phase" in frame:
                self.phase = frame["phase"]
        return frame

    def answer(self, msg_id: str | None) -> tuple[str, dict[str, Any]]:
        """Frames until the answer to ``msg_id`` (None: an id-less error):
        ("ack" | "error" | "reply", entry)."""
        while True:
            frame = self.frame()
            if frame["type"] == "error":
                return "error", frame
            for kind, key in (("ack", "acks"), ("error", "errors"), ("reply", "replies")):
                for entry in frame.get(key, ()):
                    if entry.get("id") == msg_id:
                        return kind, entry


class ProtocolMachine(RuleBasedStateMachine):
    """Several phones and a facilitator on one campaign of the demo template."""

    live: ClassVar[ThreadedServer]  # set by the test before the run
    #: What the whole run exercised (answers by kind and code, phases reached), for the test to check.
    seen: ClassVar[Counter[str]] = Counter()

    def __init__(self) -> None:
        super().__init__()
        base = self.live.base_url
        created = self._http("POST", "/api/campaigns", {"template": "demo"}, token=self.live.admin_token)
        assert created.status_code == 201, created.text
        body = created.json()
        self.campaign_id, self.code, self.fac_token = body["campaign_id"], body["code"], body["facilitator_token"]
        self.phones = [Phone(base.replace("http://", "ws://") + "/ws") for _ in range(PARTICIPANTS)]
        #: (pid, id) -> (seq, result) of every first ack.
        self.acked: dict[tuple[str, str], tuple[int, Any]] = {}
        #: (pid, id) of every action the server refused.
        self.refused: set[tuple[str, str]] = set()
        self.cards: list[str] = []
        #: Participant steps since the last phase change the facilitator made.
        self.steps_in_phase = 0

    # -- plumbing -------------------------------------------------------------------------

    def _http(self, method: str, path: str, body: Any = None, *, token: str | None = None) -> requests.Response:
        r = requests.request(method, self.live.base_url + path, json=body, timeout=ANSWER_TIMEOUT,
                             headers={"Authorization": f"Bearer {token or self.fac_token}"})
        if r.status_code >= 500:
            raise Crash(f"{method} {path} {body!r}: {r.status_code} {r.text[:300]}")
        return r

    def settled_seq(self) -> int:
        """The campaign's seq once nothing is on its way: no transition being
        prepared, every applied event durable."""
        async def settle(server: Any, campaign_id: str) -> int:
            engine = server.engine
            with trio.fail_after(ANSWER_TIMEOUT):
                while True:
                    state = engine.state(campaign_id)
                    if state.status != "between" and engine.campaign(campaign_id).durable_seq == state.seq:
                        return int(state.seq)
                    await trio.sleep(0.01)
        return int(self.live.call(settle, self.campaign_id))

    def _unchanged(self, before: int, what: str) -> None:
        after = self.settled_seq()
        if after != before:
            raise Crash(f"a refused {what} changed the campaign: seq {before} -> {after}")

    def _exchange(self, phone: Phone, msg: Any, msg_id: str | None, *, binary: bytes | None = None
                  ) -> tuple[str, dict[str, Any]]:
        """Send one message, wait for its answer, check the promises about it."""
        before = self.settled_seq()
        phone.send(msg, binary=binary)
        kind, entry = phone.answer(msg_id)
        if entry.get("code") in SERVER_FAULTS:
            raise Crash(f"{msg!r} got {entry}")
        self.seen[f"{kind}:{entry.get('code', msg.get('type') if isinstance(msg, dict) else 'junk')}"] += 1
        if kind == "ack":
            key = (phone.pid, entry["id"])
            if key in self.acked:
                first = self.acked[key]
                if entry.get("duplicate") and (entry["seq"], entry["result"]) != first:
                    raise Crash(f"a retry of {key} was acknowledged as {entry}, first as {first}")
            else:
                self.acked[key] = (entry["seq"], entry["result"])
            cid = entry["result"].get("cid") if isinstance(entry.get("result"), dict) else None
            if isinstance(cid, str) and cid not in self.cards:
                self.cards.append(cid)
        elif kind == "error":
            if msg_id is not None and (phone.pid, msg_id) not in self.acked:
                self.refused.add((phone.pid, msg_id))
            self._unchanged(before, f"message {str(msg)[:200]} ({entry.get('code')})")
        return kind, entry

    def _joined(self, i: int) -> Phone | None:
        """The i-th phone that is in (modulo their number); None when none is."""
        joined = [p for p in self.phones if p.ws is not None and p.pid is not None]
        return joined[i % len(joined)] if joined else None

    # -- participants ----------------------------------------------------------------------

    @initialize(start=st.sampled_from([True, True, True, False]))
    def phones_join(self, start: bool) -> None:
        """The phones join before the start (the draft phase), and most
        campaigns start: a campaign left in draft refuses nearly everything."""
        for i in range(PARTICIPANTS):
            self._join(i, None if i == 0 else {"role": "Field", "site": "North"})
        if start:
            assert self._http("POST", f"/api/campaigns/{self.campaign_id}/phase/start").status_code == 200

    @rule(what=st.sampled_from(STEPS_DRAWN), i=st.integers(0, PARTICIPANTS - 1), data=st.data())
    def step(self, what: str, i: int, data: st.DataObject) -> None:
        """One thing happens. A single rule drawing what: hypothesis's swarm
        testing would otherwise switch whole rules off per example, and most
        examples would never write a card."""
        if what == "join" and any(p.pid is None for p in self.phones):
            self.join(i, data.draw(PROFILES))
        elif what == "reconnect":
            self.reconnect(i, data.draw(st.booleans()))
        elif what == "act":
            self.participant_acts(i, data.draw(st.sampled_from(ACTIONS_DRAWN)), data)
        elif what == "misbehave":
            self.participant_misbehaves(
                i, data.draw(st.sampled_from(ALL_TYPES)),
                data.draw(st.dictionaries(st.sampled_from(FIELD_NAMES), JSON_VALUES, max_size=3)),
                data.draw(st.booleans()), data.draw(BAD_IDS), data.draw(JUNK_FRAMES))
        elif what == "moves on" and self.steps_in_phase >= STEPS_PER_PHASE:
            self.facilitator_moves_on()
        elif what in ("phase", "decide"):
            self.facilitator(what, data)

    def join(self, i: int, profile: Any) -> None:
        self.seen["rule:join"] += 1
        self._join(i, profile)

    def _join(self, i: int, profile: Any) -> None:
        out = [p for p in self.phones if p.pid is None]
        phone = out[i % len(out)]
        phone.connect()
        before = self.settled_seq()
        phone.send({"type": "join", "campaign": self.code, "profile": profile})
        frame = phone.frame()
        if frame["type"] == "welcome" and frame.get("spectator"):
            phone.close()  # the campaign is over: results only, no participant made
            self._unchanged(before, "a late join")
        elif frame["type"] == "welcome":
            phone.token, phone.pid = frame["token"], frame["pid"]
        else:
            assert frame["type"] == "error" and frame["code"] in ("bad_profile", "bad_request"), frame
            self._unchanged(before, f"join with profile {profile!r}")
            phone.close()

    def reconnect(self, i: int, resend: bool) -> None:
        """Drop the socket, resume with the token, re-send an acked action."""
        self.seen["rule:reconnect"] += 1
        phone = self.phones[i % PARTICIPANTS]
        if phone.token is None:
            return
        phone.close()
        phone.connect()
        phone.send({"type": "resume", "campaign": self.code, "token": phone.token, "seq": phone.max_seq})
        welcome = phone.frame()
        assert welcome["type"] == "welcome" and welcome["resumed"] is True, welcome
        mine = [(key[1], seq) for key, seq in self.acked.items() if key[0] == phone.pid]
        if resend and mine:
            msg_id = mine[-1][0]
            kind, entry = self._exchange(phone, {"type": "volunteer", "id": msg_id}, msg_id)
            # The id was acked: whatever the type sent now, the first result comes back, once.
            if self.acked[(phone.pid, msg_id)][1] != {}:
                assert kind == "ack" and entry.get("duplicate") is True, entry

    def participant_acts(self, i: int, kind: str, data: st.DataObject) -> None:
        """An action or query as a client means it (it may still be refused:
        wrong phase, own card, nothing left...)."""
        self.seen["rule:participant_acts"] += 1
        self.steps_in_phase += 1
        phone = self._joined(i)
        if phone is None:
            return
        you = phone.you or {}
        if kind == "place":
            holders = [p for p in self.phones if p.ws and p.pid and p.you and p.you.get("hand")]
            phone = holders[i % len(holders)] if holders else phone
            you = phone.you or {}
        msg_id = phone.next_id()
        msg: dict[str, Any] = {"type": kind, "id": msg_id}
        if kind == "write_card":
            msg["text"] = data.draw(CARD_TEXT)
            prompt = data.draw(st.sampled_from([None, "slow", "nope"]))
            if prompt:
                msg["prompt"] = prompt
        elif kind in ("support_card", "flag"):
            which = data.draw(st.integers(0, 50))
            msg["cid"] = self.cards[which % len(self.cards)] if self.cards else f"c{which}"
            if kind == "flag":
                msg["reason"] = data.draw(st.sampled_from([None, "", "spam"]))
        elif kind == "place":
            hand = you.get("hand") or {"hid": "h1", "items": ["c1", "c2"]}
            items, split = hand["items"], data.draw(st.integers(0, 8))
            offtopic = data.draw(st.booleans())
            msg.update(hid=hand["hid"], themes=[[items[:split]], [items[split:-1] if offtopic else items[split:]]],
                       offtopic=items[-1:] if offtopic else [])
        elif kind == "judge":
            jury = you.get("jury") or [{"case_id": "m1"}]
            msg.update(case_id=jury[0]["case_id"], verdict=data.draw(st.sampled_from(["hide", "keep", "maybe"])))
        elif kind == "suggest":
            msg["text"] = data.draw(st.text(max_size=20))
        elif kind == "evaluate":
            kind_, reply = self._exchange(phone, {"type": "next", "id": msg_id}, msg_id)
            task = reply.get("task") if kind_ == "reply" else None
            if not (task and task.get("kind") == "pair"):
                return
            msg_id = phone.next_id()
            msg = {"type": "evaluate", "id": msg_id, "kind": "pair", "data": {
                "a": task["a"]["iid"], "b": task["b"]["iid"],
                "choice": data.draw(st.sampled_from(["a", "b", "cant_decide", "z"]))}}
        self._exchange(phone, msg, msg_id)

    def participant_misbehaves(self, i: int, mtype: str, fields: dict[str, Any], valid_id: bool, bad_id: Any,
                               junk: bytes | None) -> None:
        """A message of any type with any fields, or a frame that is no
        message at all: answered, and harmless when refused."""
        self.seen["rule:participant_misbehaves"] += 1
        self.steps_in_phase += 1
        phone = self._joined(i)
        if phone is None:
            return
        if junk is not None:
            try:
                parsed = orjson.loads(junk)
            except orjson.JSONDecodeError:
                parsed = None
            if not isinstance(parsed, dict):
                kind, entry = self._exchange(phone, None, None, binary=junk)
                assert kind == "error" and entry["code"] == "bad_json", entry
                return
            if not isinstance(parsed.get("id"), str):
                # An object as only raw bytes can write it (a number past 64 bits): sent as is.
                kind, entry = self._exchange(phone, None, None, binary=junk)
                assert kind == "error" and entry["code"] == "bad_request", entry
                return
        msg_id = phone.next_id() if valid_id else bad_id
        answer_id = msg_id if isinstance(msg_id, str) and 0 < len(msg_id) <= 64 else None
        if answer_id is not None and (phone.pid, answer_id) in self.acked:
            return  # a retry, not a new message: reconnect covers those
        self._exchange(phone, {**fields, "type": mtype, "id": msg_id}, answer_id)

    # -- the facilitator ----------------------------------------------------------------------

    def facilitator_moves_on(self) -> None:
        """The next phase, as the console asks for it (with the index of the
        phase to end), once participants had a few steps in this one."""
        self.seen["rule:facilitator_moves_on"] += 1
        self.steps_in_phase = 0
        campaign = f"/api/campaigns/{self.campaign_id}"
        phase = self._http("GET", campaign).json()["phase"]
        action = "start" if phase["status"] == "draft" else "advance"
        r = self._http("POST", f"{campaign}/phase/{action}", {"index": phase["index"]})
        self.seen[f"http:{r.status_code}"] += 1
        assert (r.status_code == 200) == (phase["status"] in ("draft", "running", "paused")), (phase, r.text)

    def facilitator(self, variant: str, data: st.DataObject) -> None:
        self.seen[f"rule:facilitator {variant}"] += 1
        before = self.settled_seq()
        campaign = f"/api/campaigns/{self.campaign_id}"
        if variant == "phase":
            action = data.draw(st.sampled_from(["start", "pause", "resume", "advance", "extend", "explode"]))
            body = data.draw(st.one_of(
                st.none(), st.fixed_dictionaries({"index": st.integers(-1, 5)}),
                st.fixed_dictionaries({"seconds": st.one_of(st.integers(-5, 4000), st.floats(0, 10),
                                                            st.text(max_size=3))}),
                st.dictionaries(st.sampled_from(["index", "seconds"]), JSON_SCALARS, max_size=2)))
            r = self._http("POST", f"{campaign}/phase/{action}", body)
        else:
            which = data.draw(st.integers(0, 50))
            cid = self.cards[which % len(self.cards)] if self.cards else "c1"
            verdict = data.draw(st.sampled_from(["hide", "keep", "later"]))
            r = self._http("POST", f"{campaign}/moderation", {"cid": cid, "verdict": verdict})
        self.seen[f"http:{r.status_code}"] += 1
        if r.status_code != 200:
            assert r.status_code in (400, 404, 409), (r.status_code, r.text)
            self._unchanged(before, f"facilitator {variant} ({r.status_code}: {r.text[:200]})")

    # -- what must hold after every step and at the end ----------------------------------------------

    @invariant()
    def reads_answer(self) -> None:
        for path in ("", "/stats", "/moderation"):
            self._http("GET", f"/api/campaigns/{self.campaign_id}{path}")

    def teardown(self) -> None:
        self.seen["examples"] += 1
        try:
            self.seen[f"phase:{self._http('GET', f'/api/campaigns/{self.campaign_id}').json()['phase']['status']}"] += 1
            self.settled_seq()
            self._check_log()
        finally:
            for phone in self.phones:
                phone.close()

    def _check_log(self) -> None:
        store = self.live.server.engine.store
        events = {e.seq: e for e in store.events(self.campaign_id)}
        by_msg = {(e.data.get("pid"), e.data["msg"]): e.seq for e in events.values() if "msg" in e.data}
        for (pid, msg_id), (seq, result) in self.acked.items():
            if result == {}:
                continue  # acknowledged without recording anything (volunteer when already a sorter)
            if by_msg.get((pid, msg_id)) != seq:
                raise Crash(f"ack {pid}/{msg_id} at seq {seq} is not in the log as such: {events.get(seq)}")
            self.seen["acks found in the log"] += 1
        for key in self.refused:
            if key in by_msg:
                raise Crash(f"refused {key} is in the log at seq {by_msg[key]}")

        async def live_and_replayed(server: Any, campaign_id: str) -> tuple[Any, Any]:
            engine = server.engine
            live = orjson.loads(engine.state(campaign_id).snapshot())
            stored = await trio.to_thread.run_sync(engine.store.load, campaign_id)
            return live, orjson.loads((await trio.to_thread.run_sync(stored.rebuild)).snapshot())

        live, replayed = self.live.call(live_and_replayed, self.campaign_id)
        self.seen["states replayed"] += 1
        if live != replayed:
            diff = sorted(k for k in set(live) | set(replayed) if live.get(k) != replayed.get(k))
            raise Crash(f"the live state differs from a replay of the log in {diff}")


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ThreadedServer]:
    with threaded_server(tmp_path_factory.mktemp("statemachine")) as threaded:
        yield threaded


class _ErrorLog(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.ERROR)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


def test_the_protocol_holds_under_random_sessions(live: ThreadedServer) -> None:
    errors = _ErrorLog()
    logging.getLogger().addHandler(errors)
    try:
        ProtocolMachine.live = live
        ProtocolMachine.seen = Counter()
        run_state_machine_as_test(ProtocolMachine, settings=settings(
            max_examples=FUZZ_EXAMPLES, stateful_step_count=FUZZ_STEPS, deadline=None, database=None,
            derandomize=True, suppress_health_check=list(HealthCheck)))
    finally:
        logging.getLogger().removeHandler(errors)
    assert not errors.records, [r.getMessage() for r in errors.records[:5]]
    seen = ProtocolMachine.seen
    # The run did reach what it is meant to test: acks, refusals, a campaign past its start.
    assert seen["ack:write_card"] and seen["error:bad_request"] and seen["error:wrong_phase"], seen
    assert seen["error:bad_json"] and sum(n for k, n in seen.items() if k.startswith("reply:")), seen
    assert seen["acks found in the log"] >= seen["ack:write_card"] and seen["states replayed"] >= FUZZ_EXAMPLES, seen
    sorting = seen["ack:deal"] + seen["ack:volunteer"] + seen["error:nothing_left"]  # sort-phase answers
    assert sorting and seen["rule:reconnect"] and seen["rule:facilitator_moves_on"], seen
    assert seen["phase:running"] + seen["phase:between"] + seen["phase:finished"] + seen["phase:paused"], seen
