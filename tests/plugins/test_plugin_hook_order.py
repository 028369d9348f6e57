"""A plugin that implements every hook, driven through a whole campaign:
hooks fire in the documented order, async implementations are awaited,
and each strategy hook is called with the strategy the template chose."""

from __future__ import annotations

import random
from collections.abc import Mapping, Sequence
from typing import Any

import trio

import essaim
from essaim import FACILITATOR, Command, hookimpl
from essaim.model.commands import CommandSpec
from essaim.model.schema import Boolean, Fields
from essaim.model.state import CampaignState, Card, Case, Participant
from essaim.model.types import (
    Deal,
    EvaluationInput,
    EvaluationTask,
    ExportFile,
    FlagOutcome,
    Idea,
    ItemScore,
    OpportunitySheet,
    Prompt,
    Results,
    Screening,
    SortingInput,
    Structure,
    Suggestion,
    Theme,
)
from essaim.plugin import hookspecs
from essaim.plugin.registry import Registry
from essaim.testing import joined, make_template, open_test_engine, run_campaign_to

NAME = "everything"


class Everything:
    """Implements every hook with the simplest honest strategy; records calls.

    Async implementations record only after an ``await``, so a call the
    engine forgot to await leaves no record.
    """

    __name__ = "everything_plugin"

    def __init__(self) -> None:
        self.calls: list[str] = []
        self.strategies: set[str] = set()
        self.phase_changes: list[tuple[int, int]] = []

    def _saw(self, hook: str, strategy: str | None = None) -> None:
        self.calls.append(hook)
        if strategy is not None:
            self.strategies.add(strategy)

    # -- registration (plain functions: they run once, at load) --------------

    @hookimpl
    def essaim_register_commands(self, registry: Registry) -> None:
        self._saw("essaim_register_commands")

        async def cheer(owner: Any, participant: Participant, args: Mapping[str, Any]) -> list[Any]:
            self._saw("cheer")
            return []  # acknowledged, nothing recorded

        registry.add_command(CommandSpec("cheer", "participant", Fields({"loud": Boolean()}), cheer))

    @hookimpl
    def essaim_register_phase_types(self, registry: Registry) -> None:
        self._saw("essaim_register_phase_types")
        registry.add_phase_type("recorded_vote", family="evaluation", default_strategy=NAME,
                                commands={"evaluate", "cheer"})

    @hookimpl
    def essaim_register_strategies(self, registry: Registry) -> None:
        self._saw("essaim_register_strategies")
        for family in ("collection", "structuring", "moderation", "evaluation", "results"):
            registry.add_strategy(family, NAME, description="records its calls")
        registry.add_export_format(NAME, media_type="text/plain")

    # -- lifecycle -------------------------------------------------------------

    @hookimpl
    async def essaim_engine_started(self, engine: essaim.Engine) -> None:
        await trio.sleep(0)
        self._saw("essaim_engine_started")

    @hookimpl
    async def essaim_campaign_created(self, state: CampaignState) -> None:
        await trio.sleep(0)
        self._saw("essaim_campaign_created")

    @hookimpl
    def essaim_phase_changed(self, state: CampaignState, previous: int, current: int) -> None:
        self._saw("essaim_phase_changed")
        self.phase_changes.append((previous, current))

    @hookimpl
    async def essaim_engine_stopping(self, engine: essaim.Engine) -> None:
        await trio.sleep(0)
        self._saw("essaim_engine_stopping")

    # -- collection ------------------------------------------------------------

    @hookimpl
    async def essaim_collection_prompts(self, strategy: str, participant: Participant) -> Sequence[Prompt]:
        await trio.sleep(0)
        self._saw("essaim_collection_prompts", strategy)
        return [Prompt("q", "What would you change?")]

    @hookimpl
    async def essaim_collection_check_card(self, strategy: str, text: str) -> str:
        await trio.sleep(0)
        self._saw("essaim_collection_check_card", strategy)
        return text.strip()

    @hookimpl
    def essaim_collection_similar(
        self, strategy: str, state: CampaignState, text: str, limit: int
    ) -> Sequence[Suggestion]:
        self._saw("essaim_collection_similar", strategy)
        return [Suggestion(c.cid, c.text, 1.0) for c in state.visible_cards() if c.text == text][:limit]

    # -- structuring -----------------------------------------------------------

    @hookimpl
    async def essaim_structuring_deal(
        self, strategy: str, state: CampaignState, sorter: Participant, rng: random.Random
    ) -> Deal | None:
        await trio.sleep(0)
        self._saw("essaim_structuring_deal", strategy)
        if any(h.sorter == sorter.pid for h in state.hands.values()):
            return None
        return Deal(tuple(c.cid for c in state.visible_cards() if c.author != sorter.pid))

    @hookimpl
    def essaim_structuring_aggregate(self, strategy: str, snapshot: SortingInput) -> Structure:
        self._saw("essaim_structuring_aggregate", strategy)
        ideas = tuple(Idea(f"i{c.cid}", c.text, (c.cid,), 1.0) for c in snapshot.cards.values() if not c.hidden)
        return Structure((Theme("t1", "Everything", ideas, 1.0),), seq=snapshot.seq)

    # -- moderation --------------------------------------------------------------

    @hookimpl
    async def essaim_moderation_screen(self, strategy: str, text: str) -> Screening:
        await trio.sleep(0)
        self._saw("essaim_moderation_screen", strategy)
        return Screening(text)

    @hookimpl
    def essaim_moderation_flag(
        self, strategy: str, state: CampaignState, card: Card, flagger: Participant, rng: random.Random
    ) -> FlagOutcome:
        self._saw("essaim_moderation_flag", strategy)
        pool = sorted(pid for pid in state.participants if pid not in (card.author, flagger.pid))
        return FlagOutcome(jury=tuple(rng.sample(pool, 3)))

    @hookimpl
    async def essaim_moderation_verdict(self, strategy: str, case: Case) -> str | None:
        await trio.sleep(0)
        self._saw("essaim_moderation_verdict", strategy)
        return next(iter(case.votes.values()), None)

    # -- evaluation --------------------------------------------------------------

    @hookimpl
    async def essaim_evaluation_next(
        self, strategy: str, state: CampaignState, participant: Participant
    ) -> EvaluationTask | None:
        await trio.sleep(0)
        self._saw("essaim_evaluation_next", strategy)
        done = {j.data["iid"] for j in state.judgments if j.pid == participant.pid}
        left = [iid for iid in state.items if iid not in done]
        return EvaluationTask("vote", {"iid": left[0]}) if left else None

    @hookimpl
    def essaim_evaluation_check(self, strategy: str, kind: str, data: Mapping[str, Any]) -> Mapping[str, Any]:
        self._saw("essaim_evaluation_check", strategy)
        return {"iid": data["iid"], "up": bool(data.get("up"))}

    @hookimpl
    def essaim_evaluation_scores(self, strategy: str, snapshot: EvaluationInput) -> Sequence[ItemScore]:
        self._saw("essaim_evaluation_scores", strategy)
        ups = {iid: 0 for iid in snapshot.items}
        for j in snapshot.judgments:
            ups[j.data["iid"]] += j.data["up"]
        return [ItemScore(iid, float(n), n - 1.0, n + 1.0, n, 1.0, 0.0) for iid, n in ups.items()]

    # -- results -----------------------------------------------------------------

    @hookimpl
    async def essaim_results_sheets(
        self, strategy: str, state: CampaignState, scores: Sequence[ItemScore]
    ) -> Sequence[OpportunitySheet]:
        await trio.sleep(0)
        self._saw("essaim_results_sheets", strategy)
        ranked = sorted(scores, key=lambda s: (-s.score, s.iid))
        return [
            OpportunitySheet(rank, s.iid, state.items[s.iid].title, tuple(state.items[s.iid].cards), (), 0,
                             s.score, s.low, s.high, s.consensus, s.controversy, {})
            for rank, s in enumerate(ranked, start=1)
        ]

    @hookimpl
    async def essaim_results_export(self, format: str, results: Results) -> Sequence[ExportFile]:
        await trio.sleep(0)
        self._saw("essaim_results_export", format)
        text = "\n".join(f"{s.rank} {s.title}" for s in results.sheets)
        return [ExportFile("ranking.txt", "text/plain", text.encode())]


