"""One campaign served by three real ``essaim serve --cluster`` processes.

The first process creates the demo campaign (it is its owner; it is a
gateway too); the two others serve it from replicas. Participants spread
over the three see the same state and the same results, their actions
land in one order, a participant resumes on another gateway with its
token, and a retried message id is applied once whichever gateway takes it.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from contextlib import AsyncExitStack
from pathlib import Path
from typing import Any

import requests
import trio
from realservers import free_port
from realservers.redis import RedisServer
from server_fixtures import Participant
from trio_websocket import open_websocket_url

ADMIN = "cluster-admin-token"
SERVE = "import sys; from essaim.cli import main; sys.exit(main(sys.argv[1:]))"
#: Participants per gateway, and cards each writes.
PER_GATEWAY = 3
CARDS_EACH = 3
#: Seconds a step may take on a loaded machine (it takes well under one).
STEP = 30


class Gateway:
    """``essaim serve --cluster URL`` in a subprocess on a free port."""

    def __init__(self, data: Path, url: str, *, demo: bool) -> None:
        self.data, self.url, self.demo = data, url, demo
        self.proc: trio.Process | None = None
        self.base = self.code = self.campaign_id = ""
        self.output = b""

    async def start(self, nursery: trio.Nursery) -> None:
        env = dict(os.environ, ESSAIM_ADMIN_TOKEN=ADMIN, ESSAIM_GRACEFUL_TIMEOUT="0.5",
                   ESSAIM_RATE_PER_SECOND="1000", ESSAIM_RATE_BURST="1000", ESSAIM_UPDATE_INTERVAL="0.02",
                   ESSAIM_COUNTERS_INTERVAL="0.2")
        args = [sys.executable, "-c", SERVE, "serve", "--cluster", self.url, "--port", "0", "--data", str(self.data)]
        self.proc = await nursery.start(lambda task_status: trio.run_process(
            args + (["--demo"] if self.demo else []), stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, env=env,
            check=False, task_status=task_status))
        with trio.fail_after(STEP):
            while b"Stop with Ctrl+C" not in self.output:
                chunk = await self.proc.stdout.receive_some(65536)
                assert chunk, f"essaim serve exited: {self.output.decode(errors='replace')}"
                self.output += chunk
        text = self.output.decode()
        self.base = re.search(r"listening on (http://\S+)", text).group(1)
        if self.demo:
            self.code = re.search(r"\(code (\w+)\)", text).group(1)
            self.campaign_id = re.search(r"campaign=(\w+)", text).group(1)

    @property
    def ws(self) -> str:
        return self.base.replace("http://", "ws://") + "/ws"

    async def api(self, method: str, path: str, body: Any = None) -> Any:
        r = await trio.to_thread.run_sync(lambda: requests.request(
            method, self.base + path, json=body, headers={"Authorization": f"Bearer {ADMIN}"}, timeout=30))
        assert r.status_code < 300, r.text
        return r.json()

    async def stop(self) -> None:
        assert self.proc is not None
        self.proc.terminate()
        with trio.fail_after(STEP):
            await self.proc.wait()


def shared_view(frame_part: dict[str, Any]) -> dict[str, Any]:
    """A phase as every gateway must show it: without the sending server's clock."""
    return {k: v for k, v in frame_part.items() if k != "server_time"}


