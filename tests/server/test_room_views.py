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


async def test_the_card_feed_lists_the_newest_cards_first_and_hide_can_be_undone(server):
    campaign_id, code, fac = await new_campaign(server)
    await fac.phase(campaign_id, "start")
    async with participant_connection(server) as p:
        await p.join(code)
        for n in range(3):
            await p.act_and_wait("write_card", text=f"Idea number {n} about meetings", prompt="slow")
    path = f"/api/campaigns/{campaign_id}/cards"
    feed = (await fac.call("GET", f"{path}?limit=2")).json()
    assert [c["text"] for c in feed["cards"]] == ["Idea number 2 about meetings", "Idea number 1 about meetings"]
    assert feed["total"] == 3 and not any(c["hidden"] for c in feed["cards"])
    newest = feed["cards"][0]["cid"]
    assert (await fac.call("POST", f"/api/campaigns/{campaign_id}/moderation",
                           {"cid": newest, "verdict": "hide"})).status_code == 200
    assert (await fac.call("GET", path)).json()["cards"][0]["hidden"] is True
    assert (await fac.call("POST", f"/api/campaigns/{campaign_id}/moderation",
                           {"cid": newest, "verdict": "keep"})).status_code == 200  # undo
    assert (await fac.call("GET", path)).json()["cards"][0]["hidden"] is False
    for bad in ("0", "201", "many"):
        r = await fac.call("GET", f"{path}?limit={bad}")
        assert r.status_code == 400 and r.json()["error"]["code"] == "bad_request"


async def test_the_presenter_screen_shows_no_moderation_content(server):
    campaign_id, code, fac = await new_campaign(server)
    links = (await fac.call("GET", f"/api/campaigns/{campaign_id}")).json()["links"]
    key = links["presenter_url"].split("key=")[1]
    assert fac.token not in links["presenter_url"], "the projector never gets the facilitator token"
    path = f"/api/campaigns/{campaign_id}/presenter"
    await fac.phase(campaign_id, "start")
    async with participant_connection(server) as writer, participant_connection(server) as reporter:
        await writer.join(code)
        await reporter.join(code)
        kept = (await writer.act_and_wait("write_card", text="Fewer meetings on Mondays", prompt="slow"))["result"]
        rude = (await writer.act_and_wait("write_card", text="A rude remark about Bob", prompt="slow"))["result"]
        await reporter.act_and_wait("flag", cid=rude["cid"], reason="insulting")
        shown = (await fac.call("GET", path, token=key)).json()
        assert [c["text"] for c in shown["wall"]] == ["A rude remark about Bob", "Fewer meetings on Mondays"]
        assert "insulting" not in str(shown) and "flags" not in str(shown) and "hidden" not in shown["counters"]
        await fac.call("POST", f"/api/campaigns/{campaign_id}/moderation", {"cid": rude["cid"], "verdict": "hide"})
        shown = (await fac.call("GET", path, token=key)).json()
        assert [c["cid"] for c in shown["wall"]] == [kept["cid"]], "a hidden card leaves the wall"
        assert shown["counters"]["cards"] == 1 and shown["results"] is None
        assert shown["links"]["join_url"].endswith(f"/join/{code}") and shown["campaign"]["code"] == code
    # The key reads this campaign's screen only; it runs nothing.
    other_id, _, _ = await new_campaign(server)
    assert (await fac.call("GET", f"/api/campaigns/{other_id}/presenter", token=key)).status_code == 401
    assert (await fac.call("GET", "/api/campaigns/nosuch/presenter", token=key)).status_code == 401
    assert (await fac.call("GET", path, token="wrong")).status_code == 401
    assert (await fac.call("POST", f"/api/campaigns/{campaign_id}/phase/pause", token=key)).status_code == 401
    assert (await fac.call("GET", f"/api/campaigns/{campaign_id}/moderation", token=key)).status_code == 401
    assert (await fac.call("GET", path)).status_code == 200  # the facilitator token works too
