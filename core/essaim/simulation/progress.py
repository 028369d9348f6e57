"""A one-line progress bar on stderr for the simulator, without dependencies.

On a terminal the line is redrawn in place, at most every
:data:`REDRAW_SECONDS`; elsewhere (CI logs, pipes) one line is printed per
phase, so logs stay short.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TextIO

__all__ = ["Progress", "ProgressBar"]

#: A terminal redraw costs little, but more than ten a second is noise.
REDRAW_SECONDS = 0.1
#: Characters of the bar itself.
BAR_WIDTH = 24


@dataclass(frozen=True, slots=True)
class Progress:
    """Where a simulation is: which phase, and how many people are done with it."""

    phase_index: int
    phase_count: int
    phase_title: str
    done: int
    total: int
    counters: Mapping[str, int]


class ProgressBar:
    """Renders :class:`Progress` reports on ``stream`` (stderr by default)."""

    def __init__(self, stream: TextIO | None = None) -> None:
        self.stream = stream if stream is not None else sys.stderr
        self.tty = self.stream.isatty()
        self._last_draw = 0.0
        self._last_phase = -1
        self._width = 0

    def __call__(self, progress: Progress) -> None:
        if self.tty:
            now = time.monotonic()
            finished_phase = progress.done == progress.total
            if (
                progress.phase_index == self._last_phase
                and now - self._last_draw < REDRAW_SECONDS
                and not finished_phase
            ):
                return
            self._last_draw = now
            self._last_phase = progress.phase_index
            self._draw(render(progress))
        elif progress.phase_index != self._last_phase:
            self._last_phase = progress.phase_index
            self.stream.write(render(progress, bar=False) + "\n")
            self.stream.flush()

    def _draw(self, line: str) -> None:
        pad = max(0, self._width - len(line))
        self._width = len(line)
        self.stream.write("\r" + line + " " * pad)
        self.stream.flush()

    def close(self) -> None:
        """End the line on a terminal, so what follows starts clean."""
        if self.tty and self._width:
            self.stream.write("\n")
            self.stream.flush()
            self._width = 0


def render(progress: Progress, *, bar: bool = True) -> str:
    """``[3/4] Priorities [#######-----]  210/300 done | 412 cards ...``"""
    c = progress.counters
    stats = (
        f"{c.get('participants', 0)} people, {c.get('cards', 0)} cards, {c.get('hands', 0)} hands, "
        f"{c.get('judgments', 0)} judgments, {c.get('flags', 0)} flags"
    )
    head = f"[{min(progress.phase_index + 1, progress.phase_count)}/{progress.phase_count}] {progress.phase_title}"
    if not bar:
        return f"{head} | {stats}"
    filled = round(BAR_WIDTH * progress.done / progress.total) if progress.total else BAR_WIDTH
    return f"{head} [{'#' * filled}{'-' * (BAR_WIDTH - filled)}] {progress.done}/{progress.total} done | {stats}"