async def test_three_gateways_serve_one_campaign(redis_server: RedisServer, tmp_path: Path) -> None:
    async with trio.open_nursery() as nursery, AsyncExitStack() as sockets:
        owner = Gateway(tmp_path / "owner", redis_server.url, demo=True)
        await owner.start(nursery)
        gateways = [owner]
        for i in (1, 2):
            gateways.append(Gateway(tmp_path / f"gateway{i}", redis_server.url, demo=False))
            await gateways[-1].start(nursery)
        cid, code = owner.campaign_id, owner.code

        people: list[tuple[Gateway, Participant]] = []
        for g in gateways:
            for _ in range(PER_GATEWAY):
                p = Participant(await sockets.enter_async_context(open_websocket_url(g.ws + f"?c={code}")))
                await p.join(code, {})
                people.append((g, p))
        # the facilitator acts through a gateway that is not the owner
        await gateways[2].api("POST", f"/api/campaigns/{cid}/phase/start")

        async def write(p: Participant) -> None:
            for i in range(CARDS_EACH):
                await p.act("write_card", text=f"idea {i} of {p.welcome['pid']}")
            await p.until(lambda q: len(q.acks) == CARDS_EACH, timeout=STEP)

        async with trio.open_nursery() as writers:
            for _, p in people:
                writers.start_soon(write, p)
        seqs = [a["seq"] for _, p in people for a in p.acks.values()]
        assert len(seqs) == len(set(seqs)) == len(people) * CARDS_EACH  # one total order, nothing twice
        for _, p in people:  # each sees their own cards, from whichever gateway they are on
            mine = {f"idea {i} of {p.welcome['pid']}" for i in range(CARDS_EACH)}
            await p.until(lambda q, mine=mine: {c["text"] for c in q.state["you"]["cards"]} == mine, timeout=STEP)

        # every gateway's API tells the same seq and counters once converged
        last = max(seqs)
        with trio.fail_after(STEP):
            while True:
                shown = [await g.api("GET", f"/api/campaigns/{cid}") for g in gateways]
                if all(s["seq"] >= last for s in shown):
                    break
                await trio.sleep(0.1)
        counters = [{k: v for k, v in s["counters"].items() if k != "online"} for s in shown]
        assert counters[0]["cards"] == len(people) * CARDS_EACH and counters.count(counters[0]) == 3

        # through evaluate to the results: every participant gets the same phase and results frames
        for _ in range(3):
            await gateways[1].api("POST", f"/api/campaigns/{cid}/phase/advance")
        for _, p in people:
            await p.until(lambda q: q.state.get("phase", {}).get("type") == "results" and q.state.get("results"),
                          timeout=STEP)
        phases = [shared_view(p.state["phase"]) for _, p in people]
        results = [p.state["results"] for _, p in people]
        assert phases.count(phases[0]) == len(people) and results.count(results[0]) == len(people)
        api_results = [await g.api("GET", f"/api/campaigns/{cid}/results") for g in gateways]
        assert all(r == api_results[0] for r in api_results)

        # resume on another gateway with the token and seq; a retried id is applied once
        g0, first = people[0]
        token, pid = first.welcome["token"], first.welcome["pid"]
        acked = next(iter(first.acks.items()))
        other = next(g for g in gateways if g is not g0)
        again = Participant(await sockets.enter_async_context(open_websocket_url(other.ws + f"?c={code}")))
        await again.send({"type": "resume", "campaign": code, "token": token, "seq": acked[1]["seq"]})
        await again.until(lambda q: q.welcome is not None or bool(q.errors), timeout=STEP)
        assert again.welcome and again.welcome["resumed"] and again.welcome["pid"] == pid, again.errors
        assert len(again.welcome["you"]["cards"]) == CARDS_EACH
        msg_id, ack = acked
        await again.send({"type": "write_card", "id": msg_id, "text": "a retry"})
        await again.until(lambda q: msg_id in q.acks or bool(q.errors), timeout=STEP)
        assert again.acks[msg_id].get("duplicate") and again.acks[msg_id]["seq"] == ack["seq"]

        for g in gateways:
            await g.stop()


def test_serve_with_valkey_down_says_which_url_and_exits(tmp_path: Path) -> None:
    url = f"redis://127.0.0.1:{free_port()}"
    run = subprocess.run([sys.executable, "-c", SERVE, "serve", "--cluster", url, "--port", "0", "--data",
                          str(tmp_path / "data")], capture_output=True, text=True, timeout=60,
                         env=dict(os.environ, ESSAIM_ADMIN_TOKEN=ADMIN))
    assert run.returncode == 1, run.stdout + run.stderr
    assert f"cannot reach Valkey at {url}" in run.stderr and "Traceback" not in run.stderr, run.stderr
