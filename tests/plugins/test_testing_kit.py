"""essaim.testing, the plugin author's kit, on a real engine."""

from __future__ import annotations

import pytest
import trio

from essaim import FACILITATOR, Command, PluginError, TemplateError, hookimpl
from essaim.testing import (
    PluginCallRecorder,
    joined,
    make_template,
    open_test_engine,
    run_campaign_to,
    wait_for_phase,
)


def test_make_template_builds_a_checked_template() -> None:
    template = make_template(
        phases=["collect", {"type": "evaluate", "strategy": "pairwise", "settings": {"max_tasks": 3}}],
        title="Mine", anonymity="pseudonymous", moderation={"strategy": "jury", "settings": {"quorum": 1}},
    )
    assert template.title == "Mine" and template.anonymity == "pseudonymous"
    assert [p.type for p in template.phases] == ["collect", "evaluate"]
    assert template.phases[1].settings == {"max_tasks": 3}
    assert template.moderation.settings == {"quorum": 1}
    assert [a.key for a in template.profile] == ["role"]


def test_make_template_errors_name_the_key() -> None:
    with pytest.raises(TemplateError, match=r"make_template\(\): \[phase\[0\].duration\]"):
        make_template(phases=[{"type": "collect", "duration": "forever"}])
    with pytest.raises(TemplateError, match="at least one"):
        make_template(phases=[], title="x")


async def test_joined_returns_authenticated_actors_with_profiles() -> None:
    async with open_test_engine() as engine:
        cid = (await engine.create_campaign(make_template())).campaign_id
        actors = await joined(engine, cid, 3, profile={"role": "Field"})
        assert [a.pid for a in actors] == ["p1", "p2", "p3"]
        assert all(a.role == "participant" for a in actors)
        assert engine.state(cid).participants["p2"].profile == {"role": "Field"}


async def test_run_campaign_to_walks_every_phase_and_refuses_going_back() -> None:
    async with open_test_engine() as engine:
        cid = (await engine.create_campaign(make_template())).campaign_id
        people = await joined(engine, cid, 4)
        state = await run_campaign_to(engine, cid, 0)
        assert state.phase_index == 0 and state.status == "running"
        for i, person in enumerate(people):
            await engine.execute(cid, person, Command("write_card", {"text": f"idea number {i}"}))
        await run_campaign_to(engine, cid, 1)
        ack = await engine.execute(cid, people[0], Command("deal"))
        hand = ack.result["hand"]
        await engine.execute(cid, people[0], Command("place", {"hid": hand["hid"], "themes": [[hand["items"]]]}))
        # Sort -> evaluate aggregates off the owner; run_campaign_to waits for it.
        state = await run_campaign_to(engine, cid, 2)
        assert state.status == "running" and state.items
        state = await run_campaign_to(engine, cid, 4)
        assert state.status == "finished"
        with pytest.raises(ValueError, match="already past phase 1"):
            await run_campaign_to(engine, cid, 1)
        with pytest.raises(ValueError, match="out of range"):
            await run_campaign_to(engine, cid, 9)


async def test_wait_for_phase_wakes_when_the_phase_starts(autojump_clock: object) -> None:
    async with open_test_engine() as engine:
        template = make_template(phases=[{"type": "collect", "duration": "10s"}, "results"])
        cid = (await engine.create_campaign(template)).campaign_id
        await engine.execute(cid, FACILITATOR, Command("start"))
        started = trio.current_time()
        state = await wait_for_phase(engine, cid, 1)  # the phase timer ends phase 0
        assert state.phase_index == 1
        assert trio.current_time() - started == pytest.approx(10, abs=0.5)


async def test_the_recorder_sees_lifecycle_hooks_in_order() -> None:
    recorder = PluginCallRecorder()
    async with open_test_engine(plugins=[recorder]) as engine:
        cid = (await engine.create_campaign(make_template(phases=["collect", "results"]))).campaign_id
        await run_campaign_to(engine, cid, 2)
    assert recorder.hooks() == [
        "essaim_engine_started",
        "essaim_campaign_created",
        "essaim_phase_changed",
        "essaim_phase_changed",
        "essaim_phase_changed",
        "essaim_engine_stopping",
    ]
    changes = [(c.args["previous"], c.args["current"]) for c in recorder.calls if c.hook == "essaim_phase_changed"]
    assert changes == [(-1, 0), (0, 1), (1, 2)]


async def test_open_test_engine_can_use_a_sqlite_store(tmp_path: object) -> None:
    path = tmp_path / "t.sqlite3"  # type: ignore[operator]
    async with open_test_engine(store=path) as engine:
        cid = (await engine.create_campaign(make_template())).campaign_id
    async with open_test_engine(store=path) as engine:
        assert engine.campaign_ids() == [cid]


class FailsOnCreation:
    __name__ = "fails_on_creation"

    @hookimpl
    def essaim_campaign_created(self) -> None:
        raise RuntimeError("my plugin's bug")


async def test_a_failing_plugin_raises_one_clear_error_not_nested_groups() -> None:
    with pytest.raises(PluginError, match=r"plugin 'fails_on_creation' raised in essaim_campaign_created: "
                                                 r"RuntimeError\(\"my plugin's bug\"\)") as caught:
        async with open_test_engine(plugins=[FailsOnCreation()]) as engine:
            await engine.create_campaign(make_template())
    assert not isinstance(caught.value, BaseExceptionGroup)
    # Its cause is the plugin's own exception, with the line of the plugin that raised.
    assert isinstance(caught.value.__cause__, RuntimeError) and caught.value.__cause__.__traceback__ is not None
    # The test's own failure inside the engine comes out as itself too.
    with pytest.raises(AssertionError, match="the test's own check"):
        async with open_test_engine() as engine:
            assert engine.campaign_ids() == ["nothing"], "the test's own check"
