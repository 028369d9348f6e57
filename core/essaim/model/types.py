"""Values that strategies return to the engine, and the snapshots they read.

These are the data half of the plugin contract in :mod:`essaim.plugin.hookspecs`.
Everything here is plain, immutable where it crosses a thread, and
JSON-friendly (``to_dict``), because results end up in events, frames and
exports.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any, Literal

from essaim.model.caches import CampaignCaches
from essaim.model.state import Judgment, Placement

__all__ = [
    "Prompt",
    "Suggestion",
    "Screening",
    "Deal",
    "CardInfo",
    "SortingInput",
    "Idea",
    "Theme",
    "Structure",
    "FlagOutcome",
    "Verdict",
    "EvaluationTask",
    "EvaluationInput",
    "ItemScore",
    "Variant",
    "OpportunitySheet",
    "Results",
    "ExportFile",
]

Verdict = Literal["hide", "keep"]


@dataclass(frozen=True, slots=True)
class Prompt:
    """An open question put to a participant in a collection phase."""

    #: what write_card's prompt names
    id: str
    #: the question shown
    text: str


@dataclass(frozen=True, slots=True)
class Suggestion:
    """An existing card similar to what a participant is typing."""

    #: the similar card
    cid: str
    #: its text
    text: str
    #: similarity in [0, 1], higher is closer
    score: float


@dataclass(frozen=True, slots=True)
class Screening:
    """The moderation screen's verdict on a text at submission.

    ``text`` is the text to keep (personal data masked); ``reject`` refuses the
    card with that message; ``hide`` accepts it hidden, for a jury or the
    facilitator to look at; ``findings`` are short codes kept in the log.
    """

    #: the text to keep (personal data masked)
    text: str
    #: short codes kept in the card and the moderation log
    findings: tuple[str, ...] = ()
    #: refuse the card with this message (None: accept)
    reject: str | None = None
    #: accept it hidden, for a jury or the facilitator
    hide: bool = False


@dataclass(frozen=True, slots=True)
class Deal:
    """A hand for a sorter: item ids (cards, or group ids in later boards)."""

    #: the hand's item ids (cards, or groups g:c3+c17)
    items: tuple[str, ...]
    #: board: 1 for cards, 2 for groups
    stage: int = 1


@dataclass(frozen=True, slots=True)
class CardInfo:
    #: card id
    cid: str
    #: pid of its author
    author: str
    #: its text
    text: str
    #: pids supporting it
    supporters: tuple[str, ...]
    #: hidden by moderation
    hidden: bool


@dataclass(frozen=True, slots=True)
class SortingInput:
    """What an aggregator reads, copied off the trio thread's live state."""

    #: the campaign
    campaign_id: str
    #: the state's seq when copied
    seq: int
    #: every card by id, hidden ones included
    cards: Mapping[str, CardInfo]
    #: every placement, in order
    placements: Sequence[Placement]
    #: pid -> profile
    profiles: Mapping[str, Mapping[str, str]]
    #: The campaign's derived caches (the live state's ``caches``), for
    #: incremental work across calls; see :mod:`essaim.model.caches`.
    caches: CampaignCaches = field(default_factory=CampaignCaches, compare=False, repr=False)


@dataclass(frozen=True, slots=True)
class Idea:
    """Cards the crowd says are the same idea; the first is representative."""

    #: item id
    iid: str
    #: the representative card's text
    title: str
    #: its cards, representative first
    cards: tuple[str, ...]
    #: share of 'same idea' calls among observed inner pairs, in [0, 1]
    agreement: float


@dataclass(frozen=True, slots=True)
class Theme:
    #: theme id
    tid: str
    #: its title
    title: str
    #: its ideas
    ideas: tuple[Idea, ...]
    #: share of 'same theme' calls among observed pairs, in [0, 1]
    agreement: float


@dataclass(frozen=True, slots=True)
class Structure:
    """The crowd's structure: themes -> ideas -> cards, and what is off-topic."""

    #: themes -> ideas -> cards
    themes: tuple[Theme, ...]
    #: card ids the crowd called off-topic
    offtopic: tuple[str, ...] = ()
    #: the snapshot's seq
    seq: int = 0

    def ideas(self) -> list[Idea]:
        return [idea for theme in self.themes for idea in theme.ideas]

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True, slots=True)
class FlagOutcome:
    """What a moderation strategy decides when a card is flagged.

    ``jury``: participants asked to judge (empty when the flag joins an open
    case or is ignored); ``hide_now``: hide at once, pending the decision.
    """

    #: pids asked to judge (empty: the case waits for the facilitator)
    jury: tuple[str, ...] = ()
    #: hide the card at once, pending the decision
    hide_now: bool = False


