"""A participant client written only from docs/protocol.md.

It imports nothing from essaim: json and trio-websocket only. If the
server drifts from the document, the test using this client fails.
"""

from __future__ import annotations

import json

import trio
from trio_websocket import open_websocket_url


class DumbClient:
    """Keeps what the protocol says a client keeps: the token, the last seq,
    the latest copy of each update section, and every action not yet acked."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.ws = None
        self.token = None
        self.pid = None
        self.seq = 0
        self.sections = {}
        self.acks = {}
        self.errors = []
        self.replies = {}
        self.unacked = {}
        self.next_id = 0

    async def _send(self, message: dict) -> None:
        await self.ws.send_message(json.dumps(message))

    async def _receive(self) -> dict:
        frame = json.loads(await self.ws.get_message())
        if frame["type"] == "error":
            self.errors.append(frame)
            return frame
        self.seq = max(self.seq, frame["seq"])
        for section in ("phase", "counters", "you", "results"):
            if section in frame:
                self.sections[section] = frame[section]
        for ack in frame.get("acks", []):
            self.acks[ack["id"]] = ack
            self.unacked.pop(ack["id"], None)
        for error in frame.get("errors", []):
            self.errors.append(error)
            self.unacked.pop(error["id"], None)
        for reply in frame.get("replies", []):
            self.replies[reply["id"]] = reply
        return frame

    async def wait(self, condition, timeout: float = 10) -> None:
        with trio.fail_after(timeout):
            while not condition():
                await self._receive()

    async def join(self, code: str, profile: dict) -> dict:
        await self._send({"type": "join", "campaign": code, "profile": profile, "lang": "en"})
        welcome = await self._receive()
        assert welcome["type"] == "welcome", welcome
        self.token, self.pid = welcome["token"], welcome["pid"]
        return welcome

    async def resume(self, code: str) -> dict:
        await self._send({"type": "resume", "campaign": code, "token": self.token, "seq": self.seq})
        welcome = await self._receive()
        assert welcome["type"] == "welcome" and welcome["resumed"] is True, welcome
        for message in list(self.unacked.values()):
            await self._send(message)  # same ids: applied once
        return welcome

    async def act(self, action_type: str, **fields) -> str:
        self.next_id += 1
        message = {"type": action_type, "id": f"d{self.next_id}", **fields}
        self.unacked[message["id"]] = message
        await self._send(message)
        return message["id"]

    async def query(self, query_type: str, **fields) -> dict:
        self.next_id += 1
        qid = f"q{self.next_id}"
        await self._send({"type": query_type, "id": qid, **fields})
        await self.wait(lambda: qid in self.replies)
        return self.replies[qid]

    def connect(self):
        return _Connected(self)


class _Connected:
    def __init__(self, client: DumbClient) -> None:
        self.client = client
        self.cm = open_websocket_url(client.url)

    async def __aenter__(self) -> DumbClient:
        self.client.ws = await self.cm.__aenter__()
        return self.client

    async def __aexit__(self, *exc):
        return await self.cm.__aexit__(*exc)
