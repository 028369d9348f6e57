"""The engine of a process in cluster mode: owner of its campaigns, gateway to all.

:class:`ClusterEngine` is the :class:`~essaim.engine.Engine` with two
links to Valkey: the campaigns whose owner runs here are published and
serve gateways' requests (:class:`~essaim.cluster.owner_link.OwnerLink`);
the others are served through a replica
(:class:`~essaim.cluster.gateway_link.GatewayLink`). Either way
:meth:`campaign` returns a :class:`~essaim.engine.view.CampaignView`, so
the server's code is the same for both. Results, structure and exports of
a campaign are computed by its owner once and handed over encoded.

Two ways to own a campaign:

- **on a store of its own** (SQLite on this machine): the process that
  created a campaign (or finds it in its store) owns it for good, and
  serves its own phones from the owner directly;
- **failover mode**, on a PostgreSQL store the whole cluster shares
  (:mod:`essaim.cluster.ownership`): ownership is a lease, any process
  takes over the campaigns of one that died, and every process serves
  *all* its phones from replicas, its own campaigns' too, so a change of
  owner changes nothing for the phones connected anywhere.
"""

from __future__ import annotations

import base64
import logging
import secrets
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any

import orjson
import trio

from essaim.cluster.bus import Add, Bus, BusError
from essaim.cluster.gateway_link import REQUEST_TIMEOUT_SECONDS, GatewayLink
from essaim.cluster.owner_link import OwnerLink
from essaim.cluster.ownership import Ownership
from essaim.cluster.sources import StoreSource
from essaim.cluster.wire import CAMPAIGNS, CODES, DIRECTORY, results_from_dict, structure_from_dict
from essaim.engine import Engine, EngineLimits, open_engine
from essaim.engine._owner import CampaignOwner
from essaim.engine.metrics import Histogram
from essaim.engine.view import CampaignView
from essaim.errors import CommandError, NotFound
from essaim.model.commands import FACILITATOR, Command
from essaim.model.state import CampaignState
from essaim.model.types import ExportFile, Results, Structure
from essaim.plugin import PluginHost
from essaim.store import Store, store_at

if TYPE_CHECKING:
    from essaim.cluster.lease import Leases

__all__ = ["ClusterEngine", "open_cluster_engine"]

log = logging.getLogger("essaim.cluster")

#: Seconds between two refreshes of this process's campaigns in the
#: directory: a Valkey that restarted empty knows them again within this.
ANNOUNCE_SECONDS = 5.0


