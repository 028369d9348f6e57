"""The plugin contract at load time and at campaign creation: every mistake
a plugin author can make fails loudly, naming the plugin and what to do."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import pytest

import essaim
from essaim import PluginError, PluginHost, TemplateError, hookimpl
from essaim.plugin import ESSENTIAL_PLUGINS
from essaim.plugin.registry import Registry
from essaim.testing import joined, make_template, open_test_engine


def plugin(name: str, **hooks: Any) -> SimpleNamespace:
    """A plugin object named ``name`` whose attributes are the given hook functions."""
    return SimpleNamespace(__name__=name, **{hook: hookimpl(fn) for hook, fn in hooks.items()})


def load(*extra: object, **kwargs: Any) -> PluginHost:
    return PluginHost.load(extra=extra, entry_points=False, **kwargs)


def test_a_misspelt_hook_name_fails_at_load() -> None:
    typo = plugin("typo_plugin", essaim_colection_prompts=lambda: [])
    with pytest.raises(PluginError, match="essaim_colection_prompts") as caught:
        load(typo)
    assert "typo_plugin" in str(caught.value) and "essaim.plugin.hookspecs" in str(caught.value)


def test_a_hook_with_an_unknown_argument_fails_at_load() -> None:
    bad = plugin("bad_args", essaim_campaign_created=lambda state, colour: None)
    with pytest.raises(PluginError, match="colour"):
        load(bad)


def test_a_duplicate_strategy_names_both_plugins() -> None:
    def register(registry: Registry) -> None:
        registry.add_strategy("evaluation", "pairwise")

    with pytest.raises(PluginError) as caught:
        load(plugin("my_pairwise", essaim_register_strategies=register))
    message = str(caught.value)
    assert "'my_pairwise'" in message and "'essaim_builtins.evaluation'" in message
    assert "rename one, or disable one" in message


def test_a_duplicate_phase_type_names_both_plugins() -> None:
    def register(registry: Registry) -> None:
        registry.add_phase_type("collect", family=None)

    with pytest.raises(PluginError, match=r"'other_phases'.*'essaim_builtins.phases'"):
        load(plugin("other_phases", essaim_register_phase_types=register))


def test_a_strategy_plugin_missing_a_family_hook_fails_at_load() -> None:
    def register(registry: Registry) -> None:
        registry.add_strategy("evaluation", "half_done")

    half = plugin("half_done", essaim_register_strategies=register, essaim_evaluation_next=lambda: None)
    with pytest.raises(PluginError) as caught:
        load(half)
    message = str(caught.value)
    assert "'half_done'" in message and "essaim_evaluation_check" in message
    assert "essaim_evaluation_scores" in message


def test_a_registration_hook_that_raises_names_plugin_and_hook() -> None:
    def register(registry: Registry) -> None:
        raise RuntimeError("cannot read my config")

    with pytest.raises(PluginError, match=r"'broken'.*essaim_register_strategies.*cannot read my config"):
        load(plugin("broken", essaim_register_strategies=register))


def test_an_async_registration_hook_is_refused() -> None:
    async def register(registry: Registry) -> None:
        registry.add_strategy("evaluation", "never")

    with pytest.raises(PluginError, match=r"'async_register'.*plain function"):
        load(plugin("async_register", essaim_register_strategies=register))


async def test_a_lifecycle_hook_that_raises_names_plugin_and_hook() -> None:
    def created(state: essaim.CampaignState) -> None:
        raise KeyError("oops")

    async def created_async(state: essaim.CampaignState) -> None:
        raise ValueError("async oops")

    for bad, detail in ((plugin("noisy", essaim_campaign_created=created), "oops"),
                        (plugin("noisy_async", essaim_campaign_created=created_async), "async oops")):
        async with open_test_engine(plugins=[bad]) as engine:
            with pytest.raises(PluginError) as caught:
                await engine.create_campaign(make_template())
            assert f"'{bad.__name__}'" in str(caught.value)
            assert "essaim_campaign_created" in str(caught.value) and detail in str(caught.value)


class _NotACoroutine:
    """Awaitable, yet no coroutine: it has no ``close`` method."""

    def __await__(self) -> Any:
        yield


async def _async_scores(snapshot: object) -> list[object]:
    return []


@pytest.mark.parametrize("scores", [_async_scores, lambda snapshot: _NotACoroutine()], ids=["coroutine", "awaitable"])
def test_a_worker_thread_hook_may_not_be_async(scores: Any) -> None:

    def register(registry: Registry) -> None:
        registry.add_strategy("evaluation", "async_scores")

    fake_scores = plugin(
        "async_scores", essaim_register_strategies=register, essaim_evaluation_next=lambda: None,
        essaim_evaluation_check=lambda data: data, essaim_evaluation_scores=scores,
    )
    host = load(fake_scores)
    with pytest.raises(PluginError, match=r"'async_scores'.*plain functions"):
        host.call_strategy("evaluation", "async_scores", "essaim_evaluation_scores", settings={}, snapshot=None)


async def test_an_unknown_strategy_fails_at_campaign_creation_listing_the_available_ones() -> None:
    async with open_test_engine() as engine:
        template = make_template(phases=["collect", {"type": "evaluate", "strategy": "coin_toss"}])
        with pytest.raises(TemplateError) as caught:
            await engine.create_campaign(template)
        message = str(caught.value)
        assert "[phase[1].strategy]" in message and "'coin_toss'" in message and "'pairwise'" in message
        assert engine.campaign_ids() == [], "nothing was created"
        with pytest.raises(TemplateError, match=r"\[moderation.strategy\].*'jury'"):
            await engine.create_campaign(make_template(moderation="mob_rule"))
        with pytest.raises(TemplateError, match=r"\[phase\[0\].type\].*'collect'"):
            await engine.create_campaign(make_template(phases=["brainstorm"]))


def test_a_built_in_can_be_disabled_by_name_and_replaced() -> None:
    host = load(disable=["essaim_builtins.exports"])
    assert "essaim_builtins.exports" not in host.plugin_names()
    assert "json" not in host.registry.export_formats

    # Disabling the evaluation built-ins leaves the "evaluate" phase without its
    # default strategy: the host says so, and a replacement fixes it.
    with pytest.raises(PluginError, match=r"'pairwise'.*which no plugin registers"):
        load(disable=["essaim_builtins.evaluation"])

    def register(registry: Registry) -> None:
        registry.add_strategy("evaluation", "pairwise", description="a replacement")

    replacement = plugin(
        "my_pairwise", essaim_register_strategies=register, essaim_evaluation_next=lambda: None,
        essaim_evaluation_check=lambda data: data, essaim_evaluation_scores=lambda: [],
    )
    host = load(replacement, disable=["essaim_builtins.evaluation"])
    assert host.registry.strategies[("evaluation", "pairwise")].plugin == "my_pairwise"


def test_a_misspelt_plugin_to_disable_is_an_error_naming_the_known_ones(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(PluginError, match=r"cannot disable unknown plugin\(s\) \['essaim_builtins.export'\]; "
                                          r"the plugins that can be disabled are the built-ins \[.*"
                                          r"'essaim_builtins.exports'"):
        load(disable=["essaim_builtins.export"])
    from essaim.cli import main
    assert main(["--disable-plugin", "essaim_builtins.export", "plugins"]) == 1
    err = capsys.readouterr().err
    assert "cannot disable unknown plugin(s) ['essaim_builtins.export']" in err and "Traceback" not in err


@pytest.mark.parametrize("essential", sorted(ESSENTIAL_PLUGINS))
def test_essential_plugins_cannot_be_disabled(essential: str) -> None:
    with pytest.raises(PluginError, match="cannot disable essential") as caught:
        load(disable=[essential])
    assert essential in str(caught.value)


def test_plugin_objects_get_readable_unique_names() -> None:
    class Observer:
        @hookimpl
        def essaim_campaign_created(self, state: essaim.CampaignState) -> None:
            pass

    host = load(Observer(), Observer())
    names = host.plugin_names()
    assert any(n.endswith("Observer") for n in names)
    assert any(n.endswith("Observer#2") for n in names)


async def test_a_hot_path_hook_that_raises_refuses_the_command_and_the_campaign_goes_on(
    caplog: pytest.LogCaptureFixture,
) -> None:
    def register(registry: Registry) -> None:
        registry.add_strategy("collection", "fragile")

    def check_card(text: str) -> str:
        if "boom" in text:
            raise RuntimeError("cannot parse")
        return text

    fragile = plugin(
        "fragile", essaim_register_strategies=register, essaim_collection_prompts=lambda: [],
        essaim_collection_check_card=check_card, essaim_collection_similar=lambda: [],
    )
    async with open_test_engine(plugins=[fragile]) as engine:
        cid = (await engine.create_campaign(make_template(phases=[{"type": "collect", "strategy": "fragile"}]))).campaign_id
        [person] = await joined(engine, cid, 1)
        await engine.execute(cid, essaim.FACILITATOR, essaim.Command("start"))
        with pytest.raises(essaim.CommandError) as caught:
            await engine.execute(cid, person, essaim.Command("write_card", {"text": "boom goes the card"}))
        assert caught.value.code == "plugin_error" and "nothing was changed" in caught.value.message
        assert "'fragile' raised in essaim_collection_check_card" in caplog.text
        assert engine.state(cid).cards == {}
        ack = await engine.execute(cid, person, essaim.Command("write_card", {"text": "a calm card"}))
        assert ack.result["cid"] == "c1"
