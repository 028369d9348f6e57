"""One simulated participant, independent of the transport.

Both load generators (Locust's gevent users and the lean asyncio client)
drive the same :class:`Participant`: they feed it every frame received
(:meth:`Participant.receive`) and ask it what to send next
(:meth:`Participant.act`), sleeping the think time it returns. It keeps what
a real client keeps (token, last seq, actions not yet acked, hand, jury
cases, evaluation task) and reports measurements as :class:`Sample` s.
"""

from __future__ import annotations

import random
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from .workload import CAMPAIGN, Workload, think_time

__all__ = ["Participant", "Sample", "EXPECTED_REFUSALS", "ACK_TIMEOUT_SECONDS", "card_text"]

#: Refusals a real person meets in a correct session (a phase ends while
#: they type, nothing left to sort, a card already supported): counted as
#: answered requests, not failures. Any other error code is a failure.
EXPECTED_REFUSALS = frozenset({"nothing_left", "already_done", "own_card", "wrong_phase", "hand_open"})
#: ...and per action: a card suggested a moment ago may be hidden by its
#: jury before the support arrives (seen 24 times in 3,587 supports in a
#: 10,000-user campaign).
EXPECTED_REFUSALS_OF = {"support_card": frozenset({"not_found"})}
#: An action not acked after this long counts as failed (the ack SLO is 500 ms
#: at p99; ten seconds means the server lost it or is hopelessly behind).
ACK_TIMEOUT_SECONDS = 10.0
#: Most evaluation tasks / hands one participant asks for: bounds every loop.
MAX_TASKS = 64

_TOPICS = ("approval steps", "meetings", "shared drives", "shift handover", "purchase orders",
           "training", "the intranet", "parking", "safety briefings", "expense reports",
           "email threads", "planning tools", "onboarding", "the canteen", "remote work")
_PHRASES = ("Too many {t} for small things", "Simplify {t} for field teams",
            "Nobody owns {t}, so nothing changes", "Make {t} work on phones",
            "Cut the time we lose on {t}", "Ask the people doing {t} first")


def card_text(rng: random.Random) -> str:
    """A plausible card: few topics, so similar cards and suggestions occur."""
    return rng.choice(_PHRASES).format(t=rng.choice(_TOPICS))


@dataclass(slots=True)
class Sample:
    """One measurement: ``kind`` is ``ack``, ``push``, ``connect`` or
    ``console`` (a facilitator console's HTTP GET); ``name`` e.g. ``ack
    write_card``; ``error`` is None on success."""

    kind: str
    name: str
    seconds: float
    size: int = 0
    error: str | None = None


@dataclass(slots=True)
class _Pending:
    type: str
    frame: dict[str, Any]
    sent_at: float