@dataclass(frozen=True, slots=True)
class EvaluationTask:
    """What a participant is asked next: ``kind`` and what to show."""

    #: the task kind the participant's screen shows (pair, rate, vote...)
    kind: str
    #: what to show (item ids and titles...)
    payload: Mapping[str, Any]

    def to_dict(self) -> dict[str, Any]:
        return {"kind": self.kind, **self.payload}


@dataclass(frozen=True, slots=True)
class EvaluationInput:
    """What a scorer reads, copied off the live state."""

    #: the campaign
    campaign_id: str
    #: the state's seq when copied
    seq: int
    #: iid -> title of every item evaluated
    items: Mapping[str, str]
    #: every judgment, in order
    judgments: Sequence[Judgment]
    #: pid -> profile
    profiles: Mapping[str, Mapping[str, str]]
    #: The campaign's derived caches, as in :class:`SortingInput`.
    caches: CampaignCaches = field(default_factory=CampaignCaches, compare=False, repr=False)


@dataclass(frozen=True, slots=True)
class ItemScore:
    """An item's score with its uncertainty and how contested it is.

    ``consensus`` in [0, 1]: how much the crowd agrees (1 = everybody the same
    way); ``controversy`` in [0, 1]: how split it is, across opinion groups
    where the method has them. ``segments`` maps "attribute=value" to a score.
    """

    #: the item
    iid: str
    #: its score (higher is better; the scale is the strategy's)
    score: float
    #: lower end of its 95% interval
    low: float
    #: upper end of its 95% interval
    high: float
    #: judgments it is based on
    n: int
    #: how much the crowd agrees, in [0, 1]
    consensus: float
    #: how split it is across groups, in [0, 1]
    controversy: float
    #: "attribute=value" -> score in that profile segment
    segments: Mapping[str, float] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Variant:
    """Another item the results grouped under a sheet: the same idea in other
    words (its wording points at the sheet's cards), evaluated on its own."""

    #: the item
    iid: str
    #: its title
    title: str
    #: as in ItemScore
    score: float
    #: as in ItemScore
    low: float
    #: as in ItemScore
    high: float
    #: distinct people behind it (authors and supporters)
    supporters: int
    #: its visible cards, representative first
    card_texts: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class OpportunitySheet:
    """A ranked result leaders can act on: one idea, with the items that say
    it in other words as ``variants`` (a leader reads each idea once)."""

    #: 1 for the best
    rank: int
    #: the item
    iid: str
    #: its title
    title: str
    #: its visible cards, representative first
    cards: tuple[str, ...]
    #: their texts, in the same order
    card_texts: tuple[str, ...]
    #: distinct people behind it (authors and supporters)
    supporters: int
    #: as in ItemScore
    score: float
    #: as in ItemScore
    low: float
    #: as in ItemScore
    high: float
    #: as in ItemScore
    consensus: float
    #: as in ItemScore
    controversy: float
    #: segment scores judged by at least min_segment_size people
    segments: Mapping[str, float]
    #: other items grouped under this one as the same idea, best first;
    #: ``supporters`` counts their people too
    variants: tuple[Variant, ...] = ()
    #: the crowd's theme of the item (a theme id of the structure), if any
    theme: str | None = None
    #: rank among the sheets of the same theme (1 = best of its theme)
    theme_rank: int = 0
    #: rank by ``supporters`` among all sheets (1 = the most people behind
    #: it), so that a well-supported idea the evaluation put low is seen
    support_rank: int = 0

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True, slots=True)
class Results:
    """A campaign's results, as exports see them."""

    #: the campaign
    campaign_id: str
    #: its title
    title: str
    #: the seq the results were computed at
    seq: int
    #: ranked opportunity sheets
    sheets: tuple[OpportunitySheet, ...]
    #: every item's score
    scores: tuple[ItemScore, ...]
    #: the crowd's structure, if there was sorting
    structure: Structure | None
    #: the campaign's counters (cards, judgments...)
    counters: Mapping[str, int]

    def to_dict(self) -> dict[str, Any]:
        return {
            "campaign_id": self.campaign_id,
            "title": self.title,
            "seq": self.seq,
            "counters": dict(self.counters),
            "sheets": [s.to_dict() for s in self.sheets],
            "scores": [asdict(s) for s in self.scores],
            "structure": self.structure.to_dict() if self.structure else None,
        }


@dataclass(frozen=True, slots=True)
class ExportFile:
    """One exported file (a format may produce several, e.g. the Pol.is CSV set)."""

    #: file name
    name: str
    #: its media type
    media_type: str
    #: its bytes
    content: bytes
