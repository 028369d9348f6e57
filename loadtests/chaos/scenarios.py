"""The faults, one function each: inject it, say from when recovery counts.

Each takes a :class:`Stage` (the deployment under load) and returns the
moment (``time.monotonic()``) the time to recover is measured from; checks
of its own (the stale owner stepped down, the server did not exit) go in
``stage.verdict.failed``, facts worth reading in ``stage.verdict.notes``.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path

from essaim.cluster.ownership import LEASE_SECONDS

from .deployment import Cluster, Solo, owned_campaigns
from .generator import Phones
from .link import CuttableLink
from .verdict import Verdict

__all__ = ["Stage", "Scenario", "SCENARIOS", "OUTAGE_SECONDS", "PAUSE_SECONDS", "CUT_SECONDS"]

#: How long Valkey, PostgreSQL or the disk stay away in their scenarios:
#: long enough that every phone meets the outage.
OUTAGE_SECONDS = 3.0
#: How long the owner stays stopped: past its lease (the point of the
#: scenario), and long enough that another process has taken over and
#: written under a newer epoch before it wakes up.
PAUSE_SECONDS = LEASE_SECONDS + 4.0
#: How long one gateway stays cut from Valkey (issue 13 asks for 10 s).
CUT_SECONDS = 10.0
#: Seconds a full disk gets to make the SQLite server refuse a write (its WAL
#: first fills the pages it already has).
FIRST_REFUSAL_SECONDS = 30.0
#: Seconds the stale owner gets, once resumed, to notice and step down.
STEP_DOWN_SECONDS = 10.0
#: Target of issue 13: commands acked again within 5 s of an owner's or a gateway's death.
FAILOVER_BOUND_SECONDS = 5.0
#: A paused owner: its lease, then the same 5 s.
PAUSE_BOUND_SECONDS = LEASE_SECONDS + FAILOVER_BOUND_SECONDS
#: After an outage ends: owners re-announce their campaigns every 5 s
#: (Valkey), a process that lost its lock session waits 2 s before taking
#: others' campaigns (PostgreSQL); 10 s covers either with room.
OUTAGE_BOUND_SECONDS = 10.0


@dataclass
class Stage:
    """A deployment under load, for a scenario to break."""

    deployment: Cluster | Solo
    phones: Phones
    verdict: Verdict
    store_dir: Path | None = None
    #: The first gateway's link to Valkey, for the scenario that cuts it.
    link: CuttableLink | None = None

    @property
    def cluster(self) -> Cluster:
        assert isinstance(self.deployment, Cluster)
        return self.deployment

    @property
    def solo(self) -> Solo:
        assert isinstance(self.deployment, Solo)
        return self.deployment


async def kill_owner(stage: Stage) -> float:
    """SIGKILL the campaign's owner in the middle of the write burst."""
    cluster = stage.cluster
    await asyncio.to_thread(cluster.kill, cluster.owner)
    moment = time.monotonic()
    await _wait_new_owner(stage, cluster)
    return moment


async def kill_gateway(stage: Stage) -> float:
    """SIGKILL a gateway: its phones resume on another."""
    cluster = stage.cluster
    await asyncio.to_thread(cluster.kill, cluster.gateways[0])
    return time.monotonic()


async def pause_owner(stage: Stage) -> float:
    """SIGSTOP the owner past its lease, SIGCONT it: it must be fenced and step down."""
    cluster = stage.cluster
    owner = cluster.owner
    cluster.pause(owner)
    moment = time.monotonic()
    try:
        await asyncio.sleep(PAUSE_SECONDS)
    finally:
        cluster.resume(owner)
    deadline = time.monotonic() + STEP_DOWN_SECONDS
    while time.monotonic() < deadline:
        try:
            if await asyncio.to_thread(owned_campaigns, owner) == 0:
                break
        except OSError:
            pass
        await asyncio.sleep(0.2)
    else:
        stage.verdict.failed.append("the stale owner still owns the campaign after SIGCONT")
    metrics = await asyncio.to_thread(owner.metrics)
    stage.verdict.notes.append(
        "stale owner after SIGCONT: step-downs {:g}, publications fenced {:g}".format(
            _counter(metrics, "essaim_cluster_step_downs"), _counter(metrics, "essaim_cluster_publications_fenced")))
    await _wait_new_owner(stage, cluster)
    return moment


async def restart_valkey(stage: Stage) -> float:
    """Valkey stopped for OUTAGE_SECONDS and started again, empty."""
    redis = stage.cluster.redis
    assert redis is not None
    await asyncio.to_thread(redis.stop)
    await asyncio.sleep(OUTAGE_SECONDS)
    await asyncio.to_thread(redis.start)
    return time.monotonic()


