"""What the room sees: ideas in evaluation tasks name the card they show (to
report it), a finished campaign's late visitors are not counted, and
results read as places and scores out of 100."""

from __future__ import annotations

import pytest
import requests
import trio
from server_fixtures import new_campaign, participant_connection
from trio_websocket import ConnectionClosed

from essaim.engine.watch import phase_running, watch_campaign
from essaim.model.standing import places, points
from essaim.model.state import CampaignState, Card, Item
from essaim.model.types import EvaluationTask
from essaim.server.views import task_view


def _state() -> CampaignState:
    state = CampaignState("c")
    for cid, text, hidden in [("c1", "Fewer meetings", False), ("c2", "No meetings on Monday", False),
                              ("c3", "Rude remark", True), ("c4", "Shared calendar", False)]:
        state.cards[cid] = Card(cid=cid, author="p1", text=text, prompt=None, phase=0, created_at=0.0, hidden=hidden)
    state.items = {"i1": Item("i1", "Fewer meetings", ["c1", "c2"]),
                   "i3": Item("i3", "Rude remark", ["c3", "c4"])}
    return state


def test_every_idea_of_a_task_names_the_card_its_title_shows() -> None:
    state = _state()
    pair = task_view(state, EvaluationTask("pair", {"a": {"iid": "i1", "title": "Fewer meetings"},
                                                    "b": {"iid": "i3", "title": "Rude remark"}}))
    assert pair["a"] == {"iid": "i1", "title": "Fewer meetings", "cid": "c1"}
    # Its title card was hidden since the ideas were published: the next visible card stands in.
    assert pair["b"] == {"iid": "i3", "title": "Shared calendar", "cid": "c4"}
    ballot = task_view(state, EvaluationTask("approval", {"items": [{"iid": "i1", "title": "Fewer meetings"}]}))
    assert ballot["items"][0]["cid"] == "c1"
    vote = task_view(state, EvaluationTask("vote", {"iid": "i1", "title": "Fewer meetings"}))
    assert vote["cid"] == "c1" and vote["kind"] == "vote"
    unknown = task_view(state, EvaluationTask("pair", {"a": {"iid": "nope", "title": "x"}}))
    assert unknown["a"] == {"iid": "nope", "title": "x"}


def test_places_share_equal_points() -> None:
    assert points(0.6312) == 63 and points(1.4) == 100 and points(-0.2) == 0
    assert places([0.81, 0.63, 0.631, 0.5, 0.5]) == [1, 2, 2, 4, 4]
    assert places([]) == []


async def test_a_finished_campaign_shows_its_results_without_counting_late_visitors(server):
    campaign_id, code, fac = await new_campaign(server)
    async with participant_connection(server) as p:
        await p.join(code)
        await fac.phase(campaign_id, "start")
        await p.act_and_wait("write_card", text="Fewer meetings on Mondays", prompt="slow")
    with watch_campaign(server.engine, campaign_id) as watcher, trio.fail_after(20):
        for index in range(4):
            await watcher.wait_until(phase_running(index))  # the structure is computed in between
            await fac.phase(campaign_id, "advance")
        await watcher.wait_until(phase_running(4))  # finished
    async with participant_connection(server) as late:
        await late.send({"type": "join", "campaign": code})
        welcome = await late.recv()
        assert welcome["type"] == "welcome" and welcome["spectator"] is True
        assert welcome["token"] is None and welcome["pid"] is None and welcome["you"] is None
        assert welcome["phase"]["status"] == "finished"
        assert [r["title"] for r in welcome["results"]] == ["Fewer meetings on Mondays"]
        assert welcome["results"][0]["place"] == 1 and 0 <= welcome["results"][0]["points"] <= 100
        with pytest.raises(ConnectionClosed) as closed, trio.fail_after(10):
            await late.recv()
        assert closed.value.reason.code == 1000
    assert server.engine.state(campaign_id).counters["participants"] == 1
    info = await trio.to_thread.run_sync(lambda: requests.get(f"{server.base_url}/api/join/{code}", timeout=10))
    assert info.json()["status"] == "finished"
