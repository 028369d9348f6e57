"""Where a server's time goes: ``py-spy record`` on its pid, summarised.

py-spy samples the process from outside (no code in the server), so the
profile is of the real server under the real load. The summary counts, for
each function, the share of samples in which it is on the stack
(inclusive) and at the top of it (self).
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from collections import Counter
from pathlib import Path

__all__ = ["start_recording", "summarize_collapsed"]

#: Samples per second: enough for a 90-second window, cheap for the server.
SAMPLE_RATE = 50


def start_recording(pid: int, seconds: float, out: Path) -> subprocess.Popen | None:
    """Start py-spy on ``pid`` for ``seconds``; None if py-spy is not installed."""
    exe = shutil.which("py-spy") or str(Path(sys.executable).with_name("py-spy"))
    if not Path(exe).exists():
        print("py-spy is not installed (pip install py-spy): no profile", flush=True)
        return None
    return subprocess.Popen([exe, "record", "--pid", str(pid), "--duration", str(int(seconds)), "--rate",
                             str(SAMPLE_RATE), "--format", "raw", "--nonblocking", "--output", str(out)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def _frame_name(frame: str) -> str:
    """``func (path/to/module.py:123)`` → ``module.py:func``."""
    func, _, where = frame.partition(" (")
    path = where.rstrip(")").rsplit(":", 1)[0]
    marker = "site-packages/"
    short = path.split(marker, 1)[1] if marker in path else "/".join(path.split("/")[-2:])
    return f"{short}:{func}"


def summarize_collapsed(path: Path, top: int = 15) -> str:
    """The functions that take the most samples, inclusive and self."""
    inclusive: Counter[str] = Counter()
    own: Counter[str] = Counter()
    total = 0
    for line in path.read_text(encoding="utf-8", errors="replace").splitlines():
        stack, _, count = line.rpartition(" ")
        if not stack or not count.isdigit():
            continue
        n = int(count)
        frames = [_frame_name(f) for f in stack.split(";") if f]
        total += n
        for name in set(frames):
            inclusive[name] += n
        if frames:
            own[frames[-1]] += n
    if not total:
        return "no samples"
    lines = [f"{total} samples; self time (top {top}):"]
    lines += [f"  {100 * n / total:5.1f}%  {name}" for name, n in own.most_common(top)]
    lines.append(f"inclusive time (top {top}, excluding the event loop's own frames):")
    skip = ("trio/_core", "threading.py", "<module>", "runpy.py", "hypercorn/trio/run", "essaim/__main__")
    shown = [(name, n) for name, n in inclusive.most_common() if not any(s in name for s in skip)]
    lines += [f"  {100 * n / total:5.1f}%  {name}" for name, n in shown[:top]]
    return "\n".join(lines)
