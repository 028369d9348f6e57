"""A scenario's verdict: what the phones were told against what the store holds.

- **lost**: an action acknowledged to a phone whose card is not in the
  store's log (must be 0);
- **duplicates**: an action whose card is in the log more than once, or
  acknowledged with a seq that is not the one its card has in the log, or
  acknowledged twice with two seqs (must be 0);
- **time to recover**: from the moment the scenario names (the fault, or
  the end of an outage it caused) until *every* phone had an action sent
  after that moment acknowledged (:meth:`Ledger.first_ack_after`);
- **views converged**: every serving process, asked by a phone resuming on
  it, reports the seq of the log's last event (within a few seconds).
"""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field

import orjson
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed, InvalidHandshake

from essaim.model.events import Event

from .generator import Ledger, origin_of

__all__ = ["Verdict", "compare", "views_converge", "HEADER"]

#: Seconds every serving process gets to show the log's last seq to a resuming phone.
CONVERGE_SECONDS = 15.0


@dataclass
class Verdict:
    scenario: str
    measured_from: str
    bound: float
    recovered: float | None = None
    acked: int = 0
    lost: int = 0
    duplicates: int = 0
    converged: bool = False
    notes: list[str] = field(default_factory=list)
    #: A check of the scenario's own failed (e.g. the stale owner still owns).
    failed: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return (self.lost == 0 and self.duplicates == 0 and self.converged and not self.failed
                and self.recovered is not None and self.recovered <= self.bound)

    def row(self) -> str:
        recovered = "not recovered" if self.recovered is None else f"{self.recovered:.1f}"
        return (f"| {self.scenario} | {self.measured_from} | {recovered} | {self.bound:g} | {self.acked} "
                f"| {self.lost} | {self.duplicates} | {'yes' if self.converged else 'NO'} "
                f"| {'pass' if self.ok else 'FAIL'} |")


HEADER = ("| scenario | recovery measured from | time to recover (s) | bound (s) | acks | acks lost | "
          "duplicates | views converged | verdict |\n|---|---|---|---|---|---|---|---|---|")


def compare(ledger: Ledger, log: Sequence[Event], verdict: Verdict) -> None:
    """Fill ``verdict``'s acked, lost and duplicates from the ledger and the log."""
    # Message ids are unique per participant (the phones' are unique in the
    # whole run: "p<phone>-<n>"; a prefilled campaign's repeat across people).
    in_log: dict[str, list[int]] = {}
    per_author: Counter[tuple[str, str]] = Counter()
    for event in log:
        if event.type == "card_written":
            msg = str(event.data.get("msg"))
            in_log.setdefault(msg, []).append(event.seq)
            per_author[(str(event.data.get("pid")), msg)] += 1
    acked = {ack.msg for ack in ledger.acks}
    verdict.acked = len(acked)
    lost = sorted(acked - in_log.keys())
    twice = sorted(f"{pid}/{msg}" for (pid, msg), n in per_author.items() if n > 1)
    wrong_seq = sorted(msg for msg, seq in ledger.seq_of.items() if msg in in_log and in_log[msg][0] != seq)
    verdict.lost = len(lost)
    verdict.duplicates = len(twice) + len(wrong_seq) + len(set(ledger.conflicting))
    for label, msgs in (("lost", lost), ("in the log twice", twice), ("acked with another seq", wrong_seq),
                        ("acked with two seqs", sorted(set(ledger.conflicting)))):
        if msgs:
            verdict.notes.append(f"{label}: {', '.join(msgs[:10])}{' ...' if len(msgs) > 10 else ''}")
    errors = Counter(ledger.errors)
    verdict.notes.append(f"{ledger.sent_actions} actions, {len(ledger.acks)} acks "
                         f"({sum(a.duplicate for a in ledger.acks)} as duplicate), {ledger.reconnects} reconnects, "
                         f"errors {dict(errors) or 'none'}")


async def _seq_seen(url: str, code: str, token: str) -> int | None:
    try:
        async with connect(f"{url}?c={code}", origin=origin_of(url), compression=None, open_timeout=5,
                           ping_interval=None, close_timeout=1) as ws:
            await ws.send(orjson.dumps({"type": "resume", "campaign": code, "token": token, "seq": 0}).decode())
            welcome = orjson.loads(await asyncio.wait_for(ws.recv(), 5))
            seq = welcome.get("seq") if welcome.get("type") == "welcome" else None
            return seq if isinstance(seq, int) else None
    except (OSError, TimeoutError, InvalidHandshake, ConnectionClosed, orjson.JSONDecodeError):
        return None  # not there yet: asked again


async def views_converge(urls: Sequence[str], code: str, token: str, last_seq: int) -> bool:
    """Every URL's process, asked by a resuming phone, shows ``last_seq``."""
    deadline = time.monotonic() + CONVERGE_SECONDS
    waiting = list(urls)
    while waiting and time.monotonic() < deadline:
        seen = await asyncio.gather(*(_seq_seen(url, code, token) for url in waiting))
        waiting = [url for url, seq in zip(waiting, seen, strict=True) if seq != last_seq]
        if waiting:
            await asyncio.sleep(0.5)
    return not waiting
