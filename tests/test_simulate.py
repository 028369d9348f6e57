"""The campaign simulator: a crowd through all four phases on a real engine."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import pytest
import trio

import essaim
from essaim import hookimpl
from essaim.model.types import EvaluationTask, ItemScore
from essaim.simulation import SimulationError, SimulationReport, simulate, simulation_template
from essaim.simulation._crowd import CrowdHabits, make_crowd, make_truth
from essaim.simulation.progress import Progress, ProgressBar, render
from essaim.testing import make_template, open_test_engine


async def test_a_crowd_goes_through_all_four_phases(autojump_clock: object) -> None:
    seen: list[Progress] = []
    async with essaim.open_engine() as engine:
        report = await simulate(engine, participants=80, seed=3, progress=seen.append)
        state = engine.state(report.campaign_id)
        assert state.status == "finished"
    counters = report.results.counters
    assert counters["participants"] == 80
    assert counters["cards"] > 0 and counters["supports"] > 0
    assert counters["placements"] > 0 and counters["judgments"] > 0
    assert report.results.sheets, "the evaluation produced ranked opportunity sheets"
    assert [s.rank for s in report.results.sheets] == list(range(1, len(report.results.sheets) + 1))
    # Every phase reported progress, in order, ending with everyone done.
    assert sorted({p.phase_index for p in seen}) == [0, 1, 2, 3]
    assert all(p.done <= p.total == 80 for p in seen)
    # Simulated people judge by a latent truth: the crowd's ranking follows it.
    assert report.ranking_tau is not None and report.ranking_tau > 0.2
    assert report.structure_ari is not None


async def test_off_topic_cards_are_flagged_and_hidden_by_juries(autojump_clock: object) -> None:
    habits = CrowdHabits(offtopic_share=0.15, flag_share=1.0, jury_error=0.0)
    async with essaim.open_engine() as engine:
        report = await simulate(engine, participants=60, seed=5, habits=habits)
        state = engine.state(report.campaign_id)
        hidden = [c for c in state.cards.values() if c.hidden]
        decided = [m for m in state.moderation_log if m.get("by") == "jury"] or [
            case for case in state.cases.values() if case.status != "open"
        ]
    assert report.results.counters["flags"] > 0
    assert hidden and decided


async def test_a_simulated_campaign_is_durable_in_sqlite(tmp_path: object, autojump_clock: object) -> None:
    path = tmp_path / "essaim.sqlite3"  # type: ignore[operator]
    async with essaim.open_engine(path) as engine:
        report = await simulate(engine, participants=30, seed=1)
        before = engine.state(report.campaign_id).to_dict()
    async with essaim.open_engine(path) as engine:
        assert engine.state(report.campaign_id).to_dict() == before


def test_the_crowd_follows_from_the_seed_alone() -> None:
    habits = CrowdHabits()
    truth = make_truth(7)
    assert make_truth(7) == truth
    assert make_crowd(truth, 50, 7, habits) == make_crowd(make_truth(7), 50, 7, habits)
    assert make_crowd(truth, 50, 7, habits) != make_crowd(truth, 50, 8, habits)
    crowd = make_crowd(truth, 400, 7, habits)
    sorters = sum(p.sorter for p in crowd) / len(crowd)
    assert 0.15 < sorters < 0.4, "about a quarter volunteer to sort"
    assert {p.profile["role"] for p in crowd} == {"Field", "Office", "Management"}


def test_the_simulation_template_is_the_demo_with_short_phases() -> None:
    template = simulation_template(2.5)
    assert [p.type for p in template.phases] == ["collect", "sort", "evaluate", "results"]
    assert {p.duration for p in template.phases} == {2.5}


async def test_simulate_refuses_an_empty_crowd() -> None:
    async with essaim.open_engine() as engine:
        with pytest.raises(ValueError, match="at least one participant"):
            await simulate(engine, participants=0)


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def _progress(phase: int, done: int) -> Progress:
    return Progress(phase, 4, f"Phase {phase}", done, 10, {"participants": 10, "cards": 3})


def test_progress_prints_one_line_per_phase_when_not_a_terminal() -> None:
    out = io.StringIO()
    bar = ProgressBar(out)
    for phase in (0, 0, 0, 1, 1):
        bar(_progress(phase, 5))
    bar.close()
    lines = out.getvalue().splitlines()
    assert [line.split("]")[0] for line in lines] == ["[1/4", "[2/4"]
    assert "\r" not in out.getvalue()


def test_progress_redraws_in_place_on_a_terminal() -> None:
    out = _Terminal()
    bar = ProgressBar(out)
    bar(_progress(0, 0))
    bar(_progress(1, 10))
    bar.close()
    text = out.getvalue()
    assert text.count("\r") == 2 and text.endswith("\n")
    assert "#" * 24 in render(_progress(1, 10))


def test_report_formats_scores_with_uncertainty() -> None:
    sheet = essaim.model.types.OpportunitySheet(
        rank=1, iid="i1", title="Fewer meetings", cards=("c1", "c2"), card_texts=("a", "b"), supporters=4,
        score=0.75, low=0.65, high=0.85, consensus=0.5, controversy=0.5, segments={},
    )
    results = essaim.model.types.Results("cid", "T", 10, (sheet,), (), None, {"cards": 2})
    report = SimulationReport("cid", "CODE", "tok", 10, 0, results, {}, 0.9, 0.8, 12.0)
    text = report.format()
    assert "1. 0.75 ± 0.10  Fewer meetings" in text
    assert "adjusted Rand index 0.90" in text and "Kendall tau 0.80" in text


def test_progress_always_shows_a_phase_finished_on_a_terminal() -> None:
    out = _Terminal()
    bar = ProgressBar(out)
    for done in (0, 3, 10):
        bar(_progress(3, done))
    assert out.getvalue().rsplit("\r", 1)[-1].startswith("[4/4] Phase 3 [" + "#" * 24 + "] 10/10 done")


@pytest.mark.parametrize("evaluation", ["pairwise", "agree_disagree", "ratings", "approval", "budget"])
async def test_the_crowd_answers_every_built_in_evaluation(evaluation: str, autojump_clock: object) -> None:
    async with essaim.open_engine() as engine:
        assert evaluation in engine.host.registry.available("evaluation")
        report = await simulate(engine, participants=60, seed=4, template=simulation_template(evaluation=evaluation))
    assert not any(code.startswith("unsupported_task") for code in report.refusals)
    assert report.results.counters["judgments"] >= 60
    assert report.ranking_tau is not None and report.ranking_tau > 0.2, report.format()


# -- templates, strategies and failing loudly ------------------------------------------------


async def test_a_template_whose_profile_no_simulated_person_fits_fails_before_anything_is_created() -> None:
    template = make_template(("collect",), profile=[{"key": "team", "label": "Team", "choices": ["Blue"],
                                                      "required": True}])
    async with open_test_engine() as engine:
        with pytest.raises(SimulationError, match=r"no simulated person can join this campaign: profile 'team'"):
            await simulate(engine, participants=5, template=template)
        assert engine.campaign_ids() == []


async def test_a_custom_template_with_a_subset_of_the_profile_and_any_strategy(autojump_clock: object) -> None:
    template = simulation_template(
        2.0, template=make_template(("collect", "evaluate", "results"), profile=[
            {"key": "role", "label": "Role", "choices": ["Field", "Office", "Management"]}]),
        strategies={"evaluation": "ratings", "moderation": "jury"},
        families={"collect": "collection", "evaluate": "evaluation", "results": None},
    )
    assert template.phases[1].strategy == "ratings" and all(p.duration == 2.0 for p in template.phases)
    async with open_test_engine() as engine:
        report = await simulate(engine, participants=30, seed=4, template=template)
        assert engine.state(report.campaign_id).participants["p1"].profile.keys() == {"role"}
    assert report.results.counters["participants"] == 30 and report.results.sheets


class Stuck:
    """An evaluation strategy whose check waits until released: its campaign's
    owner waits with it, so the phase never ends (a stuck plugin)."""

    __name__ = "stuck"

    def __init__(self) -> None:
        self.release = trio.Event()

    @hookimpl
    def essaim_register_strategies(self, registry: Any) -> None:
        registry.add_strategy("evaluation", "stuck", settings={})

    @hookimpl
    def essaim_evaluation_next(self, state: Any) -> EvaluationTask | None:
        return EvaluationTask("vote", {"iid": next(iter(state.items))}) if state.items else None

    @hookimpl
    async def essaim_evaluation_check(self, data: Any) -> Any:
        await self.release.wait()
        return {"iid": data.get("iid"), "vote": "agree"}

    @hookimpl
    def essaim_evaluation_scores(self) -> list[ItemScore]:
        return []


async def test_a_phase_that_never_ends_fails_naming_the_phase_and_what_was_awaited() -> None:
    """On the real clock (the watchdog is off under a fake one), with a short timeout."""
    stuck = Stuck()
    template = make_template(({"type": "collect", "duration": 0.2}, {"type": "evaluate", "strategy": "stuck",
                                                                       "duration": 0.2}), profile=())
    async with open_test_engine(plugins=[stuck]) as engine:
        try:
            with pytest.raises(SimulationError, match=r"phase 1 \('Evaluate', evaluate\) did not end within 3 s "
                                                      r"\(its duration is 0.2 s\): waited for "):
                await simulate(engine, participants=6, template=template, phase_timeout=3.0)
        finally:
            stuck.release.set()


def test_the_command_line_simulates_a_template_file_with_any_strategy(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from essaim.cli import main

    path = tmp_path / "long.toml"
    path.write_text('[campaign]\ntitle = "Long"\n[[phase]]\ntype = "collect"\nduration = "25m"\n'
                    '[[phase]]\ntype = "evaluate"\nduration = "25m"\n', encoding="utf-8")
    code = main(["simulate", "--template", str(path), "--participants", "15", "--phase-seconds", "0.5",
                 "--strategy", "evaluation=approval", "--no-progress", "--top", "2"])
    out, err = capsys.readouterr()
    assert code == 0 and "Top opportunity sheets" in out, err
    code = main(["simulate", "--strategy", "evaluation"])
    assert code == 2 and "is not FAMILY=NAME" in capsys.readouterr().err
    path.write_text('[campaign]\ntitle = "x"\n[[phase]]\ntype = "collect"\n[phase.settings]\nmax_cards = 0\n')
    code = main(["simulate", "--template", str(path)])
    assert code == 2 and "[phase[0].settings.max_cards]" in capsys.readouterr().err


async def test_a_crowd_of_which_nobody_gets_in_fails_instead_of_succeeding_empty(autojump_clock: object) -> None:
    """The profiles fit, but the engine turns every join away (here its
    participant limit): no report with no results, an error saying why."""
    template = make_template(("collect", "results"), profile=())
    async with open_test_engine(limits=essaim.EngineLimits(max_participants=0)) as engine:
        with pytest.raises(SimulationError, match=r"none of the 5 simulated people could join the campaign "
                                                  r"\(refused: \{'campaign_full': ") as refused:
            await simulate(engine, participants=5, template=template)
    assert "limits" in refused.value.hint


def test_the_command_line_fails_when_no_simulated_person_fits_the_profile(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from essaim.cli import main

    path = tmp_path / "teams.toml"
    path.write_text('[campaign]\ntitle = "Teams"\n[[profile]]\nkey = "team"\nlabel = "Team"\nchoices = ["Blue"]\n'
                    'required = true\n[[phase]]\ntype = "collect"\n', encoding="utf-8")
    code = main(["simulate", "--template", str(path), "--participants", "5", "--no-progress"])
    out, err = capsys.readouterr()
    assert code == 1 and out == "", out
    assert "essaim: error: no simulated person can join this campaign: profile 'team'" in err
    assert "hint: simulate a template whose [[profile]]" in err and "Traceback" not in err