@dataclass
class Participant:
    """A participant's roles (drawn once) and what their client knows."""

    rng: random.Random
    workload: Workload = CAMPAIGN
    compression: float = 1.0
    profile: Mapping[str, str] = field(default_factory=dict)
    campaign: str = ""
    # what the client keeps
    token: str | None = None
    pid: str | None = None
    seq: int = 0
    phase: dict[str, Any] | None = None
    pending: dict[str, _Pending] = field(default_factory=dict)
    counter: int = 0

    def __post_init__(self) -> None:
        w, r = self.workload, self.rng
        self.writer = r.random() < w.writer_share
        self.cards_left = _poissonish(w.cards_per_writer, r) if self.writer else 0
        self.supporter = r.random() < w.supporter_share
        self.sorter = r.random() < w.sorter_share
        self.flagger = r.random() < w.flagger_share
        self.hands_left = w.hands_per_sorter if self.sorter else 0
        self.comparisons_left = w.comparisons_per_participant
        self.volunteered = False
        self.own_cards: set[str] = set()
        self.seen_cards: list[str] = []
        self.suggested: list[str] = []
        self.hand: dict[str, Any] | None = None
        self.task: dict[str, Any] | None = None
        self.jury: list[dict[str, Any]] = []
        self.judged: set[str] = set()
        self.flagged = False
        self.supported = False
        self.asked_tasks = 0

    # -- session ----------------------------------------------------------------------------

    def hello(self) -> dict[str, Any]:
        """The first frame: ``join``, or ``resume`` once a token is known."""
        if self.token is None:
            return {"type": "join", "campaign": self.campaign, "profile": dict(self.profile), "lang": "en"}
        return {"type": "resume", "campaign": self.campaign, "token": self.token, "seq": self.seq}

    def resend(self, now: float) -> list[dict[str, Any]]:
        """Every action not acked yet, same ids, to send right after a resume."""
        for p in self.pending.values():
            p.sent_at = now
        return [p.frame for p in self.pending.values()]

    # -- receiving ------------------------------------------------------------------------

    def receive(self, msg: Mapping[str, Any], now: float) -> list[Sample]:
        """Apply one frame from the server; return what it measured."""
        kind = msg.get("type")
        samples: list[Sample] = []
        if kind == "welcome":
            self.token = msg.get("token", self.token)
            self.pid = msg.get("pid", self.pid)
            self._apply_state(msg, now, samples)
        elif kind == "update":
            for ack in msg.get("acks") or ():
                self._answered(ack, None, now, samples)
            for err in msg.get("errors") or ():
                self._answered(err, err.get("code") or "error", now, samples)
            for reply in msg.get("replies") or ():
                self._answered(reply, None, now, samples)
            self._apply_state(msg, now, samples)
        elif kind == "error":
            samples.append(Sample("ack", "error frame", 0.0, error=str(msg.get("code"))))
        return samples

    def _apply_state(self, msg: Mapping[str, Any], now: float, samples: list[Sample]) -> None:
        seq = msg.get("seq")
        if isinstance(seq, int) and seq > self.seq:
            self.seq = seq
        phase = msg.get("phase")
        if isinstance(phase, dict):
            changed = self.phase is None or (phase.get("index"), phase.get("status")) != (
                self.phase.get("index"), self.phase.get("status"))
            server_time = phase.get("server_time")
            if changed and self.phase is not None and isinstance(server_time, (int, float)):
                samples.append(Sample("push", f"push phase {phase.get('type')} {phase.get('status')}",
                                      max(now - server_time, 0.0)))
            if changed and self.phase is not None and phase.get("index") != self.phase.get("index"):
                self.task = None
            self.phase = phase
        you = msg.get("you")
        if isinstance(you, dict):
            if "hand" in you:
                self.hand = you["hand"]
            if "sorter" in you:
                self.volunteered = self.volunteered or bool(you["sorter"])
            if isinstance(you.get("jury"), list):
                self.jury = you["jury"]
            for card in you.get("cards") or ():
                if isinstance(card, dict) and "cid" in card:
                    self.own_cards.add(card["cid"])

    def _answered(self, entry: Mapping[str, Any], code: str | None, now: float, samples: list[Sample]) -> None:
        pending = self.pending.pop(str(entry.get("id")), None)
        if pending is None:
            return  # a duplicate ack after a resume, or not ours
        expected = code is None or code in EXPECTED_REFUSALS or code in EXPECTED_REFUSALS_OF.get(pending.type, ())
        error = None if expected else code
        samples.append(Sample("ack", f"ack {pending.type}", now - pending.sent_at, error=error))
        if code is not None:
            self._refused(pending.type, code)
            return
        result = entry.get("result") or {}
        if pending.type == "write_card" and "cid" in result:
            self.own_cards.add(result["cid"])
        elif pending.type == "deal":
            self.hand = result.get("hand")
            if self.hand is None:
                self.hands_left = 0
            else:
                self.seen_cards.extend(self.hand.get("items", ())[:4])
        elif pending.type == "place":
            self.hand = None
        elif pending.type == "suggest":
            self.suggested = [s["cid"] for s in entry.get("suggestions") or () if "cid" in s]
            self.seen_cards.extend(self.suggested[:2])
        elif pending.type == "next":
            self.task = entry.get("task")
            if self.task is None:
                self.comparisons_left = 0

    def _refused(self, kind: str, code: str) -> None:
        if kind == "deal" and code == "nothing_left":
            self.hands_left = 0
        elif kind == "deal" and code == "hand_open":
            pass  # the open hand is placed next
        elif kind == "support_card":
            self.supported = True
        elif kind == "next":
            self.comparisons_left = 0

    def expire(self, now: float) -> list[Sample]:
        """Actions waiting longer than ACK_TIMEOUT_SECONDS: failed."""
        late = [k for k, p in self.pending.items() if now - p.sent_at > ACK_TIMEOUT_SECONDS]
        return [Sample("ack", f"ack {self.pending.pop(k).type}", ACK_TIMEOUT_SECONDS, error="timeout")
                for k in late]

    # -- acting ---------------------------------------------------------------------------

    def act(self, now: float) -> tuple[list[dict[str, Any]], float]:
        """Frames to send now and the think time before the next call."""
        phase = self.phase or {}
        ptype, running = phase.get("type"), phase.get("status") == "running"
        w, c = self.workload, self.compression
        frames: list[dict[str, Any]] = []
        if not running:
            return frames, think_time(w.judge_think_seconds, c, self.rng)
        for case in self.jury:
            cid = case.get("case_id")
            if cid and cid not in self.judged:
                self.judged.add(cid)
                frames.append(self._action("judge", case_id=cid, verdict=self.rng.choice(("hide", "keep"))))
                return self._sent(frames, now), think_time(w.judge_think_seconds, c, self.rng)
        if self.flagger and not self.flagged:
            others = [cid for cid in self.seen_cards if cid not in self.own_cards]
            if others:
                self.flagged = True
                frames.append(self._action("flag", cid=self.rng.choice(others), reason="off-topic"))
        if ptype == "collect":
            frames += self._collect()
            actions = w.cards_per_writer * self.writer + 2 * self.supporter
        elif ptype == "sort":
            frames += self._sort()
            actions = (2 * w.hands_per_sorter + 1) * self.sorter
        elif ptype == "evaluate":
            frames += self._evaluate()
            actions = 2 * w.comparisons_per_participant
        else:
            actions = 1
        return self._sent(frames, now), think_time(w.mean_think(ptype or "", actions), c, self.rng)

    def _collect(self) -> list[dict[str, Any]]:
        if self.cards_left > 0 and (not self.supporter or self.rng.random() < 0.5):
            self.cards_left -= 1
            return [self._action("write_card", text=card_text(self.rng))]
        if self.supporter and not self.supported:
            choices = [cid for cid in self.suggested if cid not in self.own_cards]
            if choices:
                self.supported = True
                return [self._action("support_card", cid=choices[0])]
            if not self._waiting("suggest"):
                return [self._action("suggest", text=card_text(self.rng))]
        return []

    def _sort(self) -> list[dict[str, Any]]:
        if not self.sorter or self._waiting("deal") or self._waiting("place"):
            return []
        frames = []
        if not self.volunteered:
            self.volunteered = True
            frames.append(self._action("volunteer"))
        if self.hand:
            frames.append(self._place(self.hand))
            self.hands_left -= 1
            self.hand = None
        if self.hands_left > 0 and self.asked_tasks < MAX_TASKS:
            self.asked_tasks += 1
            frames.append(self._action("deal"))
        return frames

    def _place(self, hand: Mapping[str, Any]) -> dict[str, Any]:
        items = list(hand.get("items", ()))
        self.rng.shuffle(items)
        offtopic = items[-1:] if len(items) > 4 and self.rng.random() < 0.2 else []
        rest = items[: len(items) - len(offtopic)]
        half = max(1, len(rest) // 2)
        themes = [[rest[:2], rest[2:half]] if half > 2 else [rest[:half]], [rest[half:]]]
        themes = [[idea for idea in theme if idea] for theme in themes]
        return self._action("place", hid=hand.get("hid"), themes=[t for t in themes if t], offtopic=offtopic)

    def _evaluate(self) -> list[dict[str, Any]]:
        if self._waiting("next") or self._waiting("evaluate"):
            return []
        frames = []
        task = self.task
        if task and task.get("kind") == "pair" and self.comparisons_left > 0:
            self.comparisons_left -= 1
            self.task = None
            choice = self.rng.choices(("a", "b", "cant_decide"), (0.45, 0.45, 0.1))[0]
            frames.append(self._action("evaluate", kind="pair", data={
                "a": task["a"]["iid"], "b": task["b"]["iid"], "choice": choice}))
        if self.comparisons_left > 0 and self.asked_tasks < MAX_TASKS:
            self.asked_tasks += 1
            frames.append(self._action("next"))
        return frames

    def _waiting(self, kind: str) -> bool:
        return any(p.type == kind for p in self.pending.values())

    def _action(self, action_type: str, **fields: Any) -> dict[str, Any]:
        self.counter += 1
        return {"type": action_type, "id": f"a{self.counter}", **fields}

    def _sent(self, frames: list[dict[str, Any]], now: float) -> list[dict[str, Any]]:
        for f in frames:
            self.pending[f["id"]] = _Pending(f["type"], f, now)
        return frames


def _poissonish(mean: float, rng: random.Random) -> int:
    """An integer around ``mean``: floor plus a coin for the fraction."""
    whole = int(mean)
    return whole + (rng.random() < mean - whole)
