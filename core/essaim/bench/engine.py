"""Acknowledged commands per second: durable (SQLite, PostgreSQL) against in-memory.

Run with ``make bench-engine`` (``python -m essaim.bench.engine``). Each
repetition opens a fresh engine, joins the participants, starts the
campaign and then times only the command stream:

1. collection: every participant writes cards and supports others' cards;
2. evaluation (after an advance, which publishes the cards as items): every
   participant compares pairs of items.

Commands go in through ``engine.submit_nowait`` and acks are counted in the
reply callbacks; each participant sends its next command from the reply to
its previous one, so ``--participants`` commands are in flight at once, as
with that many live phones, and no task switch is spent per command. The
``await engine.execute`` path (one task per participant) is measured too.

Repetitions rotate the stores (memory, sqlite, postgres, then sqlite,
postgres, memory...) so that noise from other work on the machine hits them
alike; medians are reported with each durable store's ratio to in-memory,
and the group-commit batch sizes and commit latencies seen on each. The
PostgreSQL figures come from a throwaway server started for the run on
loopback (:mod:`essaim.bench.throwaway_postgres`, fsync on, a fresh schema
per repetition); without PostgreSQL or psycopg installed they are left out,
and the report says why.
"""

from __future__ import annotations

import argparse
import contextlib
import gc
import importlib.util
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import trio

from essaim import FACILITATOR, Ack, Actor, CommandError, MemoryStore, open_engine
from essaim.bench.throwaway_postgres import ThrowawayPostgres, find_initdb
from essaim.engine import Engine
from essaim.engine.metrics import LATENCY_BUCKETS, SIZE_BUCKETS, Histogram
from essaim.model.commands import Command
from essaim.model.state import CampaignState
from essaim.model.template import CampaignTemplate

__all__ = ["main", "run_once", "BenchResult"]

#: Defaults sized for ~1 s per timed stage on the reference 2-core VM, so a
#: full run (2 stores x 2 paths x repetitions) stays around a minute.
DEFAULT_PARTICIPANTS = 2000
DEFAULT_CARDS_EACH = 4
DEFAULT_SUPPORTS_EACH = 4
DEFAULT_PAIRS_EACH = 6
DEFAULT_REPETITIONS = 5
#: The targets this benchmark checks (docs/architecture.md): durable acks per
#: second, and durable throughput as a share of in-memory throughput.
TARGET_DURABLE_PER_SECOND = 20_000
TARGET_RATIO = 0.5
#: The stores measured, in rotation order.
STORES = ("memory", "sqlite", "postgres")

TEMPLATE = """
[campaign]
title = "Engine benchmark"

[[profile]]
key = "site"
label = "Site"
choices = ["North", "South", "East", "West"]

[[phase]]
type = "collect"
title = "Ideas"
duration = "1h"
[phase.settings]
max_cards = 1000

[[phase]]
type = "evaluate"
title = "Priorities"
duration = "1h"
"""

SITES = ("North", "South", "East", "West")
WORDS = (
    "meetings", "approvals", "tools", "training", "parking", "email", "planning", "safety",
    "handover", "night shift", "spare parts", "reporting", "budget", "hiring", "travel", "canteen",
)


@dataclass
class StageFigures:
    commands: int = 0
    errors: int = 0
    seconds: float = 0.0

    @property
    def rate(self) -> float:
        return self.commands / self.seconds if self.seconds else 0.0


@dataclass
class BenchResult:
    store: str
    path: str
    collect: StageFigures = field(default_factory=StageFigures)
    evaluate: StageFigures = field(default_factory=StageFigures)
    batch_events: Histogram | None = None
    commit_seconds: Histogram | None = None

    @property
    def commands(self) -> int:
        return self.collect.commands + self.evaluate.commands

    @property
    def seconds(self) -> float:
        return self.collect.seconds + self.evaluate.seconds

    @property
    def rate(self) -> float:
        return self.commands / self.seconds if self.seconds else 0.0

    @property
    def errors(self) -> int:
        return self.collect.errors + self.evaluate.errors


# -- the command mix -----------------------------------------------------------------------