async def restart_postgres(stage: Stage) -> float:
    """PostgreSQL stopped (fast: every session cut) for OUTAGE_SECONDS, started again."""
    postgres = stage.cluster.postgres
    await asyncio.to_thread(postgres.stop, "fast")
    await asyncio.sleep(OUTAGE_SECONDS)
    await asyncio.to_thread(postgres.start)
    return time.monotonic()


async def fill_disk(stage: Stage) -> float:
    """The single-process SQLite server's disk (a small tmpfs) filled, then freed."""
    from realservers.tmpfs import fill

    assert stage.store_dir is not None
    server = stage.solo.server
    assert server is not None and server.proc is not None
    errors = stage.phones.ledger.errors
    unavailable_before = errors["unavailable"]
    filler = await asyncio.to_thread(fill, stage.store_dir)
    filled = time.monotonic()
    # SQLite's WAL reuses the pages it has (it restarts from its beginning
    # after a checkpoint): commits fail only once it must grow.
    while errors["unavailable"] == unavailable_before and time.monotonic() < filled + FIRST_REFUSAL_SECONDS:
        await asyncio.sleep(0.1)
    bit = errors["unavailable"] > unavailable_before
    stage.verdict.notes.append(f"first write refused {time.monotonic() - filled:.1f} s after the disk was full"
                               if bit else f"no write refused within {FIRST_REFUSAL_SECONDS:g} s of a full disk")
    await asyncio.sleep(OUTAGE_SECONDS)
    filler.unlink()
    moment = time.monotonic()
    if server.proc.poll() is not None:
        stage.verdict.failed.append(f"the server exited ({server.proc.returncode}) on a full disk")
    refused = errors["unavailable"] - unavailable_before
    stage.verdict.notes.append(f"{refused} actions answered unavailable while the disk was full")
    if refused == 0:
        stage.verdict.failed.append("no action was refused while the disk was full: the fault did not bite")
    return moment


async def cut_gateway(stage: Stage) -> float:
    """One gateway cut from Valkey for CUT_SECONDS (the rest of the cluster keeps it)."""
    assert stage.link is not None
    ledger = stage.phones.ledger
    unavailable_before = ledger.errors["unavailable"]
    await stage.link.cut()
    await asyncio.sleep(CUT_SECONDS)
    await stage.link.restore()
    moment = time.monotonic()
    refused = ledger.errors["unavailable"] - unavailable_before
    stage.verdict.notes.append(f"{refused} actions answered unavailable while the gateway was cut")
    if refused == 0:
        stage.verdict.failed.append("no action was refused during the cut: the fault did not bite")
    return moment


async def _wait_new_owner(stage: Stage, cluster: Cluster) -> None:
    """Note which process took the campaign over (from their /metrics)."""
    deadline = time.monotonic() + FAILOVER_BOUND_SECONDS * 4
    while time.monotonic() < deadline:
        for i, member in enumerate(cluster.gateways, start=1):
            try:
                if await asyncio.to_thread(owned_campaigns, member) >= 1:
                    stage.verdict.notes.append(f"taken over by process {i}")
                    return
            except OSError:
                continue
        await asyncio.sleep(0.2)
    stage.verdict.failed.append("no other process took the campaign over")


def _counter(metrics: dict[str, float], name: str) -> float:
    return metrics.get(name + "_total", metrics.get(name, 0.0))


@dataclass(frozen=True)
class Scenario:
    name: str
    inject: Callable[[Stage], Awaitable[float]]
    measured_from: str
    bound: float
    #: True: a cluster in failover mode; False: one SQLite server on a tmpfs.
    cluster: bool = True
    #: The first gateway reaches Valkey through a CuttableLink.
    cuttable: bool = False


SCENARIOS = (
    Scenario("owner kill -9", kill_owner, "the SIGKILL", FAILOVER_BOUND_SECONDS),
    Scenario("gateway kill -9", kill_gateway, "the SIGKILL", FAILOVER_BOUND_SECONDS),
    Scenario("owner paused past its lease", pause_owner, "the SIGSTOP", PAUSE_BOUND_SECONDS),
    Scenario("Valkey restarted (empty)", restart_valkey, "Valkey back", OUTAGE_BOUND_SECONDS),
    Scenario("PostgreSQL restarted", restart_postgres, "PostgreSQL back", OUTAGE_BOUND_SECONDS),
    Scenario("gateway cut from Valkey", cut_gateway, "link back", FAILOVER_BOUND_SECONDS, cuttable=True),
    Scenario("disk full (SQLite, one process)", fill_disk, "space freed", FAILOVER_BOUND_SECONDS, cluster=False),
)
