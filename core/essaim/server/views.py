"""What clients see of a campaign: the JSON shapes of docs/protocol.md.

Shared parts (campaign, phase, counters, results) are the same for every
participant; ``you`` is personal and only ever built for its participant.
Nothing here names another participant: in an anonymous campaign a card is
its id and text, never its author.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from essaim.model.hand_items import group_members, is_group
from essaim.model.standing import places, points
from essaim.model.state import CampaignState

if TYPE_CHECKING:
    from essaim.engine import Engine
    from essaim.model.types import EvaluationTask, Results

__all__ = [
    "campaign_view", "phase_view", "counters_view", "you_view", "results_view", "task_view", "results_document",
    "board_view",
    "PROTOCOL_VERSION",
]

PROTOCOL_VERSION = 1


def campaign_view(state: CampaignState) -> dict[str, Any]:
    t = state.template
    assert t is not None
    return {
        "code": state.code,
        "title": t.title,
        "anonymity": t.anonymity,
        "language": t.language,
        "profile": [{"key": a.key, "label": a.label, "choices": list(a.choices), "required": a.required}
                    for a in t.profile],
        "phases": [{"index": i, "type": p.type, "title": p.title, "duration": p.duration, "strategy": p.strategy}
                   for i, p in enumerate(t.phases)],
        # The template's texts in other languages; each phone picks its own.
        "translations": t.translations,
    }


def phase_view(engine: Engine, state: CampaignState) -> dict[str, Any]:
    spec = state.phase
    allowed: list[str] = []
    ptype = engine.host.registry.phase_types.get(spec.type) if spec is not None else None
    if spec is not None and state.status == "running" and not engine.campaign(state.campaign_id).transitioning:
        allowed = sorted((ptype.commands if ptype else frozenset()) | engine.commands.every_phase)
    web = ptype.web if ptype is not None else None
    extra: dict[str, Any] = {}
    if ptype is not None and ptype.family is None and spec is not None and spec.type != "results":
        # A phase of a plugin's own kind: its screen (None: the app's
        # generic screen) and the settings it reads.
        extra = {"screen": web.url(ptype.name, web.screen) if web else None, "settings": dict(spec.settings)}
    return {
        "index": state.phase_index,
        "type": spec.type if spec else None,
        "title": spec.title if spec else None,
        "status": state.status,
        "deadline": state.deadline,
        "remaining": state.remaining,
        "overtime": state.overtime,
        "server_time": engine.clock(),
        "allowed": allowed,
        **extra,
    }


def _current_phase_state(state: CampaignState) -> Any:
    spec = state.phase
    return state.phase_states.get(spec.type) if spec is not None else None


def board_view(state: CampaignState) -> Any:
    """The shared part of a plugin phase's frame: its state's ``view()``
    while a phase of its type is current (None otherwise, or without one)."""
    phase_state = _current_phase_state(state)
    view = getattr(phase_state, "view", None)
    return view() if view is not None else None


def counters_view(state: CampaignState, online: int) -> dict[str, Any]:
    return dict(state.counters, online=online)


def _phase_family(engine: Engine, state: CampaignState) -> str | None:
    spec = state.phase
    if spec is None:
        return None
    ptype = engine.host.registry.phase_types.get(spec.type)
    return ptype.family if ptype else None


#: Between the card texts of a group in a later board's hand (one line of text).
GROUP_TEXT_SEPARATOR = " / "


def _hand_item(state: CampaignState, item: str) -> dict[str, Any]:
    """A hand item as the sorter sees it: a card's text, or for a group
    (later boards) its visible cards' texts, also listed in ``members``."""
    if not is_group(item):
        card = state.cards.get(item)
        return {"cid": item, "text": card.text if card else ""}
    members = [{"cid": c, "text": state.cards[c].text} for c in group_members(item)
               if c in state.cards and not state.cards[c].hidden]
    return {"cid": item, "text": GROUP_TEXT_SEPARATOR.join(m["text"] for m in members), "members": members}


def you_view(engine: Engine, state: CampaignState, pid: str, prompts: list[dict[str, str]],
             own_cards: Iterable[str]) -> dict[str, Any]:
    p = state.participants[pid]
    cards = []
    for cid in own_cards:
        c = state.cards.get(cid)
        if c is not None:
            cards.append({"cid": c.cid, "text": c.text, "hidden": c.hidden, "supporters": len(c.supporters)})
    hand = None
    hid = state.open_hands.get(pid)
    if hid is not None:
        h = state.hands[hid]
        hand = {"hid": h.hid, "items": list(h.items), "stage": h.stage,
                "cards": [_hand_item(state, i) for i in h.items]}
    jury = []
    for case_id in state.jury_duty.get(pid, ()):
        case = state.cases.get(case_id)
        if case is None or case.status != "open" or pid in case.votes:
            continue
        card = state.cards.get(case.cid)
        jury.append({"case_id": case_id, "cid": case.cid, "text": card.text if card else "",
                     "reason": next((r for r in case.reasons if r), "")})
    out = {"prompts": prompts, "cards": cards, "sorter": p.sorter, "hand": hand, "jury": jury}
    view_for = getattr(_current_phase_state(state), "view_for", None)
    if view_for is not None:
        # The personal part of a plugin phase's frame.
        out["board"] = view_for(pid)
    return out


