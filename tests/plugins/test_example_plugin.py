"""The example plugin, installed as a real distribution: Essaim finds it
through its entry point and runs a campaign with its strategy.

pip builds it from the local folder with the hatchling already installed
(no build isolation, no index), into a temporary target directory, so the
test works offline and leaves the environment untouched.
"""

from __future__ import annotations

import importlib
from importlib.metadata import entry_points
from pathlib import Path

import pytest
from example_dists import DOT_VOTE, install, run_own_tests

import essaim
from essaim import Command, PluginHost
from essaim.testing import joined, make_template, run_campaign_to

EXAMPLE = DOT_VOTE


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return install(EXAMPLE, tmp_path_factory.mktemp("example-plugin") / "site")


@pytest.fixture
def on_path(installed: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The installed plugin visible to imports and importlib.metadata, for one test."""
    monkeypatch.syspath_prepend(str(installed))
    importlib.invalidate_caches()
    return installed


def test_the_entry_point_is_discovered(on_path: Path) -> None:
    [ep] = [ep for ep in entry_points(group="essaim") if ep.name == "dot_vote"]
    assert ep.value == "essaim_dot_vote" and ep.dist is not None and ep.dist.name == "essaim-example-plugin"
    host = PluginHost.load()
    assert "dot_vote" in host.plugin_names()
    assert host.registry.strategies[("evaluation", "dot_vote")].plugin == "dot_vote"
    # Disabled by its entry-point name, it is not loaded.
    assert "dot_vote" not in PluginHost.load(disable=["dot_vote"]).registry.available("evaluation")


async def test_a_campaign_runs_with_the_plugins_strategy(on_path: Path) -> None:
    template = make_template(phases=["collect", {"type": "evaluate", "strategy": "dot_vote"}, "results"])
    async with essaim.open_engine() as engine:  # loads installed plugins like a deployment does
        cid = (await engine.create_campaign(template)).campaign_id
        people = await joined(engine, cid, 5)
        await run_campaign_to(engine, cid, 0)
        for person, text in zip(people, ["Fewer meetings", "Faster laptops", "Clear career paths"]):
            await engine.execute(cid, person, Command("write_card", {"text": text}))
        state = await run_campaign_to(engine, cid, 1)
        meetings = next(iid for iid, item in state.items.items() if item.title == "Fewer meetings")
        for person in people:
            task = await engine.next_task(cid, person.pid or "")
            assert task is not None and task.kind == "dot"
            await engine.execute(cid, person, Command("evaluate", {"kind": "dot", "data": {"iid": meetings}}))
        await run_campaign_to(engine, cid, 2)
        results = await engine.results(cid)
    assert results.sheets[0].title == "Fewer meetings" and results.sheets[0].score == 1.0


def test_the_examples_own_tests_pass_in_a_fresh_interpreter(installed: Path) -> None:
    done = run_own_tests(EXAMPLE, installed)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "2 passed" in done.stdout


async def test_the_simulated_crowd_can_use_the_plugins_strategy(on_path: Path, autojump_clock: object) -> None:
    from essaim.simulation import simulate, simulation_template

    async with essaim.open_engine() as engine:
        report = await simulate(engine, participants=40, seed=2, template=simulation_template(evaluation="dot_vote"))
        judgments = engine.state(report.campaign_id).judgments
    dots_each = {j.pid: 0 for j in judgments}
    for j in judgments:
        dots_each[j.pid] += 1
    assert {j.kind for j in judgments} == {"dot"} and set(dots_each.values()) <= {1, 2, 3}
    assert len(dots_each) > 30, "most of the crowd placed dots"
    assert report.ranking_tau is not None and report.ranking_tau > 0
