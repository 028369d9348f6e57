"""Results of a 10,000-person campaign while it runs: ``make bench-results``.

Builds, through the engine's own commands on an in-memory store, a campaign
the size of the brief's example: 10,000 participants with a site, 300 cards
published as items, 30 pair comparisons each (300,000 judgments). Then, on
that state, it measures what the facilitator's results cost the process
that also serves the phones:

1. one results computation (scores and segment counts in worker threads,
   the sheets hook on the trio thread), and the trio thread's longest stall
   meanwhile (a 1 ms ticker: any stall is a delay every socket shares);
2. CONSOLES facilitator consoles polling results every
   CONSOLE_POLL_SECONDS for WINDOW_SECONDS, once asking for exact results
   (``max_age`` 0: each poll computes) and once as the server asks
   (``max_age`` as the server sets it for that many connections: the consoles share);
3. command latency of participants comparing pairs, alone and during 2.

Timings are medians of what this one run saw on a shared machine; compare
the columns side by side, not with another run.
"""

from __future__ import annotations

import argparse
import gc
import statistics
import time
from collections.abc import Awaitable, Callable, Iterator, Sequence
from dataclasses import dataclass, field

import trio

from essaim.bench.aggregation import quantile
from essaim.bench.engine import SITES, collect_commands, drive_nowait, evaluate_commands
from essaim.engine import Engine, open_engine
from essaim.engine._owner import COMMAND_QUEUE
from essaim.model.commands import FACILITATOR, Actor, Command
from essaim.model.template import CampaignTemplate
from essaim.server.settings import Settings

__all__ = ["main"]

PARTICIPANTS = 10_000
#: Cards written (one per writer), published as items; at least PAIRS_EACH + 1
#: so that evaluate_commands never repeats a pair for one participant.
CARDS = 300
PAIRS_EACH = 30
#: Facilitator consoles open at once (a facilitator, a co-host, a sponsor...).
CONSOLES = 5
#: The console's results poll (facilitator.js SLOW_POLL_MS).
CONSOLE_POLL_SECONDS = 6.0
WINDOW_SECONDS = 30.0
#: Participants kept out of the build, to probe command latency afterwards
#: (each may compare PAIRS_EACH pairs: 600 of them last ~3 minutes at ~100/s).
PROBES = 600

TEMPLATE = f"""
[campaign]
title = "Results benchmark"

[[profile]]
key = "site"
label = "Site"
choices = {list(SITES)!r}

[[phase]]
type = "collect"
duration = "1h"
[phase.settings]
max_cards = 10

[[phase]]
type = "evaluate"
duration = "1h"
[phase.settings]
max_tasks = {PAIRS_EACH}

[[phase]]
type = "results"
duration = "1h"
""".replace("'", '"')


@dataclass
class Watch:
    """The trio thread's stalls (ms beyond a 1 ms sleep) and probe command latencies (ms)."""

    stalls: list[float] = field(default_factory=list)
    commands: list[float] = field(default_factory=list)


async def _watch(engine: Engine, cid: str, probes: Iterator[tuple[Actor, Command]], stop: trio.Event,
                 watch: Watch) -> None:
    async def ticker() -> None:
        while not stop.is_set():
            t = trio.current_time()
            await trio.sleep(0.001)
            watch.stalls.append(1000 * (trio.current_time() - t - 0.001))

    async def prober() -> None:
        while not stop.is_set():
            probe = next(probes, None)
            if probe is None:
                return  # every probe compared all its pairs: the ticker still measures
            actor, command = probe
            t = time.perf_counter()
            await engine.execute(cid, actor, command)
            watch.commands.append(1000 * (time.perf_counter() - t))
            await trio.sleep(0.01)  # ~100 probe commands per second, as a background of phones

    async with trio.open_nursery() as nursery:
        nursery.start_soon(ticker)
        nursery.start_soon(prober)


async def _measure(
    engine: Engine, cid: str, probes: Iterator[tuple[Actor, Command]], work: Callable[[], Awaitable[None]]
) -> Watch:
    watch, stop = Watch(), trio.Event()
    async with trio.open_nursery() as nursery:
        nursery.start_soon(_watch, engine, cid, probes, stop, watch)
        await work()
        stop.set()
    return watch


