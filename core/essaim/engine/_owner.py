"""The campaign owner: the one task that changes a campaign's state.

Commands arrive on a bounded memory channel. The owner takes them one at a
time: it checks them against the state, asks the campaign's strategies to
decide what they need to decide, turns the command into events with the
next sequence numbers, applies those events to the state at once (so the
next command sees them) and hands them to the group-commit writer. The
command's reply runs when the writer reports the events durable. There are
no locks: one task, a total order, every event numbered.

Phase timers run in a sibling task that sends the owner a ``timeout``
command; the owner decides, so a timer racing a facilitator's "advance"
cannot advance twice.

While the store is unwritable (:mod:`essaim.engine.health`), the owner
refuses commands from participants and facilitators with ``unavailable``
before deciding anything, so nothing new waits in memory for a store that
may not come back; a retry of an action already durable is still
acknowledged. Its own commands (the phase timer, the structure being
published) go on: the clock does not wait for the disk, and their events
are committed, in order, when the store is back.
"""

from __future__ import annotations

import hashlib
import logging
import random
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import trio

from essaim.engine.view import Listener, Reply, call_strategy, strategy_for
from essaim.errors import CommandError, LimitExceeded, PhaseStateError, PluginError, Unauthorized, WrongPhase
from essaim.model.commands import FACILITATOR, Ack, Actor, Command, CommandSpec, Decision
from essaim.model.events import Event
from essaim.model.phase_state import split_event_type
from essaim.model.state import CampaignState
from essaim.model.types import CardInfo, SortingInput, Structure
from essaim.plugin import CORE_PLUGINS

if TYPE_CHECKING:
    from essaim.engine._writer import GroupCommitWriter
    from essaim.plugin import PluginHost

__all__ = [
    "CampaignOwner", "Reply", "COMMAND_QUEUE", "PLUGIN_FAILURE_PAUSE", "SNAPSHOT_EVERY", "SNAPSHOT_FORCE_AFTER",
    "check_profile", "hash_token", "store_unavailable", "moved_away", "Repeated",
]

log = logging.getLogger("essaim.campaign")

#: Commands waiting for one campaign's owner. A full queue answers "busy"
#: (submit_nowait) or waits (execute): the owner is saturated, and queueing
#: more would only add latency.
COMMAND_QUEUE = 8192
#: A snapshot blocks the owner for time proportional to the state (~0.4 s
#: for 30,000 cards on the reference VM), while replaying events runs at
#: ~200,000 events/s. So a snapshot is taken at the next phase change once
#: this many events have accumulated (participants are between tasks then)...
SNAPSHOT_EVERY = 20_000
#: ...and at once past this many, which bounds a restart's replay to ~1 s.
SNAPSHOT_FORCE_AFTER = 200_000
#: Seconds a plugin whose reducer raised is refused ('unavailable') in this
#: campaign before its commands are tried again. Each failure costs a
#: rebuild of the campaign's state from the store (up to ~1 s for 10,000
#: people); phones retry 'unavailable' every 1 to 15 s, so without a pause
#: a deterministic reducer bug would have thousands of retries rebuild the
#: campaign back to back. One rebuild per pause at most.
PLUGIN_FAILURE_PAUSE = 30.0
#: Queued commands the owner handles in a row before yielding to other
#: tasks: ~64 x 30 us keeps one owner's turn near 2 ms, while saving a
#: scheduler trip per command under load.
OWNER_BURST = 64



@dataclass(slots=True)
class _Work:
    actor: Actor
    command: Command
    reply: Reply
    #: Sent by the owner's own tasks (timer, publication), not by a person.
    internal: bool = False


def store_unavailable() -> CommandError:
    """The refusal while the store cannot be written. Retryable: phones keep
    the action and send it again with backoff."""
    return CommandError("the server cannot save right now; nothing was changed and your action is kept: "
                        "it is sent again in a moment", code="unavailable")


