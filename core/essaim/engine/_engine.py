"""The engine: campaigns on a store, driven from any trio program.

::

    async with essaim.open_engine("data/essaim.sqlite3") as engine:
        created = await engine.create_campaign(essaim.CampaignTemplate.load("demo.toml"))
        joined = await engine.join(created.campaign_id, {"site": "North"})
        actor = engine.authenticate(created.campaign_id, joined.token)
        await engine.execute(created.campaign_id, essaim.FACILITATOR, essaim.Command("start"))
        ack = await engine.execute(created.campaign_id, actor, essaim.Command("write_card", {"text": "..."}))

The engine owns one nursery: the group-commit writer and one owner task per
campaign run in it. Leaving the ``async with`` stops taking commands, lets
the writer make everything queued durable, and closes the store.
"""

from __future__ import annotations

import hmac
import logging
import random
import secrets
import time
from collections.abc import AsyncIterator, Callable, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import trio

from essaim.engine._owner import CampaignOwner, Reply, hash_token, store_unavailable
from essaim.engine._shared_reads import Computed, SharedRead
from essaim.engine._writer import GroupCommitWriter
from essaim.engine.health import StoreHealth
from essaim.engine.metrics import LATENCY_BUCKETS, Histogram
from essaim.engine.view import CampaignView
from essaim.errors import CommandError, NotFound, StoreUnavailable, Unauthorized, WrongPhase
from essaim.model.commands import FACILITATOR, Ack, Actor, Command, CommandTable
from essaim.model.events import Event
from essaim.model.state import CampaignState
from essaim.model.template import CampaignTemplate
from essaim.model.types import (
    EvaluationInput,
    EvaluationTask,
    ItemScore,
    Prompt,
    Results,
    SortingInput,
    Structure,
    Suggestion,
)
from essaim.plugin import PluginHost
from essaim.plugin.segments import SegmentFilter, count_segment_judges, pinned_segment_counts
from essaim.store import Store, store_at

log = logging.getLogger("essaim.engine")

__all__ = ["Engine", "open_engine", "CampaignCreated", "Joined", "EngineLimits"]

#: Letters of a join code: no 0/O, 1/I/L, so it can be read aloud and typed.
CODE_ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"
CODE_LENGTH = 6


@dataclass(frozen=True, slots=True)
class EngineLimits:
    """Limits the engine enforces. Each is a setting with a reason."""

    #: Participants in one campaign; the design target is 10,000 per process,
    #: several processes beyond.
    max_participants: int = 200_000
    #: Suggestions returned while typing; a phone shows about five.
    max_suggestions: int = 5
    #: Seconds a finished campaign nobody asks about stays in memory (a
    #: 10,000-person one holds ~200 MiB); then it is unloaded, and rebuilt
    #: from the store (a few seconds) when someone asks again. 0 keeps them.
    unload_finished_after: float = 1800.0


@dataclass(frozen=True, slots=True)
class CampaignCreated:
    campaign_id: str
    code: str
    facilitator_token: str


@dataclass(frozen=True, slots=True)
class Joined:
    campaign_id: str
    pid: str
    token: str
    seq: int