async def _build(engine: Engine, participants: int, cards: int) -> tuple[str, Iterator[tuple[Actor, Command]]]:
    """The campaign, and the commands of the participants kept for probing
    (one stream for the whole run: a command sent twice is a replay)."""
    created = await engine.create_campaign(CampaignTemplate.parse(TEMPLATE))
    cid = created.campaign_id
    tokens = [(await engine.join(cid, {"site": SITES[i % len(SITES)]})).token for i in range(participants + PROBES)]
    actors = [engine.authenticate(cid, t) for t in tokens]
    await engine.execute(cid, FACILITATOR, Command("start"))
    writers = actors[:cards]
    refused = (await drive_nowait(engine, cid, writers, [collect_commands(i, a.pid or "", engine.state(cid), 1, 0)
                                                         for i, a in enumerate(writers)])).errors
    await engine.execute(cid, FACILITATOR, Command("advance"))
    items = sorted(engine.state(cid).items)
    # In slices: 10,000 commands in flight at once would overflow the
    # campaign's command queue (COMMAND_QUEUE) and be refused as "busy".
    for first in range(0, participants, COMMAND_QUEUE // 2):
        last = min(participants, first + COMMAND_QUEUE // 2)
        refused += (await drive_nowait(engine, cid, actors[first:last],
                                       [evaluate_commands(i, items, PAIRS_EACH) for i in range(first, last)])).errors
    if refused:
        raise RuntimeError(f"{refused} commands of the build were refused: the figures would not be of this campaign")
    return cid, iter([(actors[n], c) for n in range(participants, len(actors))
                      for c in evaluate_commands(n, items, PAIRS_EACH)])


def _row(label: str, w: Watch, extra: str) -> str:
    return (f"| {label} | {extra} | {quantile(w.stalls, 1.0):.0f} | {quantile(w.stalls, 0.99):.1f} | "
            f"{statistics.median(w.commands):.2f} | {quantile(w.commands, 0.99):.1f} | {max(w.commands):.0f} |")


async def _run(args: argparse.Namespace) -> None:
    settings = Settings()
    # The age a server with this many phones connected gives its consoles (EssaimServer.console_read_age).
    max_age = max(settings.results_max_age, args.participants / settings.results_age_connections)
    async with open_engine(None) as engine:
        t = time.perf_counter()
        cid, probes = await _build(engine, args.participants, args.cards)
        state = engine.state(cid)
        print(f"built {len(state.participants):,} participants, {len(state.items)} items, "
              f"{len(state.judgments):,} judgments in {time.perf_counter() - t:.0f} s")
        gc.collect()
        gc.freeze()
        rows = []

        async def idle() -> None:
            await trio.sleep(min(3.0, args.window))

        rows.append(_row("nothing else", await _measure(engine, cid, probes, idle), "-"))
        for rep in range(args.repetitions):
            took: list[float] = []

            async def once(took: list[float] = took) -> None:
                t = time.perf_counter()
                await engine.results(cid)
                took.append(time.perf_counter() - t)

            w = await _measure(engine, cid, probes, once)
            rows.append(_row(f"one results computation (rep {rep + 1})", w, f"took {took[0]:.2f} s"))
            for age in (0.0, max_age):
                before = engine._result_reads[cid].computations

                async def consoles(age: float = age) -> None:
                    async def console(k: int) -> None:
                        await trio.sleep(k * args.poll / CONSOLES)  # the consoles were opened at different moments
                        end = trio.current_time() + args.window
                        while trio.current_time() < end:
                            await engine.results(cid, max_age=age)
                            await trio.sleep(args.poll)

                    async with trio.open_nursery() as nursery:
                        for k in range(CONSOLES):
                            nursery.start_soon(console, k)

                w = await _measure(engine, cid, probes, consoles)
                n = engine._result_reads[cid].computations - before
                rows.append(_row(f"{CONSOLES} consoles, max_age {age:g} s (rep {rep + 1})", w, f"{n} computations"))
        gc.unfreeze()
    print(f"\ntrio thread and command latency while results are computed ({CONSOLES} consoles poll every "
          f"{args.poll:g} s for {args.window:g} s; commands: ~100/s of pair comparisons):\n")
    print("| while | work | longest stall (ms) | stall p99 (ms) | command median (ms) | command p99 (ms) | "
          "command max (ms) |\n|---|---|---|---|---|---|---|")
    print("\n".join(rows))


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repetitions", type=int, default=2)
    parser.add_argument("--participants", type=int, default=PARTICIPANTS)
    parser.add_argument("--cards", type=int, default=CARDS, help="cards written, one per writer: the items")
    parser.add_argument("--window", type=float, default=WINDOW_SECONDS, help="seconds the consoles poll")
    parser.add_argument("--poll", type=float, default=CONSOLE_POLL_SECONDS, help="seconds between a console's polls")
    args = parser.parse_args(argv)
    gc.set_threshold(50_000, 20, 100)  # as the server does
    trio.run(_run, args)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
