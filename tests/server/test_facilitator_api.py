"""The facilitator HTTP API: tokens, campaigns, phases, moderation, results, exports."""

from __future__ import annotations

import csv
import io
import zipfile

import orjson
from server_fixtures import Facilitator, new_campaign, participant_connection, running_server


async def test_admin_routes_need_the_admin_token(server):
    admin = Facilitator(server.base_url, server.admin_token)
    anyone = Facilitator(server.base_url, "wrong")
    assert (await anyone.call("GET", "/api/templates")).status_code == 401
    r = await admin.call("GET", "/api/templates")
    assert r.status_code == 200 and "demo" in r.json()["templates"]
    r = await anyone.call("POST", "/api/campaigns", {"template": "demo"})
    assert r.status_code == 401 and r.json()["error"]["code"] == "unauthorized"

    created = (await admin.call("POST", "/api/campaigns", {"template": "demo"})).json()
    assert created["join_url"].endswith("/join/" + created["code"])
    assert created["facilitator_token"] not in created["facilitator_url"].split("#")[0]
    toml = '[campaign]\ntitle = "Tiny"\n[[phase]]\ntype = "collect"\nduration = "1m"\n'
    tiny = await admin.call("POST", "/api/campaigns", {"toml": toml})
    assert tiny.status_code == 201
    bad = await admin.call("POST", "/api/campaigns", {"toml": '[campaign]\ntitle = "x"\n[[phase]]\ntype = "dance"\n'})
    assert bad.status_code == 400 and bad.json()["error"]["code"] == "bad_template" and "dance" in bad.json()["error"]["message"]
    assert (await admin.call("POST", "/api/campaigns", {"template": "nope"})).status_code == 404
    listed = (await admin.call("GET", "/api/campaigns")).json()["campaigns"]
    assert {c["campaign_id"] for c in listed} >= {created["campaign_id"], tiny.json()["campaign_id"]}


async def test_campaign_routes_need_that_campaigns_facilitator_token(server):
    campaign_id, code, fac = await new_campaign(server)
    _, _, other = await new_campaign(server)
    shown = await fac.call("GET", f"/api/campaigns/{campaign_id}")
    assert shown.status_code == 200
    # The test server listens on 127.0.0.1: the console is told phones cannot open the link.
    links = shown.json()["links"]
    assert links["join_url"] == f"{server.base_url}/join/{code}" and links["reachable"] is False
    assert links["presenter_url"].startswith(f"{server.base_url}/present#campaign={campaign_id}&key=")
    assert (await other.call("GET", f"/api/campaigns/{campaign_id}")).status_code == 401
    # An unknown campaign and a wrong token answer alike: no oracle of campaign ids.
    unknown = await fac.call("GET", "/api/campaigns/nosuch")
    wrong = await other.call("GET", f"/api/campaigns/{campaign_id}")
    assert unknown.status_code == wrong.status_code == 401 and unknown.json() == wrong.json()
    async with participant_connection(server) as p:
        token = (await p.join(code))["token"]
    as_participant = Facilitator(server.base_url, token)
    r = await as_participant.call("POST", f"/api/campaigns/{campaign_id}/phase/start")
    assert r.status_code == 401
    assert server.engine.state(campaign_id).status == "draft"


async def test_phase_control(server):
    campaign_id, _code, fac = await new_campaign(server)
    path = f"/api/campaigns/{campaign_id}/phase"
    assert (await fac.call("POST", f"{path}/pause")).status_code == 409
    started = await fac.phase(campaign_id, "start")
    deadline = started["phase"]["deadline"]
    extended = await fac.phase(campaign_id, "extend", seconds=60)
    assert extended["phase"]["deadline"] == deadline + 60
    assert (await fac.call("POST", f"{path}/extend", {"seconds": -5})).status_code == 400
    # extend says how long: no body is a bad request, as docs/protocol.md §8 says, and changes nothing.
    empty = await fac.call("POST", f"{path}/extend")
    assert empty.status_code == 400 and empty.json()["error"]["code"] == "bad_request", empty.text
    assert "seconds" in empty.json()["error"]["message"]
    assert server.engine.state(campaign_id).deadline == deadline + 60
    paused = await fac.phase(campaign_id, "pause")
    assert paused["phase"]["status"] == "paused" and paused["phase"]["remaining"] > 0
    assert (await fac.phase(campaign_id, "resume"))["phase"]["status"] == "running"
    assert (await fac.phase(campaign_id, "advance"))["phase"]["type"] == "sort"
    assert (await fac.call("POST", f"{path}/explode")).status_code == 404
    # A click meant for phase 0, arriving after it ended (its timer, another
    # facilitator), ends nothing: the sort phase keeps running.
    late = await fac.call("POST", f"{path}/advance", {"index": 0})
    assert late.status_code == 409 and late.json()["error"]["code"] == "wrong_phase", late.json()
    assert "phase 0 has already ended" in late.json()["error"]["message"]
    assert (await fac.call("POST", f"{path}/advance", {"index": "1"})).status_code == 400
    assert (await fac.phase(campaign_id, "advance", index=1))["phase"]["type"] == "evaluate"
    stats = (await fac.call("GET", f"/api/campaigns/{campaign_id}/stats")).json()
    assert {"connections", "contribution_rate_per_minute", "counters"} <= set(stats)