class Engine:
    """Campaigns, their owners and the writer. Create with :func:`open_engine`."""

    def __init__(self, store: Store, host: PluginHost, nursery: trio.Nursery, limits: EngineLimits) -> None:
        self.store = store
        self.host = host
        self.limits = limits
        self.writer = GroupCommitWriter(store)
        self.writer.on_fenced = self._on_fenced
        self._nursery = nursery
        self._owners: dict[str, CampaignOwner] = {}
        self._codes: dict[str, str] = {}
        self._result_reads: dict[str, SharedRead[_ResultsAndCounts]] = {}
        #: Finished campaigns a restart has not loaded yet (see _load_finished),
        #: and those it could not load, with the error's name.
        self._loading: set[str] = set()
        #: Of those, the ones somebody asked for meanwhile (answered ``unavailable``).
        self._asked_while_loading: set[str] = set()
        self._unreadable: dict[str, str] = {}
        self._stopping = False
        #: Finished campaigns unloaded for idleness (their codes stay known),
        #: and when each loaded campaign was last asked for (trio time).
        self._dormant: set[str] = set()
        self._used: dict[str, float] = {}
        #: Loads under way (the start-up batch counts as one); stopping waits for them.
        self._loads = 0
        self._no_loads = trio.Event()
        self._no_loads.set()
        #: Set once every stored campaign is loaded (finished ones come last).
        self.loaded = trio.Event()
        #: Set, then replaced by a fresh event, each time a campaign is rebuilt
        #: in the background (the server freezes its objects out of the GC).
        self.campaign_loaded = trio.Event()
        self._structures: dict[str, SharedRead[Structure]] = {}
        #: Seconds each results computation took (``/metrics``).
        self.results_seconds = Histogram(LATENCY_BUCKETS)
        # Wall-clock time derived from trio's clock, so a fake clock in tests
        # moves phase deadlines too.
        self._trio_offset = time.time() - trio.current_time()

    @property
    def store_health(self) -> StoreHealth:
        """Whether the store takes writes now (a readiness check reads
        ``store_health.writable``); see :mod:`essaim.engine.health`."""
        return self.writer.health

    @property
    def commands(self) -> CommandTable:
        """Every declared command (built-in and plugins'): who may send it, its
        payload's shape (checked by :meth:`execute` and :meth:`submit_nowait`
        before the campaign sees it) and its JSON Schema."""
        return self.host.registry.commands

    def clock(self) -> float:
        """Wall-clock seconds, as trio's clock sees them."""
        return trio.current_time() + self._trio_offset

    # -- lifecycle -------------------------------------------------------------------------

    async def _start(self) -> None:
        await self._nursery.start(self.writer.run)
        await self._load_stored(await self._blocking(self.store.campaign_ids))
        if self.limits.unload_finished_after > 0:
            self._nursery.start_soon(self._unload_idle)

    async def _load_stored(self, stored: list[str]) -> None:
        """Serve these stored campaigns: those not finished now, the finished
        ones in the background (at start: every stored campaign; in cluster
        failover: the campaigns this process takes over)."""
        finished: dict[str, str] = await self._blocking(self.store.finished_campaigns)
        for campaign_id in stored:
            if campaign_id not in finished:
                await self._adopt(await self._blocking(self._rebuild, campaign_id))
        later = [campaign_id for campaign_id in stored if campaign_id in finished]
        self._loading |= set(later)
        for campaign_id in later:  # taken: a new campaign never gets one, a join finds its campaign
            self._codes[finished[campaign_id]] = campaign_id
        self._spawn_load(self._load_finished, later)

    def _rebuild(self, campaign_id: str) -> CampaignState:
        """A campaign's state from its newest snapshot and the events after it
        (a worker thread with a blocking store: a fresh object, shared with no one).
        Raises PluginError, naming it, when the campaign needs a plugin that
        is not installed (a phase type of its template, its events)."""
        registry = self.host.registry
        state = self.store.load(campaign_id).rebuild(registry.phase_states)
        registry.require_installed(state)
        return state

    def _spawn_load(self, load: Any, *args: Any) -> None:
        """Run ``load(*args)`` in the engine's nursery, counted in the loads
        under way (stopping waits for them: a rebuild must not outlive the store)."""
        self._loads += 1
        if self._no_loads.is_set():
            self._no_loads = trio.Event()

        async def counted() -> None:
            try:
                await load(*args)
            finally:
                self._loads -= 1
                if not self._loads:
                    self._no_loads.set()

        self._nursery.start_soon(counted)

    async def _load_finished(self, campaign_ids: list[str]) -> None:
        """Finished campaigns, once the others are served: a restart in the
        middle of a campaign must not wait for last month's (about 5 s and
        200 MiB each for 10,000 people and 300,000 judgments)."""
        try:
            for campaign_id in campaign_ids:
                await self._load_one(campaign_id)
        finally:
            self.loaded.set()

    async def _load_one(self, campaign_id: str) -> None:
        """Rebuild and adopt one campaign that is not in memory."""
        retry_later = False
        try:
            if self._stopping:
                return
            state = await self._blocking(self._rebuild, campaign_id)
            if self._stopping:
                return
            await self._adopt(state)
            self.campaign_loaded.set()
            self.campaign_loaded = trio.Event()
        except StoreUnavailable:
            # Not unreadable, unreachable for now: dormant, so the next ask tries again.
            log.warning("campaign %s could not be loaded: the store is unavailable", campaign_id)
            self._owners.pop(campaign_id, None)
            self._dormant.add(campaign_id)
            retry_later = True
        except Exception as exc:  # one unreadable campaign must not stop the others
            log.exception("campaign %s could not be loaded", campaign_id)
            self._owners.pop(campaign_id, None)
            self._unreadable[campaign_id] = type(exc).__name__
        finally:
            if not retry_later:
                self._dormant.discard(campaign_id)  # loaded, or unreadable: no rebuild loop
            self._loading.discard(campaign_id)
            self._asked_while_loading.discard(campaign_id)

    async def _unload_idle(self) -> None:
        """Unload finished campaigns that no one asked about for
        ``unload_finished_after`` seconds. A subscriber (the server's hub,
        while phones are connected) counts as use: the idle time starts
        when the last one leaves."""
        after = self.limits.unload_finished_after
        while not self._stopping:
            await trio.sleep(after / 4)  # an idle timeout: a sweep a few times per period
            for campaign_id in self._idle_finished(after):
                if self._stopping:
                    break
                await self._unload(campaign_id)

    def _idle_finished(self, after: float) -> list[str]:
        now = trio.current_time()
        idle = []
        for campaign_id, owner in self._owners.items():
            if owner.listened:
                self._used[campaign_id] = now
            elif owner.state.status == "finished" and now - self._used.get(campaign_id, now) >= after:
                idle.append(campaign_id)
        return idle

    async def _unload(self, campaign_id: str) -> None:
        """Drop a campaign from memory. It counts as loading until its owner
        has drained and the writer has made its last events durable: a
        rebuild before that could miss them and reuse their seqs."""
        owner = self._owners.pop(campaign_id)  # first: nothing new reaches it
        owner.state.caches.clear()
        self._loading.add(campaign_id)
        self._used.pop(campaign_id, None)
        self._result_reads.pop(campaign_id, None)
        self._structures.pop(campaign_id, None)
        try:
            await owner.aclose()
            await owner.finished.wait()
            durable = trio.Event()
            try:
                await self.writer.submit(campaign_id, [], durable.set)  # a barrier
            except trio.ClosedResourceError:
                return  # stopping: the writer drains everything before the store closes
            await durable.wait()
        finally:
            self._dormant.add(campaign_id)
            self._loading.discard(campaign_id)
            self._asked_while_loading.discard(campaign_id)  # the next ask starts the rebuild, and counts
        log.info("campaign %s unloaded after %.0f s unused; it is rebuilt when asked for",
                 campaign_id, self.limits.unload_finished_after)

    async def _stop(self) -> None:
        self._stopping = True
        await self._no_loads.wait()  # at most the rebuilds under way
        await self.host.broadcast("essaim_engine_stopping", engine=self)
        for owner in list(self._owners.values()):
            await owner.aclose()

    def metric_histograms(self) -> dict[str, tuple[str, Histogram]]:
        """Histograms for ``/metrics`` beyond the writer's: name -> (help, histogram)."""
        return {}

    def metric_values(self) -> dict[str, tuple[str, str, float]]:
        """Gauges and counters for ``/metrics`` beyond the writer's: name -> (kind, help, value)."""
        return {}

    def cluster_link(self) -> tuple[bool, str] | None:
        """Cluster mode: whether this process reaches the bus, and why not (``/readyz``)."""
        return None

    async def _after_writer(self) -> None:
        """At exit, once the writer made everything durable (cluster mode
        publishes the last batches here)."""

    async def _blocking(self, fn: Any, *args: Any) -> Any:
        if self.store.blocking:
            return await trio.to_thread.run_sync(fn, *args)
        return fn(*args)

    def _epoch_of(self, campaign_id: str) -> int | None:
        """The fencing token this process writes the campaign with: None in
        one process (nothing checked); cluster failover claims one."""
        return None

    async def _claim_new(self, campaign_id: str) -> None:
        """Before a new campaign's first event: cluster failover claims it here."""

    def _on_fenced(self, campaign_id: str, epoch: int) -> None:
        """The store refused this process's epoch for the campaign: another
        process writes it now. The owner refuses everything from here on (one
        process never claims, so only cluster mode gets here: it steps down)."""
        owner = self._owners.get(campaign_id)
        if owner is not None and owner.epoch == epoch:
            owner.stale = True

    async def _adopt(self, state: CampaignState) -> CampaignOwner:
        owner = CampaignOwner(state, self.host, self.writer, self.clock, self._trio_offset,
                              epoch=self._epoch_of(state.campaign_id),
                              reload=lambda campaign_id: self._blocking(self._rebuild, campaign_id))
        self._owners[state.campaign_id] = owner
        self._used[state.campaign_id] = trio.current_time()
        self._codes[state.code] = state.campaign_id
        await self._nursery.start(owner.run)
        return owner

    # -- campaigns ------------------------------------------------------------------------

    async def create_campaign(self, template: CampaignTemplate, *, source: str | None = None) -> CampaignCreated:
        """Create a campaign from a template, durably. Raises TemplateError
        if it names a phase type or strategy no plugin provides."""
        template = template.check(self.host.registry, source=source)
        if not self.store_health.writable:
            raise store_unavailable()
        campaign_id = secrets.token_hex(6)
        code = self._new_code()
        token = secrets.token_urlsafe(24)
        await self._claim_new(campaign_id)
        state = CampaignState(campaign_id, self.host.registry.phase_states)
        event = Event(1, "campaign_created", self.clock(), {
            "code": code, "template": template.to_dict(), "facilitator_token_hash": hash_token(token),
        })
        state.apply(event)
        durable, refused = trio.Event(), trio.Event()

        def on_refused() -> None:
            refused.set()
            durable.set()

        await self.writer.submit(campaign_id, [event], durable.set, epoch=self._epoch_of(campaign_id),
                                 on_refused=on_refused)
        await durable.wait()
        if refused.is_set():  # another process claimed this brand-new id: it is theirs
            raise CommandError("the campaign could not be created (another server took it); try again",
                               code="unavailable")
        owner = await self._adopt(state)
        owner.durable_seq = 1
        await self.host.broadcast("essaim_campaign_created", state=state)
        return CampaignCreated(campaign_id, code, token)

    def _new_code(self) -> str:
        while True:
            code = "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))
            if code not in self._codes:
                return code

    def campaign_ids(self) -> list[str]:
        """The campaigns in memory now: right after a restart finished ones
        are still loading (until :attr:`loaded` is set), and finished ones
        unused for ``unload_finished_after`` are unloaded (see :meth:`stored_elsewhere`)."""
        return list(self._owners)

    def loaded_states(self) -> list[CampaignState]:
        """The states of the campaigns in memory, for monitoring: unlike
        :meth:`state`, reading them does not count as using the campaign
        (a metrics scrape must not keep finished campaigns in memory)."""
        return [owner.state for owner in self._owners.values()]

    def rebuilding(self, *, asked_only: bool = False) -> frozenset[str]:
        """Campaigns being rebuilt from the store now; with ``asked_only``,
        those somebody asked for meanwhile (they were answered
        ``unavailable``), not the finished ones a restart rebuilds unasked."""
        if asked_only:
            return frozenset(self._loading & self._asked_while_loading)
        return frozenset(self._loading)

    def stored_elsewhere(self) -> dict[str, str]:
        """Campaigns in the store but not in memory now (loading, unloaded or
        unreadable), with their join codes; asking for one loads it."""
        return {cid: code for code, cid in self._codes.items() if cid not in self._owners}

    def owner(self, campaign_id: str) -> CampaignOwner:
        try:
            owner = self._owners[campaign_id]
        except KeyError:
            pass
        else:
            self._used[campaign_id] = trio.current_time()
            return owner
        if campaign_id in self._dormant and campaign_id not in self._loading and not self._stopping:
            self._loading.add(campaign_id)
            self._spawn_load(self._load_one, campaign_id)
        if campaign_id in self._loading:
            self._asked_while_loading.add(campaign_id)
            raise CommandError("this campaign is being loaded; try again in a few seconds", code="unavailable")
        if campaign_id in self._unreadable:
            raise CommandError(f"this campaign could not be loaded ({self._unreadable[campaign_id]}); "
                               "the server log says why", code="unreadable")
        raise NotFound(f"no campaign {campaign_id!r}; check the link or the code")

    def loaded_owner(self, campaign_id: str) -> CampaignOwner | None:
        """The campaign's owner if it is in memory here now (no loading, no use counted)."""
        return self._owners.get(campaign_id)

    def campaign(self, campaign_id: str) -> CampaignView:
        """The campaign as the server serves it: its live state, durable seq,
        subscription and command sink. Here its owner; in cluster mode, for a
        campaign another process owns, a replica (:mod:`essaim.cluster`)."""
        return self.owner(campaign_id)

    async def ready(self, campaign_id: str) -> None:
        """Return once :meth:`campaign` can serve this campaign here (at once
        in one process; in cluster mode, once this process replicates it).
        Raises what :meth:`campaign` raises for an unknown campaign."""
        self.campaign(campaign_id)

    def is_local(self, campaign_id: str) -> bool:
        """The campaign's owner runs in this process (always, out of cluster mode)."""
        return True

    def state(self, campaign_id: str) -> CampaignState:
        """The live state: read it, never change it."""
        return self.campaign(campaign_id).state

    async def find(self, code: str) -> str:
        """:meth:`by_code`, and in cluster mode also a campaign created
        elsewhere a moment ago that this process has not heard of yet."""
        return self.by_code(code)

    def by_code(self, code: str) -> str:
        """The campaign id for a join code (case-insensitive)."""
        try:
            return self._codes[code.strip().upper()]
        except KeyError:
            raise NotFound(f"no campaign with code {code!r}; check the code") from None

    # -- participants ------------------------------------------------------------------------

    async def join(self, campaign_id: str, profile: Mapping[str, Any] | None = None) -> Joined:
        """Add a participant; returns their id and secret token (shown once)."""
        token = secrets.token_urlsafe(18)
        pid, seq = await self.join_hashed(campaign_id, profile or {}, hash_token(token))
        return Joined(campaign_id, pid, token, seq)

    async def join_hashed(self, campaign_id: str, profile: Mapping[str, Any], token_hash: str) -> tuple[str, int]:
        """Add a participant whose token only the caller knows (by its hash);
        returns (pid, seq). A gateway joins this way through the owner."""
        return await self.join_at_owner(campaign_id, profile, token_hash)

    async def join_at_owner(self, campaign_id: str, profile: Mapping[str, Any], token_hash: str) -> tuple[str, int]:
        """:meth:`join_hashed` by this process's own owner of the campaign
        (what cluster mode's owner does for a gateway)."""
        ack = await self.owner(campaign_id).execute(FACILITATOR, Command("join", {
            "profile": profile, "token_hash": token_hash, "max_participants": self.limits.max_participants,
        }))
        return ack.result["pid"], ack.seq

    def authenticate(self, campaign_id: str, token: str) -> Actor:
        """The actor a token stands for in this campaign, or Unauthorized."""
        state = self.state(campaign_id)
        if not isinstance(token, str) or not token:
            raise Unauthorized("a token is required")
        digest = hash_token(token)
        if hmac.compare_digest(digest, state.facilitator_token_hash):
            return FACILITATOR
        pid = state.tokens.get(digest)
        if pid is None:
            raise Unauthorized("this token is not valid for this campaign; join again")
        return Actor.participant(pid)

    # -- commands -------------------------------------------------------------------------

    async def execute(self, campaign_id: str, actor: Actor, command: Command) -> Ack:
        """Apply a command and return once it is durable. Raises CommandError
        (state unchanged) if it is malformed or not allowed."""
        self.commands.validate(actor, command)
        return await self.campaign(campaign_id).execute(actor, command)

    def submit_nowait(self, campaign_id: str, actor: Actor, command: Command, reply: Reply) -> None:
        """Queue a command without waiting; ``reply(ack, error)`` runs on the
        trio thread once it is durable or refused. Raises CommandError at once
        if malformed, or LimitExceeded("busy") if the campaign's queue is full."""
        self.commands.validate(actor, command)
        self.campaign(campaign_id).submit_nowait(actor, command, reply)

    def submit_at_owner(self, campaign_id: str, actor: Actor, command: Command, reply: Reply) -> None:
        """:meth:`submit_nowait` to this process's own owner of the campaign
        (what cluster mode's owner does with a gateway's command)."""
        self.commands.validate(actor, command)
        self.owner(campaign_id).submit_nowait(actor, command, reply)

    # -- queries (read the live state; no event) ------------------------------------------

    def _participant(self, campaign_id: str, pid: str) -> tuple[CampaignView, Any]:
        owner = self.campaign(campaign_id)
        p = owner.state.participants.get(pid)
        if p is None:
            raise Unauthorized("unknown participant; join the campaign again")
        return owner, p

    async def prompts(self, campaign_id: str, pid: str) -> list[Prompt]:
        owner, p = self._participant(campaign_id, pid)
        if owner.state.phase is None:
            return []
        return list(await owner.call("collection", "essaim_collection_prompts", state=owner.state, participant=p))

    async def suggest(self, campaign_id: str, text: str, limit: int | None = None) -> list[Suggestion]:
        owner = self.campaign(campaign_id)
        if not isinstance(text, str) or not text.strip():
            return []
        n = min(limit or self.limits.max_suggestions, self.limits.max_suggestions)
        return list(await owner.call("collection", "essaim_collection_similar", state=owner.state, text=text[:2000], limit=n))

    async def next_task(self, campaign_id: str, pid: str) -> EvaluationTask | None:
        owner, p = self._participant(campaign_id, pid)
        state = owner.state
        if state.phase is None or self.host.registry.phase_types[state.phase.type].family != "evaluation":
            raise WrongPhase("there is nothing to evaluate in this phase")
        rng = random_for(campaign_id, pid, state.seq)
        task: EvaluationTask | None = await owner.call(
            "evaluation", "essaim_evaluation_next", state=state, participant=p, rng=rng
        )
        return task

    async def structure(self, campaign_id: str, *, max_age: float = 0.0) -> Structure:
        """The crowd's structure now, aggregated off the trio thread, on a
        snapshot. A structure of the current seq, or at most ``max_age``
        seconds old, is reused; concurrent callers share one aggregation
        (:mod:`essaim.engine._shared_reads`)."""
        owner = self.owner(campaign_id)
        return await self._structure(owner, lambda: owner.state.seq, max_age, owner.sorting_snapshot)

    async def _structure(
        self, owner: CampaignOwner, seq_now: Callable[[], int], max_age: float, snapshot: Callable[[], SortingInput]
    ) -> Structure:
        """Through the campaign's structure read: a console's poll and the
        results of the same seq share one aggregation."""
        async def compute() -> Computed[Structure]:
            started = trio.current_time()
            taken = snapshot()
            return Computed(taken.seq, started, await owner.aggregate(taken))

        read = self._structures.get(owner.campaign_id) or self._structures.setdefault(owner.campaign_id, SharedRead())
        return (await read.get(seq_now, max_age, compute)).value

    async def scores(self, campaign_id: str) -> list[ItemScore]:
        """The evaluation strategy's scores now, computed in a worker thread on a snapshot."""
        owner = self.owner(campaign_id)
        return await self._scores(owner, _evaluation_input(owner.state))

    async def _scores(self, owner: CampaignOwner, snapshot: EvaluationInput) -> list[ItemScore]:
        name, settings = owner.strategy("evaluation")
        return list(await trio.to_thread.run_sync(
            lambda: self.host.call_strategy(
                "evaluation", name, "essaim_evaluation_scores", settings=settings, snapshot=snapshot
            )
        ))

    async def results(self, campaign_id: str, *, max_age: float = 0.0) -> Results:
        """Scores, ranked opportunity sheets and structure of a campaign, with
        every profile segment judged by fewer than the template's
        ``min_segment_size`` people removed: what a facilitator, an export
        or a participant may see (:mod:`essaim.plugin.segments`).

        Results of the current seq, or at most ``max_age`` seconds old, are
        reused (a live dashboard passes a few seconds: any number of them
        then cost one computation per interval); callers arriving during a
        computation share it."""
        return (await self._results(campaign_id, max_age)).value.results

    async def _results(self, campaign_id: str, max_age: float) -> Computed[_ResultsAndCounts]:
        owner = self.owner(campaign_id)
        read = self._result_reads.get(campaign_id) or self._result_reads.setdefault(campaign_id, SharedRead())
        return await read.get(lambda: owner.state.seq, max_age, lambda: self._compute_results(owner))

    async def _compute_results(self, owner: CampaignOwner) -> Computed[_ResultsAndCounts]:
        """Everything from one snapshot: the scores and the segment counts in
        worker threads, then the sheets hook on the trio thread, handed the
        counts instead of counting every judgment again there."""
        s = owner.state
        started = trio.current_time()
        snapshot = _evaluation_input(s)
        sorting = owner.sorting_snapshot() if s.placements else None
        counters = dict(s.counters)
        try:
            scores = await self._scores(owner, snapshot)
        except WrongPhase:
            scores = []
        counts = await trio.to_thread.run_sync(count_segment_judges, snapshot.judgments, snapshot.profiles)
        structure = (await self._structure(owner, lambda: sorting.seq, 0.0, lambda: sorting)
                     if sorting is not None else None)
        min_size = s.template.min_segment_size  # type: ignore[union-attr]
        with pinned_segment_counts(s, counts):
            sheets = await owner.call("results", "essaim_results_sheets", state=s, scores=scores,
                                      min_segment_size=min_size)
        results = Results(
            campaign_id=owner.campaign_id,
            title=s.template.title,  # type: ignore[union-attr]
            seq=snapshot.seq,
            sheets=tuple(sheets),
            scores=tuple(scores),
            structure=structure,
            counters=counters,
        )
        visible = SegmentFilter(counts, min_size).results(results)
        self.results_seconds.observe(trio.current_time() - started)
        return Computed(snapshot.seq, started, _ResultsAndCounts(visible, counts))

    async def export(self, campaign_id: str, fmt: str) -> list[Any]:
        """Export files (:class:`~essaim.model.types.ExportFile`) in a registered
        format, of the results as :meth:`results` gives them now."""
        if fmt not in self.host.registry.export_formats:
            raise CommandError(
                f"unknown export format {fmt!r}; available: {self.host.registry.available('export')}",
                code="bad_request",
            )
        computed = (await self._results(campaign_id, 0.0)).value
        state = self.state(campaign_id)
        with pinned_segment_counts(state, computed.counts):
            return list(await self.host.acall_strategy(
                "export", fmt, "essaim_results_export", format=fmt, state=state, results=computed.results
            ))


