"""Shared helpers and fixtures: a real server (hypercorn, trio worker) on 127.0.0.1 port 0
with a SQLite store in tmp_path, trio-websocket participants, and a
facilitator HTTP helper (requests, in a worker thread)."""

from __future__ import annotations

import itertools
import threading
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from contextlib import asynccontextmanager, contextmanager
from pathlib import Path
from typing import Any

import orjson
import pytest
import requests
import trio
from trio_websocket import open_websocket_url

from essaim import CampaignTemplate
from essaim.plugin import PluginHost
from essaim.server import EssaimServer, Settings, serve
from essaim.server.http.facilitator import builtin_templates

#: Short intervals so tests run fast; the logic is the same as in production.
#: The slow-client limits keep their defaults: a scheduling stall on a loaded
#: CI machine must not cut an ordinary test client (test_slow_client sets its own).
TEST_SETTINGS = dict(
    host="127.0.0.1", port=0, update_interval=0.02, counters_interval=0.2, join_timeout=10.0,
    rate_per_second=200.0, rate_burst=400,
    # hypercorn's ping task outlives its connection by up to a ping interval and
    # holds shutdown for graceful_timeout; tests need not wait for it.
    graceful_timeout=0.3,
)


#: Seconds a test server gets to stop (it takes well under one).
SHUTDOWN_LIMIT = 30


def make_settings(tmp_path: Path, **changes: Any) -> Settings:
    return Settings(data_dir=str(tmp_path / "data"), **{**TEST_SETTINGS, **changes})


@asynccontextmanager
async def running_server(tmp_path: Path, plugins: PluginHost | None = None,
                         **changes: Any) -> AsyncIterator[EssaimServer]:
    """A server in its own nursery (with ``plugins``, else the installed ones),
    stopped gracefully on exit: the engine must close through its drain (a
    cancelled engine cannot make its queue durable)."""
    stopped = trio.Event()

    async def run(task_status: trio.TaskStatus[EssaimServer]) -> None:
        try:
            await serve(make_settings(tmp_path, **changes), plugins=plugins, task_status=task_status)
        finally:
            stopped.set()

    async with trio.open_nursery() as nursery:
        srv = await nursery.start(run)
        try:
            yield srv
        finally:
            # Stop and wait here, before the nursery exits: if the body failed,
            # leaving would cancel the server, and an engine cancelled from
            # outside waits forever for its writer (reported to the lead).
            srv.stop_requested.set()
            with trio.move_on_after(SHUTDOWN_LIMIT):
                await stopped.wait()


class ThreadedServer:
    """A real server on its own trio thread, for blocking clients (schemathesis,
    hypothesis state machines): ``call(fn, ...)`` runs ``await fn(server, ...)``
    on the server's thread and returns its result."""

    def __init__(self, server: EssaimServer, trio_token: trio.lowlevel.TrioToken, extra: dict[str, Any]) -> None:
        self.server = server
        self.base_url = server.base_url
        self.admin_token = server.admin_token
        self.trio_token = trio_token
        self.extra = extra

    def call(self, fn: Callable[..., Awaitable[Any]], *args: Any) -> Any:
        return trio.from_thread.run(fn, self.server, *args, trio_token=self.trio_token)


@contextmanager
def threaded_server(tmp_path: Path, prepare: Callable[[EssaimServer], Awaitable[dict[str, Any]]] | None = None,
                    **changes: Any) -> Iterator[ThreadedServer]:
    """:func:`running_server` on a thread of its own; ``prepare(server)``
    runs there first and its result is ``ThreadedServer.extra``."""
    holder: dict[str, Any] = {}
    ready = threading.Event()

    def run() -> None:
        async def main() -> None:
            try:
                async with running_server(tmp_path, **changes) as srv:
                    extra = await prepare(srv) if prepare is not None else {}
                    holder["threaded"] = ThreadedServer(srv, trio.lowlevel.current_trio_token(), extra)
                    ready.set()
                    await srv.stop_requested.wait()
            finally:
                ready.set()
        trio.run(main)

    thread = threading.Thread(target=run, name="essaim-threaded-server", daemon=True)
    thread.start()
    assert ready.wait(60) and "threaded" in holder, "the server did not start"
    threaded: ThreadedServer = holder["threaded"]
    try:
        yield threaded
    finally:
        trio.from_thread.run_sync(threaded.server.stop_requested.set, trio_token=threaded.trio_token)
        thread.join(SHUTDOWN_LIMIT)


@pytest.fixture
async def server(tmp_path: Path) -> AsyncIterator[EssaimServer]:
    async with running_server(tmp_path) as srv:
        yield srv


