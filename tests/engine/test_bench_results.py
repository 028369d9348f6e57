"""The results benchmark runs and counts what it claims (tiny sizes, no timing)."""

from __future__ import annotations

import re

import pytest

from essaim.bench.results import main


def test_the_command_line_prints_stalls_latencies_and_shared_computations(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--participants", "60", "--cards", "40", "--window", "1.5", "--poll", "0.2",
                 "--repetitions", "1"]) == 0
    out = capsys.readouterr().out
    assert re.search(r"built 660 participants, 40 items, 1,800 judgments", out), out
    rows = {line.split("|")[1].strip(): line.split("|")[2].strip() for line in out.splitlines()
            if line.startswith("| ") and "while" not in line}
    assert rows["nothing else"] == "-"
    assert rows["one results computation (rep 1)"].startswith("took ")
    # Every console asking for exact results computes again (probes keep
    # judging meanwhile); asking within results_max_age (5 s, longer than this
    # whole run), they share one computation, or the last exact one. How many
    # exact ones fit in the window depends on the machine's load, so the test
    # asks only for "more than one", which sharing could never give.
    exact = int(rows["5 consoles, max_age 0 s (rep 1)"].split()[0])
    shared = int(rows["5 consoles, max_age 5 s (rep 1)"].split()[0])
    assert exact >= 2 and shared <= 1
