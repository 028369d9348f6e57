"""Owner failover: which campaigns this process owns, and handing them over.

In failover mode (cluster mode on a PostgreSQL store every process shares),
a campaign's owner is whichever process holds its lease
(:mod:`essaim.cluster.lease`). :class:`Ownership` keeps this process's
leases alive and:

- **takes over** every campaign whose lease nobody holds (its owner was
  killed, paused past its lease, cut from PostgreSQL, or shut down): it
  claims the campaign in the store (a new epoch: from then on the old
  owner's commits are refused), rebuilds it from PostgreSQL (newest
  snapshot and the events after it), and the engine adopts it; the phase
  timer is armed again from the stored deadline, and a transition between
  two phases that the old owner left half-done is carried out;
- **steps down** from a campaign when it learns another process owns it:
  the store refused its epoch (its commit was fenced), a newer owner's tip
  appeared on the campaign's stream, or its lease session was lost and
  another process claimed the campaign meanwhile. Its queued commands are
  answered ``unavailable`` (never acknowledged: phones send them again,
  and gateways send their unanswered requests to the new owner).

Gateways never address an owner (they write to the campaign's request
stream), so none of this changes anything for them.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Collection
from typing import Any, Protocol

import trio

from essaim.errors import EssaimError, StoreError
from essaim.store import Store

__all__ = ["Ownership", "LeaseLost", "RECONNECT_SECONDS", "LEASE_SECONDS", "SCAN_SECONDS", "RECLAIM_GRACE_SECONDS"]

log = logging.getLogger("essaim.cluster.ownership")

#: Seconds a silent owner keeps its campaigns: the lock session's
#: ``idle_session_timeout`` (:mod:`essaim.cluster.lease`). A paused or
#: partitioned owner is taken over after this (plus one scan); a kill -9
#: does not wait for it.
LEASE_SECONDS = 3.0
#: Seconds between two scans for campaigns nobody holds. Each scan is also
#: what keeps this process's own lock session (and so its leases) alive: six
#: scans fit in a lease, so a few late ones on a loaded machine lose nothing.
SCAN_SECONDS = 0.5
#: Seconds a process that just (re)connected waits before taking campaigns
#: it did not hold: after a PostgreSQL restart every lock is gone at once,
#: and their owners, reconnecting too, take their own back first.
RECLAIM_GRACE_SECONDS = 2.0
#: Seconds between two attempts to open the lock session while PostgreSQL is away.
RECONNECT_SECONDS = 0.5


class LeaseLost(EssaimError):
    """The lock session failed: its advisory locks are gone, or going."""


class LeaseTable(Protocol):
    """What ownership needs of :class:`essaim.cluster.lease.Leases` (which
    imports psycopg, an optional extra, and this module's constants)."""

    def connect(self) -> None: ...
    def close(self) -> None: ...
    def register(self, campaign_ids: Collection[str], node: str) -> None: ...
    def lock_new(self, campaign_id: str, node: str) -> None: ...
    def scan(self, mine: Collection[str], *, take: bool) -> list[str]: ...
    def relock(self, epochs: dict[str, int]) -> dict[str, bool]: ...
    def unlock(self, campaign_id: str) -> None: ...


class OwningEngine(Protocol):
    """What ownership needs of :class:`essaim.cluster.engine.ClusterEngine`,
    which creates it (so this module does not import it back)."""

    node: str
    store: Store

    @property
    def stopping(self) -> bool: ...
    def spawn(self, fn: Callable[..., Any], *args: Any) -> None: ...
    async def took_over(self, campaign_ids: list[str]) -> None: ...
    def stepped_down(self, campaign_id: str) -> None: ...


class Ownership:
    """This process's campaigns in failover mode (see the module's docstring)."""

    def __init__(self, engine: OwningEngine, leases: LeaseTable) -> None:
        self.engine = engine
        self.leases = leases
        #: Campaigns owned here -> the epoch claimed for them.
        self.epochs: dict[str, int] = {}
        #: Campaigns whose lease was just taken, being claimed and loaded.
        self._taking: set[str] = set()
        #: trio time before which scans take nothing (after a reconnection).
        self._take_from = 0.0
        self.takeovers = 0
        self.step_downs = 0

    # -- starting ---------------------------------------------------------------------------

    async def start(self, stored: Collection[str]) -> None:
        """Open the lock session and take every stored campaign nobody holds
        (the first process of a cluster takes them all) before serving."""
        await self._connect()
        await trio.to_thread.run_sync(self.leases.register, list(stored), self.engine.node)
        taken = await trio.to_thread.run_sync(lambda: self.leases.scan([], take=True))
        self._taking.update(taken)
        await self.take_over(taken)

    async def _connect(self) -> None:
        while True:
            try:
                await trio.to_thread.run_sync(self.leases.connect)
                return
            except LeaseLost as exc:
                log.warning("%s; trying again", exc)
                await trio.sleep(RECONNECT_SECONDS)

    # -- the scan loop ------------------------------------------------------------------------

    async def run(self) -> None:
        """Keep the leases alive and take what nobody holds, every SCAN_SECONDS."""
        while not self.engine.stopping:
            await trio.sleep(SCAN_SECONDS)  # a lease's heartbeat: the session must not go idle
            if self.engine.stopping:
                return
            try:
                await self._scan(take=trio.current_time() >= self._take_from)
            except LeaseLost as exc:
                log.error("%s; the leases of %d campaigns are lost: reconnecting", exc, len(self.epochs))
                await self._recover()

    async def _scan(self, *, take: bool) -> None:
        """One scan; campaigns taken are loaded in their own task, so a big
        campaign's rebuild (seconds) never delays the next scan: a late scan
        would lose this process's leases."""
        mine = list(self.epochs) + list(self._taking)
        taken = await trio.to_thread.run_sync(
            lambda: self.leases.scan(mine, take=take and not self.engine.stopping))
        if taken:
            self._taking.update(taken)
            self.engine.spawn(self.take_over, taken)

    async def _recover(self) -> None:
        """A new lock session: keep the campaigns whose epoch did not move,
        step down from the others; take no one else's for a grace period
        (after a PostgreSQL restart, every owner takes its own back first)."""
        await self._connect()
        if self.engine.stopping:
            return
        kept = await trio.to_thread.run_sync(self.leases.relock, dict(self.epochs))
        for campaign_id, ok in kept.items():
            if not ok:
                self.step_down(campaign_id, "another process claimed it while this one's lease was lost")
        self._take_from = trio.current_time() + RECLAIM_GRACE_SECONDS
        log.info("lock session back: kept %d campaigns, gave up %d", sum(kept.values()),
                 len(kept) - sum(kept.values()))

    # -- taking over ------------------------------------------------------------------------

    async def claim_new(self, campaign_id: str) -> int:
        """A campaign created here: its lease, then its first epoch."""
        await trio.to_thread.run_sync(self.leases.lock_new, campaign_id, self.engine.node)
        epoch = await self._claim(campaign_id)
        self.epochs[campaign_id] = epoch
        return epoch

    async def _claim(self, campaign_id: str) -> int:
        store = self.engine.store
        epoch: int = await trio.to_thread.run_sync(store.claim, campaign_id, self.engine.node)
        return epoch

    async def take_over(self, campaign_ids: list[str]) -> None:
        """Claim and load campaigns whose lease this process just took."""
        try:
            await self._take_over(campaign_ids)
        finally:
            self._taking.difference_update(campaign_ids)

    async def _take_over(self, campaign_ids: list[str]) -> None:
        claimed = []
        for campaign_id in campaign_ids:
            try:
                self.epochs[campaign_id] = await self._claim(campaign_id)
            except StoreError as exc:
                log.error("campaign %s: could not claim it (%s); letting it go for now", campaign_id, exc)
                await self._unlock(campaign_id)
                continue
            claimed.append(campaign_id)
            self.takeovers += 1
            log.warning("campaign %s: taken over at epoch %d", campaign_id, self.epochs[campaign_id])
        if not claimed:
            return
        try:
            await self.engine.took_over(claimed)
        except StoreError as exc:
            log.error("taking over %s failed (%s); letting them go", claimed, exc)
            for campaign_id in claimed:
                self.step_down(campaign_id, "it could not be loaded")

    # -- stepping down ------------------------------------------------------------------------

    def step_down(self, campaign_id: str, why: str) -> None:
        """Stop owning the campaign here, at once (runs on the trio thread)."""
        if self.epochs.pop(campaign_id, None) is None:
            return
        self.step_downs += 1
        log.warning("campaign %s: stepping down (%s)", campaign_id, why)
        self.engine.stepped_down(campaign_id)
        self.engine.spawn(self._unlock, campaign_id)

    async def _unlock(self, campaign_id: str) -> None:
        try:
            await trio.to_thread.run_sync(self.leases.unlock, campaign_id)
        except LeaseLost:
            pass  # the session is gone, and the lock with it

    def fenced(self, campaign_id: str, epoch: int) -> None:
        """The store refused this epoch: another process owns the campaign."""
        if self.epochs.get(campaign_id) == epoch:
            self.step_down(campaign_id, f"the store refused epoch {epoch}: another process took it over")

    def newer_owner(self, campaign_id: str, epoch: int, node: str) -> None:
        """A tip on the campaign's stream names an owner of ``epoch``."""
        mine = self.epochs.get(campaign_id)
        if mine is not None and epoch > mine and node != self.engine.node:
            self.step_down(campaign_id, f"node {node} owns it at epoch {epoch}")

    async def close(self) -> None:
        """End the lock session: other processes take the campaigns at once."""
        await trio.to_thread.run_sync(self.leases.close)
