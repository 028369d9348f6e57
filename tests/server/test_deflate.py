"""permessage-deflate is never negotiated, even when the client offers it."""

from __future__ import annotations

import base64
import os

import trio
from hypercorn.protocol.ws_stream import Handshake

from essaim.server.ws.deflate import original_accept

OFFER = b"permessage-deflate; client_max_window_bits"


def _request(host: bytes, offer: bytes) -> bytes:
    key = base64.b64encode(os.urandom(16))
    return (b"GET /ws HTTP/1.1\r\nHost: " + host + b"\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
            b"Sec-WebSocket-Key: " + key + b"\r\nSec-WebSocket-Version: 13\r\n"
            b"Sec-WebSocket-Extensions: " + offer + b"\r\n\r\n")


async def test_handshake_refuses_deflate_offer(server):
    host = server.base_url.removeprefix("http://").encode()
    h, port = host.decode().rsplit(":", 1)
    stream = await trio.open_tcp_stream(h, int(port))
    async with stream:
        await stream.send_all(_request(host, OFFER))
        response = b""
        with trio.fail_after(5):
            while b"\r\n\r\n" not in response:
                response += await stream.receive_some(4096)
    head = response.split(b"\r\n\r\n")[0].lower()
    assert head.startswith(b"http/1.1 101")
    assert b"sec-websocket-extensions" not in head


def test_hypercorn_alone_would_accept_it():
    """Without the patch hypercorn does negotiate deflate: the test above can fail."""
    headers = [(b"host", b"x"), (b"upgrade", b"websocket"), (b"connection", b"Upgrade"),
               (b"sec-websocket-key", base64.b64encode(os.urandom(16))), (b"sec-websocket-version", b"13"),
               (b"sec-websocket-extensions", OFFER)]
    _, response_headers, _ = original_accept(Handshake(headers, "1.1"), None, [])
    assert any(name == b"sec-websocket-extensions" for name, _ in response_headers)
