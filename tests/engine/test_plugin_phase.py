"""A plugin's own phase (issue 18): its commands checked like built-in ones,
its events stored namespaced and applied by its reducer to state it owns,
snapshotted and replayed; a reducer that raises costs one command, not the
campaign; a log that needs a missing plugin says which."""

from __future__ import annotations

from pathlib import Path

import orjson
import pytest
import tally_plugin
import trio

from essaim import FACILITATOR, Command, CommandError
from essaim.engine._owner import PLUGIN_FAILURE_PAUSE
from essaim.errors import PluginError
from essaim.model.state import CampaignState
from essaim.plugin import PluginHost
from essaim.store import store_at
from essaim.store.base import StoredCampaign
from essaim.testing import joined, make_template, open_test_engine, run_campaign_to

PHASES = ["collect", "tally", "results"]


def stored_log(db: Path, cid: str) -> StoredCampaign:
    """What the SQLite file holds of a campaign (snapshot and events)."""
    store = store_at(db)
    store.open()
    try:
        return store.load(cid)
    finally:
        store.close()


async def _tally_campaign(engine, n: int = 3):  # type: ignore[no-untyped-def]
    cid = (await engine.create_campaign(make_template(phases=PHASES))).campaign_id
    people = await joined(engine, cid, n)
    return cid, people


async def test_plugin_commands_record_namespaced_events_applied_to_the_plugins_state(tmp_path: Path) -> None:
    db = tmp_path / "essaim.sqlite3"
    async with open_test_engine([tally_plugin], store=db) as engine:
        cid, (ann, bob, cat) = await _tally_campaign(engine)
        assert "tally" in engine.state(cid).phase_states
        await run_campaign_to(engine, cid, 1)
        for who, option in ((ann, "tea"), (bob, "tea"), (cat, "coffee"), (cat, "tea")):
            ack = await engine.execute(cid, who, Command("tally_vote", {"option": option}, f"{who.pid}-{option}"))
            assert ack.result == {"option": option}
        again = await engine.execute(cid, cat, Command("tally_vote", {"option": "tea"}, f"{cat.pid}-tea"))
        assert again.duplicate  # a retry applies once, like any command
        closed = await engine.execute(cid, FACILITATOR, Command("tally_close"))
        assert closed.result == {"counts": {"tea": 3}}
        live = engine.state(cid).to_dict()
    log = stored_log(db, cid)
    assert [e.type for e in log.events if e.type.startswith("tally:")] == ["tally:voted"] * 4 + ["tally:closed"]
    # Replayed from the log, by the plugin's reducer: the same state.
    registry = PluginHost.load(extra=[tally_plugin], entry_points=False).registry
    replayed = log.rebuild(registry.phase_states)
    assert replayed.to_dict() == live
    assert replayed.phase_state("tally").view() == {"counts": {"tea": 3}, "closed": True}
    # And a snapshot of it gives it back.
    assert CampaignState.from_dict(orjson.loads(replayed.snapshot()), registry.phase_states).to_dict() == live


async def test_bad_payload_and_wrong_phase_are_refused_and_change_nothing() -> None:
    async with open_test_engine([tally_plugin]) as engine:
        cid, (ann, _, _) = await _tally_campaign(engine)
        await run_campaign_to(engine, cid, 0)
        seq = engine.state(cid).seq
        for command, code in ((Command("tally_vote", {"option": "tea"}), "wrong_phase"),
                              (Command("tally_close"), "wrong_phase")):
            actor = FACILITATOR if command.type == "tally_close" else ann
            with pytest.raises(CommandError) as refused:
                await engine.execute(cid, actor, command)
            assert refused.value.code == code
        await run_campaign_to(engine, cid, 1)
        seq = engine.state(cid).seq
        for args, code in (({}, "bad_request"), ({"option": ""}, "bad_request"), ({"option": 3}, "bad_request"),
                           ({"option": "x" * 21}, "too_long")):
            with pytest.raises(CommandError) as refused:
                engine.submit_nowait(cid, ann, Command("tally_vote", args, "m1"), lambda ack, error: None)
            assert refused.value.code == code, args
        assert engine.state(cid).seq == seq and engine.state(cid).phase_state("tally").votes == {}


async def test_a_raising_reducer_refuses_that_command_as_unavailable_and_harms_no_one_else(
        autojump_clock: object) -> None:
    async with open_test_engine([tally_plugin]) as engine:
        cid, (ann, bob, _) = await _tally_campaign(engine)
        other, (zoe, _, _) = await _tally_campaign(engine)
        for campaign in (cid, other):
            await run_campaign_to(engine, campaign, 1)
        await engine.execute(cid, ann, Command("tally_vote", {"option": "tea"}, "a1"))
        before = engine.state(cid).to_dict()
        with pytest.raises(CommandError) as refused:
            await engine.execute(cid, bob, Command("tally_vote", {"option": tally_plugin.BOOM}, "b1"))
        assert refused.value.code == "unavailable"
        # Nothing of it was recorded or kept; the campaign goes on...
        assert engine.state(cid).to_dict() == before
        await engine.execute(cid, FACILITATOR, Command("extend", {"seconds": 60}))  # built-ins still work
        # ...the plugin's commands pause here (no rebuild per retry)...
        with pytest.raises(CommandError) as paused:
            await engine.execute(cid, bob, Command("tally_vote", {"option": "coffee"}, "b2"))
        assert paused.value.code == "unavailable"
        # ...not in the other campaign...
        await engine.execute(other, zoe, Command("tally_vote", {"option": "tea"}, "z1"))
        assert engine.state(other).phase_state("tally").counts() == {"tea": 1}
        # ...and once the pause is over, the retry is accepted.
        await trio.sleep(PLUGIN_FAILURE_PAUSE)
        ack = await engine.execute(cid, bob, Command("tally_vote", {"option": "coffee"}, "b2"))
        assert not ack.duplicate
        assert engine.state(cid).phase_state("tally").counts() == {"tea": 1, "coffee": 1}


