"""The real ``essaim serve`` process: SIGTERM drains with 1012; SIGKILL loses no acknowledged action."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
from contextlib import AsyncExitStack
from pathlib import Path

import pytest
import requests
import trio
from server_fixtures import Participant
from trio_websocket import ConnectionClosed, open_websocket_url

ADMIN = "test-admin-token"
#: Writers of cards; each may write 30 (the demo's per-participant limit).
WRITERS = 12
#: Acks received before the kill; the writers go on, so more are in flight.
KILL_AFTER_ACKS = 120
SERVE = "import sys; from essaim.cli import main; sys.exit(main(sys.argv[1:]))"


class ServeProcess:
    """``essaim serve --demo`` in a subprocess, on a free port."""

    def __init__(self, data: Path) -> None:
        self.data = data
        self.proc: trio.Process | None = None
        self.base = ""
        self.code = ""
        self.campaign_id = ""
        self.output = b""

    async def start(self, nursery: trio.Nursery) -> None:
        env = dict(os.environ, ESSAIM_ADMIN_TOKEN=ADMIN, ESSAIM_GRACEFUL_TIMEOUT="0.5",
                   ESSAIM_RATE_PER_SECOND="10000", ESSAIM_RATE_BURST="10000")
        self.proc = await nursery.start(lambda task_status: trio.run_process(
            [sys.executable, "-c", SERVE, "serve", "--demo", "--port", "0", "--data", str(self.data)],
            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, env=env, check=False, task_status=task_status))
        with trio.fail_after(30):
            while b"Stop with Ctrl+C" not in self.output:  # the last line printed
                chunk = await self.proc.stdout.receive_some(65536)
                assert chunk, f"essaim serve exited: {self.output.decode(errors='replace')}"
                self.output += chunk
        text = self.output.decode()
        self.base = re.search(r"listening on (http://\S+)", text).group(1)
        self.code = re.search(r"\(code (\w+)\)", text).group(1)
        self.campaign_id = re.search(r"campaign=(\w+)", text).group(1)

    def api(self, method: str, path: str, body=None) -> requests.Response:
        return requests.request(method, self.base + path, json=body, headers={"Authorization": f"Bearer {ADMIN}"},
                                timeout=10)

    async def call(self, method: str, path: str, body=None) -> dict:
        r = await trio.to_thread.run_sync(lambda: self.api(method, path, body))
        assert r.status_code < 300, r.text
        return r.json()

    @property
    def ws(self) -> str:
        return self.base.replace("http://", "ws://") + "/ws"


async def test_sigterm_closes_sockets_with_1012(tmp_path):
    async with trio.open_nursery() as nursery:
        server = ServeProcess(tmp_path / "data")
        await server.start(nursery)
        # Listening on 127.0.0.1: the terminal says phones cannot open the links.
        assert "Only a browser on this computer can open these links" in server.output.decode()
        async with AsyncExitStack() as stack:
            clients = [Participant(await stack.enter_async_context(open_websocket_url(server.ws))) for _ in range(3)]
            for p in clients:
                await p.join(server.code)
            server.proc.send_signal(signal.SIGTERM)
            for p in clients:
                with pytest.raises(ConnectionClosed) as closed, trio.fail_after(10):
                    while True:
                        await p.recv()
                assert closed.value.reason.code == 1012
        with trio.fail_after(20):
            await server.proc.wait()
        assert server.proc.returncode == 0


async def test_sigkill_and_restart_keeps_every_acknowledged_action(tmp_path):
    data = tmp_path / "data"
    acked: list[str] = []
    async with trio.open_nursery() as nursery:
        server = ServeProcess(data)
        await server.start(nursery)
        await server.call("POST", f"/api/campaigns/{server.campaign_id}/phase/start")

        async def writer(n: int, ws) -> None:
            p = Participant(ws)
            await p.join(server.code)
            i = 0
            try:
                while True:
                    await p.send({"type": "write_card", "id": f"w{i}", "text": f"idea {i} from writer {n}"})
                    i += 1
                    # Keep a few in flight; count what comes back acknowledged.
                    while i - len(p.acks) - len(p.errors) > 5:
                        before = len(p.acks)
                        await p.recv()
                        acked.extend(a["result"]["cid"] for a in p.ack_log[before:])
            except ConnectionClosed:
                pass

        async with trio.open_nursery() as writers:
            for n in range(WRITERS):
                writers.start_soon(_with_socket, server.ws, writer, n)
            with trio.fail_after(30):
                while len(acked) < KILL_AFTER_ACKS:
                    await trio.sleep(0.01)
            server.proc.kill()  # SIGKILL: no drain, no flush
            await server.proc.wait()
    assert acked

    async with trio.open_nursery() as nursery:
        again = ServeProcess(data)
        await again.start(nursery)
        shown = await again.call("GET", f"/api/campaigns/{again.campaign_id}")
        cards = shown["counters"]["cards"]
        assert cards >= len(set(acked))
        assert max(int(cid[1:]) for cid in acked) <= cards
        again.proc.send_signal(signal.SIGTERM)
        await again.proc.wait()


async def _with_socket(url, fn, n):
    try:
        async with open_websocket_url(url) as ws:
            await fn(n, ws)
    except (ConnectionClosed, OSError, trio.BrokenResourceError):
        pass
