"""Which trio-native Valkey client carries cluster mode: coredis or valkey-glide,
measured on the cluster's own traffic (docs/scaling.md).

``python -m loadtests.bus_clients`` starts a real redis-server on a free
loopback port (as the tests do), then runs, for each client under trio:

- ``publish``: the owner's publication of one group commit, one XADD of a
  ~400-byte batch with its seq as the entry id, awaited one after the other
  (each commit waits for its own);
- ``pipelined``: one commit's publication with 16 replies to gateways in the
  same pipeline, as the owner sends them;
- ``round trip``: gateways with 64 requests each in flight; an owner task
  reads the request stream (XREAD BLOCK, COUNT 512) and answers each on the
  gateway's reply stream in one pipeline per read; each gateway reads its
  replies with XREAD BLOCK. Requests answered per second and round-trip
  p50/p99: the path of a phone's action through a gateway.

Both clients run side by side in one run; on a shared machine read the
ratio, not the absolute figures.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping, Sequence
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import trio

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))
from realservers.redis import RedisServer, redis_binary

__all__ = ["main"]

Entry = tuple[bytes, Mapping[bytes, bytes]]
#: A batch of a few events as the owner publishes it (bytes of JSON).
BATCH = b"x" * 400
#: Replies in one pipelined publication: the acks of one group commit.
REPLIES_PER_COMMIT = 16
#: Requests each simulated gateway keeps in flight in the round-trip test.
IN_FLIGHT = 64


class Glide:
    name = "valkey-glide"

    def __init__(self, port: int) -> None:
        self.port = port

    @asynccontextmanager
    async def connected(self) -> AsyncIterator[Glide]:
        from glide import GlideClient, GlideClientConfiguration, NodeAddress
        self.c = await GlideClient.create(GlideClientConfiguration([NodeAddress("127.0.0.1", self.port)]))
        try:
            yield self
        finally:
            await self.c.close()

    async def xadd(self, key: str, fields: dict[str, bytes], ident: str | None = None) -> None:
        from glide import StreamAddOptions, TrimByMaxLen
        await self.c.xadd(key, list(fields.items()),
                          StreamAddOptions(id=ident, trim=TrimByMaxLen(exact=False, threshold=100_000)))

    async def pipeline(self, adds: Sequence[tuple[str, dict[str, bytes], str | None]]) -> None:
        from glide import Batch, StreamAddOptions
        batch = Batch(is_atomic=False)
        for key, fields, ident in adds:
            batch.xadd(key, list(fields.items()), StreamAddOptions(id=ident))
        await self.c.exec(batch, raise_on_error=True)

    async def xread(self, streams: dict[str, str], count: int, block_ms: int) -> list[tuple[str, list[Entry]]]:
        from glide import StreamReadOptions
        got = await self.c.xread(streams, StreamReadOptions(block_ms=block_ms, count=count))
        return [(k.decode(), [(i, dict(f)) for i, f in v.items()])
                for k, v in (got or {}).items()]


class Coredis:
    name = "coredis"

    def __init__(self, port: int) -> None:
        self.port = port

    @asynccontextmanager
    async def connected(self) -> AsyncIterator[Coredis]:
        import coredis
        self.c = coredis.Redis.from_url(f"redis://127.0.0.1:{self.port}")
        async with self.c:
            yield self

    async def xadd(self, key: str, fields: dict[str, bytes], ident: str | None = None) -> None:
        from coredis.tokens import PureToken
        await self.c.xadd(key, fields, identifier=ident, trim_strategy=PureToken.MAXLEN, threshold=100_000,
                          trim_operator=PureToken.APPROXIMATELY)

    async def pipeline(self, adds: Sequence[tuple[str, dict[str, bytes], str | None]]) -> None:
        async with self.c.pipeline(transaction=False) as p:
            for key, fields, ident in adds:
                p.xadd(key, fields, identifier=ident)

    async def xread(self, streams: dict[str, str], count: int, block_ms: int) -> list[tuple[str, list[Entry]]]:
        got = await self.c.xread(streams, count=count, block=block_ms)
        return [(k.decode(), [(e.identifier, e.field_values) for e in v]) for k, v in (got or {}).items()]


async def _timed(n: int, step: Callable[[int], Awaitable[None]]) -> float:
    started = time.perf_counter()
    for i in range(n):
        await step(i)
    return n / (time.perf_counter() - started)


async def _round_trip(make: Callable[[], Any], tag: str, gateways: int, seconds: float) -> tuple[float, float, float]:
    """Requests/s and round-trip p50/p99 (ms) of gateways -> owner -> gateways."""
    done = 0
    rtts: list[float] = []
    stop = trio.Event()

    async def owner() -> None:
        async with make().connected() as requests, make().connected() as replies:
            last = "$"
            while not stop.is_set():
                for _, entries in await requests.xread({f"{tag}:req": last}, 512, 100):
                    last = entries[-1][0].decode()
                    await replies.pipeline([(f"{tag}:rep:{f[b'gw'].decode()}", {"r": f[b'r']}, None)
                                            for _, f in entries])

    async def gateway(g: int) -> None:
        sent: dict[bytes, float] = {}
        room = trio.Semaphore(IN_FLIGHT)

        async def send(sender: Any) -> None:
            i = 0
            while not stop.is_set():
                await room.acquire()
                key = f"{g}:{i}".encode()
                sent[key] = time.perf_counter()
                await sender.xadd(f"{tag}:req", {"gw": str(g).encode(), "r": key})
                i += 1

        async def read(reader: Any) -> None:
            nonlocal done
            last = "0-0"
            while not stop.is_set():
                for _, entries in await reader.xread({f"{tag}:rep:{g}": last}, 512, 100):
                    last = entries[-1][0].decode()
                    now = time.perf_counter()
                    for _, f in entries:
                        rtts.append(now - sent.pop(f[b"r"]))
                        done += 1
                        room.release()

        async with make().connected() as sender, make().connected() as reader, trio.open_nursery() as n:
            n.start_soon(send, sender)
            n.start_soon(read, reader)
            await stop.wait()
            n.cancel_scope.cancel()

    async with trio.open_nursery() as n:
        n.start_soon(owner)
        for g in range(gateways):
            n.start_soon(gateway, g)
        await trio.sleep(1.0)  # warm up
        d0, rtts[:] = done, []
        started = time.perf_counter()
        await trio.sleep(seconds)
        rate = (done - d0) / (time.perf_counter() - started)
        q = statistics.quantiles(rtts, n=100) if len(rtts) > 100 else [0.0] * 99
        stop.set()
    return rate, 1000 * q[49], 1000 * q[98]


async def measure(client: Any, make: Callable[[], Any], n: int, seconds: float, gateways: int) -> dict[str, float]:
    async with client.connected():
        tag = f"{client.name}:{time.time()}"
        publish = await _timed(n, lambda i: client.xadd(f"{tag}:ev", {"b": BATCH}, f"{i + 1}-0"))
        pipelined = await _timed(n // 4, lambda i: client.pipeline(
            [(f"{tag}:ev2", {"b": BATCH}, f"{i + 1}-0")]
            + [(f"{tag}:rep:{r % 4}", {"r": b"ack"}, None) for r in range(REPLIES_PER_COMMIT)]))
    rate, p50, p99 = await _round_trip(make, f"{tag}:rt", gateways, seconds)
    return {"publish": publish, "pipelined": pipelined, "round_trip": rate, "p50": p50, "p99": p99}


async def amain(args: argparse.Namespace) -> None:
    with RedisServer(redis_binary()) as server:
        print(f"redis-server on {server.url}; {args.commits} commits, round trips for {args.seconds:g} s "
              f"from {args.gateways} gateways x {IN_FLIGHT} in flight (a shared machine: read the ratios)")
        print(f"{'client':14} {'publish/s':>10} {'commit+16 replies/s':>20} {'round trips/s':>14} "
              f"{'p50 ms':>7} {'p99 ms':>7}")
        for kind in (Glide, Coredis) * args.repeat:
            r = await measure(kind(server.port), lambda kind=kind: kind(server.port), args.commits, args.seconds,
                              args.gateways)
            print(f"{kind.name:14} {r['publish']:10.0f} {r['pipelined']:20.0f} {r['round_trip']:14.0f} "
                  f"{r['p50']:7.1f} {r['p99']:7.1f}", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--commits", type=int, default=4000)
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--gateways", type=int, default=3)
    parser.add_argument("--repeat", type=int, default=2, help="alternate the clients this many times")
    trio.run(amain, parser.parse_args())


if __name__ == "__main__":
    main()
