"""GC probe (``make bench-gc``): what the garbage collector costs a server
holding N real sessions, measured without needing a quiet machine.

The server runs in this process (``essaim.server.serve``, real hypercorn on
127.0.0.1, a real SQLite file); the sessions come from a lean generator
worker process (``loadtests.fleet_processes``) that joins N participants and
plays the campaign workload while the facilitator runs collect then sort.
Then, in the server process:

- **tracked objects per session**: objects the collector tracks (``gc``'s
  generations plus the frozen ones) now, minus before the joins, ÷ N; and
  how many of them a full collection still walks (not frozen);
- **a full collection now**: one ``gc.collect()`` timed in wall time and in
  this process's CPU time (the CPU time hardly moves with the neighbours'
  load), i.e. the pause an automatic full collection would make;
- **the longest automatic pause** seen during the run, and of a full one.

Counts are what the choices change (freezing, fewer objects per session);
the CPU time of one full collection follows the objects it walks.
"""

from __future__ import annotations

import argparse
import gc
import subprocess
import sys
import tempfile
import time
from collections import Counter
from dataclasses import asdict, dataclass, field
from functools import partial
from pathlib import Path
from typing import Any

import orjson
import trio

from essaim.server import Settings, serve
from essaim.server.ws.transports import tracked_count

from .lean import Facilitator, raise_open_files_limit
from .servers import LOAD_JOIN_RATE_PER_SECOND, LOAD_SOCKETS_PER_ADDRESS

__all__ = ["GcProbe", "probe", "main"]

#: Joins per second of the generator (as make bench).
JOIN_RATE = 400.0
#: Seconds a worker may take to answer one command.
WORKER_ANSWER_SECONDS = 30.0


@dataclass
class GcProbe:
    sessions: int
    welcomed: int = 0
    #: Objects tracked by the collector per session (frozen or not).
    tracked_per_session: float = 0.0
    #: Of those, objects a full collection still walks (not frozen).
    walked_per_session: float = 0.0
    walked_total: int = 0
    frozen_total: int = 0
    #: One gc.collect() at the end: wall and CPU milliseconds.
    full_collect_ms: float = 0.0
    full_collect_cpu_ms: float = 0.0
    #: Longest automatic collection pause during the run, and of a full one (ms).
    longest_pause_ms: float = 0.0
    longest_full_pause_ms: float = 0.0
    longest_pause_cpu_ms: float = 0.0
    full_collections: int = 0
    #: Freezes by the server's Freezer, and its longest collection (ms).
    freezes: int = 0
    #: Young collections the Freezer ran to promote objects that stayed young.
    promotions: int = 0
    longest_freeze_ms: float = 0.0
    longest_freeze_cpu_ms: float = 0.0
    #: The most objects one freeze froze (the Freezer's estimate).
    largest_freeze: int = 0
    #: Objects in generations 0, 1 and 2 at the end (not frozen).
    by_generation: list[int] = field(default_factory=list)
    #: The Freezer's CPU time over the phases (not the joins), as a share of one core.
    freezer_cpu_share: float = 0.0
    #: Tracked objects per session still there once every session closed (what a freeze could leak).
    left_per_session: float = 0.0
    #: With ``types``: the types a full collection walks most, per session.
    walked_types: dict[str, float] = field(default_factory=dict)

    def line(self) -> str:
        return (f"{self.sessions:6d} sessions ({self.welcomed} welcomed): {self.tracked_per_session:6.1f} tracked "
                f"objects/session, {self.walked_per_session:6.1f} walked by a full collection "
                f"({self.walked_total:,} walked: {self.by_generation} by generation, {self.frozen_total:,} frozen); one full collection "
                f"{self.full_collect_ms:6.1f} ms ({self.full_collect_cpu_ms:6.1f} ms CPU); longest automatic "
                f"pause {self.longest_pause_ms:6.1f} ms ({self.longest_pause_cpu_ms:.1f} ms CPU), of a full one {self.longest_full_pause_ms:6.1f} ms "
                f"({self.full_collections} full); {self.freezes} freezes ({self.promotions} young collections of its own), longest {self.longest_freeze_ms:.1f} ms "
                f"({self.longest_freeze_cpu_ms:.1f} ms CPU), largest {self.largest_freeze:,} objects, "
                f"{self.freezer_cpu_share:.1%} of a core; "
                f"{self.left_per_session:.1f} objects/session left once all closed" + "".join(f"\n    {k:6.1f}  {name}" for name, k in self.walked_types.items()))


class _Worker:
    """A ``loadtests.fleet_processes`` worker, one JSON line per command."""

    def __init__(self, process: trio.Process) -> None:
        self.process = process
        self._buffer = b""

    async def ask(self, command: str) -> Any:
        assert self.process.stdin is not None and self.process.stdout is not None
        await self.process.stdin.send_all(command.encode() + b"\n")
        with trio.fail_after(WORKER_ANSWER_SECONDS):
            while b"\n" not in self._buffer:
                chunk = await self.process.stdout.receive_some()
                if not chunk:
                    raise RuntimeError(f"the generator worker exited (asked {command!r})")
                self._buffer += chunk
        line, _, self._buffer = self._buffer.partition(b"\n")
        return orjson.loads(line)


def _types() -> Counter[str]:
    """Objects in the collector's generations by type (not the frozen ones)."""
    return Counter(type(o).__qualname__ for o in gc.get_objects())


def _tracked() -> tuple[int, int]:
    """(objects in the collector's generations, frozen objects)."""
    return len(gc.get_objects()), gc.get_freeze_count()


