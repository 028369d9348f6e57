"""Capacity benchmark (``make bench``): how many campaign sessions one server
process holds within the SLOs, and how close that is to the bare stack.

For each level (1,000, 2,500, 5,000, … sessions) a *fresh* server is started
on its own core; the lean generator (``lean.py``, on the other core) joins
that many participants, then the facilitator runs collect → sort → evaluate,
each for ``--window`` seconds at the real campaign rates (compression 1).
A level holds when every session connected and every SLO is met. The same
levels then run against baselines with no engine, in the same run: by
default ``bare-asgi`` and ``bare-paced`` (hypercorn + quart-trio, ``/ws`` as
a bare ASGI route as essaim serves it; the second paced as essaim serve
paces) and ``uvicorn-paced`` (uvicorn + websockets, the fastest common
Python stack, paced the same way: where the mandated stack stands), and the
ratio engine/baseline of sessions held is printed (target ≥ 0.7 of bare).

Printed per level: sessions welcomed, ack p50/p99, staleness p95, server
RSS per session (idle, after joining; /proc/<pid>/status), server CPU per
delivered frame (/proc/<pid>/stat CPU time ÷ frames from /metrics), the p99
of the facilitator console's results poll (essaim polls as one open console
does, ``lean.Facilitator.watch``), and which SLO broke.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from . import slo
from .deployments import Deployment, RunningDeployment
from .fleet_processes import SpreadFleet
from .lean import Facilitator, Fleet, LoopLag, raise_open_files_limit
from .profiling import start_recording, summarize_collapsed
from .servers import ServerProcess, bucket_quantile

__all__ = ["LevelResult", "run_level", "main"]

DEFAULT_LEVELS = (1000, 2500, 5000, 7500, 10000, 12500, 15000)
#: Joins per second the generator opens: fast enough to fill 10,000 in ~30 s,
#: slow enough not to be a reconnect storm (that is its own scenario).
JOIN_RATE = 400.0
#: Phases the facilitator runs at each level. The results phase sends every
#: session the ranked sheets at once: a full-length Locust campaign found the
#: server running out of memory there, which a bench stopping at "evaluate"
#: could not see.
PHASES = ("collect", "sort", "evaluate", "results")
#: Seconds between two samples of the server's RSS (the peak column).
RSS_SAMPLE_SECONDS = 0.5


@dataclass
class LevelResult:
    kind: str
    sessions: int
    welcomed: int = 0
    held: bool = False
    ack_p50: float = 0.0
    ack_p99: float = 0.0
    staleness_p95: float = 0.0
    kib_idle: float = 0.0
    kib_active: float = 0.0
    cpu_ms_per_frame: float = 0.0
    frames_per_second: float = 0.0
    cpu_share: float = 0.0
    #: The generator's own CPU share: near 100% means the client, not the server, is the limit.
    generator_cpu: float = 0.0
    #: Longest stall of the generator's own event loop (ms) during the window.
    generator_lag_max: float = 0.0
    #: Server-side p99s from /metrics (ms, bucket upper bounds): action received
    #: → durable ack queued, and one SQLite group commit. essaim only.
    server_ack_p99: float = 0.0
    commit_p99: float = 0.0
    #: Longest garbage-collection pause of the server (ms, bucket upper bound); essaim only.
    gc_max: float = 0.0
    #: Highest server RSS sampled during the phases (MiB).
    peak_mib: float = 0.0
    #: p99 of the facilitator console's results poll (ms); essaim only (the
    #: bare servers have no results to compute).
    console_results_p99: float = 0.0
    #: Cluster mode: p95 of the gateway's replication lag (owner's publication
    #: to the replica's application, ms, bucket upper bound) from /metrics.
    replica_lag_p95: float = 0.0
    actions: int = 0
    breaches: list[str] = field(default_factory=list)

    def row(self) -> str:
        verdict = "held" if self.held else "BROKE: " + "; ".join(self.breaches)
        return (f"{self.kind:13} {self.sessions:6d} {self.welcomed:6d}  {self.ack_p50:6.0f} {self.ack_p99:6.0f}"
                f"  {self.staleness_p95:6.0f}  {self.kib_idle:5.1f} {self.kib_active:5.1f}"
                f"  {self.cpu_ms_per_frame:6.3f} {self.frames_per_second:7.0f} {self.cpu_share:5.0%} {self.generator_cpu:5.0%}"
                f" {self.generator_lag_max:6.0f} {self.server_ack_p99:6.0f} {self.commit_p99:6.0f} {self.peak_mib:6.0f}"
                f" {self.console_results_p99:6.0f} {self.gc_max:6.0f} {self.replica_lag_p95:6.0f}  {verdict}")


HEADER = ("server        target welcmd  ack50  ack99  stl95  KiB/s KiB/a  ms/frm  frm/s   cpu   gen glagmax sack99 cmt99   peak  res99  gcmax rlag95  verdict\n"
          "                             (ms)   (ms)   (ms)   idle  activ                              (ms)   (ms)   (ms)   (MiB)   (ms)   (ms)   (ms)")


async def _sample_peak_rss(server: ServerProcess, result: LevelResult) -> None:
    while True:
        try:
            result.peak_mib = max(result.peak_mib, server.rss_kib() / 1024)
        except OSError:  # the server is gone: the level reports it
            return
        await asyncio.sleep(RSS_SAMPLE_SECONDS)


async def run_level(kind: str, sessions: int, window: float, server_cpu: str | None,
                    objectives: slo.Objectives, join_rate: float = JOIN_RATE,
                    profile_to: Path | None = None, deploy: Callable[[], Deployment] | None = None,
                    processes: int = 1) -> LevelResult:
    """One level on a fresh ``kind`` server pinned to ``server_cpu``, or on
    what ``deploy`` starts (a cluster, a running deployment: see deployments.py);
    sessions from ``processes`` generator processes (fleet_processes.py)."""
    result = LevelResult(kind, sessions)
    server: Deployment = deploy() if deploy is not None else ServerProcess(kind, cpu=server_cpu).start()
    fleet: Fleet | SpreadFleet | None = None
    try:
        rss0 = server.rss_kib()
        facilitator = Facilitator(server.base_url, server.admin_token)
        code = await facilitator.create()
        fleet = Fleet(server.ws_urls, code) if processes == 1 else SpreadFleet(server.ws_urls, code, processes)
        await fleet.grow(sessions, join_rate)
        await fleet.wait_welcomed(sessions, timeout=60)
        await fleet.sync()
        result.welcomed = fleet.welcomed
        result.kib_idle = (server.rss_kib() - rss0) / max(fleet.welcomed, 1)
        join_errors = fleet.tally.measured.connection_errors
        await fleet.reset()  # the window measures the campaign, not the ramp
        gc.collect()
        gc.freeze()  # the sessions' long-lived objects: out of every later collection
        cpu0, frames0, t0 = server.cpu_seconds(), server.frames_out(), time.monotonic()
        hist0 = server.histogram()
        gen0 = time.process_time()
        lag = LoopLag()
        lag_task = asyncio.create_task(lag.run(fleet.stop))
        peak_task = asyncio.create_task(_sample_peak_rss(server, result))
        spy = start_recording(server.pid, window * len(PHASES), profile_to) if profile_to else None
        await facilitator.phase("start")
        # A facilitator watches every real campaign: their console polls the
        # heaviest reads (results, structure) all along.
        console_stop = asyncio.Event()
        console = asyncio.create_task(facilitator.watch(fleet.tally, console_stop)) if kind.startswith("essaim") else None
        for i, _ in enumerate(PHASES):
            await asyncio.sleep(window)
            if i < len(PHASES) - 1:
                await facilitator.phase("advance")
        console_stop.set()
        if console is not None:
            await console
        cpu1, frames1, t1 = server.cpu_seconds(), server.frames_out(), time.monotonic()
        hist1 = server.histogram()
        for attr, name, q in (("server_ack_p99", "essaim_ack_seconds", 0.99),
                              ("commit_p99", "essaim_store_commit_seconds", 0.99),
                              ("gc_max", "essaim_gc_pause_seconds", 1.0),
                              ("replica_lag_p95", "essaim_replica_lag_seconds", 0.95)):
            if name in hist1:
                setattr(result, attr, 1000 * bucket_quantile(hist0.get(name, []), hist1[name], q))
        result.generator_cpu = (time.process_time() - gen0) / (t1 - t0)
        result.generator_lag_max = lag.max_ms()
        lag_task.cancel()
        peak_task.cancel()
        if spy is not None:
            spy.wait(30)
        result.kib_active = (server.rss_kib() - rss0) / max(fleet.welcomed, 1)
        await fleet.sync()
        frames = max(frames1 - frames0, 1.0)
        result.cpu_ms_per_frame = 1000 * (cpu1 - cpu0) / frames
        result.frames_per_second = frames / (t1 - t0)
        result.cpu_share = (cpu1 - cpu0) / (t1 - t0)
        m = fleet.tally.measured
        m.connection_errors = max(m.connection_errors + join_errors, sessions - fleet.welcomed)
        result.actions = sum(m.acks.values())
        result.ack_p50 = slo.percentile(m.acks, 0.50)
        result.ack_p99 = slo.percentile(m.acks, 0.99)
        result.staleness_p95 = slo.percentile(m.pushes, 0.95)
        result.console_results_p99 = slo.percentile(fleet.tally.by_name.get("console results", {}), 0.99)
        breaches = slo.check(m, objectives)
        result.breaches = [str(b).removeprefix("SLO BREACHED: ") for b in breaches]
        result.breaches += [f"{n}x {e}" for e, n in fleet.tally.errors.most_common(3)]
        result.held = not breaches
        if breaches:
            result.breaches += [f"slowest p99: {name} {ms:.0f} ms (n={k})" for name, ms, k in fleet.tally.slowest()]
    finally:
        if fleet is not None:
            await fleet.close()
        gc.unfreeze()
        server.stop()
    return result


async def ramp(kind: str, levels: list[int], args: argparse.Namespace, objectives: slo.Objectives) -> list[LevelResult]:
    """Levels in order until one breaks (that one is reported too)."""
    out = []
    for n in levels:
        spy = Path(args.py_spy) / f"py-spy-{kind}-{n}.txt" if args.py_spy and kind == "essaim" else None
        r = await run_level(kind, n, args.window, args.server_cpu, objectives, profile_to=spy,
                            deploy=(lambda: RunningDeployment(args.host.split(","))) if args.host else None,
                            processes=args.processes)
        print(r.row(), flush=True)
        if spy is not None and spy.exists() and not r.held:
            print(f"where the server's time went at {n} sessions (py-spy, {spy}):")
            print(summarize_collapsed(spy), flush=True)
        out.append(r)
        if not r.held:
            break
    return out


async def ramp_down(kind: str, levels: list[int], args: argparse.Namespace, objectives: slo.Objectives) -> list[LevelResult]:
    """Levels from the highest down until one holds."""
    out = []
    for n in sorted(levels, reverse=True):
        r = await run_level(kind, n, args.window, args.server_cpu, objectives)
        print(r.row(), flush=True)
        out.append(r)
        if r.held:
            break
    return out


def most_held(results: list[LevelResult]) -> int:
    return max((r.sessions for r in results if r.held), default=0)


async def amain(args: argparse.Namespace) -> int:
    raise_open_files_limit()
    objectives = slo.Objectives.from_env()
    levels = sorted(int(x) for x in args.levels.split(","))
    print(f"capacity benchmark: levels {levels}, {args.window:g} s per phase, server on cpu {args.server_cpu}, "
          f"generator (lean asyncio client) on cpu {args.generator_cpu or 'any'}")
    print(HEADER)
    engine = await ramp("essaim", levels, args, objectives)
    held_engine = most_held(engine)
    best = next((r for r in engine if r.sessions == held_engine), engine[-1])
    # A baseline starts at the engine's best level (below it, it usually
    # holds) and goes up; if it breaks there, it goes down until it holds.
    baselines = {}
    for kind in filter(None, "" if args.host else args.compare.split(",")):
        start = max(held_engine, levels[0])
        tried = await ramp(kind, [n for n in levels if n >= start], args, objectives)
        if tried and not tried[0].held:
            tried += await ramp_down(kind, [n for n in levels if n < start], args, objectives)
        baselines[kind] = (most_held(tried), bool(tried) and all(r.held for r in tried))
    print()
    print(f"most sessions held within SLO: essaim {held_engine or f'none of the levels tried (lowest {levels[0]})'}" + "".join(
        f", {kind} {held}" + (" (held every level tried: its ceiling is higher)" if ceiling else "")
        for kind, (held, ceiling) in baselines.items()))
    print(f"at {best.sessions}: ack p50 {best.ack_p50:.0f} ms, p99 {best.ack_p99:.0f} ms, staleness p95 "
          f"{best.staleness_p95:.0f} ms, {best.kib_idle:.1f} KiB/idle session, {best.kib_active:.1f} KiB/active "
          f"session, {best.cpu_ms_per_frame:.3f} ms CPU/frame")
    for kind, (held, _) in baselines.items():
        if held and held_engine:
            ratio = held_engine / held
            print(f"engine/{kind} ratio: {ratio:.2f} (target >= 0.7){'' if ratio >= 0.7 else '  BELOW TARGET'}")
    return 0 if held_engine >= args.target else 1


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--levels", default=",".join(map(str, DEFAULT_LEVELS)))
    parser.add_argument("--window", type=float, default=30.0, help="seconds of each phase at each level")
    parser.add_argument("--server-cpu", default="0", help="core for the server (taskset -c); '' for none")
    parser.add_argument("--generator-cpu", default="1", help="core this generator runs on (make pins it)")
    parser.add_argument("--compare", default="bare-asgi,bare-paced,uvicorn-paced",
                        help="baselines to ramp too (comma-separated kinds of servers.py; '' for none)")
    parser.add_argument("--py-spy", default="", metavar="DIR",
                        help="record the essaim server with py-spy at each level into DIR; summary at the break")
    parser.add_argument("--target", type=int, default=10000, help="sessions the engine must hold (exit 1 if not)")
    parser.add_argument("--processes", type=int, default=1,
                        help="generator processes (one drives ~10,000 sessions per core; 50,000+ need several)")
    parser.add_argument("--host", default="", metavar="URL[,URL...]",
                        help="a running deployment instead of a fresh local server: its base URLs (sessions spread "
                             "round-robin; the first takes the facilitator's calls; ESSAIM_ADMIN_TOKEN must be set). "
                             "No baselines, no server-side columns")
    args = parser.parse_args()
    sys.exit(asyncio.run(amain(args)))


if __name__ == "__main__":
    main()
