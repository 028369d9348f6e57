"""A client that goes away while a frame is on its way to it is ordinary
client behaviour: it must not log as a server error. A real fault in the
server still does.

The race, as adversarial testing saw it at scale ("Error in ASGI Framework",
``BusyResourceError``): a frame to the client has passed hypercorn's "still
open?" check and waits for the socket's send lock while hypercorn answers
the client's close frame; hypercorn then shuts the socket down
(``send_eof``, which holds the socket's send side across a checkpoint) and,
when the scheduler runs that first, the frame's ``send_all`` meets it:
``BusyResourceError`` out of our ``send``. Here the frame is held at that
point until the shutdown has begun (and the shutdown holds the send side a
little longer), so the race happens on every run instead of once in
thousands of disconnects.
"""

from __future__ import annotations

import logging
import socket

import orjson
import pytest
import trio
from hypercorn.events import RawData
from hypercorn.trio import tcp_server
from server_fixtures import new_campaign, running_server
from wsproto import ConnectionType, WSConnection
from wsproto.events import AcceptConnection, CloseConnection, Request, TextMessage

from essaim.server.ws.participant import Connection

#: How long the patched shutdown holds the socket's send side: long enough
#: for the held frame to run into it (the real one holds it for one checkpoint).
SHUTDOWN_HOLD_SECONDS = 0.05


class HeldFrame:
    """Hold the next frame hypercorn sends, once armed, until the socket's shutdown has begun."""

    def __init__(self) -> None:
        #: The client's port, once armed: only that connection's frame is held.
        self.armed: int | None = None
        self.port: int | None = None
        self.waiting = trio.Event()
        self.shutdown_started = trio.Event()

    def install(self, monkeypatch: pytest.MonkeyPatch) -> None:
        protocol_send = tcp_server.TCPServer.protocol_send
        send_eof = trio.SocketStream.send_eof
        held = self

        async def protocol_send_held(self: tcp_server.TCPServer, event: object) -> None:
            if held.armed is None or not isinstance(event, RawData) or _peer_port(self) != held.armed:
                await protocol_send(self, event)
                return
            held.port, held.armed = held.armed, None
            held.waiting.set()
            # Parked until hypercorn shuts the socket down: as a frame handed
            # the send lock just after the close response, whose task the
            # scheduler happens to run after the shutdown has begun. Shielded:
            # once handed the lock, the frame goes on even while the
            # connection's tasks are being cancelled.
            with trio.CancelScope(shield=True):
                await held.shutdown_started.wait()
                await protocol_send(self, event)

        async def send_eof_slowly(self: trio.SocketStream) -> None:
            if held.port is None or _stream_peer_port(self) != held.port:
                await send_eof(self)
                return
            with self._send_conflict_detector:  # as trio's send_eof, for longer
                held.shutdown_started.set()
                await trio.sleep(SHUTDOWN_HOLD_SECONDS)
            await send_eof(self)

        monkeypatch.setattr(tcp_server.TCPServer, "protocol_send", protocol_send_held)
        monkeypatch.setattr(trio.SocketStream, "send_eof", send_eof_slowly)


def _peer_port(server: tcp_server.TCPServer) -> int | None:
    return _stream_peer_port(server.stream)


def _stream_peer_port(stream: trio.SocketStream) -> int | None:
    try:
        return int(stream.socket.getpeername()[1])
    except OSError:
        return None


async def _joined_client(server, code: str) -> tuple[trio.socket.SocketType, trio.SocketStream, WSConnection]:
    host, port = server.base_url.removeprefix("http://").rsplit(":", 1)
    sock = trio.socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    await sock.connect((host, int(port)))
    stream = trio.SocketStream(sock)
    ws = WSConnection(ConnectionType.CLIENT)
    await stream.send_all(ws.send(Request(host=f"{host}:{port}", target="/ws")))
    welcomed = False
    with trio.fail_after(10):
        while not welcomed:
            ws.receive_data(await stream.receive_some(65536))
            for event in ws.events():
                if isinstance(event, AcceptConnection):
                    join = {"type": "join", "campaign": code}
                    await stream.send_all(ws.send(TextMessage(data=orjson.dumps(join).decode())))
                welcomed |= isinstance(event, TextMessage) and '"welcome"' in event.data
    return sock, stream, ws


async def _close_politely(stream: trio.SocketStream, ws: WSConnection) -> None:
    """Go away as a page being closed does: a close frame, then the socket."""
    await stream.send_all(ws.send(CloseConnection(code=1001)))


def _server_errors(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [f"{r.name}: {r.getMessage()} {r.exc_info[1]!r}" if r.exc_info else f"{r.name}: {r.getMessage()}"
            for r in caplog.records if r.levelno >= logging.ERROR]


async def test_a_client_gone_while_a_frame_goes_out_is_no_server_error(tmp_path, caplog, monkeypatch):
    caplog.set_level(logging.INFO)
    held = HeldFrame()
    held.install(monkeypatch)
    async with running_server(tmp_path) as server:
        _, code, facilitator = await new_campaign(server)
        sock, stream, ws = await _joined_client(server, code)
        held.armed = sock.getsockname()[1]
        await facilitator.phase(server.engine.campaign_ids()[0], "start")  # a phase frame to the client
        with trio.fail_after(10):
            await held.waiting.wait()
        await _close_politely(stream, ws)
        with trio.fail_after(10):
            while server.live:  # the server saw the client go
                await trio.sleep(0.01)
    assert held.shutdown_started.is_set(), "the race happened"
    assert _server_errors(caplog) == []


async def test_a_real_fault_in_the_writer_still_logs_as_an_error(tmp_path, caplog, monkeypatch):
    caplog.set_level(logging.INFO)

    async def broken_frame(self: Connection) -> bytes:
        raise RuntimeError("a bug while building a frame")

    async with running_server(tmp_path) as server:
        _, code, facilitator = await new_campaign(server)
        sock, _, _ = await _joined_client(server, code)
        monkeypatch.setattr(Connection, "_build_frame", broken_frame)
        await facilitator.phase(server.engine.campaign_ids()[0], "start")
        with trio.fail_after(10):
            while server.live:
                await trio.sleep(0.01)
        sock.close()
    errors = _server_errors(caplog)
    assert errors and any("a bug while building a frame" in e for e in errors)
