"""``make chaos``: the fault-injection suite an SRE runs before a big campaign.

For each scenario (:mod:`loadtests.chaos.scenarios`): a fresh deployment of
real processes on 127.0.0.1, phones writing cards (:mod:`.generator`), the
fault in the middle of the burst, the load kept on after recovery, then the
verdict (:mod:`.verdict`): acknowledged actions lost and duplicated (both
must be 0, checked against the store's log), time until every phone is
acknowledged again (within the scenario's bound), and every process's view
converged to the log. One table at the end; exit 1 if any row fails.

``--short`` (``.ci/run``) runs each scenario once, with fewer phones and a
short tail; the default runs each ``--repeat`` times with more load.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
from contextlib import AsyncExitStack
from dataclasses import dataclass
from pathlib import Path

import pytest

from essaim.bench.throwaway_postgres import ThrowawayPostgres, find_initdb
from essaim.model.events import Event
from essaim.store.postgres import PostgresStore
from essaim.store.sqlite import SQLiteStore

from ..lean import raise_open_files_limit
from .deployment import Cluster, Solo, create_campaign, owned_campaigns
from .generator import Phones
from .link import CuttableLink
from .scenarios import SCENARIOS, Scenario, Stage
from .verdict import HEADER, Verdict, compare, views_converge

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "tests"))
from realservers.tmpfs import mounted_tmpfs

#: Size of the tmpfs the SQLite server writes to: room for its store at
#: start, small enough to fill in a moment.
TMPFS_SIZE = "16m"
#: Acknowledgements the phones must have had before the fault (the burst is on).
WARM_ACKS = 50
#: Seconds a deployment gets to warm up; past it the scenario fails.
WARM_SECONDS = 60.0
#: Seconds the phones get to finish their actions in flight at the end.
SETTLE_SECONDS = 30.0
#: Seconds waited for the recovery past the scenario's bound (to report how long it took).
OVERTIME_SECONDS = 20.0


@dataclass(frozen=True)
class Size:
    phones: int
    #: Seconds of load kept on after every phone is acknowledged again.
    tail: float
    repeat: int
    #: Participants of a campaign written to the store before a cluster starts (0: none).
    prefill: int = 0


SHORT = Size(phones=12, tail=2.0, repeat=1)
LONG = Size(phones=60, tail=15.0, repeat=3)


def read_log(deployment: Cluster | Solo, store_dir: Path | None, campaign_id: str) -> list[Event]:
    """The campaign's events: from PostgreSQL, or the SQLite file in ``store_dir``."""
    if isinstance(deployment, Cluster):
        store = PostgresStore(deployment.store_url)
        try:
            return store.events(campaign_id)
        finally:
            store.close()
    assert store_dir is not None
    sqlite = SQLiteStore(store_dir / "essaim.sqlite3")
    sqlite.open()
    try:
        return sqlite.events(campaign_id)
    finally:
        sqlite.close()


async def wait_recovered(phones: Phones, moment: float, limit: float) -> float | None:
    deadline = moment + limit
    while time.monotonic() < deadline:
        recovered = phones.ledger.first_ack_after(moment, len(phones.phones))
        if recovered is not None:
            return recovered
        await asyncio.sleep(0.1)
    return phones.ledger.first_ack_after(moment, len(phones.phones))


async def run_one(scenario: Scenario, postgres: ThrowawayPostgres, size: Size) -> Verdict:
    verdict = Verdict(scenario.name, scenario.measured_from, scenario.bound)
    async with AsyncExitStack() as stack:
        store_dir = None
        deployment: Cluster | Solo
        link = None
        if scenario.cluster:
            cluster = Cluster(postgres)
            stack.callback(cluster.stop)
            if scenario.cuttable:
                link = CuttableLink((await asyncio.to_thread(cluster.start_valkey)).port)
                await link.start()
                stack.push_async_callback(link.close)
            await asyncio.to_thread(cluster.start, link.url if link else None, size.prefill)
            deployment, serving, creator = cluster, cluster.gateways, cluster.owner
        else:
            mount_point = Path(tempfile.mkdtemp(prefix="essaim-chaos-disk-"))
            stack.callback(mount_point.rmdir)  # once unmounted (callbacks run last first)
            store_dir = stack.enter_context(mounted_tmpfs(mount_point, TMPFS_SIZE))
            solo = await asyncio.to_thread(Solo(store_dir).start)
            stack.callback(solo.stop)
            assert solo.server is not None
            deployment, serving, creator = solo, [solo.server], solo.server
        if isinstance(deployment, Cluster) and deployment.prefilled:
            campaign_id, code = deployment.prefilled
            await asyncio.to_thread(wait_owned, deployment)
            stored = await asyncio.to_thread(read_log, deployment, None, campaign_id)
            verdict.notes.append(f"prefilled: {len(stored)} events before the phones")
        else:
            campaign_id, code = await asyncio.to_thread(create_campaign, creator)
        phones = Phones([s.ws_url for s in serving], code, size.phones)
        stage = Stage(deployment, phones, verdict, store_dir, link)
        phones.start()
        try:
            warm_until = time.monotonic() + WARM_SECONDS
            while len(phones.ledger.acks) < WARM_ACKS:
                if time.monotonic() > warm_until:
                    raise RuntimeError(f"{scenario.name}: only {len(phones.ledger.acks)} acks before the fault")
                await asyncio.sleep(0.1)
            moment = await scenario.inject(stage)
            verdict.recovered = await wait_recovered(phones, moment, scenario.bound + OVERTIME_SECONDS)
            await asyncio.sleep(size.tail)
            if not await phones.settle(SETTLE_SECONDS):
                verdict.notes.append(f"{phones.in_flight} actions still unanswered at the end")
        finally:
            await phones.close()
        log = await asyncio.to_thread(read_log, deployment, store_dir, campaign_id)
        compare(phones.ledger, log, verdict)
        alive = [s.ws_url for s in serving if s.proc is not None and s.proc.poll() is None]
        token = next((p.token for p in phones.phones if p.token), None)
        verdict.converged = token is not None and await views_converge(alive, code, token, log[-1].seq)
    return verdict


