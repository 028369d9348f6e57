"""The campaign workload: how many people do what, and how often.

Rates come from the method (about 20% of participants write cards, about 25%
volunteer to sort, everyone evaluates) and from the demo campaign's phase
durations. Think times are derived from them, so a smaller or compressed run
keeps the same shape: ``compression`` divides every duration and think time
(a 30-minute campaign at compression 15 runs in 2 minutes, each user acting
15 times as often).
"""

from __future__ import annotations

import random
from dataclasses import dataclass

__all__ = ["Workload", "CAMPAIGN", "think_time", "ROLES", "SITES", "CONSOLE_POLL_SECONDS",
           "CONSOLE_SLOW_POLL_SECONDS", "console_paths", "ConsolePolls"]

#: The facilitator console's polling (core/essaim/web/static/facilitator.js,
#: POLL_MS and SLOW_POLL_MS; a test keeps them equal). Load runs poll as one
#: open console does: a facilitator watches every real campaign, and the
#: results poll is the heaviest read the server serves.
CONSOLE_POLL_SECONDS = 2.0
CONSOLE_SLOW_POLL_SECONDS = 6.0


def console_paths(campaign_id: str, slow: bool) -> tuple[tuple[str, str], ...]:
    """What one console poll GETs (facilitator.js ``poll()``), as (name,
    path): campaign, stats and moderation queue; with ``slow``, structure
    and results too."""
    base = f"/api/campaigns/{campaign_id}"
    reads = ("stats", "moderation") + (("structure", "results") if slow else ())
    return (("console campaign", base),) + tuple((f"console {r}", f"{base}/{r}") for r in reads)


class ConsolePolls:
    """One open console's polls: what it reads at time ``now`` (seconds, any
    clock), the slow reads once every CONSOLE_SLOW_POLL_SECONDS."""

    def __init__(self, campaign_id: str) -> None:
        self.campaign_id = campaign_id
        self._next_slow = float("-inf")

    def reads(self, now: float) -> tuple[tuple[str, str], ...]:
        slow = now >= self._next_slow
        if slow:
            self._next_slow = now + CONSOLE_SLOW_POLL_SECONDS
        return console_paths(self.campaign_id, slow)


#: Profiles drawn for participants, from the demo template's attributes.
ROLES = ("Field", "Office", "Management")
SITES = ("North", "South", "East", "West")


@dataclass(frozen=True, slots=True)
class Workload:
    """The shape of one campaign; durations in real (uncompressed) seconds."""

    #: Share of participants who write cards (Synapscore: about one in five).
    writer_share: float = 0.20
    #: Cards one writer writes in the collect phase, on average.
    cards_per_writer: float = 2.5
    #: Share of participants who support an existing card after a suggestion.
    supporter_share: float = 0.40
    #: Share of participants who volunteer to sort (method: 25–30%).
    sorter_share: float = 0.25
    #: Hands one sorter places in the sort phase (8 cards each).
    hands_per_sorter: int = 3
    #: Share of participants who flag one card (abuse is rare).
    flagger_share: float = 0.01
    #: Pairwise comparisons one participant makes in the evaluate phase.
    comparisons_per_participant: int = 12
    #: Phase durations of the demo template (collect, sort, evaluate, results).
    collect_seconds: float = 480.0
    sort_seconds: float = 480.0
    evaluate_seconds: float = 480.0
    results_seconds: float = 360.0
    #: Seconds a juror takes to read a flagged card and decide.
    judge_think_seconds: float = 20.0

    @property
    def campaign_seconds(self) -> float:
        return self.collect_seconds + self.sort_seconds + self.evaluate_seconds + self.results_seconds

    def phase_seconds(self, phase_type: str) -> float:
        return {
            "collect": self.collect_seconds,
            "sort": self.sort_seconds,
            "evaluate": self.evaluate_seconds,
            "results": self.results_seconds,
        }.get(phase_type, self.results_seconds)

    def mean_think(self, phase_type: str, actions: float) -> float:
        """Mean seconds between one person's actions so that ``actions`` of
        them fill the phase, leaving the last tenth for stragglers."""
        return 0.9 * self.phase_seconds(phase_type) / max(actions, 1.0)

    def actions_per_second(self, participants: int) -> dict[str, float]:
        """Expected steady action rates per phase, for sizing (docs/loadtesting.md)."""
        n = participants
        return {
            "collect": n * (self.writer_share * self.cards_per_writer + self.supporter_share * 2)
            / self.collect_seconds,
            "sort": n * self.sorter_share * (2 * self.hands_per_sorter + 1) / self.sort_seconds,
            "evaluate": n * 2 * self.comparisons_per_participant / self.evaluate_seconds,
        }


#: The default: the demo campaign's 30 minutes.
CAMPAIGN = Workload()

#: Shortest think time: a person does not act twice in 200 ms, even compressed.
MIN_THINK_SECONDS = 0.2
#: Longest think time, as a multiple of the mean (an exponential has a long tail).
MAX_THINK_FACTOR = 4.0


def think_time(mean: float, compression: float, rng: random.Random) -> float:
    """A random pause around ``mean`` real seconds, compressed, bounded."""
    mean = mean / compression
    return min(max(rng.expovariate(1.0 / mean), MIN_THINK_SECONDS), MAX_THINK_FACTOR * mean)
