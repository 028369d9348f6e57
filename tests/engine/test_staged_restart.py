"""A restart with finished_later (the server's): live campaigns are served
at once, finished ones are rebuilt afterwards, and until then asking for
one says "unavailable", never "not found"."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest

import essaim
from essaim import FACILITATOR, Command, CommandError
from essaim.engine import Engine
from essaim.model.state import CampaignState
from essaim.testing import make_template

TEMPLATE = make_template(("collect",), title="Staged restart")


async def _two_campaigns(path: Path) -> tuple[essaim.engine.CampaignCreated, essaim.engine.CampaignCreated]:
    """One finished campaign and one still collecting, on a SQLite file."""
    async with essaim.open_engine(path) as engine:
        done = await engine.create_campaign(TEMPLATE)
        live = await engine.create_campaign(TEMPLATE)
        for created in (done, live):
            await engine.execute(created.campaign_id, FACILITATOR, Command("start"))
        await engine.execute(done.campaign_id, FACILITATOR, Command("advance"))
        assert engine.state(done.campaign_id).status == "finished"
    return done, live


def _hold_rebuild_of(monkeypatch: pytest.MonkeyPatch, campaign_id: str) -> threading.Event:
    """Make the rebuild of ``campaign_id`` wait (in its worker thread) until the event is set."""
    release = threading.Event()
    rebuild = Engine._rebuild

    def held(self: Engine, cid: str) -> CampaignState:
        if cid == campaign_id:
            assert release.wait(30), "the test never released the rebuild"
        return rebuild(self, cid)

    monkeypatch.setattr(Engine, "_rebuild", held)
    return release


async def test_live_campaigns_are_served_while_finished_ones_load(tmp_path: Path, monkeypatch) -> None:
    path = tmp_path / "e.sqlite3"
    done, live = await _two_campaigns(path)
    release = _hold_rebuild_of(monkeypatch, done.campaign_id)
    async with essaim.open_engine(path, finished_later=True) as engine:
        assert engine.campaign_ids() == [live.campaign_id] and not engine.loaded.is_set()
        joined = await engine.join(live.campaign_id, {})
        actor = engine.authenticate(live.campaign_id, joined.token)
        await engine.execute(live.campaign_id, actor, Command("write_card", {"text": "served during the load"}))
        # Its join code is known (no "not found", no new campaign may take it)...
        assert engine.by_code(done.code) == done.campaign_id
        # ...but the campaign itself is not there yet.
        with pytest.raises(CommandError) as refused:
            engine.state(done.campaign_id)
        assert refused.value.code == "unavailable" and "try again" in str(refused.value)
        created = await engine.create_campaign(TEMPLATE)  # does not wait for the load
        assert created.code != done.code
        announced = engine.campaign_loaded  # what the server waits on to freeze the new objects
        release.set()
        await engine.loaded.wait()
        assert announced.is_set() and not engine.campaign_loaded.is_set()
        assert engine.by_code(done.code) == done.campaign_id
        assert engine.state(done.campaign_id).status == "finished"
        assert sorted(engine.campaign_ids()) == sorted([done.campaign_id, live.campaign_id, created.campaign_id])


async def test_by_default_every_campaign_is_loaded_before_the_engine_is_handed_over(tmp_path: Path) -> None:
    path = tmp_path / "e.sqlite3"
    done, live = await _two_campaigns(path)
    async with essaim.open_engine(path) as engine:
        assert engine.loaded.is_set()
        assert engine.state(done.campaign_id).status == "finished"
        assert engine.state(live.campaign_id).status == "running"


async def test_an_unreadable_finished_campaign_does_not_stop_the_live_ones(tmp_path: Path, monkeypatch) -> None:
    path = tmp_path / "e.sqlite3"
    done, live = await _two_campaigns(path)
    rebuild = Engine._rebuild

    def broken(self: Engine, cid: str) -> CampaignState:
        if cid == done.campaign_id:
            raise ValueError("a damaged snapshot")
        return rebuild(self, cid)

    monkeypatch.setattr(Engine, "_rebuild", broken)
    async with essaim.open_engine(path, finished_later=True) as engine:
        await engine.loaded.wait()
        assert engine.state(live.campaign_id).status == "running"
        with pytest.raises(CommandError, match=r"could not be loaded \(ValueError\)") as refused:
            engine.state(done.campaign_id)
        assert refused.value.code == "unreadable"  # not "try again": retrying would not help


async def test_stopping_while_finished_campaigns_load_waits_for_the_one_under_way_only(
    tmp_path: Path, monkeypatch, caplog
) -> None:
    path = tmp_path / "e.sqlite3"
    done, live = await _two_campaigns(path)
    async with essaim.open_engine(path) as engine:  # a second finished campaign
        other = await engine.create_campaign(TEMPLATE)
        await engine.execute(other.campaign_id, FACILITATOR, Command("start"))
        await engine.execute(other.campaign_id, FACILITATOR, Command("advance"))
    first, second = sorted([done.campaign_id, other.campaign_id])
    release = _hold_rebuild_of(monkeypatch, first)
    rebuilt: list[str] = []
    held = Engine._rebuild
    monkeypatch.setattr(Engine, "_rebuild", lambda self, cid: rebuilt.append(cid) or held(self, cid))
    stop = Engine._stop

    async def stop_then_release(self: Engine) -> None:
        self._stopping = True
        release.set()  # the rebuild under way ends once the engine is stopping
        await stop(self)

    monkeypatch.setattr(Engine, "_stop", stop_then_release)
    async with essaim.open_engine(path, finished_later=True) as engine:
        joined = await engine.join(live.campaign_id, {})
        actor = engine.authenticate(live.campaign_id, joined.token)
        ack = await engine.execute(live.campaign_id, actor, Command("write_card", {"text": "kept"}))
    assert second not in rebuilt  # the loader stopped after the campaign under way
    assert "could not be loaded" not in caplog.text
    async with essaim.open_engine(path) as engine:
        assert engine.state(live.campaign_id).cards[ack.result["cid"]].text == "kept"
        assert engine.state(first).status == engine.state(second).status == "finished"
