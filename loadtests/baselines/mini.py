"""The protocol subset the baseline servers speak, as pure functions.

Answers are shaped like the real server's so the same client code drives
both; results are fixed (no engine), so what is measured is the transport,
the framework and the fan-out, not the strategies.
"""

from __future__ import annotations

import argparse
import itertools
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from functools import partial
from typing import Any

import orjson

# The pacing arithmetic itself (no essaim state: importing it only loads modules).
from essaim.server.ws.pacing import FrameCost

__all__ = ["Campaign", "answer", "counters_frame", "phase_frame", "COUNTERS_INTERVAL_SECONDS",
           "COUNTERS_FRAME_BUDGET", "OUTBOX_FRAMES", "PhasePacer", "PHASE_PUSH_CPU_SHARE", "in_slices", "counters_slice_sizes", "broadcast_counters", "welcome", "reply_to", "counters_interval", "metrics_text", "parse_args", "tune_process"]

#: Same defaults as essaim serve's ``counters_interval`` and
#: ``counters_frame_budget``: a refresh to everyone every 5 s, stretched so it
#: costs at most 1,000 frames/s. ``--broadcast 1`` gives the naive 1 Hz one.
COUNTERS_INTERVAL_SECONDS = 5.0
COUNTERS_FRAME_BUDGET = 1000.0
#: Frames queued for one connection's writer; a full queue drops counters
#: (latest state wins) but never an ack (the sender waits instead).
OUTBOX_FRAMES = 64
#: Paced refreshes go out in slices this far apart (50 ms: a reader waits at most one slice).
PACING_SLICE_SECONDS = 0.05
#: Same default as essaim serve's ``phase_frame_budget``: phase frames per
#: second when paced, in PACING_SLICE_SECONDS slices.
PHASE_FRAME_BUDGET = 8000.0
#: Same default as essaim serve's ``phase_push_cpu_share``: a paced phase push
#: takes this share of the core, in slices sized from the measured frame cost.
PHASE_PUSH_CPU_SHARE = 0.8
PHASES = ("collect", "sort", "evaluate", "results")
HAND = [f"c{i}" for i in range(1, 9)]


@dataclass
class Campaign:
    code: str = "BARE00"
    campaign_id: str = "bare"
    seq: int = 1
    phase_index: int = -1
    status: str = "draft"
    participants: int = 0
    actions: int = 0
    frames_out: int = 0
    connections: int = 0
    ids: itertools.count = field(default_factory=lambda: itertools.count(1))

    def phase(self) -> dict[str, Any]:
        index = max(self.phase_index, 0)
        return {"index": index, "type": PHASES[index], "title": PHASES[index], "status": self.status,
                "deadline": None, "remaining": None, "overtime": False, "server_time": time.time()}

    def control(self, action: str) -> bool:
        """A facilitator phase action; False if unknown."""
        if action == "start" or (action == "advance" and self.phase_index < 0):
            self.phase_index, self.status = 0, "running"
        elif action == "advance":
            self.phase_index = min(self.phase_index + 1, len(PHASES) - 1)
            self.status = "running"
        elif action in ("pause", "resume"):
            self.status = "paused" if action == "pause" else "running"
        else:
            return action == "extend"
        self.seq += 1
        return True

    def counters(self) -> dict[str, int]:
        return {"participants": self.participants, "cards": self.actions, "placements": 0, "judgments": 0}


def welcome(c: Campaign, frame: dict[str, Any]) -> dict[str, Any]:
    resumed = frame.get("type") == "resume"
    if not resumed:
        c.participants += 1
    n = next(c.ids)
    return {"type": "welcome", "protocol": 1, "resumed": resumed, "token": frame.get("token") or f"t{n}",
            "pid": f"p{n}", "seq": c.seq, "campaign": {"code": c.code}, "phase": c.phase(),
            "counters": c.counters(), "you": {"prompts": [], "cards": [], "sorter": False, "hand": None,
                                              "jury": []}, "results": None}


def answer(c: Campaign, frame: Any) -> dict[str, Any] | None:
    """The reply to one client frame after the hello (None: nothing to say)."""
    if not isinstance(frame, dict):
        return {"type": "error", "code": "bad_json", "message": "frames must be JSON objects"}
    kind, msg_id = frame.get("type"), frame.get("id")
    if kind == "echo":
        return frame
    if kind == "suggest":
        return {"type": "update", "seq": c.seq, "replies": [{"id": msg_id, "suggestions": [
            {"cid": "c1", "text": "a card", "score": 0.5}]}]}
    if kind == "next":
        task = {"kind": "pair", "a": {"iid": "i1", "title": "one"}, "b": {"iid": "i2", "title": "two"}}
        return {"type": "update", "seq": c.seq, "replies": [{"id": msg_id, "task": task}]}
    c.actions += 1
    c.seq += 1
    result: dict[str, Any] = {}
    if kind == "write_card":
        result = {"cid": f"c{c.seq}", "hidden": False}
    elif kind == "deal":
        result = {"hand": {"hid": f"h{c.seq}", "items": HAND, "stage": 0}}
    return {"type": "update", "seq": c.seq, "acks": [{"id": msg_id, "seq": c.seq, "result": result}]}