async def test_a_handler_deciding_undeclared_events_is_refused_as_a_plugin_error() -> None:
    async def sneaky(owner, participant, args):  # type: ignore[no-untyped-def]
        return [("tally:rigged", {"pid": participant.pid})]

    async with open_test_engine([tally_plugin]) as engine:
        spec = engine.commands.get("tally_vote")
        assert spec is not None
        object.__setattr__(spec, "handler", sneaky)
        cid, (ann, _, _) = await _tally_campaign(engine)
        await run_campaign_to(engine, cid, 1)
        seq = engine.state(cid).seq
        with pytest.raises(CommandError) as refused:
            await engine.execute(cid, ann, Command("tally_vote", {"option": "tea"}))
        assert refused.value.code == "plugin_error" and engine.state(cid).seq == seq


async def test_a_replay_without_the_plugin_fails_naming_its_phase_type(tmp_path: Path) -> None:
    db = tmp_path / "essaim.sqlite3"
    async with open_test_engine([tally_plugin], store=db) as engine:
        cid, (ann, _, _) = await _tally_campaign(engine)
        await run_campaign_to(engine, cid, 1)
        await engine.execute(cid, ann, Command("tally_vote", {"option": "tea"}))
    log = stored_log(db, cid)
    with pytest.raises(PluginError, match=r"phase type 'tally'.*install"):
        log.rebuild()
    with pytest.raises(PluginError, match=r"'tally:voted'.*phase type 'tally'.*install that plugin"):
        async with open_test_engine(store=db):
            pass


async def test_a_restart_replays_the_plugins_state_from_snapshot_and_log(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import essaim.engine._owner as owner_module
    monkeypatch.setattr(owner_module, "SNAPSHOT_EVERY", 3)
    monkeypatch.setattr(owner_module, "SNAPSHOT_FORCE_AFTER", 3)
    db = tmp_path / "essaim.sqlite3"
    async with open_test_engine([tally_plugin], store=db) as engine:
        cid, people = await _tally_campaign(engine, 6)
        await run_campaign_to(engine, cid, 1)
        for i, who in enumerate(people):
            await engine.execute(cid, who, Command("tally_vote", {"option": f"o{i % 2}"}))
        live = engine.state(cid).to_dict()
    async with open_test_engine([tally_plugin], store=db) as engine:
        assert engine.state(cid).to_dict() == live
        await trio.sleep(0)


#: Acks read before each kill of the plugin-phase worker (it snapshots every
#: 200 events, so a restart reads a snapshot with the plugin's state and a tail).
PLUGIN_KILL_AFTER_ACKS = 500
PLUGIN_KILL_SECONDS = 90


async def test_sigkill_during_a_plugin_phase_loses_no_acknowledged_plugin_command(tmp_path: Path) -> None:
    from test_durability import run_and_kill

    db = tmp_path / "durable.sqlite3"
    acked = []
    with trio.fail_after(PLUGIN_KILL_SECONDS):
        cids = set()
        for round_ in (1, 2):
            cid, acks = await run_and_kill(db, round_, "--phase", "tally", "--snapshot-every", "200",
                                           kill_after=PLUGIN_KILL_AFTER_ACKS)
            cids.add(cid)
            acked += acks
        assert len(cids) == 1
        async with open_test_engine([tally_plugin], store=db) as engine:
            events = await trio.to_thread.run_sync(engine.store.events, cid, 0)
            stored = await trio.to_thread.run_sync(engine.store.load, cid)
            live = engine.state(cid)
            by_seq = {e.seq: e for e in events}
            for pid, msg_id, seq in acked:
                event = by_seq.get(seq)
                assert event is not None, f"acknowledged {msg_id} (seq {seq}) is missing"
                assert event.type == "tally:voted" and (event.data["pid"], event.data["msg"]) == (pid, msg_id)
            # The restart read a snapshot holding the plugin's state, then the tail...
            assert stored.snapshot is not None and "tally" in orjson.loads(stored.snapshot)["phase_states"]
            # ...and equals a replay of the whole log by the plugin's reducer.
            replayed = CampaignState(cid, engine.host.registry.phase_states)
            for event in events:
                replayed.apply(event)
            assert orjson.dumps(live.to_dict()) == orjson.dumps(replayed.to_dict())
            last = {pid: e.data["option"] for e in events if e.type == "tally:voted" for pid in [e.data["pid"]]}
            assert live.phase_state("tally").votes == last
