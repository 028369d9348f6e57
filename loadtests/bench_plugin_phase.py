"""A plugin phase's hidden cost at the engine (``make bench-plugin-phase``).

Side by side in one run, in memory: 10,000 participants each send one
command in a built-in phase (``write_card`` in collect, ``support_card``,
the lightest built-in with one event) and in a plugin phase (``pledge``, of
the pledges example in docs/examples: a schema check, a handler reading the
plugin's state, a namespaced event, the plugin's reducer). Printed: acks
per second, median of ``--rounds`` interleaved runs, and the cost of the
pledges board's shared frame part (``view()`` encoded) with 10,000 pledges.

What it does not measure: sockets and frames (``make bench``). It answers
"does the owner pay more for a plugin's command than for a built-in one";
read it with the machine's load, ratios rather than absolute figures.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

import orjson
import trio

from essaim import Command, CommandError
from essaim.model.events import Event
from essaim.testing import joined, make_template, open_test_engine, run_campaign_to

PLEDGES_SOURCE = Path(__file__).resolve().parents[1] / "docs" / "examples" / "essaim-pledges-plugin" / "src"
#: Ideas the crowd pledges on (cards written before, evaluated as items).
IDEAS = 20
KINDS = ("write_card", "support_card", "pledge")


def _pledges_plugin() -> object:
    if str(PLEDGES_SOURCE) not in sys.path:
        sys.path.insert(0, str(PLEDGES_SOURCE))
    import essaim_pledges
    return essaim_pledges


def _command(kind: str, i: int, iids: list[str]) -> Command:
    if kind == "pledge":
        return Command("pledge", {"iid": iids[i % len(iids)], "text": f"I will do thing {i}"}, f"m{i}")
    if kind == "support_card":
        return Command("support_card", {"cid": f"c{(i + 1) % IDEAS + 1}"}, f"m{i}")
    return Command("write_card", {"text": f"idea number {i} about meetings"}, f"m{i}")


async def one_run(kind: str, participants: int) -> float:
    """Acks per second of ``participants`` commands of ``kind``, all submitted at once."""
    async with open_test_engine([_pledges_plugin()]) as engine:
        template = make_template(phases=["collect", "evaluate", "pledges", "results"])
        cid = (await engine.create_campaign(template)).campaign_id
        people = await joined(engine, cid, participants)
        await run_campaign_to(engine, cid, 0)
        for i in range(IDEAS):
            await engine.execute(cid, people[i], Command("write_card", {"text": f"seed idea {i}"}))
        iids: list[str] = []
        if kind == "pledge":
            await run_campaign_to(engine, cid, 2)
            iids = list(engine.state(cid).items)
        done, acked, failed = trio.Event(), [0], []

        def reply(ack: object, error: CommandError | None) -> None:
            acked[0] += 1
            if error is not None:
                failed.append(error)
            if acked[0] == participants:
                done.set()

        started = time.perf_counter()
        for i, person in enumerate(people):
            while True:
                try:
                    engine.submit_nowait(cid, person, _command(kind, i, iids), reply)
                    break
                except CommandError:  # the owner's queue is full: let it drain
                    await trio.sleep(0.001)
        await done.wait()
        elapsed = time.perf_counter() - started
        if failed:
            raise RuntimeError(f"{len(failed)} {kind} commands refused, e.g. {failed[0]}")
        return participants / elapsed


def board_cost(pledges: int) -> tuple[float, int]:
    """Median milliseconds of the board's view() and its encoding, and its size."""
    board = _pledges_plugin().PledgeBoard()  # type: ignore[attr-defined]
    for i in range(pledges):
        board.apply(Event(i + 1, "pledges:pledged", 0.0, {
            "pid": f"p{i}", "iid": f"i{i % IDEAS}", "title": f"Idea {i % IDEAS}", "text": f"I will do thing {i}"}))
    times, data = [], b""
    for _ in range(21):
        started = time.perf_counter()
        data = orjson.dumps(board.view())
        times.append(time.perf_counter() - started)
    return statistics.median(times) * 1e3, len(data)


async def main(participants: int, rounds: int) -> None:
    rates: dict[str, list[float]] = {kind: [] for kind in KINDS}
    for _ in range(rounds):  # interleaved: the machine's load hits every kind alike
        for kind in KINDS:
            rates[kind].append(await one_run(kind, participants))
    for kind in KINDS:
        print(f"{kind:>12}: median {statistics.median(rates[kind]):>8,.0f} acks/s "
              f"(runs: {', '.join(f'{r:,.0f}' for r in rates[kind])})")
    ratio = statistics.median(rates["pledge"]) / statistics.median(rates["support_card"])
    print(f"pledge / support_card: {ratio:.2f}")
    ms, size = board_cost(participants)
    print(f"board view() + encoding with {participants:,} pledges on {IDEAS} ideas: {ms:.2f} ms, {size:,} bytes")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--participants", type=int, default=10_000)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    trio.run(main, args.participants, args.rounds)