async def probe(sessions: int, seconds: float, data_dir: str, settings: dict[str, Any] | None = None,
                types: int = 0) -> GcProbe:
    result = GcProbe(sessions)
    config = Settings(host="127.0.0.1", port=0, data_dir=data_dir, admin_token="probe",
                      join_rate_per_second=LOAD_JOIN_RATE_PER_SECOND, join_burst=LOAD_JOIN_RATE_PER_SECOND,
                      max_sockets_per_address=LOAD_SOCKETS_PER_ADDRESS, **(settings or {}))
    async with trio.open_nursery() as nursery:
        server = await nursery.start(serve, config)
        facilitator = Facilitator(server.base_url, "probe")
        code = await trio.to_thread.run_sync(_create, facilitator)
        gc.collect()
        walked0, frozen0 = _tracked()
        types0 = _types() if types else None
        server.gc_pauses.longest = server.gc_pauses.longest_full = server.gc_pauses.longest_cpu = 0.0  # ours above
        full0 = gc.get_stats()[2]["collections"]
        ws_url = server.base_url.replace("http://", "ws://") + "/ws"
        process = await trio.lowlevel.open_process(
            [sys.executable, "-m", "loadtests.fleet_processes", "--code", code, "--sessions", str(sessions),
             "--rate", str(JOIN_RATE), ws_url],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE)
        worker = _Worker(process)
        try:
            deadline = trio.current_time() + sessions / JOIN_RATE + 60
            while (welcomed := (await worker.ask("welcomed"))["welcomed"]) < sessions:
                if trio.current_time() > deadline:
                    break
                await trio.sleep(0.5)
            result.welcomed = welcomed
            phases_started, freezer_spent0 = trio.current_time(), server.gc_freezer.spent
            for action in ("start", "advance"):
                await trio.to_thread.run_sync(_phase, facilitator, action)
                await trio.sleep(seconds)
            walked, frozen = _tracked()
            result.walked_total, result.frozen_total = walked, frozen
            result.by_generation = [len(gc.get_objects(g)) for g in range(3)]
            n = max(result.welcomed, 1)
            result.tracked_per_session = (walked + frozen - walked0 - frozen0) / n
            result.walked_per_session = (walked - walked0) / n
            result.longest_pause_ms = 1000 * server.gc_pauses.longest
            result.longest_full_pause_ms = 1000 * server.gc_pauses.longest_full
            result.longest_pause_cpu_ms = 1000 * server.gc_pauses.longest_cpu
            result.full_collections = gc.get_stats()[2]["collections"] - full0
            if types0 is not None:
                grown = _types()
                grown.subtract(types0)
                result.walked_types = {name: round(k / n, 1) for name, k in grown.most_common(types)}
            wall, cpu = time.perf_counter(), time.process_time()
            gc.collect()
            result.full_collect_ms = 1000 * (time.perf_counter() - wall)
            result.full_collect_cpu_ms = 1000 * (time.process_time() - cpu)
            result.freezes = server.gc_freezer.freezes
            result.promotions = server.gc_freezer.promotions
            result.longest_freeze_ms = 1000 * server.gc_freezer.longest
            result.longest_freeze_cpu_ms = 1000 * server.gc_freezer.longest_cpu
            result.largest_freeze = server.gc_freezer.largest
            result.freezer_cpu_share = ((server.gc_freezer.spent - freezer_spent0)
                                        / (trio.current_time() - phases_started))
            await worker.ask("stop")
            await process.wait()
            # Every socket closed on the server side too: hypercorn's ping
            # task holds its connection until it next wakes (ping_interval).
            with trio.move_on_after(config.ping_interval + 5):
                while tracked_count() or server.metrics.connections_open:
                    await trio.sleep(0.5)
            gc.collect()
            walked, frozen = _tracked()
            result.left_per_session = (walked + frozen - walked0 - frozen0) / n
        finally:
            process.kill()
            await process.wait()
            server.stop_requested.set()
    return result


def _create(facilitator: Facilitator) -> str:
    created = facilitator._post("/api/campaigns", {"template": "demo"}, facilitator.admin_token)
    facilitator.campaign_id, facilitator.code = created["campaign_id"], created["code"]
    facilitator.token = created["facilitator_token"]
    return facilitator.code


def _phase(facilitator: Facilitator, action: str) -> None:
    facilitator._post(f"/api/campaigns/{facilitator.campaign_id}/phase/{action}", {}, facilitator.token)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sessions", default="2000", help="comma-separated levels, a fresh server each")
    parser.add_argument("--seconds", type=float, default=10.0, help="seconds of each phase (collect, sort)")
    parser.add_argument("--types", type=int, default=0, help="also list the N types walked most, per session")
    parser.add_argument("--json", action="store_true", help="one JSON object per level instead of a line")
    parser.add_argument("--set", action="append", default=[], metavar="NAME=VALUE",
                        help="a server setting (e.g. gc_freeze_survivors=1000000000 to turn freezing off)")
    args = parser.parse_args()
    settings = {name: int(value) for name, _, value in (s.partition("=") for s in args.set)}
    raise_open_files_limit()
    for n in (int(x) for x in args.sessions.split(",")):
        with tempfile.TemporaryDirectory(prefix="essaim-gc-probe-") as tmp:
            result = trio.run(partial(probe, n, args.seconds, str(Path(tmp) / "data"), types=args.types,
                                      settings=settings))
        print(orjson.dumps(asdict(result)).decode() if args.json else result.line(), flush=True)


if __name__ == "__main__":
    main()
