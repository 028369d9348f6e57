"""Profile segments: who a prompt is for, and the "attribute=value" keys of
score breakdowns."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

__all__ = ["matches_segment", "segment_keys"]


def matches_segment(segment: Mapping[str, Any] | None, profile: Mapping[str, str]) -> bool:
    """True if the profile has, for every attribute of the segment, the value
    (or one of the list of values) it names. No segment matches everyone."""
    for key, wanted in (segment or {}).items():
        value = profile.get(key)
        if isinstance(wanted, (list, tuple)):
            if value not in wanted:
                return False
        elif value != wanted:
            return False
    return True


def segment_keys(profile: Mapping[str, str]) -> list[str]:
    """The breakdown keys a participant counts in, e.g. ``["role=Field", "site=North"]``."""
    return [f"{key}={value}" for key, value in sorted(profile.items())]
