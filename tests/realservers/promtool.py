"""Prometheus' promtool (Debian's ``prometheus`` package): checks the
exposition format of ``/metrics``, the rule files and their unit tests."""

from __future__ import annotations

import subprocess
from pathlib import Path

from realservers import require_binary

__all__ = ["promtool", "check_metrics", "check_rules", "test_rules"]

#: Seconds one promtool run may take (they take well under one).
PROMTOOL_TIMEOUT = 60


def promtool() -> str:
    return require_binary("promtool", package="prometheus")


def _run(args: list[str], stdin: str | None = None, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([promtool(), *args], input=stdin, capture_output=True, text=True, cwd=cwd,
                          timeout=PROMTOOL_TIMEOUT)


def check_metrics(text: str) -> subprocess.CompletedProcess[str]:
    """``promtool check metrics`` on an exposition: exit 0 and no output when clean
    (it lints names, help texts, units and counter suffixes)."""
    return _run(["check", "metrics"], stdin=text)


def check_rules(*files: Path) -> subprocess.CompletedProcess[str]:
    return _run(["check", "rules", *map(str, files)])


def test_rules(*files: Path) -> subprocess.CompletedProcess[str]:
    """``promtool test rules``, run from the test file's folder (rule paths are relative)."""
    return _run(["test", "rules", *(f.name for f in files)], cwd=files[0].parent)


test_rules.__test__ = False  # type: ignore[attr-defined]  # a helper, not a pytest test
