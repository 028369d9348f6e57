"""The engine of a process in cluster mode: owner of its campaigns, gateway to all.

:class:`ClusterEngine` is the :class:`~essaim.engine.Engine` with two
links to Valkey: the campaigns whose owner runs here (created here, or
found in this process's store) are published and serve gateways' requests
(:class:`~essaim.cluster.owner_link.OwnerLink`); every other campaign of
the directory is served through a replica
(:class:`~essaim.cluster.gateway_link.GatewayLink`). Either way
:meth:`campaign` returns a :class:`~essaim.engine.view.CampaignView`, so
the server's code is the same for both. Results, structure and exports of
a campaign are computed by its owner once and handed over encoded.
"""

from __future__ import annotations

import base64
import logging
import secrets
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from functools import partial
from pathlib import Path
from typing import Any

import orjson
import trio

from essaim.cluster.bus import Add, Bus, BusError
from essaim.cluster.gateway_link import REQUEST_TIMEOUT_SECONDS, GatewayLink
from essaim.cluster.owner_link import OwnerLink
from essaim.cluster.wire import CAMPAIGNS, CODES, DIRECTORY, results_from_dict, structure_from_dict
from essaim.engine import Engine, EngineLimits, open_engine
from essaim.engine._owner import CampaignOwner
from essaim.engine.metrics import Histogram
from essaim.engine.view import CampaignView
from essaim.errors import CommandError, NotFound
from essaim.model.state import CampaignState
from essaim.model.types import ExportFile, Results, Structure
from essaim.plugin import PluginHost
from essaim.store import Store

__all__ = ["ClusterEngine", "open_cluster_engine"]

log = logging.getLogger("essaim.cluster")

#: Seconds between two refreshes of this process's campaigns in the
#: directory: a Valkey that restarted empty knows them again within this.
ANNOUNCE_SECONDS = 5.0


class ClusterEngine(Engine):
    """An engine that owns its campaigns and serves the others' replicas."""

    def __init__(self, store: Store, host: PluginHost, nursery: trio.Nursery, limits: EngineLimits, *,
                 buses: list[Bus], node: str) -> None:
        super().__init__(store, host, nursery, limits)
        self.url = buses[0].url
        #: This process on the bus: its reply stream, and the owner of its campaigns in the directory.
        self.node = node
        self._buses = buses
        publish, requests, send, read = buses
        self.owner_link = OwnerLink(self, publish, requests)
        self.gateway = GatewayLink(node, host, send, read)
        self._started = False

    # -- lifecycle ----------------------------------------------------------------------------

    async def _start(self) -> None:
        await self.gateway.load_directory()
        await self._nursery.start(self.owner_link.run_requests)
        self._nursery.start_soon(self.owner_link.run_publisher)
        await self._nursery.start(self.gateway.run_reader)
        self._nursery.start_soon(self.gateway.run_sender)
        self._nursery.start_soon(self.gateway.run_deadlines)
        await super()._start()
        for code, cid in list(self._codes.items()):
            if cid not in self._owners:  # finished, loaded later: known to the cluster now
                await self._announce(cid, code)
        self._started = True
        self._nursery.start_soon(self._keep_announced)
        log.info("cluster node %s on %s: owner of %d campaigns, %d owned elsewhere",
                 self.node, self.url, len(self._codes), len(self.gateway.directory))

    async def _adopt(self, state: CampaignState) -> CampaignOwner:
        owner = await super()._adopt(state)
        await self.owner_link.attach(owner)
        await self._announce(state.campaign_id, state.code)
        return owner

    async def _announce(self, campaign_id: str, code: str) -> None:
        """Tell every gateway this campaign exists, and that it is owned here."""
        info = orjson.dumps({"code": code, "node": self.node})
        bus = self._buses[0]
        await bus.hset(CAMPAIGNS, {campaign_id: info})
        await bus.hset(CODES, {code: campaign_id.encode()})
        await bus.add(Add(DIRECTORY, {"c": campaign_id.encode(), "i": info}, maxlen=10_000))

    async def _keep_announced(self) -> None:
        while True:
            await trio.sleep(ANNOUNCE_SECONDS)  # a refresh period, like a lease's
            owned = {cid: orjson.dumps({"code": code, "node": self.node}) for code, cid in self._codes.items()}
            if owned:
                try:
                    await self._buses[0].hset(CAMPAIGNS, owned)
                except BusError as exc:
                    log.warning("refreshing the directory failed: %s", exc)

    async def _after_writer(self) -> None:
        await self.owner_link.flush()  # the last batches, published before the process goes

    def metric_histograms(self) -> dict[str, tuple[str, Histogram]]:
        return {**super().metric_histograms(), "essaim_replica_lag_seconds": (
            "From the owner's publication of a batch to its application by this gateway's replica.",
            self.gateway.lag_seconds)}

    # -- which campaign is where ------------------------------------------------------------------

    def is_local(self, campaign_id: str) -> bool:
        return (campaign_id in self._owners or campaign_id in self._loading or campaign_id in self._dormant
                or campaign_id in self._unreadable)

    def campaign(self, campaign_id: str) -> CampaignView:
        if self.is_local(campaign_id):
            return super().campaign(campaign_id)
        if campaign_id not in self.gateway.directory:
            raise NotFound(f"no campaign {campaign_id!r}; check the link or the code")
        replica = self.gateway.replica(campaign_id)
        if replica is None:
            raise CommandError("this campaign is being loaded on this server; try again in a few seconds",
                               code="unavailable")
        return replica

    async def ready(self, campaign_id: str) -> None:
        if self.is_local(campaign_id):
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
        return super().campaign_ids() + list(self.gateway.replicas)

    def loaded_states(self) -> list[CampaignState]:
        return super().loaded_states() + [r.state for r in self.gateway.replicas.values()]

    def stored_elsewhere(self) -> dict[str, str]:
        return {**super().stored_elsewhere(),
                **{cid: code for cid, code in self.gateway.directory.items() if cid not in self.gateway.replicas}}

    # -- what only the owner computes ---------------------------------------------------------------

    async def join_hashed(self, campaign_id: str, profile: Mapping[str, Any], token_hash: str) -> tuple[str, int]:
        if self.is_local(campaign_id):
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
    when it cannot be reached."""
    node = secrets.token_hex(6)
    buses: list[Bus] = []
    try:
        # One connection per role: a blocking XREAD holds its connection.
        for role in ("publish", "requests", "send", "read"):
            buses.append(await Bus.connect(url, name=f"essaim-{node}-{role}"))
        async with open_engine(store, plugins=plugins, limits=limits, finished_later=finished_later,
                               factory=partial(ClusterEngine, buses=buses, node=node)) as engine:
            assert isinstance(engine, ClusterEngine)
            yield engine
    finally:
        with trio.CancelScope(shield=True):
            for bus in buses:
                await bus.close()