class ClusterEngine(Engine):
    """An engine that owns its campaigns and serves the others' replicas."""

    def __init__(self, store: Store, host: PluginHost, nursery: trio.Nursery, limits: EngineLimits, *,
                 buses: list[Bus], node: str, leases: Leases | None = None) -> None:
        super().__init__(store, host, nursery, limits)
        self.url = buses[0].url
        #: This process on the bus: its reply stream, and the owner of its campaigns in the directory.
        self.node = node
        self._buses = buses
        publish, requests, send, read = buses
        self.owner_link = OwnerLink(self, publish, requests)
        #: Failover mode (a store the cluster shares, leases on it), or None.
        self.ownership = Ownership(self, leases) if leases is not None else None
        self.gateway = GatewayLink(
            node, host, send, read, source=StoreSource(store) if leases is not None else None,
            serves_own=leases is not None, unload_finished_after=limits.unload_finished_after)
        self.gateway.on_takeover = self._newer_owner
        self._started = False

    # -- lifecycle ----------------------------------------------------------------------------

    @property
    def stopping(self) -> bool:
        return self._stopping

    def spawn(self, fn: Any, *args: Any) -> None:
        """Run ``fn(*args)`` in the engine's nursery (ownership's background work)."""
        self._nursery.start_soon(fn, *args)

    async def _start(self) -> None:
        await self.gateway.load_directory()
        await self._nursery.start(self.owner_link.run_requests)
        self._nursery.start_soon(self.owner_link.run_publisher)
        await self._nursery.start(self.gateway.run_reader)
        self._nursery.start_soon(self.gateway.run_sender)
        self._nursery.start_soon(self.gateway.run_deadlines)
        await super()._start()
        if self.ownership is None:
            for code, cid in list(self._codes.items()):
                if cid not in self._owners:  # finished, loaded later: known to the cluster now
                    await self._announce(cid, code)
        else:
            self._nursery.start_soon(self.ownership.run)
        self._started = True
        self._nursery.start_soon(self._keep_announced)
        log.info("cluster node %s on %s: owner of %d campaigns, %d owned elsewhere%s",
                 self.node, self.url, len(self._codes), len(self.gateway.directory) - len(self._codes),
                 " (failover: leases on the shared store)" if self.ownership else "")

    async def _load_stored(self, stored: list[str]) -> None:
        if self.ownership is None:
            return await super()._load_stored(stored)
        await self.ownership.start(stored)  # only what nobody holds: took_over() loads it
        if not self.ownership.epochs:
            self.loaded.set()  # nothing taken: nothing to load (else _load_finished sets it)

    async def took_over(self, campaign_ids: list[str]) -> None:
        """Failover: serve campaigns this process just claimed, from the store
        (the finished ones load when first asked for, as after a restart)."""
        await super()._load_stored(campaign_ids)
        for code, cid in list(self._codes.items()):
            if cid in campaign_ids and cid not in self._owners:  # finished: served before it is loaded
                await self.owner_link.serve(cid, self._epoch_of(cid))
                await self._announce(cid, code)

    def stepped_down(self, campaign_id: str) -> None:
        """Failover: another process owns the campaign now. Its owner here is
        stopped (what it still had queued is refused), nothing more is read or
        published for it; this process keeps serving its phones from the
        replica, like any gateway."""
        owner = self._owners.pop(campaign_id, None)
        self._dormant.discard(campaign_id)
        self._loading.discard(campaign_id)
        self._used.pop(campaign_id, None)
        self._result_reads.pop(campaign_id, None)
        self._structures.pop(campaign_id, None)
        for code, cid in list(self._codes.items()):
            if cid == campaign_id:
                del self._codes[code]
        self.owner_link.detach(campaign_id)
        if owner is not None:
            owner.stale = True
            self._nursery.start_soon(owner.aclose)

    def _epoch_of(self, campaign_id: str) -> int | None:
        return self.ownership.epochs.get(campaign_id) if self.ownership else None

    async def _claim_new(self, campaign_id: str) -> None:
        if self.ownership is not None:
            await self.ownership.claim_new(campaign_id)

    def _on_fenced(self, campaign_id: str, epoch: int) -> None:
        super()._on_fenced(campaign_id, epoch)
        if self.ownership is not None:
            self.ownership.fenced(campaign_id, epoch)

    def _newer_owner(self, campaign_id: str, epoch: int, node: str) -> None:
        if self.ownership is not None:
            self.ownership.newer_owner(campaign_id, epoch, node)

    async def _adopt(self, state: CampaignState) -> CampaignOwner:
        owner = await super()._adopt(state)
        cid = state.campaign_id
        await self.owner_link.attach(owner)
        if owner.epoch is not None:
            # Gateways learn the new owner and durable seq, and send their
            # unanswered requests again; the timer was armed from the stored
            # deadline by the owner itself; a transition the previous owner
            # left half-done (between two phases) is carried out.
            self.owner_link.took_over(cid, owner.durable_seq, owner.epoch, self.node)
            if state.status == "between" and not owner.transitioning:
                owner.submit_nowait(FACILITATOR, Command("advance", {"index": state.phase_index}),
                                    lambda ack, error: None)
        await self._announce(cid, state.code)
        return owner

    def _info(self, campaign_id: str, code: str) -> bytes:
        info: dict[str, Any] = {"code": code, "node": self.node}
        epoch = self._epoch_of(campaign_id)
        if epoch is not None:
            info["epoch"] = epoch
        return orjson.dumps(info)

    async def _announce(self, campaign_id: str, code: str) -> None:
        """Tell every gateway this campaign exists, and that it is owned here."""
        info = self._info(campaign_id, code)
        if self.ownership is not None:  # served from a replica here too, known at once
            self.gateway.learn(campaign_id, orjson.loads(info))
        bus = self._buses[0]
        try:
            await bus.hset(CAMPAIGNS, {campaign_id: info})
            await bus.hset(CODES, {code: campaign_id.encode()})
            await bus.add(Add(DIRECTORY, {"c": campaign_id.encode(), "i": info}, maxlen=10_000))
        except BusError as exc:
            if not self._started:
                raise
            log.warning("campaign %s: announcing it failed (%s); the next refresh does", campaign_id, exc)

    async def _keep_announced(self) -> None:
        while True:
            await trio.sleep(ANNOUNCE_SECONDS)  # a refresh period, like a lease's
            owned = {cid: self._info(cid, code) for code, cid in self._codes.items()}
            if owned:
                try:
                    await self._buses[0].hset(CAMPAIGNS, owned)
                except BusError as exc:
                    log.warning("refreshing the directory failed: %s", exc)

    async def _after_writer(self) -> None:
        await self.owner_link.flush()  # the last batches, published before the process goes
        if self.ownership is not None:
            await self.ownership.close()  # and the campaigns handed over at once

    def metric_histograms(self) -> dict[str, tuple[str, Histogram]]:
        return {**super().metric_histograms(), "essaim_replica_lag_seconds": (
            "From the owner's publication of a batch to its application by this gateway's replica.",
            self.gateway.lag_seconds)}

    def metric_values(self) -> dict[str, tuple[str, str, float]]:
        link, gateway, ownership = self.owner_link, self.gateway, self.ownership
        values: dict[str, tuple[str, str, float]] = {
            "essaim_cluster_bus_connected": ("gauge", "1 while this process reads Valkey; 0 while it answers actions "
                                             "'unavailable'.", 1 if gateway.connected else 0),
            "essaim_cluster_requests_resent": ("counter", "Unanswered requests sent again to a campaign's new owner.",
                                               gateway.resent),
            "essaim_cluster_publications_fenced": ("counter", "Stream entries Valkey refused: a newer owner "
                                                   "publishes the campaign.", link.fenced),
            "essaim_cluster_campaigns_owned": ("gauge", "Campaigns whose owner runs in this process.",
                                               len(ownership.epochs) if ownership else len(self._codes)),
        }
        if ownership is not None:
            values["essaim_cluster_takeovers"] = ("counter", "Campaigns this process took over from another.",
                                                  ownership.takeovers)
            values["essaim_cluster_step_downs"] = ("counter", "Campaigns this process gave up to a newer owner.",
                                                   ownership.step_downs)
        return values

    def cluster_link(self) -> tuple[bool, str] | None:
        if self.gateway.connected:
            return True, f"reading Valkey at {self.url}"
        return False, f"Valkey at {self.url} does not answer: actions are refused as unavailable until it does"

    # -- which campaign is where ------------------------------------------------------------------

    def is_local(self, campaign_id: str) -> bool:
        return (campaign_id in self._owners or campaign_id in self._loading or campaign_id in self._dormant
                or campaign_id in self._unreadable)

    def _served_by_owner(self, campaign_id: str) -> bool:
        """Phones and commands here go to the local owner directly (a store of
        its own); in failover mode they always go through a replica."""
        return self.ownership is None and self.is_local(campaign_id)

    def campaign(self, campaign_id: str) -> CampaignView:
        if self._served_by_owner(campaign_id):
            return super().campaign(campaign_id)
        if campaign_id not in self.gateway.directory:
            raise NotFound(f"no campaign {campaign_id!r}; check the link or the code")
        replica = self.gateway.replica(campaign_id)
        if replica is None:
            raise CommandError("this campaign is being loaded on this server; try again in a few seconds",
                               code="unavailable")
        return replica

    async def ready(self, campaign_id: str) -> None:
        if self._served_by_owner(campaign_id):
            return await super().ready(campaign_id)
        if not await self.gateway.look_up(campaign_id):
            raise NotFound(f"no campaign {campaign_id!r}; check the link or the code")
        await self.gateway.replicated(campaign_id)

    async def find(self, code: str) -> str:
        try:
            return self.by_code(code)
        except NotFound:
            cid = await self.gateway.look_up_code(code.strip().upper())
            if cid is None:
                raise
            return cid

    def by_code(self, code: str) -> str:
        try:
            return super().by_code(code)
        except NotFound:
            cid = self.gateway.codes.get(code.strip().upper())
            if cid is None:
                raise
            return cid

    def campaign_ids(self) -> list[str]:
        return list(dict.fromkeys(super().campaign_ids() + list(self.gateway.replicas)))

    def loaded_states(self) -> list[CampaignState]:
        states = {r.campaign_id: r.state for r in self.gateway.replicas.values()}
        for state in super().loaded_states():
            states.setdefault(state.campaign_id, state)
        return list(states.values())

    def stored_elsewhere(self) -> dict[str, str]:
        return {**super().stored_elsewhere(),
                **{cid: code for cid, code in self.gateway.directory.items()
                   if cid not in self.gateway.replicas and cid not in self._owners}}

    # -- what only the owner computes ---------------------------------------------------------------

    async def join_hashed(self, campaign_id: str, profile: Mapping[str, Any], token_hash: str) -> tuple[str, int]:
        if self._served_by_owner(campaign_id):
            return await super().join_hashed(campaign_id, profile, token_hash)
        replica = self.campaign(campaign_id)
        ok = await self.gateway.ask(campaign_id, "join", {"profile": dict(profile), "token_hash": token_hash},
                                    timeout=REQUEST_TIMEOUT_SECONDS)
        await replica.applied(ok["seq"])  # type: ignore[attr-defined]  # the welcome reads the new participant
        return ok["pid"], ok["seq"]

    async def results(self, campaign_id: str, *, max_age: float = 0.0) -> Results:
        if self.is_local(campaign_id):
            return await super().results(campaign_id, max_age=max_age)
        self.campaign(campaign_id)
        return results_from_dict(await self.gateway.ask(campaign_id, "results", {"max_age": max_age}))

    async def structure(self, campaign_id: str, *, max_age: float = 0.0) -> Structure:
        if self.is_local(campaign_id):
            return await super().structure(campaign_id, max_age=max_age)
        self.campaign(campaign_id)
        return structure_from_dict(await self.gateway.ask(campaign_id, "structure", {"max_age": max_age}))

    async def export(self, campaign_id: str, fmt: str) -> list[Any]:
        if self.is_local(campaign_id):
            return await super().export(campaign_id, fmt)
        self.campaign(campaign_id)
        files = await self.gateway.ask(campaign_id, "export", {"format": fmt})
        return [ExportFile(f["name"], f["media_type"], base64.b64decode(f["content"])) for f in files]


