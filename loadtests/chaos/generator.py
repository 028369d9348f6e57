"""The chaos suite's load: phones writing cards, each acknowledgement kept.

A lean asyncio generator (the ``websockets`` client, as ``loadtests.lean``),
but it measures what a fault test needs rather than latency: every action
carries a message id unique in the whole run (``p<phone>-<n>``) and every
acknowledgement is kept in a :class:`Ledger` with the seq the server gave
it, so the verdict can compare "acknowledged" with what the store holds.

A phone behaves as the web app does: one action in flight at a time, sent
again with the same id after ``unavailable`` or ``busy`` (short backoff),
and after a lost connection it resumes (token and seq) on the next URL of
the list (a load balancer trying the next gateway) and sends its
unacknowledged action again. Everything stops on the run's stop event.
"""

from __future__ import annotations

import asyncio
import random
import time
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import orjson
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed, InvalidHandshake, InvalidStatus
from websockets.typing import Origin

__all__ = ["Ledger", "Ack", "Phones", "RETRYABLE", "origin_of"]

#: Seconds a connection may take to open and be welcomed; a hung gateway
#: (SIGSTOP) is left for the next one after this.
CONNECT_SECONDS = 5.0
#: Seconds an action may stay unanswered on an open socket before the phone
#: gives up on that socket and resumes elsewhere (the app's watchdog): an
#: owner paused or killed must not hold a phone forever.
ANSWER_SECONDS = 8.0
#: Backoff before sending an action again after ``unavailable``/``busy``, and
#: before reconnecting. Short (the app waits 1-15 s) so that the time to
#: recover is measured to within a fraction of a second.
RETRY_SECONDS = 0.2
#: Pause between two actions of one phone: 40 phones make ~100 actions/s,
#: under the per-participant rate limit (5/s) and enough for a write burst.
THINK_SECONDS = 0.3
#: Error codes that mean "not now, nothing changed: send it again".
RETRYABLE = frozenset({"unavailable", "busy"})
#: Largest frame accepted from the server.
MAX_FRAME_BYTES = 1 << 20


@dataclass(frozen=True, slots=True)
class Ack:
    """One acknowledgement received: the action, the seq it got, when."""

    msg: str
    seq: int | None
    duplicate: bool
    at: float
    #: When the action was last sent (a retry after a fault is "sent after").
    sent: float


@dataclass
class Ledger:
    """Everything the phones were told, for the verdict."""

    acks: list[Ack] = field(default_factory=list)
    #: Action id -> the seq of its first acknowledgement that named one.
    seq_of: dict[str, int] = field(default_factory=dict)
    #: Actions acknowledged twice with different seqs (applied twice).
    conflicting: list[str] = field(default_factory=list)
    errors: Counter[str] = field(default_factory=Counter)
    reconnects: int = 0
    #: Actions the phones started (each sent until answered).
    sent_actions: int = 0

    def acked(self, ack: Ack) -> None:
        self.acks.append(ack)
        if ack.seq is None:
            return
        known = self.seq_of.setdefault(ack.msg, ack.seq)
        if known != ack.seq:
            self.conflicting.append(ack.msg)

    def first_ack_after(self, moment: float, phones: int) -> float | None:
        """Seconds from ``moment`` until every phone that acts had an action
        sent at or after it acknowledged (None while one has not)."""
        firsts: dict[str, float] = {}
        for ack in self.acks:
            if ack.sent >= moment:
                phone = ack.msg.split("-", 1)[0]
                firsts[phone] = min(firsts.get(phone, ack.at), ack.at)
        if len(firsts) < phones:
            return None
        return max(firsts.values()) - moment


@dataclass
class _Pending:
    frame: dict[str, Any]
    sent: float = 0.0


