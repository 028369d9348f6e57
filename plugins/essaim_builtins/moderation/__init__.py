"""Moderation strategy ``jury``: a screen at submission, and flags judged
by a small random peer jury whose majority hides or keeps the card.

Report counts alone never hide anything: a flag opens a case, later flags
join it, and only the jury (or the facilitator, with ``decide``) hides or
restores. Jurors are drawn at random among participants who have no stake
in the case: never the author, never someone who flagged this card, never
someone whose own cards the author flagged (retaliation), and preferably
someone not already busy with other cases. Every decision lands in the
campaign's moderation log (``state.moderation_log``), which exports include.
"""

from __future__ import annotations

import random
from collections.abc import Mapping
from typing import Any

from essaim import hookimpl
from essaim.model.schema import Boolean, Choice, Integer, ListOf, Text
from essaim.model.state import CampaignState, Card, Case, Participant
from essaim.model.types import FlagOutcome, Screening, Verdict
from essaim.plugin.registry import Registry

from essaim_builtins.moderation.screening import ABUSE_ACTIONS, screen_text

#: Seven jurors asked; a decision needs at least three votes and a lead of
#: two votes (or every juror's vote, then a majority; a tie keeps). A lead of
#: two rather than a bare majority of three halves the cards wrongly hidden
#: when a fifth of the crowd votes in bad faith (see docs/strategies.md), at
#: the cost of about one more vote per case; seven seats leave room for
#: jurors who do not answer.
DEFAULT_JURY_SIZE = 7
DEFAULT_QUORUM = 3
DEFAULT_MARGIN = 2
#: A participant already on this many open cases is skipped while others are
#: free: jury duty is spread, and nobody spends the session judging.
MAX_OPEN_DUTIES = 2
#: Random draws tried before settling for a smaller jury.
DRAW_ATTEMPTS_PER_SEAT = 20
#: Largest jury a template may ask for: every juror is summoned on their
#: phone, and a decision never needs more.
MAX_JURY_SIZE = 50

SETTINGS = {
    "jury_size": Integer(minimum=1, maximum=MAX_JURY_SIZE, default=DEFAULT_JURY_SIZE,
                         description="jurors drawn per case"),
    "quorum": Integer(minimum=1, maximum=MAX_JURY_SIZE, default=DEFAULT_QUORUM,
                      description="votes needed before any decision"),
    "margin": Integer(minimum=1, maximum=MAX_JURY_SIZE, default=DEFAULT_MARGIN,
                      description="lead of one side over the other that decides; once every juror voted, "
                      "a majority decides and a tie keeps the card"),
    "abuse_action": Choice(*ABUSE_ACTIONS, default="hide",
                           description="what the screen does with abusive words: hide the card for a jury, "
                           "reject it, or ignore the list"),
    "extra_abuse_words": ListOf(Text(80, min_len=1), default=[], description="more words for the screen's abuse list"),
    "rejudge": Boolean(default=False, description="draw a new jury when a card a jury kept is flagged again "
                       "(false: the facilitator decides)"),
}


@hookimpl
def essaim_register_strategies(registry: Registry) -> None:
    registry.add_strategy(
        "moderation",
        "jury",
        description="Personal data masked and obvious abuse caught at submission; a flag goes to a random peer "
        "jury with no stake in the case, whose majority hides or keeps; the facilitator can override.",
        settings=SETTINGS,
    )


@hookimpl
def essaim_moderation_screen(settings: Mapping[str, Any], text: str) -> Screening:
    return screen_text(
        text,
        extra_words=settings.get("extra_abuse_words", ()),
        abuse_action=str(settings.get("abuse_action", "hide")),
    )


def conflicted_jurors(state: CampaignState, card: Card, flagger: Participant) -> set[str]:
    """Participants who may not judge this card: its author, whoever flagged
    it (now or before), and everyone whose cards its author flagged."""
    out = {card.author, flagger.pid}
    for case in state.cases.values():
        if case.cid == card.cid:
            out.update(case.flaggers)
        if card.author in case.flaggers:
            flagged = state.cards.get(case.cid)
            if flagged is not None:
                out.add(flagged.author)
    return out


@hookimpl
def essaim_moderation_flag(
    settings: Mapping[str, Any], state: CampaignState, card: Card, flagger: Participant, rng: random.Random
) -> FlagOutcome:
    size = max(1, int(settings.get("jury_size", DEFAULT_JURY_SIZE)))
    if not settings.get("rejudge", False) and any(
        c.cid == card.cid and c.status == "kept" and c.decided_by == "jury" for c in state.cases.values()
    ):
        # A jury already kept this card: flagging again until some jury hides
        # it would hand the decision to whoever flags most. The new case waits
        # for the facilitator instead.
        return FlagOutcome(jury=(), hide_now=False)
    excluded = conflicted_jurors(state, card, flagger)
    pool = list(state.participants)
    jury: list[str] = []
    chosen: set[str] = set()
    busy: list[str] = []
    # Rejection sampling: O(jury) draws instead of filtering every participant.
    for _ in range(size * DRAW_ATTEMPTS_PER_SEAT):
        if len(jury) >= size or not pool:
            break
        pid = pool[rng.randrange(len(pool))]
        if pid in excluded or pid in chosen:
            continue
        chosen.add(pid)
        if len(state.jury_duty.get(pid, ())) >= MAX_OPEN_DUTIES:
            busy.append(pid)
            continue
        jury.append(pid)
    if len(jury) < size:
        # Few free participants: fill with busy ones, then with a full scan.
        jury.extend(busy[: size - len(jury)])
    if len(jury) < size:
        rest = [pid for pid in pool if pid not in excluded and pid not in chosen]
        jury.extend(rng.sample(rest, min(size - len(jury), len(rest))))
    return FlagOutcome(jury=tuple(jury), hide_now=False)


@hookimpl
def essaim_moderation_verdict(settings: Mapping[str, Any], state: CampaignState, case: Case) -> Verdict | None:
    quorum = min(max(1, int(settings.get("quorum", DEFAULT_QUORUM))), max(1, len(case.jury)))
    margin = max(1, int(settings.get("margin", DEFAULT_MARGIN)))
    votes = list(case.votes.values())
    if len(votes) < quorum:
        return None
    hide, keep = votes.count("hide"), votes.count("keep")
    if hide - keep >= margin:
        return "hide"
    if keep - hide >= margin:
        return "keep"
    if len(votes) >= len(case.jury):
        # Everyone voted without a clear lead: a tie keeps the card.
        return "hide" if hide > keep else "keep"
    return None
