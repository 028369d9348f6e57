"""Finished campaigns nobody uses are unloaded after unload_finished_after,
and rebuilt, identical, when someone asks again."""

from __future__ import annotations

import orjson
import pytest
import trio
import trio.testing

import essaim
from essaim import FACILITATOR, Command, CommandError, MemoryStore
from essaim.engine import EngineLimits
from essaim.testing import make_template

TEMPLATE = make_template(("collect",), title="Unload")
LIMITS = EngineLimits(unload_finished_after=60.0)


async def _finished(engine: essaim.Engine) -> essaim.engine.CampaignCreated:
    created = await engine.create_campaign(TEMPLATE)
    joined = await engine.join(created.campaign_id, {})
    actor = engine.authenticate(created.campaign_id, joined.token)
    await engine.execute(created.campaign_id, FACILITATOR, Command("start"))
    await engine.execute(created.campaign_id, actor, Command("write_card", {"text": "still here after reload"}))
    await engine.execute(created.campaign_id, FACILITATOR, Command("advance"))
    return created


async def test_an_unused_finished_campaign_is_unloaded_then_rebuilt_when_asked_for(
    autojump_clock: trio.testing.MockClock,
) -> None:
    async with essaim.open_engine(MemoryStore(), limits=LIMITS) as engine:
        done = await _finished(engine)
        live = await engine.create_campaign(TEMPLATE)
        await engine.execute(live.campaign_id, FACILITATOR, Command("start"))
        before = orjson.dumps(engine.state(done.campaign_id).to_dict())
        await trio.sleep(30)
        assert done.campaign_id in engine.campaign_ids()  # not idle long enough
        for _ in range(10):  # monitoring (a metrics scrape) does not count as use
            engine.loaded_states()
            await trio.sleep(10)
        assert engine.campaign_ids() == [live.campaign_id]  # live campaigns are never unloaded
        assert engine.stored_elsewhere() == {done.campaign_id: done.code}
        assert engine.by_code(done.code) == done.campaign_id
        with pytest.raises(CommandError) as refused:
            engine.state(done.campaign_id)  # asking starts the rebuild
        assert refused.value.code == "unavailable"
        await trio.sleep(1)
        assert orjson.dumps(engine.state(done.campaign_id).to_dict()) == before
        assert (await engine.results(done.campaign_id)).counters["cards"] == 1


async def test_a_campaign_someone_listens_to_stays_loaded(autojump_clock: trio.testing.MockClock) -> None:
    async with essaim.open_engine(MemoryStore(), limits=LIMITS) as engine:
        done = await _finished(engine)
        unsubscribe = engine.owner(done.campaign_id).subscribe(lambda events: None)
        await trio.sleep(600)
        assert done.campaign_id in engine.campaign_ids()
        unsubscribe()
        await trio.sleep(600)
        assert done.campaign_id not in engine.campaign_ids()


async def test_unload_finished_after_0_keeps_everything(autojump_clock: trio.testing.MockClock) -> None:
    async with essaim.open_engine(MemoryStore(), limits=EngineLimits(unload_finished_after=0)) as engine:
        done = await _finished(engine)
        await trio.sleep(24 * 3600)
        assert done.campaign_id in engine.campaign_ids()


async def test_a_campaign_that_cannot_be_rebuilt_says_so_once_instead_of_looping(
    autojump_clock: trio.testing.MockClock, monkeypatch: pytest.MonkeyPatch,
) -> None:
    from essaim.engine import Engine

    attempts: list[str] = []

    def broken(self: Engine, cid: str) -> None:
        attempts.append(cid)
        raise OSError("the disk is gone")

    async with essaim.open_engine(MemoryStore(), limits=LIMITS) as engine:
        done = await _finished(engine)
        await trio.sleep(120)
        assert done.campaign_id not in engine.campaign_ids()
        monkeypatch.setattr(Engine, "_rebuild", broken)
        for _ in range(3):
            with pytest.raises(CommandError) as refused:
                engine.state(done.campaign_id)
            await trio.sleep(1)
        assert refused.value.code == "unreadable" and "OSError" in str(refused.value)
        assert attempts == [done.campaign_id]  # one rebuild, not one per request
