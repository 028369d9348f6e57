"""The built-in commands: each one's sender, payload and decision, declared once.

This module is a core plugin: the plugin host registers it before any
other, and its ``essaim_register_commands`` declares every built-in
command with ``registry.add_command`` — the call a plugin makes to declare
its own. From these declarations the engine checks a command's shape
before it reaches the campaign (:meth:`essaim.model.commands.CommandTable.validate`),
the owner runs the command's handler, and the protocol documents are
generated (:meth:`~essaim.model.commands.CommandTable.json_schema`).

A handler runs in the campaign's owner task, on the live state, one
command at a time: it checks that the command is allowed now (phase,
ownership, duplicates), asks the campaign's strategies what they decide,
and returns the events to record (:data:`~essaim.model.commands.Decision`).
It never changes the state itself.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from essaim.engine._owner import Repeated, check_profile
from essaim.errors import CommandError, LimitExceeded, NotFound, WrongPhase
from essaim.model.commands import (
    MAX_EXTEND_SECONDS,
    MAX_IDS,
    MAX_MSG_ID_CHARS,
    MAX_TEXT_CHARS,
    CommandSpec,
    Decision,
)
from essaim.model.schema import Boolean, Choice, Field, Fields, Integer, ListOf, Number, Object, Text
from essaim.model.types import Deal, FlagOutcome, Screening
from essaim.plugin.hookspecs import hookimpl

if TYPE_CHECKING:
    from essaim.engine._owner import CampaignOwner
    from essaim.model.state import Card, Participant
    from essaim.plugin.registry import Registry

__all__ = ["BUILTIN_COMMANDS", "VERDICTS", "essaim_register_commands"]

#: What a juror or the facilitator may decide about a flagged card.
VERDICTS = ("hide", "keep")
#: Longest reason a flag may give.
MAX_FLAG_REASON_CHARS = 200


def _id(description: str, *, required: bool = True) -> Text:
    """An engine id (card, hand, case): opaque, short."""
    return Text(MAX_MSG_ID_CHARS, required=required, nullable=not required, description=description)


def _ids(description: str) -> ListOf:
    return ListOf(Text(MAX_MSG_ID_CHARS), max_items=MAX_IDS, what=f"a list of at most {MAX_IDS} ids",
                  description=description)


# -- participant commands ------------------------------------------------------------------


async def write_card(owner: CampaignOwner, p: Participant, args: Mapping[str, Any]) -> Decision:
    text = await owner.call(
        "collection", "essaim_collection_check_card",
        state=owner.state, participant=p, text=args["text"], prompt=args.get("prompt"),
    )
    screening: Screening = await owner.call("moderation", "essaim_moderation_screen", text=text)
    if screening.reject:
        raise CommandError(screening.reject, code="rejected")
    cid = f"c{len(owner.state.cards) + 1}"
    result: dict[str, Any] = {"cid": cid, "hidden": screening.hide}
    if screening.text != args["text"]:
        result["text"] = screening.text  # the client shows what was kept
    return [("card_written", {
        "cid": cid, "pid": p.pid, "text": screening.text, "prompt": args.get("prompt"),
        "findings": list(screening.findings), "hidden": screening.hide, "result": result,
    })]


async def support_card(owner: CampaignOwner, p: Participant, args: Mapping[str, Any]) -> Decision:
    card = visible_card(owner, args["cid"])
    if card.author == p.pid:
        raise CommandError("you wrote this card; support another one", code="own_card")
    if p.pid in card.supporters:
        raise CommandError("you already support this card", code="already_done")
    return [("card_supported", {"cid": card.cid, "pid": p.pid, "result": {"cid": card.cid}})]


async def volunteer(owner: CampaignOwner, p: Participant, args: Mapping[str, Any]) -> Decision:
    if p.sorter:
        return []
    return [("sorter_volunteered", {"pid": p.pid, "result": {"sorter": True}})]


async def deal(owner: CampaignOwner, p: Participant, args: Mapping[str, Any]) -> Decision:
    open_hid = owner.state.open_hands.get(p.pid)
    if open_hid is not None:
        raise CommandError(f"you already hold hand {open_hid}; place it before asking for another", code="hand_open")
    out: Decision = []
    if not p.sorter:
        out.append(("sorter_volunteered", {"pid": p.pid}))
    dealt: Deal | None = await owner.call(
        "structuring", "essaim_structuring_deal", state=owner.state, sorter=p, rng=owner.rng()
    )
    if dealt is None or not dealt.items:
        if out:
            out[-1][1]["result"] = {"hand": None}
            return out
        raise CommandError("there is nothing left for you to sort; thank you!", code="nothing_left")
    hid = f"h{len(owner.state.hands) + 1}"
    items = list(dealt.items)
    out.append(("hand_dealt", {
        "hid": hid, "pid": p.pid, "items": items, "stage": dealt.stage,
        "result": {"hand": {"hid": hid, "items": items, "stage": dealt.stage}},
    }))
    return out


async def place(owner: CampaignOwner, p: Participant, args: Mapping[str, Any]) -> Decision:
    hand = owner.state.hands.get(args["hid"])
    if hand is None or hand.sorter != p.pid:
        raise NotFound("no such hand of yours; ask for a new hand")
    if hand.placed:
        raise CommandError("this hand is already placed; ask for a new hand", code="already_done")
    themes = args.get("themes", [])
    offtopic = args.get("offtopic", [])
    mentioned = [i for theme in themes for idea in theme for i in idea] + list(offtopic)
    if len(mentioned) != len(set(mentioned)):
        raise CommandError("an item appears twice in the placement", code="bad_request")
    stray = set(mentioned) - set(hand.items)
    if stray:
        raise CommandError(f"items {sorted(stray)} are not in this hand", code="bad_request")
    themes = [[list(idea) for idea in theme if idea] for theme in themes]
    themes = [theme for theme in themes if theme]
    return [("hand_placed", {
        "hid": hand.hid, "pid": p.pid, "themes": themes, "offtopic": list(offtopic),
        "result": {"hid": hand.hid},
    })]


async def flag(owner: CampaignOwner, p: Participant, args: Mapping[str, Any]) -> Decision:
    state = owner.state
    card = visible_card(owner, args["cid"], allow_hidden=True)
    if card.author == p.pid:
        raise CommandError("you cannot flag your own card", code="own_card")
    reason = args.get("reason") or ""
    case_id = state.open_case_by_card.get(card.cid)
    if case_id is not None:
        if p.pid in state.cases[case_id].flaggers:
            raise CommandError("you already flagged this card", code="already_done")
        return [("card_flagged", {
            "case_id": case_id, "cid": card.cid, "pid": p.pid, "reason": reason, "result": {"case_id": case_id},
        })]
    if card.hidden:
        raise CommandError("this card is already hidden", code="already_done")
    outcome: FlagOutcome = await owner.call(
        "moderation", "essaim_moderation_flag", state=state, card=card, flagger=p, rng=owner.rng()
    )
    jury = [j for j in outcome.jury if j in state.participants and j not in (card.author, p.pid)]
    case_id = f"m{len(state.cases) + 1}"
    return [("card_flagged", {
        "case_id": case_id, "cid": card.cid, "pid": p.pid, "reason": reason,
        "jury": jury, "hide_now": outcome.hide_now, "result": {"case_id": case_id},
    })]


async def judge(owner: CampaignOwner, p: Participant, args: Mapping[str, Any]) -> Decision:
    case = owner.state.cases.get(args["case_id"])
    if case is None or p.pid not in case.jury:
        raise NotFound("no such case on your jury duty")
    if case.status != "open":
        raise CommandError("this case is already decided; thank you", code="already_done")
    if p.pid in case.votes:
        raise CommandError("you already voted on this case", code="already_done")
    verdict = args["verdict"]
    out: Decision = [("jury_voted", {"case_id": case.case_id, "pid": p.pid, "verdict": verdict})]
    # Decide on the case as it will be once this vote counts.
    case.votes[p.pid] = verdict
    try:
        decision = await owner.call("moderation", "essaim_moderation_verdict", state=owner.state, case=case)
    finally:
        del case.votes[p.pid]
    if decision is not None:
        out.append(("case_decided", {
            "case_id": case.case_id, "cid": case.cid, "outcome": decision, "by": "jury",
            "votes": dict(case.votes, **{p.pid: verdict}),
        }))
    out[-1][1]["result"] = {"case_id": case.case_id, "decided": decision}
    return out


async def evaluate(owner: CampaignOwner, p: Participant, args: Mapping[str, Any]) -> Decision:
    kind = args["kind"]
    data = await owner.call(
        "evaluation", "essaim_evaluation_check",
        state=owner.state, participant=p, kind=kind, data=args.get("data", {}),
    )
    return [("judgment_recorded", {"pid": p.pid, "kind": kind, "data": dict(data), "result": {"kind": kind}})]


def visible_card(owner: CampaignOwner, cid: str, *, allow_hidden: bool = False) -> Card:
    card = owner.state.cards.get(cid)
    if card is None or (card.hidden and not allow_hidden):
        raise NotFound(f"no card {cid!r}; it may have been hidden by moderation")
    return card


# -- facilitator commands ------------------------------------------------------------------


async def start(owner: CampaignOwner, _: None, args: Mapping[str, Any]) -> Decision:
    if owner.state.status != "draft":
        raise WrongPhase("the campaign has already started", code="wrong_phase")
    return [owner.phase_start(0)]


async def pause(owner: CampaignOwner, _: None, args: Mapping[str, Any]) -> Decision:
    state = owner.state
    if state.status != "running":
        raise WrongPhase("only a running phase can be paused")
    remaining = None if state.deadline is None else max(0.0, state.deadline - owner.clock())
    return [("phase_paused", {"remaining": remaining})]


async def resume(owner: CampaignOwner, _: None, args: Mapping[str, Any]) -> Decision:
    if owner.state.status != "paused":
        raise WrongPhase("the campaign is not paused")
    remaining = owner.state.remaining
    deadline = None if remaining is None else owner.clock() + remaining
    return [("phase_resumed", {"deadline": deadline})]


async def extend(owner: CampaignOwner, _: None, args: Mapping[str, Any]) -> Decision:
    state = owner.state
    seconds = float(args["seconds"])
    if state.status == "paused":
        return [("phase_extended", {"seconds": seconds, "remaining": (state.remaining or 0.0) + seconds})]
    if state.status != "running":
        raise WrongPhase("only a running or paused phase can be extended")
    base = state.deadline if state.deadline is not None else owner.clock()
    return [("phase_extended", {"seconds": seconds, "deadline": base + seconds})]


async def advance(owner: CampaignOwner, _: None, args: Mapping[str, Any]) -> Decision:
    # "index" names the phase the facilitator means to end, so a click
    # racing the phase timer cannot end the next phase too.
    state = owner.state
    expected = args.get("index")
    if expected is not None and int(expected) != state.phase_index:
        raise WrongPhase(
            f"phase {int(expected)} has already ended (the current phase is {state.phase_index}); "
            "nothing was advanced"
        )
    if owner.transitioning:
        raise WrongPhase("the next phase is being prepared; it starts in a moment")
    if state.status == "between":
        # A restart interrupted a transition: carry it out again.
        return owner.begin_next(state.phase_index)
    if state.status not in ("running", "paused"):
        raise WrongPhase("there is no phase to advance from")
    return await owner.end_phase("advance")


async def decide(owner: CampaignOwner, _: None, args: Mapping[str, Any]) -> Decision:
    card = owner.state.cards.get(args["cid"])
    if card is None:
        raise NotFound(f"no card {args['cid']!r}")
    return [("case_decided", {
        "case_id": owner.state.open_case_by_card.get(card.cid), "cid": card.cid,
        "outcome": args["verdict"], "by": "facilitator",
    })]


# -- the engine's own commands --------------------------------------------------------------


async def timeout(owner: CampaignOwner, _: None, args: Mapping[str, Any]) -> Decision:
    state = owner.state
    if state.status != "running" or state.deadline is None or state.deadline > owner.clock() + 1e-6:
        return []  # stale: the deadline moved since the timer fired
    if state.phase is not None and not state.phase.auto_advance:
        return [("phase_overtime", {})]
    return await owner.end_phase("timeout")


async def join(owner: CampaignOwner, _: None, args: Mapping[str, Any]) -> Decision:
    """A participant joins (the engine made the token and checks the profile).
    A join whose token is known already is a retry (a gateway sending it again
    to a new owner after a takeover): the same participant, not a second one."""
    state = owner.state
    known = state.tokens.get(args["token_hash"])
    if known is not None:
        raise Repeated({"pid": known})
    template = state.template
    assert template is not None
    if len(state.participants) >= args["max_participants"]:
        raise LimitExceeded("this campaign is full; ask the facilitator", code="campaign_full")
    profile = check_profile(template, args["profile"])
    pid = f"p{len(state.participants) + 1}"
    return [("participant_joined", {
        "pid": pid, "token_hash": args["token_hash"], "profile": profile, "result": {"pid": pid},
    })]


async def publish(owner: CampaignOwner, _: None, args: Mapping[str, Any]) -> Decision:
    """The structure is ready: publish the items and start the next phase."""
    owner.transitioning = False
    state = owner.state
    assert state.template is not None
    nxt = state.phase_index + 1
    return [
        ("items_published", {"items": args["items"]}),
        owner.phase_start(nxt) if nxt < len(state.template.phases) else ("campaign_finished", {"index": nxt}),
    ]


# -- the declaration ----------------------------------------------------------------------

_NONE = Fields()


def _result(**fields: Field) -> Fields:
    """An ack's ``result``: exactly these keys (published in /asyncapi.json)."""
    return Fields(fields, closed=True)

