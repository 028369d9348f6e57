"""Action pledges: a phase where people commit to act on the top ideas.

A complete example of a plugin's own phase (docs/plugins.md, "Writing a new
phase"). Put it after the evaluation, before or instead of the results:

    [[phase]]
    type = "pledges"
    title = "What will you do?"
    duration = "5m"
    [phase.settings]
    max_pledges = 2

While it runs, phones show the ranked ideas (``shows_results``) and people
``pledge`` to act on some ("I'll run the pilot at the North site"); the
facilitator can ``spotlight`` one idea on every screen. Everything is
recorded as the phase's own events (``pledges:pledged``,
``pledges:spotlit``), applied by :class:`PledgeBoard` -- a pure reducer --
snapshotted and replayed like the rest of the campaign. The JSON export
and the HTML report get a table of the pledges (:meth:`PledgeBoard.report`).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from essaim import hookimpl
from essaim.errors import CommandError, NotFound
from essaim.model.commands import CommandSpec, Decision
from essaim.model.events import Event
from essaim.model.schema import Fields, Integer, Text
from essaim.plugin.registry import PhaseWeb, Registry

__all__ = ["PledgeBoard", "PHASE", "MAX_PLEDGE_CHARS", "BOARD_IDEAS", "RECENT_PLEDGES"]

#: The phase type's name, and the namespace of its events in the log.
PHASE = "pledges"
#: Longest pledge: one sentence of commitment, not an essay.
MAX_PLEDGE_CHARS = 200
#: Ideas the shared board lists (it goes to every phone: bounded, whatever the crowd).
BOARD_IDEAS = 20
#: Latest pledge texts the board shows per idea.
RECENT_PLEDGES = 3
#: An idea id (an evaluated item's, or a card's when nothing was evaluated).
MAX_ID_CHARS = 64


class PledgeBoard:
    """Who pledged what on which idea, and the idea in the spotlight.

    Built only from the phase's events; the handlers below decide them.
    """

    def __init__(self) -> None:
        #: iid -> {pid: pledge text}, in pledge order
        self.pledges: dict[str, dict[str, str]] = {}
        #: iid -> the idea's title when it was first pledged on
        self.titles: dict[str, str] = {}
        self.spotlight: str | None = None

    # -- the reducer ---------------------------------------------------------------

    def apply(self, event: Event) -> None:
        data = event.data
        if event.type == "pledges:pledged":
            self.titles.setdefault(data["iid"], data["title"])
            on_idea = self.pledges.setdefault(data["iid"], {})
            on_idea.pop(data["pid"], None)  # a changed pledge moves to the end (the most recent)
            on_idea[data["pid"]] = data["text"]
        elif event.type == "pledges:withdrawn":
            self.pledges.get(data["iid"], {}).pop(data["pid"], None)
        elif event.type == "pledges:spotlit":
            self.titles.setdefault(data["iid"], data["title"])
            self.spotlight = data["iid"]

    def to_dict(self) -> dict[str, Any]:
        return {"pledges": {iid: dict(by) for iid, by in self.pledges.items()}, "titles": dict(self.titles),
                "spotlight": self.spotlight}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> PledgeBoard:
        board = cls()
        board.pledges = {iid: dict(by) for iid, by in data["pledges"].items()}
        board.titles = dict(data["titles"])
        board.spotlight = data["spotlight"]
        return board

    # -- reads -----------------------------------------------------------------------

    def count_of(self, pid: str) -> int:
        return sum(1 for by in self.pledges.values() if pid in by)

    def ranked(self) -> list[tuple[str, dict[str, str]]]:
        """Ideas by number of pledges, most first (ties: first pledged first)."""
        return sorted(((iid, by) for iid, by in self.pledges.items() if by), key=lambda pair: -len(pair[1]))

    def view(self) -> dict[str, Any]:
        """The shared part of the frame: the most pledged ideas, bounded."""
        return {
            "total": sum(len(by) for by in self.pledges.values()),
            "ideas": [{"iid": iid, "title": self.titles[iid], "count": len(by),
                       "recent": list(by.values())[-RECENT_PLEDGES:]} for iid, by in self.ranked()[:BOARD_IDEAS]],
            "spotlight": {"iid": self.spotlight, "title": self.titles[self.spotlight]} if self.spotlight else None,
        }

    def view_for(self, pid: str) -> dict[str, Any]:
        """The personal part: this person's own pledges."""
        return {"mine": {iid: by[pid] for iid, by in self.pledges.items() if pid in by}}

    def report(self) -> dict[str, Any]:
        """For the JSON export and the HTML report: no names, only the pledges."""
        return {"title": "Action pledges", "columns": ["Idea", "Pledges", "Commitments"],
                "rows": [[self.titles[iid], len(by), " / ".join(by.values())] for iid, by in self.ranked()]}


