"""Strategy hooks are called through pluggy: a wrapper composes around the
chosen strategy (the profanity screen around the built-in jury), wrappers
are ordered by tryfirst/trylast, pluggy's tracing sees the calls, and the
error names the plugin that raised."""

from __future__ import annotations

from collections.abc import Generator
from typing import Any

import pytest
from doc_examples import example

from essaim import Actor, Command, CommandError, PluginError, PluginHost, hookimpl
from essaim.model.types import Screening
from essaim.testing import joined, make_template, open_test_engine, run_campaign_to


async def test_the_profanity_screen_wraps_the_jury_and_keeps_its_masking_and_juries() -> None:
    screen = example("strategies/profanity_screen.py").ProfanityScreen(["frobnicate"])
    async with open_test_engine(plugins=[screen]) as engine:
        cid = (await engine.create_campaign(make_template(phases=["collect"]))).campaign_id
        people = await joined(engine, cid, 8)
        await run_campaign_to(engine, cid, 0)
        author, flagger = people[0], people[1]

        ack = await engine.execute(cid, author, Command(
            "write_card", {"text": "Write to boss@example.org and frobnicate the process"}))
        card = engine.state(cid).cards[ack.result["cid"]]
        # The built-in screen masked the address; the wrapper hid the card for review.
        assert card.text == "Write to [email] and frobnicate the process"
        assert card.hidden and ack.result["hidden"] is True
        assert card.findings == ["email", "profanity"]
        assert engine.state(cid).moderation_log[-1]["reasons"] == ["email", "profanity"]

        clean = await engine.execute(cid, author, Command("write_card", {"text": "Call me on 06 12 34 56 78 please"}))
        kept = engine.state(cid).cards[clean.result["cid"]]
        assert kept.text == "Call me on [phone] please" and not kept.hidden  # the jury's masking, untouched

        # Built-in abuse handling and juries are still the jury strategy's.
        abusive = await engine.execute(cid, author, Command("write_card", {"text": "What a load of bullshit this is"}))
        assert engine.state(cid).cards[abusive.result["cid"]].hidden
        flagged = await engine.execute(cid, flagger, Command("flag", {"cid": kept.cid}))
        case = engine.state(cid).cases[flagged.result["case_id"]]
        assert len(case.jury) >= 3 and author.pid not in case.jury and flagger.pid not in case.jury
        for pid in case.jury[:3]:
            await engine.execute(cid, Actor.participant(pid), Command("judge", {"case_id": case.case_id,
                                                                                 "verdict": "hide"}))
        assert engine.state(cid).cards[kept.cid].hidden


async def test_the_screen_applies_only_to_the_strategies_it_names() -> None:
    screen = example("strategies/profanity_screen.py").ProfanityScreen(["frobnicate"], strategies=["someone_elses"])
    async with open_test_engine(plugins=[screen]) as engine:
        cid = (await engine.create_campaign(make_template(phases=["collect"]))).campaign_id
        [author] = await joined(engine, cid, 1)
        await run_campaign_to(engine, cid, 0)
        ack = await engine.execute(cid, author, Command("write_card", {"text": "Let us frobnicate more"}))
        assert not engine.state(cid).cards[ack.result["cid"]].hidden


def Tagger(tag: str, **order: bool) -> Any:
    """A plugin that appends ``tag`` to the screening's findings, after the strategy ran."""

    class Tagging:
        __name__ = f"tagger_{tag}"

        @hookimpl(wrapper=True, **order)
        def essaim_moderation_screen(self, text: str) -> Generator[None, Screening, Screening]:
            screening = yield
            return Screening(screening.text, (*screening.findings, tag), screening.reject, screening.hide)

    return Tagging()


def screen_once(host: PluginHost, text: str = "A plain idea") -> Screening:
    return host.call_strategy("moderation", "jury", "essaim_moderation_screen", settings={}, text=text)


