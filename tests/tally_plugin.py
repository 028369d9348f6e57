"""A small plugin phase for the engine tests: ``tally``, a show of hands.

Participants ``tally_vote`` for an option (one vote each, changeable); the
facilitator ``tally_close``s the vote (only in a tally phase). Its state
counts the votes; its reducer has a deliberate bug: it raises on the
option ``"boom"``, which the handler lets through, so the tests can see
what the engine does when a plugin's reducer raises.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from essaim import hookimpl
from essaim.errors import CommandError
from essaim.model.commands import CommandSpec, Decision
from essaim.model.events import Event
from essaim.model.schema import Fields, Text
from essaim.plugin.registry import Registry

#: The option the reducer chokes on (the deliberate bug).
BOOM = "boom"


class TallyState:
    """Who voted for what, and whether the vote is closed."""

    def __init__(self) -> None:
        self.votes: dict[str, str] = {}
        self.closed = False

    def apply(self, event: Event) -> None:
        if event.type == "tally:voted":
            if event.data["option"] == BOOM:
                raise RuntimeError("the tally reducer cannot count 'boom'")
            self.votes[event.data["pid"]] = event.data["option"]
        elif event.type == "tally:closed":
            self.closed = True

    def to_dict(self) -> dict[str, Any]:
        return {"votes": dict(self.votes), "closed": self.closed}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> TallyState:
        state = cls()
        state.votes = dict(data["votes"])
        state.closed = data["closed"]
        return state

    def counts(self) -> dict[str, int]:
        out: dict[str, int] = {}
        for option in self.votes.values():
            out[option] = out.get(option, 0) + 1
        return out

    def view(self) -> dict[str, Any]:
        return {"counts": self.counts(), "closed": self.closed}

    def view_for(self, pid: str) -> dict[str, Any]:
        return {"vote": self.votes.get(pid)}


async def tally_vote(owner: Any, participant: Any, args: Mapping[str, Any]) -> Decision:
    tally: TallyState = owner.state.phase_state("tally")
    if tally.closed:
        raise CommandError("the vote is closed", code="closed")
    return [("tally:voted", {"pid": participant.pid, "option": args["option"],
                             "result": {"option": args["option"]}})]


async def tally_close(owner: Any, participant: Any, args: Mapping[str, Any]) -> Decision:
    return [("tally:closed", {"result": {"counts": owner.state.phase_state("tally").counts()}})]


@hookimpl
def essaim_register_commands(registry: Registry) -> None:
    registry.add_command(CommandSpec("tally_vote", "participant", Fields({"option": Text(20, min_len=1, required=True)}),
                                     tally_vote, description="vote for an option"))
    registry.add_command(CommandSpec("tally_close", "facilitator", Fields(), tally_close,
                                     description="close the vote"))


@hookimpl
def essaim_register_phase_types(registry: Registry) -> None:
    registry.add_phase_type("tally", family=None, commands={"tally_vote", "tally_close"}, state=TallyState,
                            events={"voted": "a participant's vote", "closed": "the facilitator closed the vote"},
                            description="A show of hands.")