def test_the_plugin_implements_every_hook() -> None:
    specs = {name for name in vars(hookspecs) if name.startswith("essaim_")}
    implemented = {name for name in vars(Everything) if name.startswith("essaim_")}
    assert implemented == specs


def first_calls(calls: list[str]) -> list[str]:
    seen: list[str] = []
    for hook in calls:
        if hook not in seen:
            seen.append(hook)
    return seen


async def test_hooks_fire_in_order_through_a_whole_campaign() -> None:
    plugin = Everything()
    template = make_template(
        phases=[
            {"type": "collect", "strategy": NAME},
            {"type": "sort", "strategy": NAME},
            {"type": "recorded_vote"},
            "results",
        ],
        moderation={"strategy": NAME},
        results=NAME,
    )
    async with open_test_engine(plugins=[plugin]) as engine:
        created = await engine.create_campaign(template)
        cid = created.campaign_id
        people = await joined(engine, cid, 8)
        await run_campaign_to(engine, cid, 0)

        assert [p.id for p in await engine.prompts(cid, people[0].pid or "")] == ["q"]
        for i, person in enumerate(people[:4]):
            await engine.execute(cid, person, Command("write_card", {"text": f" idea {i} "}))
        assert [s.cid for s in await engine.suggest(cid, "idea 1")] == ["c2"]
        ack = await engine.execute(cid, people[5], Command("flag", {"cid": "c4", "reason": "off-topic"}))
        case = engine.state(cid).cases[ack.result["case_id"]]
        await engine.execute(cid, essaim.Actor.participant(case.jury[0]),
                             Command("judge", {"case_id": case.case_id, "verdict": "hide"}))
        assert engine.state(cid).cards["c4"].hidden

        await run_campaign_to(engine, cid, 1)
        ack = await engine.execute(cid, people[6], Command("deal"))
        hand = ack.result["hand"]
        await engine.execute(cid, people[6], Command("place", {"hid": hand["hid"], "themes": [[hand["items"]]]}))

        state = await run_campaign_to(engine, cid, 2)
        assert sorted(state.items) == ["ic1", "ic2", "ic3"]
        await engine.execute(cid, people[0], Command("cheer", {"loud": True}))
        for person in people:
            while (task := await engine.next_task(cid, person.pid or "")) is not None:
                up = task.payload["iid"] == "ic2"
                await engine.execute(cid, person, Command("evaluate", {"kind": "vote", "data": {**task.payload, "up": up}}))

        await run_campaign_to(engine, cid, 3)
        results = await engine.results(cid)
        assert results.sheets[0].iid == "ic2"
        [exported] = await engine.export(cid, NAME)
        assert exported.content.startswith(b"1 idea 1")
        await engine.execute(cid, FACILITATOR, Command("advance"))

    assert first_calls(plugin.calls) == [
        "essaim_register_commands",
        "essaim_register_phase_types",
        "essaim_register_strategies",
        "essaim_engine_started",
        "essaim_campaign_created",
        "essaim_phase_changed",
        "essaim_collection_prompts",
        "essaim_collection_check_card",
        "essaim_moderation_screen",
        "essaim_collection_similar",
        "essaim_moderation_flag",
        "essaim_moderation_verdict",
        "essaim_structuring_deal",
        "essaim_structuring_aggregate",
        "cheer",
        "essaim_evaluation_next",
        "essaim_evaluation_check",
        "essaim_evaluation_scores",
        "essaim_results_sheets",
        "essaim_results_export",
        "essaim_engine_stopping",
    ]
    assert plugin.calls.count("essaim_engine_started") == 1 and plugin.calls[-1] == "essaim_engine_stopping"
    assert plugin.phase_changes == [(-1, 0), (0, 1), (1, 2), (2, 3), (3, 4)]
    # Each card: checked, then screened, before the next one.
    writes = [c for c in plugin.calls if c in ("essaim_collection_check_card", "essaim_moderation_screen")]
    assert writes == ["essaim_collection_check_card", "essaim_moderation_screen"] * 4
    assert plugin.strategies == {NAME}
