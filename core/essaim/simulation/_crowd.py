"""The simulated crowd: a latent ground truth and the people who know it.

The truth is a set of themes, each holding ideas; each idea has a latent
value (how much it matters) and several phrasings people write it with.
Each simulated person has a profile, a pace and a few habits, all drawn
from the seed and the person's number only, so the same seed gives the
same crowd whatever order the tasks run in.

Knowing the truth lets a run measure how well the crowd recovered it:
the structure (which cards say the same idea) and the ranking (which ideas
matter most).
"""

from __future__ import annotations

import math
import random
from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

__all__ = ["Idea", "Theme", "Person", "Truth", "CrowdHabits", "make_truth", "make_crowd", "phrase", "sort_hand",
           "OFFTOPIC", "PERSONAL"]

CardKind = Literal["idea", "offtopic", "personal"]


@dataclass(frozen=True, slots=True)
class Idea:
    key: str
    theme: str
    value: float
    phrasings: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Theme:
    key: str
    ideas: tuple[Idea, ...]


@dataclass(frozen=True, slots=True)
class Truth:
    themes: tuple[Theme, ...]
    #: Extra value a role gives a theme ("Field" cares more about tools...).
    role_bias: dict[tuple[str, str], float]

    def ideas(self) -> list[Idea]:
        return [idea for theme in self.themes for idea in theme.ideas]

    def idea(self, key: str) -> Idea:
        return next(i for i in self.ideas() if i.key == key)


# Ideas as people phrase them: theme -> idea -> phrasings. Written by hand so
# that the lexical similarity of the built-in suggestions has something
# realistic to work on (shared words within an idea, some across ideas).
_BANK: dict[str, dict[str, tuple[str, ...]]] = {
    "meetings": {
        "fewer_meetings": (
            "Too many status meetings that could be an email",
            "Cut the weekly status meetings, send a written update instead",
            "We spend hours in meetings that decide nothing",
        ),
        "meeting_agenda": (
            "Every meeting should have an agenda sent beforehand",
            "No agenda, no meeting",
            "Meetings without a clear agenda waste everyone's time",
        ),
        "no_meeting_day": (
            "One day a week without any meetings",
            "Block meeting-free afternoons so we can focus",
            "A no-meeting day to get real work done",
        ),
    },
    "tools": {
        "slow_laptops": (
            "Our laptops are too slow and crash all the time",
            "Replace the old slow computers",
            "Waiting for the computer to start wastes time every morning",
        ),
        "mobile_forms": (
            "Let field teams fill in reports on their phone",
            "Paper forms in the field should become a mobile app",
            "Typing field reports twice, on paper then in the office, is a waste",
        ),
        "single_login": (
            "One login for all the tools instead of ten passwords",
            "Too many passwords and accounts for our tools",
            "Single sign-on for the internal applications",
        ),
    },
    "communication": {
        "decisions_explained": (
            "Explain why decisions are made, not only what",
            "Management decisions arrive without any explanation",
            "Share the reasons behind big decisions with everyone",
        ),
        "field_office_link": (
            "Office staff should spend a day in the field each year",
            "The office does not see what field work is really like",
            "More exchanges between field and office teams",
        ),
        "one_channel": (
            "Information is scattered across email, chat and the intranet",
            "One place to find the news that matters",
            "Too many channels, nobody knows where to look",
        ),
    },
    "workload": {
        "staffing": (
            "We are understaffed during the peak season",
            "Hire temporary staff for the busy months",
            "Not enough people to cover the workload in summer",
        ),
        "admin_burden": (
            "Too much paperwork and approvals for small purchases",
            "Simplify the approval process for small expenses",
            "Three signatures for a fifty euro purchase is too many",
        ),
    },
    "growth": {
        "training": (
            "More training on the new equipment",
            "Give us time for training during working hours",
            "Training sessions are always cancelled when we are busy",
        ),
        "career_paths": (
            "Clear career paths so people know how to progress",
            "Nobody knows how to get promoted here",
            "Show the possible career moves between teams",
        ),
        "mentoring": (
            "Pair newcomers with an experienced colleague",
            "A mentoring programme for new hires",
            "Newcomers are left alone during their first weeks",
        ),
    },
}

#: Texts that do not belong: a good sorter puts them off-topic, a good
#: jury hides them.
OFFTOPIC = (
    "What is for lunch today?",
    "Go team! Best company ever!!!",
    "Does anyone know the wifi password?",
    "My car is parked in the wrong spot, sorry",
)

#: Texts with personal data, which the moderation screen should mask, and
#: the idea each one is really about.
PERSONAL: tuple[tuple[str, str], ...] = (
    ("Call me at +33 6 12 34 56 78 about the slow laptops", "slow_laptops"),
    ("Write to jane.doe@example.com, she knows why training gets cancelled", "training"),
)

_PREFIXES = ("", "", "", "Honestly, ", "I think ", "Really: ", "For me, ")
_SUFFIXES = ("", "", "", ".", "!", " please", " - it matters")

ROLES = ("Field", "Office", "Management")
ROLE_WEIGHTS = (0.55, 0.33, 0.12)
SITES = ("North", "South", "East", "West")