def _idea_card(state: CampaignState, iid: str) -> tuple[str, str] | None:
    """The card an idea shows as its title, as (cid, text): its representative
    card (the first, whose text is the title), or, once moderation hid that
    one, its first visible card. None when the idea is unknown or has no card
    left to show."""
    item = state.items.get(iid)
    if item is None:
        return None
    cards = [state.cards[c] for c in item.cards if c in state.cards]
    shown = next((c for c in cards if c.text == item.title), cards[0] if cards else None)
    if shown is not None and not shown.hidden:
        return shown.cid, shown.text
    visible = next((c for c in cards if not c.hidden), None)
    return (visible.cid, visible.text) if visible is not None else None


def _with_card(state: CampaignState, idea: Any) -> Any:
    if not isinstance(idea, dict) or not isinstance(idea.get("iid"), str):
        return idea
    found = _idea_card(state, idea["iid"])
    if found is None:
        return idea
    cid, text = found
    return {**idea, "cid": cid, **({"title": text} if "title" in idea else {})}


def task_view(state: CampaignState, task: EvaluationTask) -> dict[str, Any]:
    """An evaluation task as a participant gets it: every idea in it (the
    task itself, ``a``/``b``, ``items``) carries ``cid``, the card its title
    shows, so the participant can report it; a title whose card was hidden
    since shows the idea's next visible card instead."""
    out: dict[str, Any] = _with_card(state, task.to_dict())
    for side in ("a", "b"):
        if side in out:
            out[side] = _with_card(state, out[side])
    if isinstance(out.get("items"), list):
        out["items"] = [_with_card(state, i) for i in out["items"]]
    return out


def prompts_wanted(engine: Engine, state: CampaignState) -> bool:
    """Prompts are shown in a collection phase only."""
    return _phase_family(engine, state) == "collection"


def results_wanted(engine: Engine, state: CampaignState) -> bool:
    """Participants see results once the campaign reached a results phase or ended."""
    if state.status == "finished":
        return True
    spec = state.phase
    if spec is None:
        return False
    ptype = engine.host.registry.phase_types.get(spec.type)
    # The results phase, or a plugin's phase that declared shows_results=True.
    return ptype is not None and ptype.family is None and (spec.type == "results" or ptype.shows_results)


#: Sheets and representative cards per sheet that participants receive: the
#: payload goes to every phone, so it stays a few tens of KiB whatever the
#: campaign's size (a 10,000-person run with every sheet and card sent ~1 MB
#: to each of them, and the server ran out of memory). The facilitator API
#: and the exports have everything.
PARTICIPANT_RESULT_SHEETS = 20
PARTICIPANT_RESULT_CARDS = 1


def results_view(results: Results) -> list[dict[str, Any]]:
    """The top ranked sheets as participants see them (``results`` already
    from :meth:`Engine.results <essaim.engine.Engine.results>`), at most PARTICIPANT_RESULT_SHEETS
    with PARTICIPANT_RESULT_CARDS cards each."""
    sheets = results.sheets[:PARTICIPANT_RESULT_SHEETS]
    shared = places([s.score for s in sheets])
    return [
        {"rank": s.rank, "place": place, "points": points(s.score), "iid": s.iid, "title": s.title,
         "score": s.score, "low": s.low, "high": s.high,
         "supporters": s.supporters, "consensus": s.consensus, "controversy": s.controversy,
         "cards": list(s.card_texts[:PARTICIPANT_RESULT_CARDS]), "segments": dict(s.segments)}
        for s, place in zip(sheets, shared)
    ]


def results_document(results: Results) -> dict[str, Any]:
    """Results as the facilitator API gives them (``Results.to_dict()``), each
    sheet with its ``points`` out of 100 and its ``place`` (shared by equal
    points), as phones and exports show them."""
    doc = results.to_dict()
    shared = places([s["score"] for s in doc["sheets"]])
    for sheet, place in zip(doc["sheets"], shared):
        sheet["points"] = points(sheet["score"])
        sheet["place"] = place
    return doc