def card_text(i: int, k: int) -> str:
    a, b = WORDS[(i + k) % len(WORDS)], WORDS[(i * 7 + k * 3) % len(WORDS)]
    return f"Participant {i} idea {k}: fewer {a} and better {b} would save us time every week"


def collect_commands(
    i: int, pid: str, state: CampaignState, cards_each: int, supports_each: int
) -> Iterator[Command]:
    """Participant i writes cards, then supports cards of others.

    A generator, so each support is chosen when it is sent, from the cards
    that exist by then: one by someone else, not supported by this
    participant yet (the mix stays free of refusals).
    """
    for k in range(cards_each):
        yield Command("write_card", {"text": card_text(i, k)}, msg_id=f"w{k}")
    for k in range(supports_each):
        n = len(state.cards)
        for step in range(n):
            card = state.cards[f"c{(i * 31 + k * 17 + step) % n + 1}"]
            if card.author != pid and pid not in card.supporters:
                yield Command("support_card", {"cid": card.cid}, msg_id=f"s{k}")
                break


def evaluate_commands(i: int, items: list[str], pairs_each: int) -> Iterator[Command]:
    """Participant i compares distinct pairs of items (never the same pair twice)."""
    m = len(items)
    # Pairs {x, x + step} for consecutive x are all different as long as
    # 2 * step is not a multiple of m.
    step = 1 + i % max(1, (m - 1) // 2)
    for k in range(pairs_each):
        a, b = items[(i + k) % m], items[(i + k + step) % m]
        yield Command("evaluate", {"kind": "pair", "data": {"a": a, "b": b, "choice": "a" if k % 3 else "b"}},
                      msg_id=f"e{k}")


# -- drivers -------------------------------------------------------------------------------


async def drive_nowait(
    engine: Engine, campaign_id: str, actors: list[Actor], streams: list[Iterator[Command]]
) -> StageFigures:
    """Each participant sends its next command from the reply to the last one."""
    figures = StageFigures()
    done = trio.Event()
    active = len(actors)

    def send_next(index: int) -> None:
        nonlocal active
        command = next(streams[index], None)
        if command is None:
            active -= 1
            if active == 0:
                done.set()
            return
        engine.submit_nowait(campaign_id, actors[index], command, replies[index])

    def make_reply(index: int) -> Callable[[Ack | None, CommandError | None], None]:
        def reply(ack: Ack | None, error: CommandError | None) -> None:
            if error is None:
                figures.commands += 1
            else:
                figures.errors += 1
            send_next(index)
        return reply

    replies = [make_reply(i) for i in range(len(actors))]
    started = time.perf_counter()
    for index in range(len(actors)):
        send_next(index)
    if active:
        await done.wait()
    figures.seconds = time.perf_counter() - started
    return figures


async def drive_execute(
    engine: Engine, campaign_id: str, actors: list[Actor], streams: list[Iterator[Command]]
) -> StageFigures:
    """One task per participant, each awaiting every command's durable ack."""
    figures = StageFigures()

    async def participant(index: int) -> None:
        for command in streams[index]:
            try:
                await engine.execute(campaign_id, actors[index], command)
                figures.commands += 1
            except CommandError:
                figures.errors += 1

    started = time.perf_counter()
    async with trio.open_nursery() as nursery:
        for index in range(len(actors)):
            nursery.start_soon(participant, index)
    figures.seconds = time.perf_counter() - started
    return figures


# -- one repetition ------------------------------------------------------------------------


async def run_once(
    store_kind: str, path: str, *, participants: int, cards_each: int, supports_each: int, pairs_each: int,
    workdir: Path, postgres: ThrowawayPostgres | None = None,
) -> BenchResult:
    """One fresh engine on ``store_kind`` ("memory", "sqlite", or "postgres"
    on a new schema of ``postgres``), driven by ``path``."""
    schema = None
    store: MemoryStore | Path | str
    if store_kind == "memory":
        store = MemoryStore()
    elif store_kind == "postgres":
        assert postgres is not None, "a postgres run needs a server"
        schema = postgres.new_schema()
        store = postgres.url(schema)
    else:
        store = workdir / f"bench-{time.monotonic_ns()}.sqlite3"
    drive = drive_nowait if path == "submit_nowait" else drive_execute
    result = BenchResult(store_kind, path)
    async with open_engine(store) as engine:
        created = await engine.create_campaign(CampaignTemplate.parse(TEMPLATE))
        cid = created.campaign_id
        joined: list[str] = [""] * participants

        async def join(i: int) -> None:
            joined[i] = (await engine.join(cid, {"site": SITES[i % len(SITES)]})).token

        async with trio.open_nursery() as nursery:
            for i in range(participants):
                nursery.start_soon(join, i)
        actors = [engine.authenticate(cid, token) for token in joined]
        await engine.execute(cid, FACILITATOR, Command("start"))
        # Count only the timed stream's commits, not the joins.
        engine.writer.batch_events = Histogram(SIZE_BUCKETS)
        engine.writer.commit_seconds = Histogram(LATENCY_BUCKETS)

        gc.collect()
        result.collect = await drive(
            engine, cid, actors,
            [collect_commands(i, actors[i].pid or "", engine.state(cid), cards_each, supports_each)
             for i in range(participants)],
        )
        await engine.execute(cid, FACILITATOR, Command("advance"))
        items = sorted(engine.state(cid).items)
        gc.collect()
        result.evaluate = await drive(
            engine, cid, actors, [evaluate_commands(i, items, pairs_each) for i in range(participants)]
        )
        result.batch_events = engine.writer.batch_events
        result.commit_seconds = engine.writer.commit_seconds
    if isinstance(store, Path):
        for suffix in ("", "-wal", "-shm"):
            Path(f"{store}{suffix}").unlink(missing_ok=True)
    if schema is not None and postgres is not None:
        postgres.drop_schema(schema)
    return result


# -- reporting -----------------------------------------------------------------------------


def _median(values: list[float]) -> float:
    return statistics.median(values) if values else 0.0


def _histogram_lines(title: str, h: Histogram, unit: str, scale: float = 1.0) -> list[str]:
    mean = h.sum / max(h.count, 1) * scale
    lines = [f"  {title} (timed streams of all repetitions, {h.count} commits, mean {mean:.2f}{unit}):"]
    previous = 0
    for bound, seen in h.cumulative():
        n = seen - previous
        previous = seen
        if n:
            label = "inf" if bound == float("inf") else f"{bound * scale:g}"
            lines.append(f"    <= {label:>6}{unit}: {n:6d}  ({n / h.count:6.1%})")
    return lines


def _merge(hs: list[Histogram]) -> Histogram:
    out = Histogram(hs[0].bounds)
    for h in hs:
        out.counts = [a + b for a, b in zip(out.counts, h.counts)]
        out.sum += h.sum
        out.count += h.count
    return out


def report(results: list[BenchResult], args: argparse.Namespace) -> tuple[str, bool]:
    lines = [
        f"essaim engine benchmark: {args.participants} participants in flight, "
        f"{args.cards + args.supports} collection + {args.pairs} evaluation commands each, "
        f"{args.repetitions} repetitions per store, alternated in one run; medians (min-max).",
        "",
        f"{'path':<14} {'store':<7} {'acks/s':>9} {'min':>9} {'max':>9} "
        f"{'collect/s':>10} {'evaluate/s':>11} {'errors':>7}",
    ]
    if args.postgres_missing:
        lines[1:1] = [f"PostgreSQL left out: {args.postgres_missing}"]
    medians: dict[tuple[str, str], float] = {}
    for path in args.paths:
        for store in args.stores:
            rs = [r for r in results if r.store == store and r.path == path]
            rates = [r.rate for r in rs]
            medians[(path, store)] = _median(rates)
            lines.append(
                f"{path:<14} {store:<7} {_median(rates):9,.0f} {min(rates):9,.0f} {max(rates):9,.0f} "
                f"{_median([r.collect.rate for r in rs]):10,.0f} {_median([r.evaluate.rate for r in rs]):11,.0f} "
                f"{sum(r.errors for r in rs):7d}"
            )
    lines.append("")
    ok = True
    for path in args.paths:
        memory = medians.get((path, "memory"), 0.0)
        for other in (s for s in args.stores if s not in ("memory", "sqlite")):
            lines.append(f"{path}: {other}/in-memory = {medians[(path, other)] / memory if memory else 0.0:.2f}  "
                         f"({other} {medians[(path, other)]:,.0f} acks/s)")
        durable = medians.get((path, "sqlite"), 0.0)
        ratio = durable / memory if memory else 0.0
        lines.append(f"{path}: durable/in-memory = {ratio:.2f}  (durable {durable:,.0f} acks/s)")
        if path == "submit_nowait":
            meets = durable >= TARGET_DURABLE_PER_SECOND and ratio >= TARGET_RATIO
            ok = ok and meets
            lines.append(
                f"  targets: >= {TARGET_DURABLE_PER_SECOND:,} durable acks/s and ratio >= {TARGET_RATIO}: "
                f"{'met' if meets else 'NOT met'}"
            )
    for store, title in (("sqlite", "SQLite"), ("postgres", "PostgreSQL")):
        durable_runs = [r for r in results if r.store == store]
        if durable_runs:
            lines.append("")
            lines.append(f"{title} group commit:")
            lines += _histogram_lines("events per commit", _merge([r.batch_events for r in durable_runs]), "")  # type: ignore[misc]
            lines += _histogram_lines(
                "commit latency", _merge([r.commit_seconds for r in durable_runs]), " ms", 1000.0  # type: ignore[misc]
            )
    return "\n".join(lines), ok


async def _run(args: argparse.Namespace, postgres: ThrowawayPostgres | None) -> list[BenchResult]:
    results = []
    with tempfile.TemporaryDirectory(prefix="essaim-bench-") as tmp:
        for rep in range(args.repetitions):
            for path in args.paths:
                # Rotate which store goes first, so drift in machine load
                # does not favour one of them.
                shift = rep % len(args.stores)
                for store in args.stores[shift:] + args.stores[:shift]:
                    r = await run_once(
                        store, path, participants=args.participants, cards_each=args.cards,
                        supports_each=args.supports, pairs_each=args.pairs, workdir=Path(tmp), postgres=postgres,
                    )
                    print(f"  rep {rep + 1} {path:<13} {store:<6} {r.rate:9,.0f} acks/s "
                          f"({r.commands} acks, {r.errors} refused, {r.seconds:.2f} s)", file=sys.stderr)
                    results.append(r)
    return results


def _postgres_missing() -> str:
    """Why PostgreSQL cannot be measured here, or "" if it can."""
    if find_initdb() is None:
        return "PostgreSQL is not installed (apt-get install -y postgresql)"
    if importlib.util.find_spec("psycopg") is None:
        return "psycopg is not installed (pip install 'essaim[postgres]')"
    return ""


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m essaim.bench.engine", description=__doc__.splitlines()[0])
    parser.add_argument("--participants", type=int, default=DEFAULT_PARTICIPANTS)
    parser.add_argument("--cards", type=int, default=DEFAULT_CARDS_EACH, help="cards written per participant")
    parser.add_argument("--supports", type=int, default=DEFAULT_SUPPORTS_EACH, help="supports per participant")
    parser.add_argument("--pairs", type=int, default=DEFAULT_PAIRS_EACH, help="pair comparisons per participant")
    parser.add_argument("--repetitions", type=int, default=DEFAULT_REPETITIONS)
    parser.add_argument("--paths", nargs="+", default=["submit_nowait", "execute"],
                        choices=["submit_nowait", "execute"])
    parser.add_argument("--stores", nargs="+", default=list(STORES), choices=STORES,
                        help="memory and sqlite are always measured (the targets compare them)")
    parser.add_argument("--check", action="store_true", help="exit 1 if the targets are not met")
    args = parser.parse_args(argv)
    args.stores = [s for s in STORES if s in set(args.stores) | {"memory", "sqlite"}]
    args.postgres_missing = _postgres_missing() if "postgres" in args.stores else ""
    if args.postgres_missing:
        args.stores.remove("postgres")
    # As the server does (docs: stack notes): default GC thresholds cause
    # long full collections with many live objects.
    gc.set_threshold(50_000, 20, 100)
    with contextlib.ExitStack() as stack:
        postgres = stack.enter_context(ThrowawayPostgres.started()) if "postgres" in args.stores else None
        results = trio.run(_run, args, postgres)
    text, ok = report(results, args)
    print(text)
    return 0 if ok or not args.check else 1


if __name__ == "__main__":
    raise SystemExit(main())