def wait_owned(cluster: Cluster) -> None:
    """The first process owns the prefilled campaign (it took it at start)."""
    deadline = time.monotonic() + WARM_SECONDS
    while owned_campaigns(cluster.owner) < 1:
        if time.monotonic() > deadline:
            raise RuntimeError("the first process did not take the prefilled campaign")
        time.sleep(0.2)


def preflight() -> str:
    """initdb's path, or exit saying what to install."""
    import shutil

    initdb = find_initdb()
    missing = [name for name, found in (("postgresql", initdb), ("redis-server", shutil.which("redis-server")
                                                                  or Path("/usr/bin/redis-server").exists()))
               if not found]
    if missing:
        raise SystemExit(f"make chaos needs {' and '.join(missing)}: apt-get install -y {' '.join(missing)} "
                         "(make test-deps does it as root)")
    assert initdb is not None
    return initdb


async def amain(args: argparse.Namespace) -> int:
    raise_open_files_limit()
    size = SHORT if args.short else LONG
    size = Size(args.phones or size.phones, size.tail if args.tail is None else args.tail,
                args.repeat or size.repeat, args.prefill)
    chosen = [s for s in SCENARIOS if not args.only or any(word.lower() in s.name.lower() for word in args.only)]
    print(f"chaos suite: {len(chosen)} scenarios x {size.repeat}, {size.phones} phones, "
          f"{size.tail:g} s of load after recovery; real processes on 127.0.0.1", flush=True)
    verdicts: list[Verdict] = []
    with ThrowawayPostgres.started(preflight()) as postgres:
        for _ in range(size.repeat):
            for scenario in chosen:
                started = time.monotonic()
                try:
                    verdict = await run_one(scenario, postgres, size)
                except pytest.skip.Exception as exc:  # realservers' way of saying "cannot here" (a tmpfs)
                    verdict = Verdict(scenario.name, scenario.measured_from, scenario.bound)
                    verdict.failed.append(f"could not run: {exc.msg}")
                verdicts.append(verdict)
                print(f"{verdict.row()}  ({time.monotonic() - started:.0f} s)", flush=True)
                for note in verdict.notes + verdict.failed:
                    print(f"    {note}", flush=True)
    print()
    print(HEADER)
    for verdict in verdicts:
        print(verdict.row())
    if size.repeat > 1:
        print("\nmedian time to recover per scenario (s):")
        for scenario in chosen:
            times = [v.recovered for v in verdicts if v.scenario == scenario.name and v.recovered is not None]
            median = f"{statistics.median(times):.1f}" if times else "-"
            print(f"  {scenario.name}: {median} (max {max(times, default=float('nan')):.1f}, bound {scenario.bound:g})")
    failed = [v for v in verdicts if not v.ok]
    print(f"\n{len(verdicts) - len(failed)} of {len(verdicts)} runs passed")
    return 1 if failed else 0


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m loadtests.chaos", description=__doc__.split("\n\n")[0])
    parser.add_argument("--short", action="store_true", help="once each, few phones (CI)")
    parser.add_argument("--only", nargs="*", help="scenarios whose name contains one of these words")
    parser.add_argument("--phones", type=int, help="phones writing cards")
    parser.add_argument("--repeat", type=int, help="runs of each scenario")
    parser.add_argument("--tail", type=float, help="seconds of load after recovery")
    parser.add_argument("--prefill", type=int, default=0, metavar="PEOPLE",
                        help="cluster scenarios: a campaign of PEOPLE participants (3 cards each) in the store first")
    sys.exit(asyncio.run(amain(parser.parse_args())))


if __name__ == "__main__":
    main()
