"""The client written from docs/protocol.md alone works against the server."""

from __future__ import annotations

from dumb_client import DumbClient
from server_fixtures import new_campaign, ws_url


async def test_documented_session(server):
    campaign_id, code, fac = await new_campaign(server)
    client = DumbClient(ws_url(server))
    async with client.connect():
        welcome = await client.join(code, {"role": "Office", "site": "North"})
        assert welcome["protocol"] == 1 and welcome["resumed"] is False
        assert welcome["campaign"]["code"] == code
        assert welcome["phase"]["status"] == "draft"
        await fac.phase(campaign_id, "start")
        await client.wait(lambda: client.sections["phase"]["status"] == "running")
        assert "write_card" in client.sections["phase"]["allowed"]
        prompt = client.sections["you"]["prompts"][0]["id"]
        first = await client.act("write_card", text="Too many approval steps for small purchases", prompt=prompt)
        await client.wait(lambda: first in client.acks)
        assert client.acks[first]["result"]["cid"]
        assert client.acks[first]["seq"] <= client.seq
        suggestions = await client.query("suggest", text="approval steps for purchases")
        assert any(s["cid"] == client.acks[first]["result"]["cid"] for s in suggestions["suggestions"])
        # Sent, then the connection drops before the ack is read.
        second = await client.act("write_card", text="Meetings without an agenda")
    assert second in client.unacked
    async with client.connect():
        await client.resume(code)
        await client.wait(lambda: second in client.acks)
        again = await client.act("write_card", text="Meetings without an agenda")  # a new id: a new card
        await client.wait(lambda: again in client.acks)
        await client.wait(lambda: len(client.sections["you"]["cards"]) == 3)
        await client.wait(lambda: client.sections["counters"]["cards"] == 3)
        refused = await client.act("support_card", cid=client.acks[first]["result"]["cid"])
        await client.wait(lambda: any(e["id"] == refused for e in client.errors))
        assert [e["code"] for e in client.errors if e["id"] == refused] == ["own_card"]
    assert server.engine.state(campaign_id).counters["cards"] == 3
