"""A plugin's own phase through the real server (issue 18): its shared part
(``board``) and personal part (``you.board``) in participants' frames, its
screen and panel served same-origin, its facilitator command over HTTP."""

from __future__ import annotations

from pathlib import Path

import requests
import trio
from pledges_example import essaim_pledges
from server_fixtures import Facilitator, participant_connection, running_server

from essaim.plugin import PluginHost
from essaim.testing import make_template

PHASES = ["collect", "evaluate", {"type": "pledges", "settings": {"max_pledges": 2}}, "results"]


async def test_a_plugin_phase_over_the_wire(tmp_path: Path) -> None:
    host = PluginHost.load(extra=[essaim_pledges], entry_points=False)
    async with running_server(tmp_path, plugins=host) as server:
        created = await server.engine.create_campaign(make_template(phases=PHASES))
        cid, fac = created.campaign_id, Facilitator(server.base_url, created.facilitator_token)
        async with participant_connection(server) as ann, participant_connection(server) as bob:
            for p in (ann, bob):
                await p.join(created.code)
            await fac.phase(cid, "start")
            await ann.until(lambda p: p.state["phase"]["type"] == "collect")
            assert "screen" not in ann.state["phase"]  # built-in phases have no plugin screen
            for p, text in ((ann, "Fewer meetings"), (bob, "Faster laptops")):
                await p.act_and_wait("write_card", text=text)
            await fac.phase(cid, "advance", index=0)
            await fac.phase(cid, "advance", index=1)
            for p in (ann, bob):
                await p.until(lambda p: p.state["phase"]["type"] == "pledges" and bool(p.state.get("results")))
            phase = ann.state["phase"]
            assert phase["screen"] == "/plugins/pledges/screen.js" and phase["settings"] == {"max_pledges": 2}
            assert "pledge" in phase["allowed"]
            iid = next(s["iid"] for s in ann.state["results"] if s["title"] == "Fewer meetings")

            refused = await ann.act_and_wait("pledge", iid=iid, text="x" * 201)
            assert refused["code"] == "too_long"
            ack = await ann.act_and_wait("pledge", iid=iid, text="I'll cancel my Monday meeting")
            assert ack["result"] == {"iid": iid}
            await ann.until(lambda p: p.state["you"].get("board") == {"mine": {iid: "I'll cancel my Monday meeting"}})
            # The shared part reaches everyone, the personal part only its owner.
            await bob.until(lambda p: (p.state.get("board") or {}).get("total") == 1)
            assert bob.state["board"]["ideas"][0]["recent"] == ["I'll cancel my Monday meeting"]
            assert bob.state["you"]["board"] == {"mine": {}}

            # The console: the board, the panel's URL, and the plugin's command.
            info = (await fac.call("GET", f"/api/campaigns/{cid}")).json()
            assert info["panel"] == "/plugins/pledges/panel.js" and info["board"]["total"] == 1
            bad = await fac.call("POST", f"/api/campaigns/{cid}/commands/spotlight", {"iid": 3})
            assert bad.status_code == 400, bad.text
            builtin = await fac.call("POST", f"/api/campaigns/{cid}/commands/advance", {})
            assert builtin.status_code == 404  # built-ins keep their own endpoints
            done = await fac.call("POST", f"/api/campaigns/{cid}/commands/spotlight", {"iid": iid})
            assert done.status_code == 200 and done.json()["result"] == {"iid": iid}
            await bob.until(lambda p: (p.state["board"].get("spotlight") or {}).get("iid") == iid)

        # The screen and panel are served from the plugin's package, nothing else is.
        def get(path: str) -> requests.Response:
            return requests.get(server.base_url + path, timeout=10)

        screen = await trio.to_thread.run_sync(get, "/plugins/pledges/screen.js")
        assert screen.status_code == 200 and "javascript" in screen.headers["Content-Type"]
        assert "export function mount" in screen.text
        for path in ("/plugins/pledges/__init__.py", "/plugins/pledges/../__init__.py",
                     "/plugins/pledges/%2e%2e/__init__.py", "/plugins/collect/screen.js", "/plugins/nope/x.js"):
            assert (await trio.to_thread.run_sync(get, path)).status_code == 404, path
