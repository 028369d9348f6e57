"""Sorting consensus at scale: ``make bench-aggregation``.

1. Aggregates 20,000 cards and 150,000 placed hands of 8 (1.2 million card
   placements, 4.2 million observed pairs) through the ``crowd_sort`` hook,
   cold, then again after 1,000 more placements (the incremental path).
2. Measures the engine's command latency (acknowledged writes on an
   in-memory store) alone, then while the same aggregation runs in a worker
   thread exactly as the engine runs it, to show the trio thread keeps
   answering.

Timings are medians of what this one run saw on a shared machine; compare
the two latency columns side by side, not with another run.
"""

from __future__ import annotations

import argparse
import random
import statistics
import time
from collections.abc import Sequence

import trio

from essaim.engine import open_engine
from essaim.model.commands import FACILITATOR, Command
from essaim.model.state import Placement
from essaim.model.template import CampaignTemplate
from essaim.model.types import CardInfo, SortingInput
from essaim.plugin import PluginHost

__all__ = ["main", "synthetic_snapshot", "quantile"]

HAND = 8
IDEA_SIZE = 10


def synthetic_snapshot(n_cards: int, n_placements: int, seed: int = 7, campaign_id: str = "scale") -> SortingInput:
    """Cards in latent ideas of ~10; hands mixing a few ideas; sorters who
    merge same-idea cards 80% of the time and err a little."""
    rng = random.Random(seed)
    cards = {f"c{i + 1}": CardInfo(f"c{i + 1}", f"p{i % 5000 + 1}", f"card {i}", (), False) for i in range(n_cards)}
    ids = list(cards)
    idea = {cid: i // IDEA_SIZE for i, cid in enumerate(ids)}
    placements = []
    for h in range(n_placements):
        base = rng.randrange(n_cards)
        hand = list({ids[(base + rng.randrange(30)) % n_cards] for _ in range(HAND)})
        groups: dict[object, list[str]] = {}
        for cid in hand:
            key = idea[cid] if rng.random() < 0.8 else ("alone", cid)
            groups.setdefault(key, []).append(cid)
        themes = [[g] for g in groups.values()]
        placements.append(Placement(f"h{h + 1}", f"p{h % 4000 + 1}", 1, themes, [], 0.0))
    return SortingInput(campaign_id, n_placements, cards, tuple(placements), {})


def _aggregate(host: PluginHost, snapshot: SortingInput) -> tuple[float, int]:
    t = time.perf_counter()
    structure = host.call_strategy("structuring", "crowd_sort", "essaim_structuring_aggregate", settings={},
                                   snapshot=snapshot)
    return time.perf_counter() - t, len(structure.ideas())


TEMPLATE = """
[campaign]
title = "latency"
[[phase]]
type = "collect"
duration = "1h"
[phase.settings]
max_cards = 100000
"""


async def _latency(host: PluginHost, snapshot: SortingInput, commands: int) -> tuple[list[float], list[float], float]:
    async with open_engine(None, plugins=host) as engine:
        created = await engine.create_campaign(CampaignTemplate.parse(TEMPLATE))
        cid = created.campaign_id
        joined = await engine.join(cid, {})
        actor = engine.authenticate(cid, joined.token)
        await engine.execute(cid, FACILITATOR, Command("start"))

        async def burst(n: int, tag: str, stop: trio.Event | None = None) -> list[float]:
            out = []
            for i in range(n):
                t = time.perf_counter()
                await engine.execute(cid, actor, Command("write_card", {"text": f"latency probe {tag} {i}"}))
                out.append(time.perf_counter() - t)
                if stop is not None and stop.is_set():
                    break
            return out

        alone = await burst(commands, "alone")
        during: list[float] = []
        took = 0.0
        done = trio.Event()

        async def aggregate_in_thread() -> None:
            nonlocal took
            took, _ = await trio.to_thread.run_sync(_aggregate, host, snapshot)
            done.set()

        async with trio.open_nursery() as nursery:
            nursery.start_soon(aggregate_in_thread)
            while not done.is_set():
                during += await burst(50, "during", done)
        return alone, during, took


def quantile(values: Sequence[float], q: float) -> float:
    """The ``q`` quantile of ``values`` by rank (0 if empty); the benchmarks' one definition."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] if ordered else 0.0


def _ms(values: Sequence[float], q: float) -> str:
    return f"{quantile(values, q) * 1000:.2f}"


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cards", type=int, default=20_000)
    parser.add_argument("--placements", type=int, default=150_000)
    args = parser.parse_args(argv)
    host = PluginHost.load(entry_points=False)
    t = time.perf_counter()
    snapshot = synthetic_snapshot(args.cards, args.placements)
    print(f"built {args.cards} cards / {args.placements} placements in {time.perf_counter() - t:.1f}s")
    cold, ideas = _aggregate(host, snapshot)
    print(f"aggregate, cold: {cold:.2f}s ({ideas} ideas)")
    more = synthetic_snapshot(args.cards, args.placements + 1000)
    grown = SortingInput(snapshot.campaign_id, more.seq, snapshot.cards,
                         tuple(snapshot.placements) + tuple(more.placements[-1000:]), {})
    warm, _ = _aggregate(host, grown)
    print(f"aggregate, +1,000 placements (incremental counting): {warm:.2f}s")
    fresh = SortingInput("latency-run", snapshot.seq, snapshot.cards, snapshot.placements, {})
    alone, during, took = trio.run(_latency, host, fresh, 400)
    print(f"\nengine write_card latency (ms), alone vs while aggregating in a worker thread ({took:.2f}s):")
    print("| | n | median | p95 | max |\n|---|---|---|---|---|")
    print(f"| alone | {len(alone)} | {_ms(alone, 0.5)} | {_ms(alone, 0.95)} | {_ms(alone, 1.0)} |")
    print(f"| during aggregation | {len(during)} | {_ms(during, 0.5)} | {_ms(during, 0.95)} | {_ms(during, 1.0)} |")
    print(f"median ratio during/alone: {statistics.median(during) / statistics.median(alone):.1f}x")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
