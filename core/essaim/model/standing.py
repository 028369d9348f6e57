"""How a ranking reads to people: scores out of 100, and ties as ties.

Strategies score ideas in [0, 1] with methods of their own; leaders read
"63 out of 100", not "0.6312". Two ideas with the same score out of 100 share
their place ("1, 2, 2, 4"), so a ranking never claims a difference it cannot
show. Every view of results (phones, console, presenter, exports) uses these
two functions, so they all agree.
"""

from __future__ import annotations

from collections.abc import Sequence

__all__ = ["points", "places", "scale_meaning", "SCALE", "SCALE_MEANINGS"]

#: Scores are shown out of this.
SCALE = 100


def points(score: float) -> int:
    """A score in [0, 1] as a whole number out of 100 (clamped)."""
    return round(min(1.0, max(0.0, score)) * SCALE)


def places(scores: Sequence[float]) -> list[int]:
    """Places of ``scores`` (already in ranked order) where equal points share
    the place of the first of them: [0.81, 0.63, 0.631, 0.5] -> [1, 2, 2, 4]."""
    out: list[int] = []
    for i, score in enumerate(scores):
        if i and points(score) == points(scores[i - 1]):
            out.append(out[-1])
        else:
            out.append(i + 1)
    return out


#: What a score out of 100 means, by evaluation strategy (the phones' and the
#: console's i18n.js say the same in English and French).
SCALE_MEANINGS = {
    "pairwise": "Scores out of 100: the chance that people pick this idea over an average one.",
    "approval": "Scores out of 100: how many of 100 people shown the idea approved it.",
    "budget": "Scores out of 100: the share of their points people gave the idea.",
    "ratings": "Scores out of 100: the idea's average rating on a 0–100 scale.",
    "agree_disagree": "Scores out of 100: how surely every opinion group agrees with the idea.",
}
_OTHER_SCALE = "Scores out of 100: higher is better."


def scale_meaning(strategy: str | None) -> str:
    """One sentence saying what the scores of ``strategy`` (an evaluation strategy) mean."""
    return SCALE_MEANINGS.get(strategy or "", _OTHER_SCALE)