def test_wrappers_run_in_tryfirst_trylast_order_around_the_strategy() -> None:
    # Registered first-to-last: plain, first, last. pluggy runs the newest
    # wrapper outermost, tryfirst outermost of all, trylast innermost.
    host = PluginHost.load(entry_points=False, extra=[Tagger("plain"), Tagger("first", tryfirst=True),
                                                      Tagger("last", trylast=True)])
    # The innermost wrapper sees the strategy's result first and tags it first.
    assert screen_once(host).findings == ("last", "plain", "first")


def test_pluggy_tracing_sees_strategy_calls() -> None:
    host = PluginHost.load(entry_points=False, extra=[Tagger("t")])
    seen: list[tuple[str, list[str]]] = []
    undo = host.pm.add_hookcall_monitoring(
        before=lambda name, impls, kwargs: seen.append((name, [i.plugin_name for i in impls])),
        after=lambda outcome, name, impls, kwargs: None,
    )
    try:
        screen_once(host)
    finally:
        undo()
    # Only the strategy's own implementation and the wrapper: no other plugin's screen.
    assert seen == [("essaim_moderation_screen", ["essaim_builtins.moderation", "tagger_t"])]


class Raiser:
    __name__ = "raiser"

    def __init__(self, refuse: bool = False) -> None:
        self.refuse = refuse

    @hookimpl(wrapper=True)
    def essaim_moderation_screen(self, text: str) -> Generator[None, Screening, Screening]:
        yield
        if self.refuse:
            raise CommandError("not in this campaign", code="rejected")
        raise ValueError("the wrapper has a bug")


class ModerationStrategy:
    """A moderation strategy named ``name``; subclasses give its screen."""

    name = ""

    @property
    def __name__(self) -> str:
        return f"{self.name}_strategy"

    @hookimpl
    def essaim_register_strategies(self, registry: Any) -> None:
        registry.add_strategy("moderation", self.name, settings={})

    @hookimpl
    def essaim_moderation_flag(self) -> Any:
        raise NotImplementedError

    @hookimpl
    def essaim_moderation_verdict(self) -> None:
        return None


class BrokenStrategy(ModerationStrategy):
    name = "broken"

    @hookimpl
    def essaim_moderation_screen(self, text: str) -> Screening:
        raise KeyError("the strategy has a bug")


def test_the_error_names_the_plugin_that_raised_and_command_errors_pass_through() -> None:
    host = PluginHost.load(entry_points=False, extra=[Raiser()])
    with pytest.raises(PluginError, match=r"plugin 'raiser' raised in essaim_moderation_screen: ValueError"):
        screen_once(host)
    host = PluginHost.load(entry_points=False, extra=[Raiser(refuse=True)])
    with pytest.raises(CommandError, match="not in this campaign"):
        screen_once(host)
    # An exception of the strategy passing through a wrapper blames the strategy.
    host = PluginHost.load(entry_points=False, extra=[BrokenStrategy(), Tagger("t")])
    with pytest.raises(PluginError, match=r"plugin 'broken_strategy' raised in essaim_moderation_screen: KeyError"):
        host.call_strategy("moderation", "broken", "essaim_moderation_screen", settings={}, text="x")


class AsyncScreen(ModerationStrategy):
    name = "async"

    @hookimpl
    async def essaim_moderation_screen(self, text: str) -> Screening:
        return Screening(text)


class LifecycleWrapper:
    __name__ = "lifecycle_wrapper"

    @hookimpl(wrapper=True)
    def essaim_phase_changed(self) -> Generator[None, None, None]:
        yield


def test_wrappers_that_could_never_work_fail_at_load() -> None:
    with pytest.raises(PluginError, match=r"\['tagger_t'\] wrap essaim_moderation_screen, but plugin "
                                          r"'async_strategy' implements it .* with async def"):
        PluginHost.load(entry_points=False, extra=[AsyncScreen(), Tagger("t")])
    # Without a wrapper, an async strategy hook is awaited as before.
    PluginHost.load(entry_points=False, extra=[AsyncScreen()])
    with pytest.raises(PluginError, match="plugin 'lifecycle_wrapper': essaim_phase_changed is a wrapper, but "
                                          "only strategy hooks"):
        PluginHost.load(entry_points=False, extra=[LifecycleWrapper()])