class CampaignOwner:
    """Owns one campaign: its state, its command queue and its phase timer."""

    def __init__(
        self,
        state: CampaignState,
        host: PluginHost,
        writer: GroupCommitWriter,
        clock: Callable[[], float],
        trio_offset: float,
        *,
        epoch: int | None = None,
        reload: Callable[[str], Awaitable[CampaignState]] | None = None,
    ) -> None:
        self.state = state
        #: The fencing token this owner writes with (cluster failover; None in one process).
        self.epoch = epoch
        #: Set once the store refused this owner's epoch: another process took
        #: the campaign over; every command is refused until it is gone.
        self.stale = False
        #: Rebuilds the campaign's state from the store (after a plugin's
        #: reducer raised half-way through a command's events).
        self._reload = reload
        #: plugin name -> trio time until which its commands are refused here
        #: (its reducer raised; see PLUGIN_FAILURE_PAUSE).
        self._paused_plugins: dict[str, float] = {}
        #: Facilitator commands refused outside the phase types that list them.
        self._phase_bound = frozenset(
            c for ptype in host.registry.phase_types.values() for c in ptype.facilitator_commands)
        self.host = host
        self.commands = host.registry.commands
        self.writer = writer
        self.clock = clock
        self._trio_offset = trio_offset
        self._send, self._receive = trio.open_memory_channel[_Work](COMMAND_QUEUE)
        self._deadline_changed = trio.Event()
        self.durable_seq = state.seq
        self._listeners: list[Listener] = []
        #: Listeners that do not count as use (cluster mode's publication).
        self._quiet: set[int] = set()
        self._since_snapshot = 0
        self._nursery: trio.Nursery | None = None
        #: Set once the queue is closed and every queued command was handled.
        self.finished = trio.Event()
        #: Set while the owner computes the structure between two phases.
        self.transitioning = False

    @property
    def campaign_id(self) -> str:
        return self.state.campaign_id

    # -- running ---------------------------------------------------------------------------

    async def run(self, *, task_status: trio.TaskStatus[None] = trio.TASK_STATUS_IGNORED) -> None:
        try:
            async with trio.open_nursery() as nursery:
                self._nursery = nursery
                nursery.start_soon(self._timer)
                task_status.started()
                async with self._receive:
                    async for work in self._receive:
                        await self._handle(work)
                        # Handle what is already queued without a scheduler
                        # trip per command; yield after a bounded run so other
                        # campaigns and the writer keep their turn.
                        for _ in range(OWNER_BURST - 1):
                            try:
                                work = self._receive.receive_nowait()
                            except (trio.WouldBlock, trio.EndOfChannel):
                                break
                            await self._handle(work)
                nursery.cancel_scope.cancel()
        finally:
            # Also when cancelled or failed, so the engine's shutdown never
            # waits forever on an owner that is gone.
            self.finished.set()

    async def aclose(self) -> None:
        await self._send.aclose()

    @property
    def listened(self) -> bool:
        """Someone is subscribed (the engine never unloads such a campaign);
        a listener subscribed with ``use=False`` does not count."""
        return any(id(listener) not in self._quiet for listener in self._listeners)

    def subscribe(self, listener: Listener, *, use: bool = True) -> Callable[[], None]:
        """Call ``listener(events)`` on the trio thread each time events become
        durable. It must not block. Returns an unsubscribe function. With
        ``use=False`` (cluster mode's publisher) the subscription does not
        keep a finished campaign in memory."""
        self._listeners.append(listener)
        if not use:
            self._quiet.add(id(listener))

        def unsubscribe() -> None:
            if listener in self._listeners:
                self._listeners.remove(listener)
            self._quiet.discard(id(listener))

        return unsubscribe

    # -- submitting ------------------------------------------------------------------------

    def submit_nowait(self, actor: Actor, command: Command, reply: Reply) -> None:
        """Queue a command; raise LimitExceeded("busy") if the queue is full."""
        try:
            self._send.send_nowait(_Work(actor, command, reply))
        except trio.WouldBlock:
            raise LimitExceeded(
                "the campaign is receiving more actions than it can handle; retry in a moment", code="busy"
            ) from None
        except trio.ClosedResourceError:
            raise CommandError("the campaign is shutting down; reconnect shortly", code="unavailable") from None

    async def execute(self, actor: Actor, command: Command) -> Ack:
        """Run a command and wait until it is durable. Raises CommandError."""
        done = trio.Event()
        outcome: list[Any] = []

        def reply(ack: Ack | None, error: CommandError | None) -> None:
            outcome.append((ack, error))
            done.set()

        try:
            await self._send.send(_Work(actor, command, reply))
        except trio.ClosedResourceError:
            raise CommandError("the campaign is shutting down; reconnect shortly", code="unavailable") from None
        await done.wait()
        ack: Ack
        ack, error = outcome[0]
        if error is not None:
            raise error
        return ack

    # -- the owner loop ---------------------------------------------------------------------

    async def _barrier(self, work: _Work, ack: Ack) -> None:
        """Acknowledge once everything submitted before is durable (a retry
        of a durable action; a command that changed nothing)."""
        await self.writer.submit(self.campaign_id, (), lambda: work.reply(ack, None), epoch=self.epoch,
                                 on_refused=lambda: work.reply(None, moved_away()))

    async def _handle(self, work: _Work) -> None:
        actor, command = work.actor, work.command
        state = self.state
        if self.stale:
            work.reply(None, moved_away())
            return
        writable = work.internal or self.writer.health.writable
        if actor.role == "participant" and command.msg_id is not None:
            seen = state.remembered(actor.pid, command.msg_id)  # type: ignore[arg-type]
            if seen is not None:
                ack = Ack(seen[0], seen[1], duplicate=True)
                if not writable:
                    # No barrier while the store is down: durable, the ack
                    # is due now; not yet, it comes with the original's.
                    if seen[0] <= self.durable_seq:
                        work.reply(ack, None)
                    else:
                        work.reply(None, store_unavailable())
                    return
                # A barrier: acknowledge only once the original is durable.
                await self._barrier(work, ack)
                return
        if not writable:
            work.reply(None, store_unavailable())
            return
        try:
            decided = await self._decide(actor, command)
        except Repeated as repeated:  # an idempotent command met its earlier self
            await self._barrier(work, Ack(state.seq, repeated.result, duplicate=True))
            return
        except CommandError as error:
            work.reply(None, error)
            return
        except PluginError as error:
            # A failing strategy must not take the campaign (and the engine)
            # down: refuse this one command, which recorded nothing, and log
            # the plugin and hook for the operator.
            log.error("campaign %s: %s", self.campaign_id, error, exc_info=error)
            work.reply(None, CommandError(
                "this action could not be handled (a plugin failed) and nothing was changed; "
                "try again, or tell the facilitator", code="plugin_error",
            ))
            return
        if not decided:
            await self._barrier(work, Ack(state.seq, {}))
            return
        try:
            await self.record(decided, lambda ack: work.reply(ack, None), actor=actor, msg_id=command.msg_id,
                              on_refused=lambda: work.reply(None, moved_away()))
        except PhaseStateError as error:
            # A plugin's reducer raised: none of the command's events was
            # recorded, but some may have been applied. Answer `unavailable`
            # (retryable, nothing changed) and rebuild the state from the log.
            plugin = self.host.registry.phase_types[error.namespace].plugin
            self._paused_plugins[plugin] = trio.current_time() + PLUGIN_FAILURE_PAUSE
            log.error("%s; the command is refused, the state rebuilt from the log, and the plugin's commands "
                      "refused in this campaign for %.0f s", error, PLUGIN_FAILURE_PAUSE, exc_info=error)
            work.reply(None, CommandError(
                "this action could not be handled right now (a plugin failed) and nothing was changed; "
                "try again later, or tell the facilitator", code="unavailable"))
            await self._recover()

    async def record(
        self,
        decided: list[tuple[str, dict[str, Any]]],
        on_ack: Callable[[Ack], None] | None = None,
        *,
        actor: Actor = FACILITATOR,
        msg_id: str | None = None,
        on_refused: Callable[[], None] | None = None,
    ) -> list[Event]:
        """Turn decisions into numbered events, apply them, and queue them for
        the writer. The participant's message id goes on the last event, so a
        retry finds the command's result once it is fully applied.
        ``on_refused`` runs instead of ``on_ack`` if the store refuses this
        owner's epoch (it is stale: the events are never durable)."""
        state = self.state
        now = self.clock()
        events = []
        previous_phase = state.phase_index
        for i, (etype, data) in enumerate(decided):
            if msg_id is not None and actor.role == "participant" and i == len(decided) - 1:
                # The command's last event carries who sent it and its id, so
                # a retry finds the result even when that event is about
                # someone else (a jury's decision after the deciding vote).
                data = dict(data, msg=msg_id, pid=actor.pid)
            event = Event(state.seq + 1, etype, now, data)
            state.apply(event)
            events.append(event)
        result = decided[-1][1].get("result", {})
        ack = Ack(state.seq, result)
        snapshot = None
        self._since_snapshot += len(events)
        if self._since_snapshot >= SNAPSHOT_FORCE_AFTER or (
            self._since_snapshot >= SNAPSHOT_EVERY and state.phase_index != previous_phase
        ):
            self._since_snapshot = 0
            snapshot = state.snapshot()

        def on_durable() -> None:
            self.durable_seq = events[-1].seq
            # These run inside the writer: one failing subscriber or reply
            # must not stop the writer and with it every campaign.
            for listener in list(self._listeners):
                try:
                    listener(events)
                except Exception:
                    log.exception("campaign %s: an event listener failed", self.campaign_id)
            if on_ack is not None:
                on_ack(ack)

        await self.writer.submit(self.campaign_id, events, on_durable, snapshot=snapshot, snapshot_seq=state.seq,
                                 epoch=self.epoch, on_refused=on_refused)
        if state.phase_index != previous_phase or any(e.type.startswith("phase_") for e in events):
            self._deadline_changed.set()
            if state.phase_index != previous_phase:
                log.info("phase changed", extra={
                    "event": "phase_changed", "campaign": self.campaign_id, "previous": previous_phase,
                    "phase": state.phase_index, "phase_type": state.phase.type if state.phase else None,
                    "status": state.status, "seq": state.seq, "events": [e.type for e in events]})
                try:
                    self.host.broadcast_sync(
                        "essaim_phase_changed", state=state, previous=previous_phase, current=state.phase_index
                    )
                except PluginError:
                    # The phase change is recorded; an observer's failure must
                    # not stop the campaign.
                    log.exception("campaign %s: essaim_phase_changed failed", self.campaign_id)
        return events

    async def _recover(self) -> None:
        """After a reducer raised: once every event before the failed command
        is durable, rebuild the state from the store, which holds exactly
        those (the failed command's events were never handed to the writer)."""
        if self._reload is None:
            raise RuntimeError(f"campaign {self.campaign_id}: a reducer raised and this owner cannot reload")
        durable = trio.Event()
        await self.writer.submit(self.campaign_id, (), durable.set, epoch=self.epoch, on_refused=durable.set)
        await durable.wait()
        self.state = await self._reload(self.campaign_id)
        self._deadline_changed.set()

    async def _decide(self, actor: Actor, command: Command) -> Decision:
        """Run the declared handler of the command. Its shape was checked
        when it was submitted (the engine's own commands are not submitted
        from outside); who sent it is checked again here, since the table
        names the sender."""
        spec = self.commands.get(command.type)
        if spec is None:
            raise CommandError(f"unknown command {command.type!r}", code="unknown_command")
        if actor.role == "participant":
            if spec.sender != "participant":
                raise CommandError(f"'{command.type}' is not a participant command", code="forbidden")
            participant = self.state.participants.get(actor.pid)  # type: ignore[arg-type]
            if participant is None:
                raise Unauthorized("unknown participant; join the campaign again")
            self._check_phase_allows(spec)
            return await self._run_handler(spec, participant, command.args)
        if spec.name in self._phase_bound:
            self._check_phase_allows(spec)
        return await self._run_handler(spec, None, command.args)

    async def _run_handler(self, spec: CommandSpec, participant: Any, args: Mapping[str, Any]) -> Decision:
        """The handler's decision. A plugin's handler that fails, or decides
        events it may not record, raises PluginError naming it: the command is
        refused and nothing is recorded."""
        if spec.plugin in CORE_PLUGINS:
            return await spec.handler(self, participant, args)
        if trio.current_time() < self._paused_plugins.get(spec.plugin, -1.0):
            raise CommandError("this action is not available right now (a plugin failed a moment ago); nothing "
                               "was changed: try again in a minute, or tell the facilitator", code="unavailable")
        try:
            decided = await spec.handler(self, participant, args)
        except CommandError:
            raise
        except Exception as exc:
            raise PluginError(f"plugin {spec.plugin!r}: the handler of command {spec.name!r} raised {exc!r}") from exc
        self._check_decision(spec, decided)
        return decided

    def _check_decision(self, spec: CommandSpec, decided: Decision) -> None:
        """A plugin command records core events, or the events its plugin's
        phase types declared, for phase types this campaign uses."""
        if not isinstance(decided, list):
            raise PluginError(f"plugin {spec.plugin!r}: command {spec.name!r} returned {type(decided).__name__}, "
                              "not a list of (event type, data)")
        own = self.host.registry.namespaces_of(spec.plugin)
        for entry in decided:
            etype, data = entry if isinstance(entry, tuple) and len(entry) == 2 else (None, None)
            if not isinstance(etype, str) or not isinstance(data, dict):
                raise PluginError(f"plugin {spec.plugin!r}: command {spec.name!r} decided {entry!r}; each event "
                                  "is an (event type, data dict) pair")
            split = split_event_type(etype)
            if split is None:
                if not hasattr(self.state, "_on_" + etype):
                    raise PluginError(f"plugin {spec.plugin!r}: command {spec.name!r} decided unknown event type "
                                      f"{etype!r}; a phase type's events are '<phase type>:<event>'")
                continue
            namespace, name = split
            ptype = own.get(namespace)
            if ptype is None or name not in ptype.events:
                raise PluginError(
                    f"plugin {spec.plugin!r}: command {spec.name!r} decided event {etype!r}, which is not one of "
                    f"its phase types' declared events {sorted(f'{n}:{e}' for n, p in own.items() for e in p.events)}")
            if namespace not in self.state.phase_states:
                raise WrongPhase(f"this campaign has no {namespace!r} phase")

    def _check_phase_allows(self, spec: CommandSpec) -> None:
        state = self.state
        if state.status != "running" or self.transitioning:
            what = {"draft": "has not started yet", "paused": "is paused", "finished": "is over"}.get(
                state.status, "is between two phases"
            )
            raise WrongPhase(f"the campaign {what}; wait for the facilitator")
        if spec.every_phase:
            return
        ptype = self.host.registry.phase_types[state.phase.type]  # type: ignore[union-attr]
        if spec.name not in ptype.commands and spec.name not in ptype.facilitator_commands:
            raise WrongPhase(
                f"'{spec.name}' is not possible in the {state.phase.title!r} phase"  # type: ignore[union-attr]
                f" ({ptype.name}); it allows {sorted(ptype.commands | self.commands.every_phase)}"
            )

    # -- strategy helpers -------------------------------------------------------------------

    def strategy(self, family: str) -> tuple[str, Mapping[str, Any]]:
        """The (name, settings) of the strategy for ``family`` now (:func:`~essaim.engine.view.strategy_for`)."""
        return strategy_for(self.state, self.host.registry, family)

    async def call(self, family: str, hook: str, **kwargs: Any) -> Any:
        return await call_strategy(self.host, self.state, family, hook, **kwargs)

    def rng(self) -> random.Random:
        """Randomness for one decision, reproducible from the campaign and seq."""
        return random.Random(f"{self.campaign_id}:{self.state.seq}")

    # -- phases ---------------------------------------------------------------------------

    def phase_start(self, index: int) -> tuple[str, dict[str, Any]]:
        spec = self.state.template.phases[index]  # type: ignore[union-attr]
        return ("phase_started", {"index": index, "deadline": self.clock() + spec.duration})

    async def end_phase(self, reason: str) -> list[tuple[str, dict[str, Any]]]:
        index = self.state.phase_index
        return [("phase_ended", {"index": index, "reason": reason}), *self.begin_next(index)]

    def begin_next(self, ended: int) -> list[tuple[str, dict[str, Any]]]:
        """What follows phase ``ended``: the next phase, or the end.

        Entering evaluation from another kind of phase publishes the items
        the crowd will evaluate (two evaluation phases in a row share them).
        When sorting happened, aggregating may take seconds: it runs off the
        owner, which publishes and starts the next phase once it is done.
        """
        template = self.state.template
        assert template is not None
        nxt = ended + 1
        out: list[tuple[str, dict[str, Any]]] = []
        if nxt < len(template.phases) and self._family(nxt) == "evaluation" and self._family(ended) != "evaluation":
            if any(self._family(i) == "structuring" for i in range(nxt)) and self.state.placements:
                self.transitioning = True
                assert self._nursery is not None
                self._nursery.start_soon(self._aggregate_then_publish, self.sorting_snapshot())
                return out
            out.append(("items_published", {"items": self._items_from_cards()}))
        out.append(self.phase_start(nxt) if nxt < len(template.phases) else ("campaign_finished", {"index": nxt}))
        return out

    def _family(self, index: int) -> str | None:
        return self.host.registry.phase_types[self.state.template.phases[index].type].family  # type: ignore[union-attr]

    def _items_from_cards(self) -> list[dict[str, Any]]:
        return [
            {"iid": f"i{c.cid}", "title": c.text, "cards": [c.cid], "theme": None, "agreement": None}
            for c in self.state.visible_cards()
        ]

    def sorting_snapshot(self) -> SortingInput:
        """An immutable copy of what aggregators read."""
        s = self.state
        return SortingInput(
            campaign_id=s.campaign_id,
            seq=s.seq,
            cards={
                c.cid: CardInfo(c.cid, c.author, c.text, tuple(c.supporters), c.hidden) for c in s.cards.values()
            },
            placements=tuple(s.placements),
            profiles={pid: dict(p.profile) for pid, p in s.participants.items()},
            caches=s.caches,
        )

    async def aggregate(self, snapshot: SortingInput) -> Structure:
        name, settings = self.strategy("structuring")
        return await trio.to_thread.run_sync(
            lambda: self.host.call_strategy(
                "structuring", name, "essaim_structuring_aggregate", settings=settings, snapshot=snapshot
            )
        )

    async def _aggregate_then_publish(self, snapshot: SortingInput) -> None:
        try:
            structure = await self.aggregate(snapshot)
            items = [
                {"iid": idea.iid, "title": idea.title, "cards": list(idea.cards), "theme": theme.tid,
                 "agreement": idea.agreement}
                for theme in structure.themes
                for idea in theme.ideas
            ]
        except Exception:
            # A failing aggregator must not strand the campaign between two
            # phases: fall back to evaluating the cards themselves.
            log.exception("campaign %s: aggregation failed; evaluating cards instead", self.campaign_id)
            items = self._items_from_cards()
        try:
            await self._send.send(_Work(FACILITATOR, Command("publish", {"items": items}), _ignore, internal=True))
        except trio.ClosedResourceError:
            pass  # shutting down: the next start finds the phase ended and can advance again

    async def _timer(self) -> None:
        """Send ``timeout`` when the phase deadline passes; follow its moves."""
        while True:
            changed = self._deadline_changed = trio.Event()
            deadline = self.state.deadline
            if deadline is None or self.state.status != "running":
                await changed.wait()
                continue
            with trio.move_on_at(deadline - self._trio_offset):
                await changed.wait()
                continue
            try:
                await self._send.send(_Work(FACILITATOR, Command("timeout"), _ignore, internal=True))
            except trio.ClosedResourceError:
                return
            await changed.wait()


