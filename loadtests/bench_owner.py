"""Owner throughput in cluster mode (``make bench-owner``): commands per second
one campaign owner acknowledges from 10 simulated gateways, against a
100,000-participant state (docs/scaling.md).

The owner is a real ``ClusterEngine`` on a SQLite store (durable acks), in
this process, with a real redis-server. It creates a campaign, takes
``--participants`` joins (the state every command then works on) and
starts the collection phase. A second process runs ``--gateways``
simulated gateways: each is the real gateway link
(:class:`~essaim.cluster.gateway_link.GatewayLink`: its own connections,
request stream entries, reply stream) keeping ``--in-flight`` ``write_card``
commands of random participants outstanding. Printed: commands acked per
second over ``--seconds`` (gateway side), events made durable per second
and the owner process's CPU share (owner side), and the published stream
entries. Run it on a quiet machine for the absolute figure; on a shared one
read it with the machine's load.
"""

from __future__ import annotations

import argparse
import json
import random
import resource
import secrets
import sys
import tempfile
import time
from pathlib import Path

import trio

from essaim import FACILITATOR, CampaignTemplate, Command
from essaim.cluster import open_cluster_engine
from essaim.cluster.bus import Bus
from essaim.cluster.gateway_link import GatewayLink
from essaim.engine._owner import hash_token
from essaim.errors import CommandError
from essaim.plugin import PluginHost

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))
from realservers.redis import RedisServer, redis_binary

__all__ = ["main"]

TEMPLATE = """
[campaign]
title = "Owner throughput"
[[phase]]
type = "collect"
title = "Ideas"
duration = "60m"
[collection.settings]
"""
#: Joins in flight while the state is built (the writer batches them).
JOIN_CONCURRENCY = 500


async def build_state(engine, participants: int) -> str:
    created = await engine.create_campaign(CampaignTemplate.parse(TEMPLATE.replace("[collection.settings]\n", "")))
    cid = created.campaign_id
    started = time.perf_counter()
    next_one = iter(range(participants))

    async def joiner() -> None:
        for _ in next_one:
            await engine.join_hashed(cid, {}, hash_token(secrets.token_urlsafe(8)))

    async with trio.open_nursery() as nursery:
        for _ in range(JOIN_CONCURRENCY):
            nursery.start_soon(joiner)
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"state: {participants} participants joined in {time.perf_counter() - started:.1f} s; owner process "
          f"peak RSS {rss:.0f} MiB", flush=True)
    await engine.execute(cid, FACILITATOR, Command("start"))
    return cid


async def owner(args: argparse.Namespace) -> None:
    with RedisServer(redis_binary()) as redis, tempfile.TemporaryDirectory() as data:
        async with open_cluster_engine(redis.url, Path(data) / "owner.sqlite3") as engine:
            cid = await build_state(engine, args.participants)
            samples: list[tuple[float, int, float, int]] = []

            async def sample() -> None:  # the owner's counters, to read over the gateways' window
                while True:
                    samples.append((time.time(), engine.writer.events_written, time.process_time(),
                                    engine.owner_link.published))
                    await trio.sleep(0.25)

            async with trio.open_nursery() as nursery:
                nursery.start_soon(sample)
                gateways = await trio.run_process(
                    [sys.executable, "-m", "loadtests.bench_owner", "--as-gateways", redis.url, cid,
                     "--participants", str(args.participants), "--gateways", str(args.gateways),
                     "--in-flight", str(args.in_flight), "--seconds", str(args.seconds)],
                    capture_stdout=True, check=True)
                nursery.cancel_scope.cancel()
            report = json.loads(gateways.stdout.decode().strip().splitlines()[-1])
            inside = [s for s in samples if report["start"] <= s[0] <= report["end"]]
            (t0, e0, c0, p0), (t1, e1, c1, p1) = inside[0], inside[-1]
            print(f"{args.gateways} simulated gateways x {args.in_flight} in flight, {args.seconds:g} s, "
                  f"{args.participants} participants:")
            print(f"  commands acked: {report['acked'] / report['seconds']:.0f}/s  (refused: {report['refused']}, "
                  f"errors: {report['errors']})")
            print(f"  owner over the same window: {(e1 - e0) / (t1 - t0):.0f} durable events/s, CPU "
                  f"{(c1 - c0) / (t1 - t0):.0%} of one core, {(p1 - p0) / (t1 - t0):.0f} stream entries and "
                  "replies published/s")


async def gateways(args: argparse.Namespace) -> None:
    url, cid = args.as_gateways
    host = PluginHost.load()
    acked = refused = errors = 0
    stop = trio.Event()

    async def gateway(g: int) -> None:
        nonlocal acked, refused, errors
        send, read = await Bus.connect(url, name=f"sim-{g}-send"), await Bus.connect(url, name=f"sim-{g}-read")
        link = GatewayLink(f"sim{g}-{secrets.token_hex(3)}", host, send, read)
        room = trio.Semaphore(args.in_flight)
        rng = random.Random(g)

        def done(ok: object, error: CommandError | None) -> None:
            nonlocal acked, refused, errors
            if error is None:
                acked += 1
            elif error.code in ("busy", "limit_exceeded", "too_many_cards", "rejected"):
                refused += 1
            else:
                errors += 1
            room.release()

        try:
            async with trio.open_nursery() as nursery:
                await nursery.start(link.run_reader)
                nursery.start_soon(link.run_sender)
                nursery.start_soon(link.run_deadlines)
                n = 0
                while not stop.is_set():
                    await room.acquire()
                    n += 1
                    pid = f"p{rng.randrange(1, args.participants + 1)}"
                    link.request(cid, "cmd", {"role": "participant", "pid": pid, "type": "write_card",
                                              "args": {"text": f"idea {n} from gateway {g}"}, "msg": f"g{g}-{n}"},
                                 done)
                nursery.cancel_scope.cancel()
        finally:
            await send.close()
            await read.close()

    async with trio.open_nursery() as nursery:
        for g in range(args.gateways):
            nursery.start_soon(gateway, g)
        await trio.sleep(2.0)  # warm up
        a0, t0, start = acked, time.monotonic(), time.time()
        await trio.sleep(args.seconds)
        report = {"acked": acked - a0, "seconds": time.monotonic() - t0, "refused": refused, "errors": errors,
                  "start": start, "end": time.time()}
        stop.set()
        nursery.cancel_scope.cancel()
    print(json.dumps(report), flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--participants", type=int, default=100_000)
    parser.add_argument("--gateways", type=int, default=10)
    parser.add_argument("--in-flight", type=int, default=64, help="commands each gateway keeps outstanding")
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--as-gateways", nargs=2, metavar=("URL", "CAMPAIGN"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    trio.run(gateways if args.as_gateways else owner, args)


if __name__ == "__main__":
    main()
