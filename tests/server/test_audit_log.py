"""The audit trail in the JSON logs: campaign created, phase changes, every
facilitator action (who, what, result), moderation overrides, rate-limit
floods (sampled), API errors; a connection id on socket lines; an event on
every line; never a token."""

from __future__ import annotations

import logging

import orjson
from server_fixtures import new_campaign, participant_connection, running_server

from essaim.server.ops.logs import JsonFormatter


def _lines(caplog) -> list[dict]:
    formatter = JsonFormatter()
    return [orjson.loads(formatter.format(record)) for record in caplog.records]


async def test_a_campaign_leaves_an_audit_trail_and_no_token(tmp_path, caplog):
    caplog.set_level(logging.DEBUG)
    async with running_server(tmp_path, rate_per_second=0.001, rate_burst=3) as server:
        created = await (await new_campaign(server))[2].call(
            "POST", "/api/campaigns", {"template": "demo"}, token=server.admin_token)
        created = created.json()
        cid, code = created["campaign_id"], created["code"]
        from server_fixtures import Facilitator
        fac = Facilitator(server.base_url, created["facilitator_token"])
        await fac.phase(cid, "start")
        async with participant_connection(server) as p:
            welcome = await p.join(code)
            card = (await p.act_and_wait("write_card", text="a card to hide"))["result"]["cid"]
            for _ in range(20):  # a flood: 2 pass (refused as own_card), 18 rate limited, one log line
                await p.act("support_card", cid=card)
            await p.until(lambda p: len(p.errors) == 20)
            assert sum(e["code"] == "rate_limited" for e in p.errors) == 18
        assert (await fac.call("POST", f"/api/campaigns/{cid}/moderation", {"cid": card, "verdict": "hide"})).ok
        assert (await fac.call("POST", f"/api/campaigns/{cid}/phase/advance", {"index": 5})).status_code == 409
        assert (await fac.call("GET", f"/api/campaigns/{cid}/export/nope")).status_code == 404
        assert (await fac.call("POST", f"/api/campaigns/{cid}/phase/advance", token="bad")).status_code == 401
        tokens = [server.admin_token, fac.token, welcome["token"]]
    lines = _lines(caplog)
    assert all(line.get("event") for line in lines)
    events = [line["event"] for line in lines]
    made = next(line for line in lines if line["event"] == "campaign_created")
    assert made["campaign"] == cid and made["by"] == "admin" and made["client"] == "127.0.0.1"
    assert any(line["event"] == "phase_changed" and line["campaign"] == cid and line["phase"] == 0 for line in lines)
    actions = [line for line in lines if line["event"] == "facilitator_action"]
    assert {(a["by"], a["action"], a["status"], a["code"]) for a in actions} >= {
        ("admin", None, 201, None), ("facilitator", "start", 200, None), ("facilitator", "advance", 409, "wrong_phase"),
        ("none", "advance", 401, "unauthorized")}
    override = next(line for line in lines if line["event"] == "moderation_override")
    assert override["cid"] == card and override["verdict"] == "hide" and override["by"] == "facilitator"
    errors = [line for line in lines if line["event"] == "api_error"]
    assert errors and errors[0]["status"] == 404 and errors[0]["code"] == "not_found"
    floods = [line for line in lines if line["event"] == "rate_limited"]
    assert len(floods) == 1 and floods[0]["kind"] == "action" and floods[0]["conn"].startswith("c")
    welcomed = next(line for line in lines if line["event"] == "welcomed")
    assert welcomed["conn"] == floods[0]["conn"] and welcomed["pid"] == welcome["pid"]
    assert "listening" in events
    text = "\n".join(orjson.dumps(line).decode() for line in lines)
    for token in tokens:
        assert token not in text