async def test_moderation_queue_decision_and_log(server):
    campaign_id, code, fac = await new_campaign(server)
    await fac.phase(campaign_id, "start")
    async with participant_connection(server) as author, participant_connection(server) as flagger:
        await author.join(code)
        await flagger.join(code)
        for _ in range(4):  # jurors
            async with participant_connection(server) as j:
                await j.join(code)
        cid = (await author.act_and_wait("write_card", text="a card someone dislikes"))["result"]["cid"]
        case_id = (await flagger.act_and_wait("flag", cid=cid, reason="rude"))["result"]["case_id"]
        queue = (await fac.call("GET", f"/api/campaigns/{campaign_id}/moderation")).json()
        case = next(c for c in queue["open_cases"] if c["case_id"] == case_id)
        assert case["cid"] == cid and case["reasons"] == ["rude"] and case["votes"] == {"hide": 0, "keep": 0}
        r = await fac.call("POST", f"/api/campaigns/{campaign_id}/moderation", {"cid": cid, "verdict": "hide"})
        assert r.status_code == 200
        # The author learns their card is hidden.
        await author.until(lambda p: any(c["cid"] == cid and c["hidden"] for c in p.state["you"]["cards"]))
    queue = (await fac.call("GET", f"/api/campaigns/{campaign_id}/moderation")).json()
    assert [c["cid"] for c in queue["hidden_cards"]] == [cid]
    assert queue["log"][-1]["action"] == "hide" and queue["log"][-1]["by"] == "facilitator"
    assert all(isinstance(e.get("votes", {}), dict) and set(e.get("votes", {})) <= {"hide", "keep"}
               for e in queue["log"])
    bad = await fac.call("POST", f"/api/campaigns/{campaign_id}/moderation", {"cid": cid, "verdict": "burn"})
    assert bad.status_code == 400


async def _evaluating(server, topics: list[str]) -> tuple[str, str, Facilitator]:
    """A demo campaign in its evaluate phase, one idea per topic written by an Office participant."""
    campaign_id, code, fac = await new_campaign(server)
    await fac.phase(campaign_id, "start")
    async with participant_connection(server) as writer:
        await writer.join(code, {"role": "Office"})
        for i, topic in enumerate(topics):
            await writer.act_and_wait("write_card", text=f"idea {i}: {topic}")
    await fac.phase(campaign_id, "advance")
    await fac.phase(campaign_id, "advance")
    return campaign_id, code, fac


async def test_results_and_exports_hide_small_segments(server):
    campaign_id, code, fac = await _evaluating(server, ["tools", "meetings", "travel", "training"])
    # Six in the Field, two in Management: below min_segment_size (5).
    profiles = [{"role": "Field", "site": "North"}] * 6 + [{"role": "Management", "site": "South"}] * 2
    for profile in profiles:
        async with participant_connection(server) as p:
            await p.join(code, profile)
            for _ in range(4):
                qid = await p.act("next")
                await p.until(lambda p, qid=qid: qid in p.replies)
                task = p.replies[qid]["task"]
                if task is None:
                    break
                await p.act_and_wait("evaluate", kind=task["kind"],
                                     data={"a": task["a"]["iid"], "b": task["b"]["iid"], "choice": "a"})
    await fac.phase(campaign_id, "advance")
    results = (await fac.call("GET", f"/api/campaigns/{campaign_id}/results")).json()
    assert results["sheets"]
    seen = {k for s in results["sheets"] + results["scores"] for k in s["segments"]}
    assert "role=Field" in seen, seen
    assert not {k for k in seen if k.startswith("role=Management") or k == "site=South" or k == "role=Office"}
    exported = await fac.call("GET", f"/api/campaigns/{campaign_id}/export/json")
    assert exported.status_code == 200
    doc = orjson.loads(exported.content)
    assert "role=Management" not in exported.text and doc["sheets"]
    csv_export = await fac.call("GET", f"/api/campaigns/{campaign_id}/export/csv")
    assert csv_export.status_code == 200 and next(csv.reader(io.StringIO(csv_export.text)))
    assert (await fac.call("GET", f"/api/campaigns/{campaign_id}/export/nope")).status_code == 404
    structure = await fac.call("GET", f"/api/campaigns/{campaign_id}/structure")
    assert structure.status_code == 200


