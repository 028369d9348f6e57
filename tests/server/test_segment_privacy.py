"""A segment is shown for an item only when enough distinct judges of that
item are in it (essaim.plugin.segments): the campaign's participant count per
segment must not let one judge's opinion through, in the facilitator's
results, the participants' live results frame or the exports."""

from __future__ import annotations

from types import SimpleNamespace

from server_fixtures import new_campaign, participant_connection

from essaim.plugin.segments import SegmentFilter


async def test_one_judge_from_a_large_segment_is_shown_nowhere(server):
    campaign_id, code, fac = await new_campaign(server)  # min_segment_size = 5
    await fac.phase(campaign_id, "start")
    async with participant_connection(server) as writer:
        await writer.join(code, {"role": "Office"})
        for topic in ("tools", "meetings", "travel"):
            await writer.act_and_wait("write_card", text=f"an idea about {topic} for everyone")
    # Eight in the Field: the segment is large, but only one of them judges.
    async with participant_connection(server) as judge, participant_connection(server) as watcher:
        await judge.join(code, {"role": "Field", "site": "North"})
        await watcher.join(code, {"role": "Field", "site": "North"})
        for _ in range(6):
            async with participant_connection(server) as p:
                await p.join(code, {"role": "Field", "site": "North"})
        await fac.phase(campaign_id, "advance")
        await fac.phase(campaign_id, "advance")
        qid = await judge.act("next")
        await judge.until(lambda p: qid in p.replies)
        task = judge.replies[qid]["task"]
        ack = await judge.act_and_wait("evaluate", kind=task["kind"],
                                       data={"a": task["a"]["iid"], "b": task["b"]["iid"], "choice": "a"})
        assert "seq" in ack, ack
        await fac.phase(campaign_id, "advance")
        await watcher.until(lambda p: bool(p.state.get("results")))
        live = watcher.state["results"]

    assert server.engine.state(campaign_id).counters["judgments"] == 1
    results = (await fac.call("GET", f"/api/campaigns/{campaign_id}/results")).json()
    assert results["scores"] and results["sheets"]
    assert [s["segments"] for s in results["scores"] + results["sheets"]] == [{}] * (
        len(results["scores"]) + len(results["sheets"]))
    assert all(s["segments"] == {} for s in live), live
    for fmt in ("json", "csv"):
        exported = await fac.call("GET", f"/api/campaigns/{campaign_id}/export/{fmt}")
        assert exported.status_code == 200
        assert "role=Field" not in exported.text and "site=North" not in exported.text


def test_segment_filter_counts_distinct_judges_of_each_item():
    field = {"role": "Field"}
    participants = {f"p{i}": SimpleNamespace(profile=field) for i in range(6)}
    judgments = (
        [SimpleNamespace(pid=f"p{i}", kind="pair", data={"a": "i1", "b": "i2"}) for i in range(5)]
        + [SimpleNamespace(pid="p0", kind="pair", data={"a": "i1", "b": "i3"})] * 9  # one judge, many times
        + [SimpleNamespace(pid=f"p{i}", kind="rating", data={"iid": "i4"}) for i in range(4)]
        + [SimpleNamespace(pid="gone", kind="rating", data={"iid": "i4"})]  # not a participant: no segment
    )
    state = SimpleNamespace(participants=participants, judgments=judgments,
                            template=SimpleNamespace(min_segment_size=5))
    f = SegmentFilter.for_state(state)
    shown = {iid: f.visible(iid, {"role=Field": 0.5}) for iid in ("i1", "i2", "i3", "i4")}
    assert shown == {"i1": {"role=Field": 0.5}, "i2": {"role=Field": 0.5}, "i3": {}, "i4": {}}
    assert f.visible("i1", None) == {}