BUILTIN_COMMANDS: tuple[CommandSpec, ...] = (
    CommandSpec(
        "write_card", "participant", Fields({
            "text": Text(MAX_TEXT_CHARS, required=True,
                         description="the card's text; the collection strategy sets a smaller limit (280 by default)"),
            "prompt": _id("id of the prompt it answers (from `you.prompts`)", required=False),
        }), write_card,
        description="Write a card in a collection phase.",
        result=Fields({"cid": Text(MAX_MSG_ID_CHARS, required=True), "hidden": Boolean(required=True),
                       "text": Text(MAX_TEXT_CHARS, description="the text kept, when the screen masked something")},
                      closed=True),
    ),
    CommandSpec(
        "support_card", "participant", Fields({"cid": _id("the card to support")}), support_card,
        description="Support someone else's card instead of writing a duplicate.",
        result=_result(cid=_id("the card")),
    ),
    CommandSpec("volunteer", "participant", _NONE, volunteer,
                description="Volunteer to sort (dealing a first hand volunteers too).",
                result=Fields({"sorter": Boolean(description="absent when already a sorter")}, closed=True)),
    CommandSpec("deal", "participant", _NONE, deal,
                description="Ask for a hand of items to sort; at most one open hand at a time. Volunteers "
                            "the sender if needed (no 'volunteer' first).",
                result=_result(hand=Object(Fields({
                    "hid": _id("the hand"), "items": _ids("its item ids (cards, or groups 'g:...')"),
                    "stage": Integer(minimum=1, required=True, description="the sorting board")}, closed=True),
                    required=True, nullable=True, description="null: nothing left to sort"))),
    CommandSpec(
        "place", "participant", Fields({
            "hid": _id("the hand being placed"),
            "themes": ListOf(ListOf(_ids("an idea: items that say the same"), max_items=MAX_IDS),
                             max_items=MAX_IDS, default=[],
                             what="a list of themes; a theme is a list of ideas; an idea is a list of ids",
                             description="themes, each a list of ideas, each a list of the hand's item ids"),
            "offtopic": ListOf(Text(MAX_MSG_ID_CHARS), max_items=MAX_IDS, default=[],
                               what=f"a list of at most {MAX_IDS} ids", description="items that are off-topic"),
        }), place,
        description="Place an open hand: group its items into themes and ideas, and mark off-topic ones.",
        result=_result(hid=_id("the hand")),
    ),
    CommandSpec(
        "flag", "participant", Fields({
            "cid": _id("the card to flag"),
            "reason": Text(MAX_FLAG_REASON_CHARS, nullable=True, description="why, in a few words"),
        }), flag, every_phase=True,
        description="Flag a card for the moderation jury (every running phase).",
        result=_result(case_id=_id("the moderation case")),
    ),
    CommandSpec(
        "judge", "participant", Fields({
            "case_id": _id("the case on your jury duty"),
            "verdict": Choice(*VERDICTS, required=True, description="hide the card, or keep it"),
        }), judge, every_phase=True,
        description="A juror's vote on a flagged card (every running phase, jurors only).",
        result=_result(case_id=_id("the case"), decided=Choice(
            *VERDICTS, required=True, nullable=True, description="the case's outcome, once this vote decided it")),
    ),
    CommandSpec(
        "evaluate", "participant", Fields({
            "kind": _id("the task's kind, as `next` gave it (pair, rate, vote, ...)"),
            "data": Object(default={}, description="the judgment; its shape depends on the kind "
                           "(docs/strategies.md)"),
        }), evaluate,
        description="Record a judgment on the task `next` gave, in an evaluation phase.",
        result=_result(kind=_id("the kind recorded")),
    ),
    CommandSpec("start", "facilitator", _NONE, start, description="Start the first phase."),
    CommandSpec("pause", "facilitator", _NONE, pause, description="Pause the running phase (its timer stops)."),
    CommandSpec("resume", "facilitator", _NONE, resume, description="Resume a paused phase."),
    CommandSpec(
        "advance", "facilitator", Fields({
            "index": Integer(minimum=0, nullable=True,
                             description="the phase to end (0 for the first): a click racing the phase timer "
                             "then cannot end the next phase too; left out, the current one"),
        }), advance, description="End the current phase and start the next one.",
    ),
    CommandSpec(
        "extend", "facilitator", Fields({
            "seconds": Number(exclusive_minimum=0, maximum=MAX_EXTEND_SECONDS, required=True,
                              description="seconds to add to the current phase"),
        }), extend, description="Give the current phase more time.",
    ),
    CommandSpec(
        "decide", "facilitator", Fields({
            "cid": _id("the card"),
            "verdict": Choice(*VERDICTS, required=True, description="hide the card, or keep it"),
        }), decide, description="The facilitator's last word on a card: overrides any jury.",
    ),
    CommandSpec("timeout", "engine", _NONE, timeout, description="The phase timer fired."),
    CommandSpec(
        "join", "engine", Fields({
            "profile": Object(required=True), "token_hash": Text(64, required=True),
            "max_participants": Integer(minimum=0, required=True),
        }), join, description="A participant joins (Engine.join made the token).",
    ),
    CommandSpec("publish", "engine", Fields({"items": ListOf(Object(), required=True)}), publish,
                description="The structure is aggregated: publish the items, start the next phase."),
)


@hookimpl
def essaim_register_commands(registry: Registry) -> None:
    for spec in BUILTIN_COMMANDS:
        registry.add_command(spec)