async def test_a_multi_file_export_comes_as_one_zip(server):
    campaign_id, code, fac = await new_campaign(server)
    await fac.phase(campaign_id, "start")
    async with participant_connection(server) as p:
        await p.join(code, {"role": "Office"})
        await p.act_and_wait("write_card", text="an idea about tools for everyone")
    r = await fac.call("GET", f"/api/campaigns/{campaign_id}/export/polis")
    assert r.status_code == 200 and r.headers["Content-Type"] == "application/zip"
    with zipfile.ZipFile(io.BytesIO(r.content)) as zf:
        names = zf.namelist()
        assert len(names) > 1 and all(zf.read(n) for n in names)
    assert f'filename="{campaign_id}-polis.zip"' in r.headers["Content-Disposition"]


async def test_consoles_polling_within_results_max_age_share_one_computation(tmp_path):
    async with running_server(tmp_path, results_max_age=600.0) as server:
        campaign_id, code, fac = await _evaluating(server, ["tools", "meetings", "travel"])
        path = f"/api/campaigns/{campaign_id}/results"
        first = (await fac.call("GET", path)).json()
        async with participant_connection(server) as p:
            await p.join(code, {"role": "Field"})
            qid = await p.act("next")
            await p.until(lambda p: qid in p.replies)
            task = p.replies[qid]["task"]
            await p.act_and_wait("evaluate", kind="pair", data={"a": task["a"]["iid"], "b": task["b"]["iid"],
                                                                 "choice": "a"})
        consoles = [(await fac.call("GET", path)).json() for _ in range(3)]
        assert [c["seq"] for c in consoles] == [first["seq"]] * 3
        assert server.engine._result_reads[campaign_id].computations == 1
        # An export is of the state as it is now: the new judgment (one pair,
        # so one more comparison for each of its two items) is in it.
        exported = orjson.loads((await fac.call("GET", f"/api/campaigns/{campaign_id}/export/json")).content)
        assert exported["seq"] > first["seq"]
        assert sum(s["n"] for s in exported["scores"]) == sum(s["n"] for s in first["scores"]) + 2


async def test_a_finished_campaign_with_nobody_connected_keeps_no_hub(server):
    """Nothing may keep a finished campaign subscribed once its phones are
    gone (the engine would never unload it): the hub goes when the campaign
    finishes after the last phone left, and the console's /stats makes none."""
    campaign_id, code, fac = await new_campaign(server)
    await fac.phase(campaign_id, "start")
    async with participant_connection(server) as p:
        await p.join(code, {"role": "Field"})
    assert (await fac.call("GET", f"/api/campaigns/{campaign_id}/stats")).status_code == 200
    for _ in range(4):
        await fac.phase(campaign_id, "advance")
    assert server.engine.state(campaign_id).status == "finished"
    stats = (await fac.call("GET", f"/api/campaigns/{campaign_id}/stats")).json()
    assert stats["connections"] == 0
    assert campaign_id not in server.hubs._hubs
    assert not server.engine.owner(campaign_id).listened


async def test_the_consoles_read_age_grows_with_the_connections(tmp_path):
    async with running_server(tmp_path, results_max_age=1.0, results_age_connections=2.0) as server:
        _, code, _ = await new_campaign(server)
        assert server.console_read_age() == 1.0
        async with participant_connection(server) as a, participant_connection(server) as b, \
                participant_connection(server) as c, participant_connection(server) as d:
            for p in (a, b, c, d):
                await p.join(code, {"role": "Field"})
            assert server.console_read_age() == 2.0  # 4 connections / 2