@dataclass(frozen=True, slots=True)
class _ResultsAndCounts:
    results: Results
    #: Distinct judges per (item, segment) in the snapshot the results came from.
    counts: Mapping[tuple[str, str], int]


def _evaluation_input(s: CampaignState) -> EvaluationInput:
    """An immutable copy of what scoring reads (cheap: tuple and dict copies)."""
    return EvaluationInput(
        campaign_id=s.campaign_id,
        seq=s.seq,
        items={iid: it.title for iid, it in s.items.items()},
        judgments=tuple(s.judgments),
        profiles={pid: dict(p.profile) for pid, p in s.participants.items()},
        caches=s.caches,
    )


def random_for(*parts: object) -> random.Random:
    """Reproducible randomness for a query, from the campaign, participant and seq."""
    return random.Random(":".join(map(str, parts)))


@asynccontextmanager
async def open_engine(
    store: Store | str | Path | None = None,
    *,
    plugins: PluginHost | None = None,
    limits: EngineLimits | None = None,
    finished_later: bool = False,
    factory: Callable[[Store, PluginHost, trio.Nursery, EngineLimits], Engine] = Engine,
) -> AsyncIterator[Engine]:
    """Open an engine on ``store``: a Store, a SQLite path, a ``postgresql://``
    URL, or None for memory (:func:`essaim.store.store_at`).

    Rebuilds every stored campaign before yielding; with ``finished_later``,
    only those that are not finished, and the finished ones right after,
    while the engine is in use (``engine.loaded`` is set once all are; until
    then asking for one raises CommandError "unavailable"). The server does
    this: a restart in the middle of a campaign must not wait for last
    month's. ``factory`` builds the engine (cluster mode passes one that
    also serves campaigns owned elsewhere, :mod:`essaim.cluster`). On exit, stops taking commands, makes everything queued
    durable, and closes the store.
    """
    store = store_at(store)
    host = plugins or PluginHost.load()
    # Opened before anything starts: a store that cannot be opened (a newer
    # schema, an unwritable path) raises its StoreError as it is, instead of
    # leaving the shutdown below waiting for a writer that never ran.
    if store.blocking:
        await trio.to_thread.run_sync(store.open)
    else:
        store.open()
    async with trio.open_nursery() as nursery:
        engine = factory(store, host, nursery, limits or EngineLimits())
        try:
            await engine._start()
            if not finished_later:
                await engine.loaded.wait()
            await host.broadcast("essaim_engine_started", engine=engine)
            yield engine
        finally:
            with trio.CancelScope(shield=True):
                await engine._stop()
                # Owners drain their queues into the writer, then the writer
                # commits everything, so nothing accepted is lost.
                for owner in engine._owners.values():
                    await owner.finished.wait()
                    owner.state.caches.clear()
                await engine.writer.aclose()
                await engine.writer.finished.wait()
                await engine._after_writer()
                await engine._blocking(store.close)
            nursery.cancel_scope.cancel()