def reply_to(c: Campaign, raw: str | bytes | None, joined: bool) -> bytes | None:
    """The encoded reply to one received frame: a welcome to the first
    (join/resume), then :func:`answer`. None: nothing to send."""
    frame = orjson.loads(raw or b"null")
    reply = answer(c, frame) if joined else welcome(c, frame)
    return None if reply is None else orjson.dumps(reply)


def counters_frame(c: Campaign) -> bytes:
    return orjson.dumps({"type": "update", "seq": c.seq, "counters": c.counters()})


def phase_frame(c: Campaign) -> bytes:
    return orjson.dumps({"type": "update", "seq": c.seq, "phase": c.phase(), "counters": c.counters()})


class PhasePacer:
    """Slices of a paced phase push, sized as essaim serve sizes them
    (:mod:`essaim.server.ws.pacing`): from this process's measured CPU per
    frame, starting from PHASE_FRAME_BUDGET until one is measured."""

    def __init__(self, c: Campaign) -> None:
        self.cost = FrameCost(lambda: c.frames_out, initial=PHASE_PUSH_CPU_SHARE / PHASE_FRAME_BUDGET)

    def slice_sizes(self) -> Callable[[], int]:
        """For one push: each call is the size of the next slice (called once per slice, after its sleep)."""
        self.cost.restart()
        first = True

        def size() -> int:
            nonlocal first
            if not first:
                self.cost.sample()
            first = False
            return self.cost.per_slice(PHASE_PUSH_CPU_SHARE, PACING_SLICE_SECONDS)

        return size


async def in_slices(items: list[Any], sizes: Callable[[], int], sleep: Callable[[float], Awaitable[object]],
                    each: Callable[[list[Any]], object]) -> None:
    """``each`` on consecutive slices of ``items``, PACING_SLICE_SECONDS
    apart (``sleep``: trio's or asyncio's), each as long as ``sizes()`` says
    when its turn comes: so a reader's action never waits behind thousands
    of writers woken at once."""
    start = 0
    while start < len(items):
        if start:
            await sleep(PACING_SLICE_SECONDS)
        end = start + max(1, sizes())
        each(items[start:end])
        start = end


async def broadcast_counters(c: Campaign, settings: dict[str, Any], boxes: Callable[[], list[Any]],
                             sleep: Callable[[float], Awaitable[object]],
                             fan_out: Callable[[bytes, list[Any]], object]) -> None:
    """Counters to everyone (``boxes()``), for ever, every
    :func:`counters_interval`; with ``settings["paced"]`` spread over the
    interval in slices instead of all at once, as essaim serve does."""
    while True:
        everyone = boxes()
        interval = counters_interval(settings["broadcast"], len(everyone), settings["budget"])
        if not settings["paced"]:
            await sleep(interval)
            fan_out(counters_frame(c), boxes())
            continue
        await in_slices(everyone, counters_slice_sizes(len(everyone), interval), sleep,
                        partial(fan_out, counters_frame(c)))
        await sleep(PACING_SLICE_SECONDS)


def counters_slice_sizes(connections: int, interval: float) -> Callable[[], int]:
    """Slice sizes that spread one counters refresh to ``connections`` over ``interval``."""
    per_slice = -(-connections // max(1, int(interval / PACING_SLICE_SECONDS)))
    return lambda: per_slice


def counters_interval(base: float, connections: int, budget: float) -> float:
    """Seconds until the next refresh; ``budget`` 0 means never stretched."""
    return max(base, connections / budget) if budget > 0 else base


def parse_args(description: str, *, asgi_ws: bool = False, paced: bool = True) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8100)
    parser.add_argument("--broadcast", type=float, default=COUNTERS_INTERVAL_SECONDS,
                        help="seconds between counter refreshes to everyone (1 for the naive 1 Hz broadcast)")
    parser.add_argument("--frame-budget", type=float, default=COUNTERS_FRAME_BUDGET,
                        help="most refresh frames per second in total (0: no limit, the naive broadcast)")
    if asgi_ws:
        parser.add_argument("--asgi-ws", action="store_true", help="serve /ws as a bare ASGI route")
    if paced:
        parser.add_argument("--paced", action="store_true",
                            help="spread each refresh over its interval, and phase frames as essaim serve does")
    return parser.parse_args()


def tune_process() -> None:
    """What essaim serve does too: more open files, calmer garbage collector."""
    import gc
    import resource

    _soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    # Default thresholds paused a 10,000-socket process for up to 0.9 s (stack-notes).
    gc.set_threshold(50_000, 20, 100)


def metrics_text(c: Campaign) -> str:
    """The two series the benchmark reads, named as essaim serve names them."""
    return (f"essaim_connections {c.connections}\n"
            f"essaim_frames_out_total {c.frames_out}\n")
