"""What the server reads a campaign through: local owner or replica alike.

A :class:`CampaignView` is a campaign's live state, the seq durable so far,
a subscription to durable batches of events, the campaign's strategies for
the queries answered locally (prompts, suggestions, the next task), and
its command sink (:meth:`CampaignView.submit_nowait`, :meth:`CampaignView.execute`).
In one process every view is the campaign's :class:`~essaim.engine._owner.CampaignOwner`;
in cluster mode (:mod:`essaim.cluster`) a campaign owned by another
process is a replica that forwards its commands to the owner. The hubs, the
facilitator API and the CLI only ever see this interface
(:meth:`essaim.engine.Engine.campaign`).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any, Protocol

from essaim.errors import CommandError, WrongPhase
from essaim.model.commands import Ack, Actor, Command
from essaim.model.events import Event
from essaim.model.state import CampaignState

if TYPE_CHECKING:
    from essaim.plugin import PluginHost
    from essaim.plugin.registry import Registry

__all__ = ["CampaignView", "Listener", "Reply", "strategy_for", "call_strategy"]

Reply = Callable[[Ack | None, CommandError | None], None]
Listener = Callable[[list[Event]], None]


class CampaignView(Protocol):
    """One campaign as a gateway serves it (see the module docstring)."""

    state: CampaignState
    #: True while the owner prepares the next phase (no command is taken).
    transitioning: bool

    @property
    def campaign_id(self) -> str: ...

    @property
    def durable_seq(self) -> int:
        """Every event up to this seq is durable (and, on a replica, applied).
        Read-only here: a replica derives it, only the owner sets its own."""
        ...

    @property
    def listened(self) -> bool: ...

    def subscribe(self, listener: Listener) -> Callable[[], None]:
        """``listener(events)`` on the trio thread with each durable batch."""
        ...

    def submit_nowait(self, actor: Actor, command: Command, reply: Reply) -> None: ...

    async def execute(self, actor: Actor, command: Command) -> Ack: ...

    def strategy(self, family: str) -> tuple[str, Mapping[str, Any]]: ...

    async def call(self, family: str, hook: str, **kwargs: Any) -> Any: ...


def strategy_for(state: CampaignState, registry: Registry, family: str) -> tuple[str, Mapping[str, Any]]:
    """The (name, settings) of the strategy for ``family`` now.

    Moderation and results are campaign-wide; the others come from the
    current phase, or else from the campaign's first phase of that family.
    """
    template = state.template
    assert template is not None
    if family == "moderation":
        return template.moderation.name, template.moderation.settings
    if family == "results":
        return template.results.name, template.results.settings
    phases = list(template.phases)
    current = state.phase
    if current is not None:
        phases.insert(0, current)
    for ph in phases:
        if registry.phase_types[ph.type].family == family:
            return ph.strategy, ph.settings  # type: ignore[return-value]
    raise WrongPhase(f"this campaign has no {family} phase")


async def call_strategy(host: PluginHost, state: CampaignState, family: str, hook: str, /, **kwargs: Any) -> Any:
    """Call ``hook`` on the campaign's strategy for ``family``."""
    name, settings = strategy_for(state, host.registry, family)
    return await host.acall_strategy(family, name, hook, settings=settings, **kwargs)
