"""Side-by-side figures for docs/performance.md: one process of each server,
the same lean generator, the same run.

For each server (``essaim serve``, bare hypercorn + quart-trio, uvicorn +
websockets), on its own core:

1. *echo round trips/s*: 200 clients, one request in flight each, flat out
   for ``--seconds``. The baselines echo an ``echo`` frame; essaim answers a
   ``suggest`` query (its cheapest round trip) with the per-client frame
   interval and rate limit lifted, so the transport is what is measured.
2. *KiB per idle / active connection*: RSS delta over ``--idle`` joined
   sessions, idle, then after each sent one message a second for a while.
3. *sessions held with a 1 Hz broadcast*: ``--broadcast-clients`` sessions
   while the server refreshes counters to everyone every second (essaim:
   ``counters_interval=1`` with no frame budget, and one writer changing the
   counters); a session is held when no gap between two refreshes it
   received exceeded ``HELD_GAP_SECONDS``.

Run: ``taskset -c 1 python -m loadtests.perf`` (server on core 0).
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import time
from dataclasses import dataclass

import orjson
from websockets.asyncio.client import connect

from .lean import CONNECT_TIMEOUT_SECONDS, Facilitator, raise_open_files_limit
from .servers import KINDS, ServerProcess

__all__ = ["main"]

#: A session that went this long without a refresh did not keep up with 1 Hz.
HELD_GAP_SECONDS = 3.0
#: Joins per second when filling a server.
JOIN_RATE = 500.0
#: Settings that turn essaim's frame economy off for the raw transport figures.
ESSAIM_ECHO_SETTINGS = {"ESSAIM_UPDATE_INTERVAL": "0.001", "ESSAIM_RATE_PER_SECOND": "100000",
                        "ESSAIM_RATE_BURST": "100000"}
ESSAIM_BROADCAST_SETTINGS = {"ESSAIM_COUNTERS_INTERVAL": "1", "ESSAIM_COUNTERS_FRAME_BUDGET": "1000000000"}


@dataclass
class Figures:
    kind: str
    echo_per_second: float = 0.0
    kib_idle: float = 0.0
    kib_active: float = 0.0
    held: int = 0
    offered: int = 0
    broadcast_cpu: float = 0.0


class Session:
    """A bare protocol session: join, then whatever the test sends."""

    def __init__(self) -> None:
        self.ws = None
        self.last_refresh = 0.0
        self.worst_gap = 0.0
        self.refreshes = 0

    async def open(self, server: ServerProcess, code: str) -> None:
        self.ws = await connect(server.ws_url, origin=server.base_url, compression=None, ping_interval=None,
                                open_timeout=CONNECT_TIMEOUT_SECONDS, max_size=1 << 20)
        await self.ws.send(orjson.dumps({"type": "join", "campaign": code}).decode())
        welcome = orjson.loads(await asyncio.wait_for(self.ws.recv(), CONNECT_TIMEOUT_SECONDS))
        if welcome.get("type") != "welcome":
            raise ConnectionError(str(welcome))

    async def watch_refreshes(self, until: float) -> None:
        """Track the longest gap between counter refreshes until ``until``."""
        self.last_refresh = time.monotonic()
        try:
            while (left := until - time.monotonic()) > 0:
                raw = await asyncio.wait_for(self.ws.recv(), left)
                if b'"counters"' in (raw.encode() if isinstance(raw, str) else raw):
                    now = time.monotonic()
                    self.worst_gap = max(self.worst_gap, now - self.last_refresh)
                    self.last_refresh = now
                    self.refreshes += 1
        except (TimeoutError, Exception):
            pass
        self.worst_gap = max(self.worst_gap, until - self.last_refresh)

    async def close(self) -> None:
        if self.ws is not None:
            await self.ws.close()


async def open_sessions(server: ServerProcess, code: str, n: int) -> list[Session]:
    sessions, tasks = [], []
    for _ in range(n):
        s = Session()
        sessions.append(s)
        tasks.append(asyncio.create_task(s.open(server, code)))
        await asyncio.sleep(1 / JOIN_RATE)
    results = await asyncio.gather(*tasks, return_exceptions=True)
    return [s for s, r in zip(sessions, results) if not isinstance(r, BaseException)]


async def prepare(kind: str, cpu: str, **env: str) -> tuple[ServerProcess, Facilitator, str]:
    server = ServerProcess(kind, cpu=cpu)
    server.extra_env = env
    server.start()
    facilitator = Facilitator(server.base_url, server.admin_token)
    code = await facilitator.create()
    await facilitator.phase("start")
    return server, facilitator, code


async def echo_and_memory(kind: str, args: argparse.Namespace, f: Figures) -> None:
    server, _, code = await prepare(kind, args.server_cpu, **(ESSAIM_ECHO_SETTINGS if kind == "essaim" else {}))
    try:
        rss0 = server.rss_kib()
        sessions = await open_sessions(server, code, args.idle)
        await asyncio.sleep(2)
        f.kib_idle = (server.rss_kib() - rss0) / max(len(sessions), 1)
        counter = itertools.count()

        async def flat_out(s: Session, until: float) -> int:
            n = 0
            while time.monotonic() < until:
                msg_id = f"e{next(counter)}"
                frame = {"type": "echo", "id": msg_id} if kind != "essaim" else {
                    "type": "suggest", "id": msg_id, "text": "meetings"}
                await s.ws.send(orjson.dumps(frame).decode())
                while msg_id.encode() not in (await s.ws.recv()).encode():
                    pass  # a counters refresh or another frame: not our answer
                n += 1
            return n

        until = time.monotonic() + args.seconds
        counts = await asyncio.gather(*(flat_out(s, until) for s in sessions[:200]))
        f.echo_per_second = sum(counts) / args.seconds

        async def active(s: Session) -> None:
            for i in range(5):
                await s.ws.send(orjson.dumps({"type": "suggest" if kind == "essaim" else "echo", "id": f"x{i}",
                                              "text": "parking"}).decode())
                await asyncio.sleep(1)

        await asyncio.gather(*(active(s) for s in sessions), return_exceptions=True)
        f.kib_active = (server.rss_kib() - rss0) / max(len(sessions), 1)
        await asyncio.gather(*(s.close() for s in sessions), return_exceptions=True)
    finally:
        server.stop()


async def broadcast_held(kind: str, args: argparse.Namespace, f: Figures) -> None:
    env = ESSAIM_BROADCAST_SETTINGS if kind == "essaim" else {}
    server = ServerProcess(kind, cpu=args.server_cpu, broadcast=1.0, frame_budget=0.0)
    server.extra_env = env
    server.start()
    try:
        facilitator = Facilitator(server.base_url, server.admin_token)
        code = await facilitator.create()
        await facilitator.phase("start")
        sessions = await open_sessions(server, code, args.broadcast_clients)
        f.offered = args.broadcast_clients
        writer = Session()
        await writer.open(server, code)

        async def change_counters(until: float) -> None:
            for i in itertools.count():  # one card every 0.3 s: the counters change every refresh
                if time.monotonic() > until:
                    return
                await writer.ws.send(orjson.dumps({"type": "write_card", "id": f"w{i}",
                                                   "text": f"Card number {i} about parking"}).decode())
                await asyncio.sleep(0.3)

        async def drain_writer(until: float) -> None:
            try:
                while time.monotonic() < until:
                    await asyncio.wait_for(writer.ws.recv(), max(until - time.monotonic(), 0.01))
            except Exception:
                pass

        until = time.monotonic() + args.seconds
        cpu0 = server.cpu_seconds()
        await asyncio.gather(change_counters(until), drain_writer(until),
                             *(s.watch_refreshes(until) for s in sessions))
        f.broadcast_cpu = (server.cpu_seconds() - cpu0) / args.seconds
        f.held = sum(1 for s in sessions if s.worst_gap <= HELD_GAP_SECONDS and s.refreshes > 0)
        await asyncio.gather(*(s.close() for s in sessions + [writer]), return_exceptions=True)
    finally:
        server.stop()


async def amain(args: argparse.Namespace) -> None:
    raise_open_files_limit()
    kinds = args.servers.split(",")
    rows = []
    for kind in kinds:
        f = Figures(kind)
        await echo_and_memory(kind, args, f)
        await broadcast_held(kind, args, f)
        rows.append(f)
        print(f"{kind}: done", flush=True)
    print(f"\n{time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}; server on cpu {args.server_cpu}, generator "
          f"(lean asyncio websockets client) on the other core; {args.seconds:g} s per measurement")
    print("| server | echo round trips/s, 200 clients flat out | held of "
          f"{args.broadcast_clients} with a 1 Hz broadcast (server CPU) | KiB per idle / active connection |")
    print("|---|---|---|---|")
    for f in rows:
        print(f"| {KINDS[f.kind]} | {f.echo_per_second:,.0f} | {f.held:,} ({f.broadcast_cpu:.0%}) | "
              f"{f.kib_idle:.1f} / {f.kib_active:.1f} |")
    ours = next((f for f in rows if f.kind == "essaim"), None)
    for base in rows:
        if ours and base is not ours and base.kind.startswith("bare") and base.echo_per_second and base.held:
            print(f"essaim/{base.kind}: echo {ours.echo_per_second / base.echo_per_second:.2f}, "
                  f"held with 1 Hz broadcast {ours.held / base.held:.2f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--servers", default="essaim,bare,uvicorn")
    parser.add_argument("--server-cpu", default="0")
    parser.add_argument("--seconds", type=float, default=15.0)
    parser.add_argument("--idle", type=int, default=2000, help="sessions for the memory figures")
    parser.add_argument("--broadcast-clients", type=int, default=10000)
    asyncio.run(amain(parser.parse_args()))


if __name__ == "__main__":
    main()
