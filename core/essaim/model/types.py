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
    "OpportunitySheet",
    "Results",
    "ExportFile",
]

Verdict = Literal["hide", "keep"]


@dataclass(frozen=True, slots=True)
class Prompt:
    """An open question put to a participant in a collection phase."""

    id: str
    text: str


@dataclass(frozen=True, slots=True)
class Suggestion:
    """An existing card similar to what a participant is typing."""

    cid: str
    text: str
    score: float


@dataclass(frozen=True, slots=True)
class Screening:
    """The moderation screen's verdict on a text at submission.

    ``text`` is the text to keep (personal data masked); ``reject`` refuses the
    card with that message; ``hide`` accepts it hidden, for a jury or the
    facilitator to look at; ``findings`` are short codes kept in the log.
    """

    text: str
    findings: tuple[str, ...] = ()
    reject: str | None = None
    hide: bool = False


@dataclass(frozen=True, slots=True)
class Deal:
    """A hand for a sorter: item ids (cards, or group ids in later boards)."""

    items: tuple[str, ...]
    stage: int = 1


@dataclass(frozen=True, slots=True)
class CardInfo:
    cid: str
    author: str
    text: str
    supporters: tuple[str, ...]
    hidden: bool


@dataclass(frozen=True, slots=True)
class SortingInput:
    """What an aggregator reads, copied off the trio thread's live state."""

    campaign_id: str
    seq: int
    cards: Mapping[str, CardInfo]
    placements: Sequence[Placement]
    profiles: Mapping[str, Mapping[str, str]]
    #: The campaign's derived caches (the live state's ``caches``), for
    #: incremental work across calls; see :mod:`essaim.model.caches`.
    caches: CampaignCaches = field(default_factory=CampaignCaches, compare=False, repr=False)


@dataclass(frozen=True, slots=True)
class Idea:
    """Cards the crowd says are the same idea; the first is representative."""

    iid: str
    title: str
    cards: tuple[str, ...]
    agreement: float


@dataclass(frozen=True, slots=True)
class Theme:
    tid: str
    title: str
    ideas: tuple[Idea, ...]
    agreement: float


@dataclass(frozen=True, slots=True)
class Structure:
    """The crowd's structure: themes -> ideas -> cards, and what is off-topic."""

    themes: tuple[Theme, ...]
    offtopic: tuple[str, ...] = ()
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

    jury: tuple[str, ...] = ()
    hide_now: bool = False


@dataclass(frozen=True, slots=True)
class EvaluationTask:
    """What a participant is asked next: ``kind`` and what to show."""

    kind: str
    payload: Mapping[str, Any]

    def to_dict(self) -> dict[str, Any]:
        return {"kind": self.kind, **self.payload}


@dataclass(frozen=True, slots=True)
class EvaluationInput:
    """What a scorer reads, copied off the live state."""

    campaign_id: str
    seq: int
    items: Mapping[str, str]
    judgments: Sequence[Judgment]
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

    iid: str
    score: float
    low: float
    high: float
    n: int
    consensus: float
    controversy: float
    segments: Mapping[str, float] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class OpportunitySheet:
    """A ranked result leaders can act on."""

    rank: int
    iid: str
    title: str
    cards: tuple[str, ...]
    card_texts: tuple[str, ...]
    supporters: int
    score: float
    low: float
    high: float
    consensus: float
    controversy: float
    segments: Mapping[str, float]

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True, slots=True)
class Results:
    """A campaign's results, as exports see them."""

    campaign_id: str
    title: str
    seq: int
    sheets: tuple[OpportunitySheet, ...]
    scores: tuple[ItemScore, ...]
    structure: Structure | None
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

    name: str
    media_type: str
    content: bytes
