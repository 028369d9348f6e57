"""A replica: a campaign owned by another process, as a gateway serves it.

It is a :class:`~essaim.engine.view.CampaignView` like the local owner:
its state is built from the owner's store (snapshot and events) and kept
up to date by the campaign's event stream (``CampaignState.apply`` is a
pure reducer, so the replica equals the owner's durable state at the same
seq). Reads (prompts, suggestions, the next task, counters, frames) are
answered from it; commands go to the owner through the gateway's link,
and a command's ack is released only once the replica has applied the
command's seq, so a phone never reads a state older than its own action
(read-your-writes).
"""

from __future__ import annotations

import heapq
import logging
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any, Protocol

import trio

from essaim.engine.view import Listener, Reply, call_strategy, strategy_for
from essaim.errors import CommandError, LimitExceeded, NotFound, PluginError, Unauthorized, WrongPhase
from essaim.model.commands import Ack, Actor, Command
from essaim.model.events import Event
from essaim.model.state import CampaignState

if TYPE_CHECKING:
    from essaim.plugin import PluginHost

__all__ = ["Replica", "OwnerLink", "OnReply", "error_from_reply"]

log = logging.getLogger("essaim.cluster.replica")

#: Seconds an ack may wait for the replica to apply its seq (milliseconds
#: normally; longer only while a gap is being filled from the owner's store).
HOLD_SECONDS = 10.0

_ERRORS: dict[str, type[CommandError]] = {
    "not_found": NotFound, "unauthorized": Unauthorized, "wrong_phase": WrongPhase,
    "busy": LimitExceeded, "limit_exceeded": LimitExceeded, "campaign_full": LimitExceeded,
}


#: Called on the trio thread with the owner's answer, or the error that stands for it.
OnReply = Callable[[Any, CommandError | None], None]


class OwnerLink(Protocol):
    """What a replica needs of the gateway's link to the owners
    (:class:`essaim.cluster.gateway_link.GatewayLink`): forwarding a request."""

    def request(self, campaign_id: str, kind: str, args: Any, on_reply: OnReply) -> None: ...


def error_from_reply(error: Mapping[str, str]) -> CommandError:
    """The owner's refusal, as the same exception class a local owner raises."""
    cls = _ERRORS.get(error["code"], CommandError)
    return cls(error["message"], code=error["code"])


class Replica:
    """A campaign's state kept from its owner's stream; commands forwarded."""

    def __init__(self, state: CampaignState, host: PluginHost, link: OwnerLink) -> None:
        self.state = state
        self.host = host
        self._link = link
        self._listeners: list[Listener] = []
        #: Acks whose seq the replica has not applied yet: (seq, order, reply, ack, deadline).
        self._held: list[tuple[int, int, Reply, Ack, float]] = []
        self._order = 0
        self._changed = trio.Event()
        #: Set while a gap is being filled from the owner's store.
        self.catching_up = False
        #: The owner prepares the next phase off its own state; a replica
        #: sees "between" and refuses nothing itself.
        self.transitioning = False
        #: Set when a plugin failed to apply one of the owner's events here (a
        #: reducer that is not deterministic, another version of the plugin):
        #: the state is suspect, the gateway drops the replica and rebuilds it.
        self.broken = False

    @property
    def campaign_id(self) -> str:
        return self.state.campaign_id

    @property
    def durable_seq(self) -> int:
        """Everything a replica applied is durable (published after commit)."""
        return self.state.seq

    @property
    def listened(self) -> bool:
        return bool(self._listeners)

    def subscribe(self, listener: Listener) -> Callable[[], None]:
        self._listeners.append(listener)
        return lambda: self._listeners.remove(listener) if listener in self._listeners else None

    # -- the stream ---------------------------------------------------------------------------

    def apply(self, events: list[Event]) -> bool:
        """Apply a published batch. Events already applied are skipped (a
        batch read twice after a reconnect); False when the batch does not
        follow (a gap: the caller catches up from the owner's store)."""
        fresh = [e for e in events if e.seq > self.state.seq]
        if not fresh:
            return True
        if fresh[0].seq != self.state.seq + 1:
            return False
        try:
            for event in fresh:
                self.state.apply(event)
        except PluginError:
            log.exception("campaign %s: a plugin failed on the owner's event; the replica is rebuilt",
                          self.campaign_id)
            self.broken = True
            return True  # nothing to catch up: the gateway drops this replica
        for listener in list(self._listeners):
            try:
                listener(fresh)
            except Exception:
                log.exception("campaign %s: an event listener failed", self.campaign_id)
        self._release()
        self._changed.set()
        self._changed = trio.Event()
        return True

    async def applied(self, seq: int) -> None:
        """Return once the replica has applied ``seq`` (read-your-writes)."""
        while self.state.seq < seq:
            await self._changed.wait()

    def _release(self) -> None:
        held = self._held
        while held and held[0][0] <= self.state.seq:
            _, _, reply, ack, _ = heapq.heappop(held)
            reply(ack, None)

    def _when_applied(self, ack: Ack, reply: Reply) -> None:
        if ack.seq <= self.state.seq:
            reply(ack, None)
        else:
            self._order += 1
            heapq.heappush(self._held, (ack.seq, self._order, reply, ack, trio.current_time() + HOLD_SECONDS))

    def expire_held(self, now: float) -> None:
        """Answer ``unavailable`` for acks held past HOLD_SECONDS (the replica
        is stuck behind a gap it cannot fill): the phone retries with the same
        message id and gets the ack, marked duplicate, once the replica moves."""
        if not self._held or min(h[4] for h in self._held) > now:
            return
        keep = []
        for item in self._held:
            if item[4] <= now:
                item[2](None, CommandError("this server is behind the campaign; try again in a moment",
                                           code="unavailable"))
            else:
                keep.append(item)
        heapq.heapify(keep)
        self._held = keep

    # -- commands ----------------------------------------------------------------------------

    def submit_nowait(self, actor: Actor, command: Command, reply: Reply) -> None:
        """Forward to the owner; ``reply`` runs once the ack is durable and
        applied here, or with the owner's refusal. Raises CommandError
        ("unavailable", "busy") at once when the link cannot take it."""
        args = {"role": actor.role, "pid": actor.pid, "type": command.type, "args": dict(command.args),
                "msg": command.msg_id}

        def on_reply(ok: Any, error: CommandError | None) -> None:
            if error is not None:
                reply(None, error)
            else:
                self._when_applied(Ack(ok["seq"], ok["result"], ok.get("duplicate", False)), reply)

        self._link.request(self.campaign_id, "cmd", args, on_reply)

    async def execute(self, actor: Actor, command: Command) -> Ack:
        done = trio.Event()
        outcome: list[tuple[Ack | None, CommandError | None]] = []

        def reply(ack: Ack | None, error: CommandError | None) -> None:
            outcome.append((ack, error))
            done.set()

        self.submit_nowait(actor, command, reply)
        await done.wait()
        ack, error = outcome[0]
        if error is not None:
            raise error
        assert ack is not None
        return ack

    # -- strategies (the reads answered here) --------------------------------------------------

    def strategy(self, family: str) -> tuple[str, Mapping[str, Any]]:
        return strategy_for(self.state, self.host.registry, family)

    async def call(self, family: str, hook: str, **kwargs: Any) -> Any:
        return await call_strategy(self.host, self.state, family, hook, **kwargs)
