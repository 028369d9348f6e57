"""A deployment already running, as an SRE meets it: ``essaim serve`` in its
own process reports an ``ESSAIM_*`` variable that names no setting, and the
capacity benchmark's lean generator (``make bench HOST=URL``) loads it
through its URL alone."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

import orjson
import pytest
import requests
from realservers.essaim_serve import ADMIN_TOKEN, ServeProcess, running_serve

from loadtests import bench, slo
from loadtests.deployments import RunningDeployment
from loadtests.servers import LOAD_JOIN_RATE_PER_SECOND, LOAD_SOCKETS_PER_ADDRESS

#: Sessions of the small level: enough for every role of the workload to act.
SESSIONS = 30
#: Generous objectives: this checks the plumbing, never a timing.
NO_OBJECTIVES = slo.Objectives(ack_p95_ms=1e6, ack_p99_ms=1e6, staleness_p95_ms=1e6)
#: A typo of ESSAIM_RATE_PER_SECOND, which would otherwise be silently ignored.
MISSPELT = "ESSAIM_RATE_PER_SECONDS"


@pytest.fixture(scope="module")
def deployment(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServeProcess]:
    env = {"ESSAIM_JOIN_RATE_PER_SECOND": str(LOAD_JOIN_RATE_PER_SECOND),
           "ESSAIM_JOIN_BURST": str(LOAD_JOIN_RATE_PER_SECOND),
           "ESSAIM_MAX_SOCKETS_PER_ADDRESS": str(LOAD_SOCKETS_PER_ADDRESS), MISSPELT: "50"}
    with running_serve(tmp_path_factory.mktemp("deployment") / "data", env) as serve:
        yield serve


def test_serve_reports_an_essaim_variable_that_names_no_setting(deployment: ServeProcess) -> None:
    lines = [orjson.loads(line) for line in deployment.log_text().splitlines() if line.startswith("{")]
    [warning] = [line for line in lines if line.get("event") == "unknown_setting"]
    assert warning["level"] == "warning"
    assert MISSPELT in warning["msg"] and "did you mean ESSAIM_RATE_PER_SECOND?" in warning["msg"]


def test_the_lean_generator_loads_a_running_deployment_by_its_url(deployment: ServeProcess) -> None:
    """What ``make bench HOST=URL`` runs at each level: the campaign is made
    through the API with the admin token, the phones join through /ws."""
    running = RunningDeployment([deployment.base_url], admin_token=ADMIN_TOKEN)
    result = asyncio.run(bench.run_level("essaim", SESSIONS, window=1.0, server_cpu=None,
                                         objectives=NO_OBJECTIVES, deploy=lambda: running))
    assert result.welcomed == SESSIONS, result.breaches
    assert result.held, result.breaches
    # Seen from the deployment: the benchmark's campaign, with its people (not
    # how much they did in the window: on a loaded machine that is a timing).
    listed = requests.get(deployment.base_url + "/api/campaigns", timeout=10,
                          headers={"Authorization": f"Bearer {ADMIN_TOKEN}"}).json()["campaigns"]
    assert [c["participants"] for c in listed] == [SESSIONS], listed
    assert deployment.proc.poll() is None, "the benchmark must not stop a deployment it did not start"
