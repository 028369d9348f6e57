"""``make loadtest`` with several Locust processes: every worker's users join
the same campaign (run as a subprocess: Locust is never imported here)."""

from __future__ import annotations

import csv
import json
import subprocess
import sys
from pathlib import Path


def test_users_of_every_locust_worker_join_the_campaign(tmp_path: Path) -> None:
    run = subprocess.run(
        [sys.executable, "-m", "loadtests.run", "--profile", "smoke", "--users", "30", "--spawn-rate", "30",
         "--workers", "2", "--run-seconds", "25", "--server-cpu", "", "--locust-cpu", "", "--reports", str(tmp_path)],
        capture_output=True, text=True, timeout=240, cwd=Path(__file__).parents[2],
    )
    assert "created for the 2 Locust workers" in run.stdout, run.stdout + run.stderr
    (stats,) = tmp_path.glob("smoke-*/locust_stats.csv")
    rows = {row["Name"]: row for row in csv.DictReader(stats.open(encoding="utf-8"))}
    welcome = rows["connect+welcome"]
    assert int(welcome["Request Count"]) == 30 and int(welcome["Failure Count"]) == 0, welcome
    assert int(rows["Aggregated"]["Failure Count"]) == 0, rows["Aggregated"]
    (verdict_file,) = tmp_path.glob("smoke-*/locust_verdict.json")
    verdict = json.loads(verdict_file.read_text(encoding="utf-8"))
    assert verdict["exit_code"] == run.returncode and verdict["passed"] == (run.returncode == 0)
    assert verdict["profile"] == "smoke" and verdict["measured"]["requests"] > 0