def _ignore(ack: Ack | None, error: CommandError | None) -> None:
    pass


class Repeated(Exception):
    """Raised by a command handler for a command already applied (a join
    sent again with the same token): its result, acknowledged as a
    duplicate once everything before it is durable; nothing recorded."""

    def __init__(self, result: dict[str, Any]) -> None:
        super().__init__("already applied")
        self.result = result


def moved_away() -> CommandError:
    """The refusal of a stale owner (another process took the campaign over).
    Retryable: the phone sends the action again, and it reaches the new owner."""
    return CommandError("this campaign moved to another server; your action is kept and sent again in a moment",
                        code="unavailable")


#: Longest profile value accepted at join.
MAX_PROFILE_VALUE_CHARS = 80


def check_profile(template: Any, profile: Mapping[str, Any]) -> dict[str, str]:
    """Validate a join profile against the template's attributes."""
    if not isinstance(profile, Mapping):
        raise CommandError("'profile' must be an object", code="bad_request")
    attributes = {a.key: a for a in template.profile}
    unknown = set(profile) - set(attributes)
    if unknown:
        raise CommandError(
            f"unknown profile keys {sorted(unknown)}; this campaign asks for {sorted(attributes)}",
            code="bad_profile",
        )
    clean = {}
    for key, attr in attributes.items():
        value = profile.get(key)
        if value is None or value == "":
            if attr.required:
                raise CommandError(f"profile '{key}' ({attr.label}) is required", code="bad_profile")
            continue
        if not isinstance(value, str) or len(value) > MAX_PROFILE_VALUE_CHARS:
            raise CommandError(
                f"profile '{key}' must be text of at most {MAX_PROFILE_VALUE_CHARS} characters", code="bad_profile"
            )
        if attr.choices and value not in attr.choices:
            raise CommandError(f"profile '{key}' must be one of {list(attr.choices)}", code="bad_profile")
        clean[key] = value
    return clean


def hash_token(token: str) -> str:
    """Tokens are stored hashed: a copy of the log does not let anyone act."""
    return hashlib.sha256(token.encode()).hexdigest()
