"""The moderation log as anyone outside the jury may see it.

``state.moderation_log`` keeps each juror's vote (``{pid: verdict}``) so
the engine can replay decisions; who voted what is nobody's business, so
every export reduces the votes to counts, as the facilitator API does.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

VERDICTS = ("hide", "keep")


def vote_counts(votes: Mapping[str, str]) -> dict[str, int]:
    """Juror votes as counts per verdict, without the jurors."""
    return {verdict: sum(v == verdict for v in votes.values()) for verdict in VERDICTS}


def public_log(log: Iterable[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """Copies of the log entries with each ``votes`` map reduced to counts."""
    return [{k: (vote_counts(v) if k == "votes" else v) for k, v in entry.items()} for entry in log]