class Phone:
    """One participant writing cards (see the module's docstring)."""

    def __init__(self, index: int, phones: Phones) -> None:
        self.index, self.phones = index, phones
        self.token: str | None = None
        self.seq = 0
        self.counter = 0
        self.pending: _Pending | None = None
        self.rng = random.Random(index)
        self.url_index = index  # spread over the URLs, then move on after a failure

    def next_action(self) -> _Pending:
        self.counter += 1
        msg = f"p{self.index}-{self.counter}"
        self.phones.ledger.sent_actions += 1
        return _Pending({"type": "write_card", "id": msg, "text": f"Chaos card {msg}: fewer handovers"})

    def hello(self) -> dict[str, Any]:
        if self.token is None:
            return {"type": "join", "campaign": self.phones.code, "profile": {}, "lang": "en"}
        return {"type": "resume", "campaign": self.phones.code, "token": self.token, "seq": self.seq}

    async def run(self) -> None:
        stop = self.phones.stop
        while not stop.is_set():
            url = self.phones.urls[self.url_index % len(self.phones.urls)]
            try:
                await self._session(url)
            except (OSError, TimeoutError, InvalidHandshake, InvalidStatus, ConnectionError, ConnectionClosed):
                pass
            if stop.is_set():
                return
            self.phones.ledger.reconnects += 1
            self.url_index += 1
            await _sleep_or_stop(stop, RETRY_SECONDS * (0.5 + self.rng.random()))

    async def _session(self, url: str) -> None:
        async with connect(f"{url}?c={self.phones.code}", origin=origin_of(url), compression=None,
                           open_timeout=CONNECT_SECONDS, ping_interval=None, close_timeout=1,
                           max_size=MAX_FRAME_BYTES) as ws:
            await ws.send(orjson.dumps(self.hello()).decode())
            welcome = orjson.loads(await asyncio.wait_for(ws.recv(), CONNECT_SECONDS))
            if welcome.get("type") != "welcome":
                self.phones.ledger.errors[f"hello {welcome.get('code')}"] += 1
                raise ConnectionError(str(welcome.get("code")))
            self.token = welcome.get("token", self.token)
            self.seq = max(self.seq, int(welcome.get("seq") or 0))
            while not self.phones.stop.is_set():
                if self.pending is None:
                    if not self.phones.acting.is_set():
                        await _sleep_or_stop(self.phones.stop, THINK_SECONDS)
                        continue
                    self.pending = self.next_action()
                self.pending.sent = time.monotonic()
                await ws.send(orjson.dumps(self.pending.frame).decode())
                retry = await self._answer(ws)
                await _sleep_or_stop(self.phones.stop, RETRY_SECONDS if retry else THINK_SECONDS)

    async def _answer(self, ws: Any) -> bool:
        """Read frames until the pending action is answered; True: send it again."""
        assert self.pending is not None
        msg = self.pending.frame["id"]
        deadline = time.monotonic() + ANSWER_SECONDS
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                raise TimeoutError(f"{msg} unanswered")
            frame = orjson.loads(await asyncio.wait_for(ws.recv(decode=False), left))
            if isinstance(frame.get("seq"), int):
                self.seq = max(self.seq, frame["seq"])
            if frame.get("type") == "error":
                self.phones.ledger.errors[str(frame.get("code"))] += 1
                raise ConnectionError(str(frame.get("code")))
            for ack in frame.get("acks") or ():
                if ack.get("id") == msg:
                    seq = ack.get("seq")
                    self.phones.ledger.acked(Ack(msg, seq if isinstance(seq, int) else None,
                                                 bool(ack.get("duplicate")), time.monotonic(), self.pending.sent))
                    self.pending = None
                    return False
            for error in frame.get("errors") or ():
                if error.get("id") == msg:
                    code = str(error.get("code"))
                    self.phones.ledger.errors[code] += 1
                    if code in RETRYABLE:
                        return True
                    self.pending = None  # refused for good: never acknowledged, not retried
                    return False


def origin_of(url: str) -> Origin:
    """The Origin a browser on the server's own page sends (ws://h:p/ws -> http://h:p)."""
    return Origin("http" + url.split("/ws")[0].removeprefix("ws"))


async def _sleep_or_stop(stop: asyncio.Event, seconds: float) -> None:
    try:
        await asyncio.wait_for(stop.wait(), seconds)
    except TimeoutError:
        pass


class Phones:
    """``n`` phones on the WebSocket ``urls`` (``ws://host:port/ws``) of one campaign.

    ``acting`` is set while phones start new actions; cleared, they only
    finish (retry) the ones in flight, so the verdict can wait for quiet."""

    def __init__(self, urls: list[str], code: str, n: int) -> None:
        self.urls, self.code = urls, code
        self.ledger = Ledger()
        self.stop = asyncio.Event()
        self.acting = asyncio.Event()
        self.acting.set()
        self.phones = [Phone(i, self) for i in range(n)]
        self.tasks: list[asyncio.Task[None]] = []

    def start(self) -> None:
        self.tasks = [asyncio.create_task(p.run()) for p in self.phones]

    @property
    def in_flight(self) -> int:
        return sum(p.pending is not None for p in self.phones)

    async def settle(self, timeout: float) -> bool:
        """Stop starting actions and wait until none is in flight (True) or ``timeout``."""
        self.acting.clear()
        deadline = time.monotonic() + timeout
        while self.in_flight and time.monotonic() < deadline:
            await asyncio.sleep(0.1)
        return not self.in_flight

    async def close(self) -> None:
        self.stop.set()
        if self.tasks:
            await asyncio.wait(self.tasks, timeout=10)
        for t in self.tasks:
            t.cancel()