@asynccontextmanager
async def open_cluster_engine(
    url: str,
    store: Store | str | Path | None = None,
    *,
    plugins: PluginHost | None = None,
    limits: EngineLimits | None = None,
    finished_later: bool = False,
) -> AsyncIterator[ClusterEngine]:
    """:func:`~essaim.engine.open_engine` in cluster mode on the Valkey at
    ``url``: raises :class:`~essaim.cluster.bus.BusError`, naming the URL,
    when it cannot be reached.

    On a PostgreSQL store (a URL or a PostgresStore) the cluster runs in
    failover mode: campaigns are leased (:mod:`essaim.cluster.lease`) and
    taken over when their owner goes."""
    node = secrets.token_hex(6)
    buses: list[Bus] = []
    store = store_at(store)
    leases = failover_leases(store)
    try:
        # One connection per role: a blocking XREAD holds its connection.
        for role in ("publish", "requests", "send", "read"):
            buses.append(await Bus.connect(url, name=f"essaim-{node}-{role}"))
        async with open_engine(store, plugins=plugins, limits=limits, finished_later=finished_later,
                               factory=partial(ClusterEngine, buses=buses, node=node, leases=leases)) as engine:
            assert isinstance(engine, ClusterEngine)
            yield engine
    finally:
        with trio.CancelScope(shield=True):
            for bus in buses:
                await bus.close()
            if leases is not None:
                leases.close()


def failover_leases(store: Store) -> Leases | None:
    """Leases on the store if the cluster shares it (PostgreSQL), else None."""
    try:
        from essaim.cluster.lease import Leases
        from essaim.store.postgres import PostgresStore
    except ImportError:  # psycopg is not installed: no PostgreSQL store either
        return None
    if not isinstance(store, PostgresStore):
        return None
    return Leases(store.conninfo, store.where)