# -- the commands ----------------------------------------------------------------------


def _idea_title(owner: Any, iid: str) -> str:
    """The title of an idea people can pledge on: an evaluated item, or a
    visible card when the campaign evaluated nothing."""
    state = owner.state
    item = state.items.get(iid)
    if item is not None:
        return str(item.title)
    card = state.cards.get(iid)
    if card is not None and not card.hidden and not state.items:
        return str(card.text)
    raise NotFound(f"no idea {iid!r} to pledge on; pick one from the list")


async def pledge(owner: Any, participant: Any, args: Mapping[str, Any]) -> Decision:
    board: PledgeBoard = owner.state.phase_state(PHASE)
    iid, text = args["iid"], args["text"].strip()
    if not text:
        raise CommandError("write what you will do", code="bad_request")
    title = _idea_title(owner, iid)
    limit = owner.state.phase.settings.get("max_pledges", 3)
    if participant.pid not in board.pledges.get(iid, {}) and board.count_of(participant.pid) >= limit:
        raise CommandError(f"you already made {limit} pledges; change one of them instead", code="limit_exceeded")
    return [("pledges:pledged", {"pid": participant.pid, "iid": iid, "title": title, "text": text,
                                 "result": {"iid": iid}})]


async def withdraw(owner: Any, participant: Any, args: Mapping[str, Any]) -> Decision:
    board: PledgeBoard = owner.state.phase_state(PHASE)
    if participant.pid not in board.pledges.get(args["iid"], {}):
        raise CommandError("you made no pledge on this idea", code="already_done")
    return [("pledges:withdrawn", {"pid": participant.pid, "iid": args["iid"], "result": {"iid": args["iid"]}})]


async def spotlight(owner: Any, participant: Any, args: Mapping[str, Any]) -> Decision:
    title = _idea_title(owner, args["iid"])
    return [("pledges:spotlit", {"iid": args["iid"], "title": title, "result": {"iid": args["iid"]}})]


_IID = Text(MAX_ID_CHARS, min_len=1, required=True, description="the idea's id (from the results)")


@hookimpl
def essaim_register_commands(registry: Registry) -> None:
    registry.add_command(CommandSpec(
        "pledge", "participant",
        Fields({"iid": _IID, "text": Text(MAX_PLEDGE_CHARS, min_len=1, required=True,
                                          description="what you will do")}, closed=True),
        pledge, description="Commit to act on an idea (again on the same idea: changes the pledge).",
        result=Fields({"iid": Text(MAX_ID_CHARS)})))
    registry.add_command(CommandSpec(
        "withdraw_pledge", "participant", Fields({"iid": _IID}, closed=True), withdraw,
        description="Take back one's pledge on an idea."))
    registry.add_command(CommandSpec(
        "spotlight", "facilitator", Fields({"iid": _IID}, closed=True), spotlight,
        description="Show one idea on every phone, to rally pledges."))


@hookimpl
def essaim_register_phase_types(registry: Registry) -> None:
    registry.add_phase_type(
        PHASE, family=None,
        commands={"pledge", "withdraw_pledge", "spotlight"},
        description="People commit to act on the top ideas.",
        state=PledgeBoard,
        events={"pledged": "a participant's pledge on an idea (or its new wording)",
                "withdrawn": "a participant took their pledge back",
                "spotlit": "the facilitator put an idea in the spotlight"},
        settings={"max_pledges": Integer(minimum=1, maximum=20, description="pledges one person may make (3)")},
        web=PhaseWeb(__name__, screen="screen.js", panel="panel.js"),
        shows_results=True,
    )
