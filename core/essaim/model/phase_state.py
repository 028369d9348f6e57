"""The durable state of a plugin's phase type, built from its own events.

A phase type a plugin adds (``registry.add_phase_type(..., state=MyState,
events={...})``) may keep state of its own inside each campaign: who
pledged what, which questions were asked and upvoted. That state is
*durable*, unlike a cache (:mod:`essaim.model.caches`): it is built only
from the plugin's events, which are stored in the campaign's log with the
phase type's name as namespace (``"pledges:pledged"``), applied by the
class's :meth:`PhaseState.apply` — a pure reducer, like
:meth:`CampaignState.apply <essaim.model.state.CampaignState.apply>` —
snapshotted with the rest of the campaign (:meth:`PhaseState.to_dict`,
:meth:`PhaseState.from_dict`) and replayed on a restart, on a cluster
replica and in tests alike.

The rules a reducer follows are the core's: it reads only the event (never
a clock, a random generator, a file, the network or another plugin), the
same events in the same order always give the same state, and it never
raises for an event its plugin's command handler decided (it may check,
but the check belongs in the handler, which refuses with a
:class:`~essaim.errors.CommandError` before anything is recorded). When it
raises all the same, the engine records nothing of that command, answers
``unavailable`` and rebuilds the state from the log
(:class:`~essaim.errors.PhaseStateError`).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from types import MappingProxyType
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

if TYPE_CHECKING:
    from essaim.model.events import Event

__all__ = ["PhaseState", "PhaseStateTypes", "NO_PHASE_STATES", "split_event_type", "NAME_PATTERN", "namespaced"]

#: What a phase type's name, and each of its event names, must look like: it
#: is the namespace of the events in the log, so it stays plain.
NAME_PATTERN = re.compile(r"[a-z][a-z0-9_]{0,39}")


@runtime_checkable
class PhaseState(Protocol):
    """What a plugin's phase state class provides.

    ``cls()`` is the state of a new campaign; the engine makes one per
    campaign whose template uses the phase type, when the campaign is
    created (so every replay starts from the same place).

    Optional read-only methods, found by name, give what people see:

    * ``view() -> JSON`` -- the shared part of the participant frame while
      a phase of the type runs (``board``): encoded once per change, sent
      to everyone with the counters (keep it small: a top N, not a list of
      10,000 entries);
    * ``view_for(pid) -> JSON`` -- the personal part (``you.board``);
    * ``report() -> {"title", "columns", "rows"}`` -- a table for the JSON
      export (``phase_reports``) and the HTML report.
    """

    def apply(self, event: Event) -> None:
        """Apply one of the phase type's events (``event.type`` is
        ``"namespace:name"``, ``event.data`` what the handler decided, plus
        ``pid`` and ``msg`` on a participant's command's last event)."""
        ...

    def to_dict(self) -> Any:
        """A JSON-ready form for snapshots: ``from_dict(to_dict())`` must
        equal this state, and equal states give equal forms (the restart
        tests compare them)."""
        ...

    @classmethod
    def from_dict(cls, data: Any) -> PhaseState:
        """The state :meth:`to_dict` gave."""
        ...


#: Namespace (the phase type's name) -> its state class: what a campaign
#: state needs to apply plugin events (``registry.phase_states``).
PhaseStateTypes = Mapping[str, type[PhaseState]]

NO_PHASE_STATES: PhaseStateTypes = MappingProxyType({})


def split_event_type(event_type: str) -> tuple[str, str] | None:
    """``("pledges", "pledged")`` for ``"pledges:pledged"``; None for a core event."""
    namespace, sep, name = event_type.partition(":")
    return (namespace, name) if sep else None


def namespaced(namespace: str, name: str) -> str:
    """The stored type of a phase type's event."""
    return f"{namespace}:{name}"