def demo_template(**campaign: Any) -> CampaignTemplate:
    text = builtin_templates()["demo"]
    for key, value in campaign.items():
        text = text.replace("[campaign]\n", f"[campaign]\n{key} = {orjson.dumps(value).decode()}\n", 1)
    return CampaignTemplate.parse(text)


class Facilitator:
    """The facilitator HTTP API, called from a worker thread (requests is blocking)."""

    def __init__(self, base: str, token: str) -> None:
        self.base = base
        self.token = token

    async def call(self, method: str, path: str, body: Any = None, token: str | None = None) -> requests.Response:
        headers = {"Authorization": f"Bearer {token or self.token}"}
        return await trio.to_thread.run_sync(
            lambda: requests.request(method, self.base + path, json=body, headers=headers, timeout=10))

    async def phase(self, campaign_id: str, action: str, **body: Any) -> dict[str, Any]:
        r = await self.call("POST", f"/api/campaigns/{campaign_id}/phase/{action}", body or None)
        assert r.status_code == 200, r.text
        return r.json()


class Participant:
    """A participant on a real WebSocket that keeps the state the protocol promises."""

    _ids = itertools.count(1)

    def __init__(self, ws: Any) -> None:
        self.ws = ws
        self.welcome: dict[str, Any] | None = None
        self.acks: dict[str, dict[str, Any]] = {}
        self.ack_log: list[dict[str, Any]] = []
        self.errors: list[dict[str, Any]] = []
        self.replies: dict[str, dict[str, Any]] = {}
        self.state: dict[str, Any] = {}
        self.frames: list[dict[str, Any]] = []
        self.seqs: list[int] = []

    async def send(self, obj: dict[str, Any]) -> None:
        await self.ws.send_message(orjson.dumps(obj).decode())

    async def recv(self) -> dict[str, Any]:
        msg = orjson.loads(await self.ws.get_message())
        self.frames.append(msg)
        if msg["type"] == "welcome":
            self.welcome = msg
        if msg["type"] in ("welcome", "update"):
            self.seqs.append(msg["seq"])
            for key in ("phase", "counters", "board", "you", "results"):
                if key in msg:
                    self.state[key] = msg[key]
            for ack in msg.get("acks", ()):
                self.acks[ack["id"]] = ack
                self.ack_log.append(ack)
            self.errors.extend(msg.get("errors", ()))
            for reply in msg.get("replies", ()):
                self.replies[reply["id"]] = reply
        elif msg["type"] == "error":
            self.errors.append(msg)
        return msg

    async def until(self, predicate: Callable[[Participant], bool], timeout: float = 10) -> None:
        with trio.fail_after(timeout):
            while not predicate(self):
                await self.recv()

    async def join(self, code: str, profile: dict[str, str] | None = None) -> dict[str, Any]:
        self.errors.clear()
        await self.send({"type": "join", "campaign": code, "profile": profile or {}})
        await self.until(lambda p: p.welcome is not None or bool(p.errors))
        assert self.welcome is not None, self.errors
        self.state.update({k: self.welcome[k] for k in ("phase", "counters", "you", "results")})
        return self.welcome

    async def act(self, type_: str, **fields: Any) -> str:
        msg_id = f"a{next(self._ids)}"
        await self.send({"type": type_, "id": msg_id, **fields})
        return msg_id

    async def act_and_wait(self, type_: str, **fields: Any) -> dict[str, Any]:
        msg_id = await self.act(type_, **fields)
        await self.until(lambda p: msg_id in p.acks or any(e.get("id") == msg_id for e in p.errors))
        if msg_id in self.acks:
            return self.acks[msg_id]
        return next(e for e in self.errors if e.get("id") == msg_id)


def ws_url(server: EssaimServer) -> str:
    return server.base_url.replace("http://", "ws://") + "/ws"


class participant_connection:
    """``async with participant_connection(server) as p:`` a connected Participant."""

    def __init__(self, server: EssaimServer, **kwargs: Any) -> None:
        self._cm = open_websocket_url(ws_url(server), **kwargs)

    async def __aenter__(self) -> Participant:
        return Participant(await self._cm.__aenter__())

    async def __aexit__(self, *exc: Any) -> Any:
        return await self._cm.__aexit__(*exc)


async def new_campaign(server: EssaimServer, **campaign: Any) -> tuple[str, str, Facilitator]:
    created = await server.engine.create_campaign(demo_template(**campaign))
    return created.campaign_id, created.code, Facilitator(server.base_url, created.facilitator_token)
