"""Plugins' per-campaign caches (essaim.model.caches) have a defined
lifetime: created on first use, dropped when the campaign finishes, is
unloaded or the engine closes, rebuilt from the state when asked again, and
never carried over to a rebuilt state (a replay, a restart)."""

from __future__ import annotations

from pathlib import Path

import pytest
import trio

import essaim
from essaim import FACILITATOR, Command
from essaim.model.caches import CampaignCaches
from essaim.model.state import CampaignState
from essaim.testing import joined, make_template, run_campaign_to

from .test_crowd_sort_engine import TEMPLATE  # collect, sort, evaluate

#: The four built-in caches, by the module that keeps each.
BUILTIN_CACHES = {
    "similarity": ("essaim_builtins.collection", "similarity"),
    "board": ("essaim_builtins.structuring.dealing", "board"),
    "evidence": ("essaim_builtins.structuring.aggregation", "evidence"),
    "tally": ("essaim_builtins.evaluation.tallies", "pairwise"),
}


def cached(state: CampaignState) -> dict[str, bool]:
    return {name: key in state.caches for name, key in BUILTIN_CACHES.items()}


async def play_to_evaluation(engine: essaim.Engine) -> tuple[str, list[essaim.Actor], essaim.model.types.Structure]:
    created = await engine.create_campaign(essaim.CampaignTemplate.parse(TEMPLATE))
    cid = created.campaign_id
    people = [engine.authenticate(cid, (await engine.join(cid, {})).token) for _ in range(4)]
    await engine.execute(cid, FACILITATOR, Command("start"))
    for n in range(8):
        await engine.execute(cid, people[n % 2], Command("write_card", {"text": f"remark {n} on topic {n % 3}"}))
    await engine.suggest(cid, "remark on topic")
    await engine.execute(cid, FACILITATOR, Command("advance"))
    for sorter in people[2:]:
        hand = (await engine.execute(cid, sorter, Command("deal"))).result["hand"]
        await engine.execute(cid, sorter, Command("place", {
            "hid": hand["hid"], "themes": [[[item] for item in hand["items"]]], "offtopic": []}))
    structure = await engine.structure(cid)
    evaluating = trio.Event()
    engine.owner(cid).subscribe(lambda events: any(
        e.type == "phase_started" and e.data["index"] == 2 for e in events) and evaluating.set())
    await engine.execute(cid, FACILITATOR, Command("advance"))
    with trio.fail_after(10):  # aggregation runs in a worker thread, then the phase starts
        await evaluating.wait()
    assert await engine.next_task(cid, people[0].pid or "") is not None
    return cid, people, structure


async def test_caches_are_made_on_first_use_dropped_at_the_finish_and_rebuilt_on_demand() -> None:
    async with essaim.open_engine(None) as engine:
        cid, _, structure = await play_to_evaluation(engine)
        state = engine.state(cid)
        assert all(cached(state).values()), cached(state)
        # The module-level dicts the built-ins kept are gone: the state holds them.
        assert not any(hasattr(__import__(module, fromlist=["x"]), attr) for module, attr in (
            ("essaim_builtins.collection", "_indexes"), ("essaim_builtins.structuring.dealing", "_boards"),
            ("essaim_builtins.structuring.aggregation", "_caches"), ("essaim_builtins.evaluation.tallies", "_tallies")))

        await engine.execute(cid, FACILITATOR, Command("advance"))  # past the last phase: finished
        assert state.phase_index == 3 and len(state.caches) == 0 and state.caches.drops == 1

        # Asked again (the facilitator's structure page, an export), a cache is rebuilt.
        again = await engine.structure(cid)
        assert again.to_dict() | {"seq": 0} == structure.to_dict() | {"seq": 0}
        assert cached(state)["evidence"]


async def test_an_unloaded_campaign_drops_its_caches_and_a_reload_starts_afresh(
        autojump_clock: trio.abc.Clock) -> None:
    limits = essaim.EngineLimits(unload_finished_after=60)
    async with essaim.open_engine(essaim.MemoryStore(), limits=limits) as engine:
        cid = (await engine.create_campaign(make_template(("collect",)))).campaign_id
        [author] = await joined(engine, cid, 1)
        await run_campaign_to(engine, cid, 0)
        await engine.execute(cid, author, Command("write_card", {"text": "kept across the unload"}))
        await run_campaign_to(engine, cid, 1)  # finished
        state = engine.state(cid)
        assert [s.text for s in await engine.suggest(cid, "kept across")] == ["kept across the unload"]
        assert cached(state)["similarity"]  # rebuilt on demand after the finish
        await trio.sleep(200)  # unused past unload_finished_after: unloaded
        assert cid not in engine.campaign_ids() and len(state.caches) == 0
        with pytest.raises(essaim.CommandError):
            engine.state(cid)  # asking starts the rebuild
        await trio.sleep(1)
        reloaded = engine.state(cid)
        assert reloaded is not state and len(reloaded.caches) == 0


async def test_closing_the_engine_drops_every_cache_and_a_restart_rebuilds_from_the_log(tmp_path: Path) -> None:
    db = tmp_path / "essaim.sqlite3"
    async with essaim.open_engine(db) as engine:
        cid, people, _ = await play_to_evaluation(engine)
        state = engine.state(cid)
        before = [s.cid for s in await engine.suggest(cid, "remark on topic")]
        task = await engine.next_task(cid, people[0].pid or "")
    assert len(state.caches) == 0  # dropped when the engine closed
    async with essaim.open_engine(db) as engine:
        restarted = engine.state(cid)
        assert restarted is not state and len(restarted.caches) == 0
        # Rebuilt from the replayed state, the caches answer as before.
        assert [s.cid for s in await engine.suggest(cid, "remark on topic")] == before
        again = await engine.next_task(cid, people[0].pid or "")
        assert again is not None and task is not None and again.kind == task.kind
        assert cached(restarted)["similarity"] and cached(restarted)["tally"]


def test_the_snapshot_of_a_state_carries_no_cache_and_a_rebuilt_state_has_its_own() -> None:
    state = CampaignState("c1")
    state.caches.get(("mine", "x"), list).append(1)
    assert "caches" not in state.to_dict()
    copy = CampaignState.from_dict(state.to_dict())
    assert len(copy.caches) == 0 and copy.caches is not state.caches
    caches = CampaignCaches()
    made = caches.get("k", lambda: object())
    assert caches.get("k", lambda: object()) is made and caches.peek("nothing") is None
    caches.clear()
    assert "k" not in caches and caches.drops == 1