def make_truth(seed: int) -> Truth:
    """Themes, ideas with latent values, and role biases, from the seed."""
    rng = random.Random(f"truth:{seed}")
    themes = []
    for theme_key, ideas in _BANK.items():
        themes.append(Theme(theme_key, tuple(
            Idea(key, theme_key, round(rng.gauss(0.0, 1.0), 3), phrasings) for key, phrasings in ideas.items()
        )))
    bias = {(role, t.key): round(rng.gauss(0.0, 0.5), 3) for role in ROLES for t in themes}
    return Truth(tuple(themes), bias)


@dataclass(frozen=True, slots=True)
class CrowdHabits:
    """How the simulated crowd behaves, as shares and counts."""

    #: Share of people who volunteer to sort (Synapscore sees 25-30%).
    sorter_share: float = 0.27
    #: Share of people who join after the collection phase has started late
    #: enough to miss it (they still sort and evaluate).
    late_share: float = 0.08
    #: Mean number of cards a person writes.
    cards_mean: float = 1.6
    #: Chance that a person supports a suggested card that says their idea,
    #: rather than writing it again.
    support_share: float = 0.3
    #: Chance that a card is off-topic, and that it contains personal data.
    offtopic_share: float = 0.04
    personal_share: float = 0.01
    #: Chance that a person who sees an off-topic card flags it.
    flag_share: float = 0.5
    #: Chance that a sorter misplaces one card, or a juror votes wrongly.
    sort_error: float = 0.1
    jury_error: float = 0.1
    #: Hands one sorter sorts at most.
    max_hands: int = 6
    #: How sharply people tell ideas apart (Bradley-Terry temperature: lower
    #: is sharper), and how often they cannot decide.
    judgment_temperature: float = 0.6
    cant_decide_share: float = 0.05


@dataclass(frozen=True, slots=True)
class Person:
    index: int
    profile: dict[str, str]
    sorter: bool
    #: The phase (index among the phases participants act in) they join in.
    arrives: int
    #: Relative pace: 1 is average; 2 takes twice as long between actions.
    pace: float
    #: The ideas they will write about (keys), or "offtopic"/"personal".
    intents: tuple[str, ...]

    def rng(self, seed: int, purpose: str) -> random.Random:
        """Randomness for one purpose of this person, independent of others."""
        return random.Random(f"{seed}:{self.index}:{purpose}")


def make_crowd(truth: Truth, size: int, seed: int, habits: CrowdHabits) -> list[Person]:
    """``size`` people drawn from the seed: profiles, roles in the crowd, intents."""
    ideas = truth.ideas()
    # Popularity is Zipf-like: a few ideas are on many minds.
    popularity = [1.0 / (rank + 1) ** 0.8 for rank in range(len(ideas))]
    order = random.Random(f"popularity:{seed}").sample(ideas, len(ideas))
    crowd = []
    for index in range(size):
        rng = random.Random(f"{seed}:{index}:person")
        role = rng.choices(ROLES, ROLE_WEIGHTS)[0]
        n_cards = _poisson(rng, habits.cards_mean)
        intents = []
        for _ in range(n_cards):
            roll = rng.random()
            if roll < habits.offtopic_share:
                intents.append("offtopic")
            elif roll < habits.offtopic_share + habits.personal_share:
                intents.append("personal")
            else:
                intents.append(rng.choices(order, popularity)[0].key)
        crowd.append(Person(
            index=index,
            profile={"role": role, "site": rng.choice(SITES)},
            sorter=rng.random() < habits.sorter_share,
            arrives=1 if rng.random() < habits.late_share else 0,
            pace=math.exp(rng.gauss(0.0, 0.4)),
            intents=tuple(intents),
        ))
    return crowd


def phrase(idea: Idea, rng: random.Random) -> str:
    """One way a person writes an idea: a phrasing with a personal touch."""
    prefix, text = rng.choice(_PREFIXES), rng.choice(idea.phrasings)
    if prefix:
        text = text[0].lower() + text[1:]
    return prefix + text + rng.choice(_SUFFIXES)


def _poisson(rng: random.Random, mean: float) -> int:
    # Knuth's method: fine for the small means used here.
    limit, k, p = math.exp(-mean), 0, 1.0
    while True:
        p *= rng.random()
        if p <= limit:
            return k
        k += 1


def sort_hand(
    items: list[str], truth_of: Callable[[str], str], theme_of: Callable[[str], str], rng: random.Random,
    sort_error: float,
) -> tuple[list[list[list[str]]], list[str]]:
    """Group a hand as a person who knows the truth, with some mistakes: each
    item is misplaced with chance ``sort_error`` (put with another item's
    idea, or alone). ``truth_of`` gives an item's idea (or "offtopic"),
    ``theme_of`` an idea's theme."""
    labels = {item: truth_of(item) for item in items}
    choices = sorted(set(labels.values()))
    for item in items:
        if rng.random() < sort_error:
            labels[item] = rng.choice(choices + [f"alone:{item}"])
    themes: dict[str, dict[str, list[str]]] = {}
    offtopic = []
    for item in items:
        label = labels[item]
        if label == "offtopic":
            offtopic.append(item)
            continue
        themes.setdefault(theme_of(label), {}).setdefault(label, []).append(item)
    return [list(ideas.values()) for ideas in themes.values()], offtopic
