"""The engine's part of a frame, transport excluded: CPU microseconds per frame.

``make bench`` measures what a frame costs the whole server (CPU ÷ frames),
transport included, under a load whose timing depends on the machine. This
measures only what essaim adds on top of the transport, with no network and
no load generator: a real server (engine, SQLite, hubs) in this process,
N participant :class:`~essaim.server.ws.participant.Connection` objects
joined for real, whose ``send`` is a null transport (one checkpoint). Each
round gives every connection something to send, then waits until every
writer sent its frame; the process's CPU time over the rounds ÷ frames is
the engine's cost of a frame:

- ``ack``: one ack owed (what most frames of a campaign carry);
- ``phase+you``: a phase change (shared, encoded once) and the participant's
  own ``you`` part (built and encoded per frame), as a phase push sends.

The same rounds through the bare baselines' writer (a bounded memory channel
per connection, ``loadtests/baselines``) are the floor: what any trio server
of this shape spends per frame besides the transport. Rounds are spaced by
the server's ``update_interval``, so no writer waits on its pacing.

Usage: ``python -m loadtests.frame_path [--connections 2000] [--rounds 20]``.
Being CPU time in one process, side by side, the ratio holds on a shared
machine better than the load benchmark's figures; the absolute values do not.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from functools import partial
from pathlib import Path
from typing import Any

import trio

from essaim.server import Settings, serve
from essaim.server.ws.participant import Connection

from .gc_probe import _create, _phase
from .lean import Facilitator

__all__ = ["main", "measure"]

#: Seconds a round may take before the benchmark gives up (a writer that never sends is a bug).
ROUND_TIMEOUT = 60.0


class NullTransport:
    """An ASGI ``send`` that only counts: the transport's cost left out."""

    def __init__(self) -> None:
        self.frames = 0

    async def __call__(self, message: dict[str, Any]) -> None:
        self.frames += 1
        await trio.lowlevel.checkpoint()


async def _rounds(rounds: int, interval: float, expected: int, sent: Any, give: Any) -> float:
    """CPU microseconds per frame over ``rounds`` rounds of ``give()``."""
    cpu0, start = time.process_time(), sent()
    for _ in range(rounds):
        await trio.sleep(interval)
        target = sent() + expected
        give()
        with trio.fail_after(ROUND_TIMEOUT):
            while sent() < target:
                await trio.sleep(0.001)
    return 1e6 * (time.process_time() - cpu0) / max(sent() - start, 1)


async def measure(connections: int, rounds: int, data_dir: str, settings: dict[str, Any] | None = None,
                  ) -> dict[str, float]:
    config = Settings(host="127.0.0.1", port=0, data_dir=data_dir, admin_token="frame-path", **(settings or {}))
    out: dict[str, float] = {}
    async with trio.open_nursery() as nursery:
        server = await nursery.start(serve, config)
        facilitator = Facilitator(server.base_url, "frame-path")
        code = await trio.to_thread.run_sync(_create, facilitator)
        await trio.to_thread.run_sync(_phase, facilitator, "start")
        campaign_id = await server.engine.find(code)
        transport = NullTransport()
        conns = []
        for _ in range(connections):
            joined = await server.engine.join(campaign_id, {})
            conn = Connection(server.participant_socket, {"type": "websocket", "client": ("127.0.0.1", 0)},
                              transport)
            await conn._welcome(campaign_id, joined.pid, joined.token, resumed=False)
            conns.append(conn)
        interval = server.settings.update_interval * 1.5
        hub = server.hubs.get(campaign_id)
        async with trio.open_nursery() as writers:
            for conn in conns:
                writers.start_soon(conn._writer)
            await trio.sleep(interval)
            ack = {"id": "m1", "seq": 1, "result": {"cid": "c1"}}  # a support_card ack
            out["essaim ack"] = await _rounds(rounds, interval, len(conns), lambda: transport.frames,
                                              lambda: [c.outbox.ack(dict(ack)) for c in conns])

            def phase_change() -> None:
                hub.phase.version += 1  # re-encoded once, as after a real phase event
                for c in conns:
                    c.outbox.mark(phase=True, you=True)

            out["essaim phase+you"] = await _rounds(rounds, interval, len(conns), lambda: transport.frames,
                                                    phase_change)
            writers.cancel_scope.cancel()
        out["bare writer"] = await _bare_rounds(len(conns), rounds, interval)
        server.stop_requested.set()
    return out


async def _bare_rounds(connections: int, rounds: int, interval: float) -> float:
    """The baselines' writer (``bare_quart_trio.asgi_ws``) on the same null transport."""
    from .baselines import mini

    transport = NullTransport()
    frame = b'{"type":"update","seq":1,"acks":[{"id":"m1","seq":1,"result":{"cid":"c1"}}]}'

    async def write(outbox: trio.MemoryReceiveChannel[bytes]) -> None:
        async for f in outbox:
            await transport({"type": "websocket.send", "text": f.decode()})

    async with trio.open_nursery() as nursery:
        boxes = []
        for _ in range(connections):
            box, outbox = trio.open_memory_channel[bytes](mini.OUTBOX_FRAMES)
            boxes.append(box)
            nursery.start_soon(write, outbox)
        result = await _rounds(rounds, interval, connections, lambda: transport.frames,
                               lambda: [b.send_nowait(frame) for b in boxes])
        nursery.cancel_scope.cancel()
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--connections", type=int, default=2000)
    parser.add_argument("--rounds", type=int, default=20)
    parser.add_argument("--set", action="append", default=[], metavar="NAME=VALUE",
                        help="a server setting (e.g. gc_freeze_survivors=1000000000: no freezes, only the frame path)")
    args = parser.parse_args()
    settings = {name: int(value) for name, _, value in (s.partition("=") for s in args.set)}
    with tempfile.TemporaryDirectory(prefix="essaim-frame-path-") as tmp:
        result = trio.run(partial(measure, args.connections, args.rounds, str(Path(tmp) / "data"), settings))
    bare = result["bare writer"]
    for name, us in result.items():
        print(f"{name:18s} {us:7.1f} µs CPU/frame  ({us / bare:4.2f}x the bare writer)")


if __name__ == "__main__":
    main()
