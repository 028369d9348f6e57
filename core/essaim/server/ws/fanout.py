"""Fan-out: who gets told what, when, and at what cost in frames.

One :class:`CampaignHub` per campaign listens to the campaign owner's
durable events (``engine.campaign(cid).subscribe``) and flags the outboxes of
the connections concerned:

- a phase change (``phase_*``, ``items_published``, ``campaign_finished``)
  flags ``phase`` and ``you`` for everyone at once, and wakes their writers
  in paced slices sized from the measured cost of a frame
  (:mod:`essaim.server.ws.pacing`), so actions slip in between;
- personal events flag ``you`` for the participants concerned only
  (``hand_dealt`` → the sorter, ``card_flagged`` with a jury → the jurors,
  ``case_decided`` → the jurors and the author...); a new supporter of a
  card flags its author's ``you`` without waking the writer: it rides on the
  next frame sent anyway;
- a plugin phase's events (``"<phase type>:<event>"``) change its shared
  part, the *board*, which rides with the counters (same pacing, same
  budget), and flag ``you`` for the participant the event names (``pid``);
- counters go to everyone on an adaptive interval: at least
  ``counters_interval``, and ``connections / counters_frame_budget`` when
  there are many connections, so counter refreshes never cost more than the
  budget in frames per second; a frame sent anyway carries them for free.

Shared parts are encoded once per change (orjson) and spliced as bytes into
every frame (:meth:`CampaignHub.shared`).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from functools import partial
from typing import TYPE_CHECKING, Any, Protocol

import orjson
import trio

from essaim.errors import EssaimError
from essaim.model.events import Event
from essaim.server.ratelimit import TokenBucket
from essaim.server.views import board_view, counters_view, phase_view, prompts_wanted, results_view, results_wanted
from essaim.server.ws.pacing import FrameCost

if TYPE_CHECKING:
    from essaim.engine import Engine
    from essaim.server.ops.metrics import ServerMetrics
    from essaim.server.settings import Settings
    from essaim.server.ws.outbox import Outbox

__all__ = ["Hubs", "CampaignHub", "Subscriber", "PHASE_EVENTS", "COUNTER_EVENTS"]

log = logging.getLogger("essaim.server.fanout")

PHASE_EVENTS = frozenset({
    "phase_started", "phase_paused", "phase_resumed", "phase_extended", "phase_ended", "phase_overtime",
    "campaign_finished", "items_published",
})
#: Events that move a counter everyone sees.
COUNTER_EVENTS = frozenset({
    "participant_joined", "card_written", "card_supported", "sorter_volunteered", "hand_dealt",
    "hand_placed", "card_flagged", "case_decided", "judgment_recorded",
})
#: Seconds between two slices of a counter refresh (a slice is budget x tick connections).
SPREAD_TICK = 0.05
#: Contribution rate window (seconds) for the facilitator's stats.
RATE_WINDOW = 60.0
#: Contribution samples kept for the rate (one per counter refresh at most).
RATE_SAMPLES = 64


class Subscriber(Protocol):
    """What the fan-out needs of a participant connection
    (:class:`essaim.server.ws.participant.Connection`): whom it is for, its
    outbox to flag, and what it was last sent."""

    @property
    def pid(self) -> str | None: ...

    @property
    def outbox(self) -> Outbox: ...

    @property
    def hub(self) -> CampaignHub | None: ...

    @property
    def counters_sent(self) -> int:
        """The counters version the last frame carried."""
        ...

    @property
    def finished(self) -> bool: ...


class _Shared:
    """One encoded shared part and the version it was encoded at."""

    __slots__ = ("version", "encoded_version", "data")

    def __init__(self) -> None:
        self.version = 0
        self.encoded_version = -1
        self.data = b"null"


class CampaignHub:
    """The connections of one campaign and what they are owed."""

    def __init__(self, engine: Engine, campaign_id: str, settings: Settings, metrics: ServerMetrics,
                 on_finished: Callable[[CampaignHub], None] = lambda hub: None,
                 frame_cost: FrameCost | None = None) -> None:
        self.engine = engine
        #: What a frame costs this process, measured during pushes (shared by the hubs of a process).
        self.frame_cost = frame_cost or process_frame_cost(settings, metrics)
        #: Called once the campaign finishes (the hubs close it if nobody is connected).
        self._on_finished = on_finished
        self.campaign_id = campaign_id
        self.settings = settings
        self.metrics = metrics
        self.connections: set[Subscriber] = set()
        self.by_pid: dict[str, set[Subscriber]] = {}
        self.phase = _Shared()
        #: trio time the last phase change was made durable (phase-push staleness).
        self.phase_changed_at = trio.current_time()
        self.counters = _Shared()
        #: A plugin phase's shared part: sent with the counters when it changed.
        self.board = _Shared()
        self.results = _Shared()
        self.results_data: bytes = b"null"
        self._counters_changed = trio.Event()
        self._everyone_stale = trio.Event()
        #: Set when no paced wake-up is under way (see _stale_for_everyone).
        self._paced_done = trio.Event()
        self._paced_done.set()
        self._results_wanted = trio.Event()
        self.cards_by_author: dict[str, list[str]] = {}
        state = engine.state(campaign_id)
        for card in state.cards.values():
            self.cards_by_author.setdefault(card.author, []).append(card.cid)
        self._prompts: dict[tuple[int, tuple[tuple[str, str], ...]], list[dict[str, str]]] = {}
        #: What a plugin already failed at here: logged once each, not once per participant.
        self._plugin_failures: set[str] = set()
        self.contributions: list[tuple[float, int]] = []
        #: Per participant, not per connection: opening more sockets buys no extra rate.
        self._buckets: dict[str, TokenBucket] = {}
        self._unsubscribe = engine.campaign(campaign_id).subscribe(self.on_events)
        #: Around the background tasks, cancelled by :meth:`close`.
        self._scope = trio.CancelScope()
        if results_wanted(engine, state):
            self._results_wanted.set()

    # -- connections ---------------------------------------------------------------------

    def add(self, conn: Subscriber) -> None:
        self.connections.add(conn)
        self.by_pid.setdefault(conn.pid, set()).add(conn)  # type: ignore[arg-type]
        self._counters_changed.set()

    def remove(self, conn: Subscriber) -> None:
        self.connections.discard(conn)
        conns = self.by_pid.get(conn.pid)  # type: ignore[arg-type]
        if conns is not None:
            conns.discard(conn)
            if not conns:
                del self.by_pid[conn.pid]  # type: ignore[arg-type]
        self._counters_changed.set()

    def bucket(self, pid: str) -> TokenBucket:
        b = self._buckets.get(pid)
        if b is None:
            b = self._buckets[pid] = TokenBucket(
                self.settings.rate_per_second, self.settings.rate_burst, trio.current_time())
        return b

    # -- events -----------------------------------------------------------------------------

    def on_events(self, events: list[Event]) -> None:
        """Owner listener: runs on the trio thread with each durable batch."""
        phase = counters = False
        personal: set[str] = set()
        lazy: set[str] = set()
        state = self.engine.state(self.campaign_id)
        board = False
        for ev in events:
            t, d = ev.type, ev.data
            if t in PHASE_EVENTS:
                phase = True
            if t in COUNTER_EVENTS:
                counters = True
            if ":" in t:  # a plugin phase's event
                board = counters = True
                if isinstance(d.get("pid"), str):
                    personal.add(d["pid"])
                continue
            if t == "card_written":
                self.cards_by_author.setdefault(d["pid"], []).append(d["cid"])
                personal.add(d["pid"])
            elif t in ("hand_dealt", "hand_placed", "sorter_volunteered", "jury_voted"):
                personal.add(d["pid"])
            elif t == "card_supported":
                card = state.cards.get(d["cid"])
                if card is not None:
                    lazy.add(card.author)  # a supporter more: worth no frame of its own
            elif t == "card_flagged":
                personal.update(d.get("jury", ()))
            elif t == "case_decided":
                case = state.cases.get(d.get("case_id") or "")
                if case is not None:
                    personal.update(case.jury)
                card = state.cards.get(d["cid"])
                if card is not None:
                    personal.add(card.author)
        if board or phase:
            self.board.version += 1
        if phase:
            self.phase.version += 1
            self.phase_changed_at = trio.current_time()
            self._prompts.clear()
            if results_wanted(self.engine, state):
                self._results_wanted.set()
            self._stale_for_everyone(phase=True, you=True)
        else:
            for pid in personal:
                for conn in self.by_pid.get(pid, ()):
                    self._mark(conn, you=True)
            for pid in lazy - personal:
                for conn in self.by_pid.get(pid, ()):
                    conn.outbox.mark(you=True, wake=False)
        if counters:
            self._counters_changed.set()
        if any(ev.type == "campaign_finished" for ev in events):
            self._on_finished(self)

    def _mark(self, conn: Subscriber, **flags: bool) -> None:
        if conn.outbox.mark(**flags):
            self.metrics.updates_coalesced += 1

    # -- shared parts, encoded once per change ------------------------------------------------

    def shared(self, part: _Shared) -> bytes:
        if part.encoded_version != part.version:
            state = self.engine.state(self.campaign_id)
            if part is self.phase:
                part.data = orjson.dumps(phase_view(self.engine, state))
            elif part is self.counters:
                part.data = orjson.dumps(counters_view(state, len(self.connections)))
            elif part is self.board:
                part.data = orjson.dumps(board_view(state))
            else:
                part.data = self.results_data
            part.encoded_version = part.version
        return part.data

    async def prompts_for(self, pid: str) -> list[dict[str, str]]:
        """The participant's prompts, cached per phase and profile (one plugin call
        per profile, not per frame)."""
        state = self.engine.state(self.campaign_id)
        if not prompts_wanted(self.engine, state):
            return []
        p = state.participants[pid]
        key = (state.phase_index, tuple(sorted(p.profile.items())))
        cached = self._prompts.get(key)
        if cached is None:
            try:
                prompts = await self.engine.prompts(self.campaign_id, pid)
            except EssaimError as error:
                # No prompts rather than no connection; cached like any answer, so
                # a broken plugin costs one call per phase and profile.
                self.report_plugin_error("prompts", error)
                prompts = []
            cached = self._prompts[key] = [{"id": pr.id, "text": pr.text} for pr in prompts]
        return cached

    def report_plugin_error(self, what: str, error: EssaimError) -> None:
        """Log a plugin's failure at ``what`` the first time only: thousands of
        participants asking the same broken plugin must not flood the log."""
        if what not in self._plugin_failures:
            self._plugin_failures.add(what)
            log.error("campaign %s: plugin failed at %s (logged once): %s", self.campaign_id, what, error,
                      exc_info=error)

    def counters_interval(self) -> float:
        """Seconds between counter refreshes: never more frames per second than the budget."""
        return max(self.settings.counters_interval, len(self.connections) / self.settings.counters_frame_budget)

    def contribution_rate(self) -> float:
        """Contributions (cards, supports, placements, judgments, flags) per minute, recently."""
        s = self.engine.state(self.campaign_id)
        now = self.engine.clock()
        total = sum(s.counters[k] for k in ("cards", "supports", "placements", "judgments", "flags"))
        self.contributions.append((now, total))
        cutoff = now - RATE_WINDOW
        while len(self.contributions) > 2 and (self.contributions[1][0] <= cutoff
                                               or len(self.contributions) > RATE_SAMPLES):
            self.contributions.pop(0)
        t0, n0 = self.contributions[0]
        if now - t0 <= 0:
            return 0.0
        return (total - n0) * 60.0 / (now - t0)

    # -- background work -----------------------------------------------------------------------

    async def run(self) -> None:
        with self._scope:
            async with trio.open_nursery() as nursery:
                nursery.start_soon(self._refresh_counters)
                nursery.start_soon(self._wake_everyone_paced)
                nursery.start_soon(self._publish_results)

    async def _refresh_counters(self) -> None:
        """Counters to everyone, no more often than the (adaptive) interval,
        spread over it in slices that keep to the frame budget: 10,000 frames
        at once would stall the process for a second or two. A client that
        got the new counters on a frame sent meanwhile is skipped."""
        while True:
            await self._counters_changed.wait()
            self._counters_changed = trio.Event()
            started = trio.current_time()
            interval = self.counters_interval()
            self.counters.version += 1
            version = self.counters.version
            await self._paced(self.settings.counters_frame_budget, partial(self._counters_stale, version))
            await trio.sleep_until(started + interval)

    def _counters_stale(self, version: int, conn: Subscriber) -> None:
        if conn.counters_sent < version and not conn.finished:
            self._mark(conn, counters=True)

    async def _paced(self, per_second: float, each: Callable[[Subscriber], object]) -> None:
        """``each`` on every connection of now, ``per_second`` of them per
        second, in SPREAD_TICK slices. (A callback, not an async iterator: a
        caller's loop variable would hold the last connection while the
        caller sleeps, and with it a closed session's objects.)"""
        conns = list(self.connections)
        chunk = max(1, int(per_second * SPREAD_TICK))
        for start in range(0, len(conns), chunk):
            if start:
                await trio.sleep(SPREAD_TICK)
            for conn in conns[start:start + chunk]:
                each(conn)

    def _stale_for_everyone(self, **parts: bool) -> None:
        """Mark ``parts`` stale on every connection now (any frame sent
        carries them) and have _wake_everyone_paced wake the writers."""
        for conn in self.connections:
            if conn.outbox.mark(**parts, wake=False):
                self.metrics.updates_coalesced += 1
        if self._paced_done.is_set():
            self._paced_done = trio.Event()
        self._everyone_stale.set()

    async def _wake_everyone_paced(self) -> None:
        """Wake every writer after a phase change or new results, in
        SPREAD_TICK slices sized from the measured cost of a frame
        (:mod:`essaim.server.ws.pacing`): one batch of 10,000 writers would
        make each action arriving meanwhile wait for all of them, and hold
        10,000 copies of the frame in memory at once."""
        while True:
            await self._everyone_stale.wait()
            self._everyone_stale = trio.Event()
            await self._wake_in_slices()
            if not self._everyone_stale.is_set():
                self._paced_done.set()

    async def _wake_in_slices(self) -> None:
        conns = list(self.connections)
        cost = self.frame_cost
        cost.restart()
        start = 0
        while start < len(conns):
            if start:
                await trio.sleep(SPREAD_TICK)
                cost.sample()
            end = start + cost.per_slice(self.settings.phase_push_cpu_share, SPREAD_TICK)
            for conn in conns[start:end]:
                conn.outbox.wake()
            start = end

    async def _publish_results(self) -> None:
        """Compute results when the campaign reaches its results; again on each
        later phase change (e.g. after "advance" from results to the end)."""
        while True:
            await self._results_wanted.wait()
            self._results_wanted = trio.Event()
            # The phase change that brought the results goes out first, at
            # full speed: scoring in a worker thread still takes the GIL
            # from the trio thread, and marked now, the results would ride
            # in every frame still to send.
            await self._paced_done.wait()
            try:
                results = await self.engine.results(self.campaign_id)
            except Exception:
                log.exception("campaign %s: results could not be computed", self.campaign_id)
                continue
            self.results_data = orjson.dumps(results_view(results))
            await self._paced_done.wait()  # another phase change came meanwhile
            self.results.version += 1
            self._stale_for_everyone(results=True)

    def close(self) -> None:
        """Stop listening and stop the background tasks (see :meth:`Hubs.leave`)."""
        self._unsubscribe()
        self._scope.cancel()


def process_frame_cost(settings: Settings, metrics: ServerMetrics) -> FrameCost:
    """The frame cost of this process, first assumed from ``phase_frame_budget``."""
    return FrameCost(lambda: metrics.frames_out, initial=settings.phase_push_cpu_share / settings.phase_frame_budget)


class Hubs:
    """The hubs of all campaigns, created on first use, run in the server's nursery."""

    def __init__(self, engine: Engine, settings: Settings, metrics: ServerMetrics,
                 nursery: trio.Nursery) -> None:
        self.engine = engine
        self.settings = settings
        self.metrics = metrics
        self._nursery = nursery
        self._hubs: dict[str, CampaignHub] = {}
        self.frame_cost = process_frame_cost(settings, metrics)

    def get(self, campaign_id: str) -> CampaignHub:
        hub = self._hubs.get(campaign_id)
        if hub is None:
            hub = self._hubs[campaign_id] = CampaignHub(self.engine, campaign_id, self.settings, self.metrics,
                                                        on_finished=self.prune, frame_cost=self.frame_cost)
            self._nursery.start_soon(hub.run)
        return hub

    def connection_count(self, campaign_id: str) -> int:
        hub = self._hubs.get(campaign_id)
        return len(hub.connections) if hub else 0

    def leave(self, conn: Subscriber) -> None:
        """``conn`` closed; its hub may go with it (:meth:`prune`)."""
        hub = conn.hub
        if hub is None:
            return
        hub.remove(conn)
        self.prune(hub)

    def prune(self, hub: CampaignHub) -> None:
        """Close ``hub`` if its campaign is finished and no connection is
        left: nothing will change there any more (a later resume makes a new
        one), and its subscription would keep the engine from unloading the
        campaign. Called when a connection leaves, when a campaign finishes,
        and when a welcome fails half-way."""
        if hub.connections or self._hubs.get(hub.campaign_id) is not hub:
            return
        if self.engine.state(hub.campaign_id).status == "finished":
            del self._hubs[hub.campaign_id]
            hub.close()

    def stats(self, campaign_id: str) -> dict[str, Any]:
        """Live figures for the console; never creates a hub (a console
        watching a finished campaign must not pin it in memory)."""
        hub = self._hubs.get(campaign_id)
        if hub is None:
            return {"connections": 0, "participants_online": 0, "contribution_rate_per_minute": 0.0,
                    "counters_interval": self.settings.counters_interval}
        return {"connections": len(hub.connections), "participants_online": len(hub.by_pid),
                "contribution_rate_per_minute": round(hub.contribution_rate(), 2),
                "counters_interval": hub.counters_interval()}
