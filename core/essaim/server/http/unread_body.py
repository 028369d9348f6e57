"""Answer early without hanging the connection: what is left of a request
body is read and dropped, or the connection is closed.

Quart answers some requests before their body has arrived (413 when
``Content-Length`` is over the limit, 401 before reading a body it will
not use), then stops reading. hypercorn hands the body to the app through
a bounded queue; once nobody reads it, its reader task waits on the full
queue and the response's last step (telling the app the stream closed,
on the same queue) waits too: the keep-alive connection hung, and the
client's next request on it (OkHttp, URLSession, httpx and requests all
reuse connections) was never answered.

:class:`UnreadBodyGuard` wraps the HTTP app. When the response starts while
the body is unfinished, a body announced at up to
:data:`MAX_DRAINED_BODY_BYTES` is read to its end and dropped before the
response ends, so the connection serves the next request; a larger one, or
one without ``Content-Length``, gets ``Connection: close``, and the guard
keeps taking what hypercorn queues until it closes the connection.
"""

from __future__ import annotations

from typing import Any

import trio

__all__ = ["UnreadBodyGuard", "MAX_DRAINED_BODY_BYTES"]

#: Largest announced body read and dropped after an early answer to keep the
#: connection: four times the API's largest body (256 KiB). Reading it costs
#: what an ordinary request costs; anything larger is cheaper to refuse by
#: closing the connection than to read.
MAX_DRAINED_BODY_BYTES = 1024 * 1024


class UnreadBodyGuard:
    """ASGI middleware for ``http`` scopes (see the module docstring)."""

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        await _Exchange(scope, receive, send).run(self.app)


class _Exchange:
    """One request and its response, with what is known of the request body."""

    __slots__ = ("scope", "_receive", "_send", "body_finished", "disconnected", "keep_connection", "ending")

    def __init__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        self.scope = scope
        self._receive = receive
        self._send = send
        #: The last part of the body arrived, or the client went away.
        self.body_finished = trio.Event()
        self.disconnected = False
        #: Decided when the response starts: drain the rest (True) or close (False).
        self.keep_connection = True
        #: The response's last message is on its way.
        self.ending = False

    async def run(self, app: Any) -> None:
        await app(self.scope, self.app_receive, self.send)

    async def app_receive(self) -> dict[str, Any]:
        message = await self.receive()
        if message["type"] == "http.disconnect" and self.ending:
            # hypercorn says "disconnect" from inside the response's last send
            # (the stream closes). Quart's reader would then cancel its request
            # task, that send included, halfway through closing or recycling
            # the connection (seen: a socket left open after Connection:
            # close). The response is complete: the app need not know.
            await trio.sleep_forever()
        return message

    async def receive(self) -> dict[str, Any]:
        message: dict[str, Any] = await self._receive()
        if message["type"] == "http.disconnect":
            self.disconnected = True
            self.body_finished.set()
        elif message["type"] == "http.request" and not message.get("more_body", False):
            self.body_finished.set()
        return message

    def _announced_length(self) -> int | None:
        for name, value in self.scope.get("headers", ()):
            if name == b"content-length":
                try:
                    return int(value)
                except ValueError:
                    return None
        return None

    async def send(self, message: dict[str, Any]) -> None:
        unfinished = not self.body_finished.is_set()
        if message["type"] == "http.response.start" and unfinished:
            length = self._announced_length()
            self.keep_connection = length is not None and length <= MAX_DRAINED_BODY_BYTES
            if not self.keep_connection:
                message = {**message, "headers": [*message.get("headers", ()), (b"connection", b"close")]}
        final = message["type"] == "http.response.body" and not message.get("more_body", False)
        self.ending = final
        if not (final and unfinished):
            await self._send(message)
            return
        # The app may still be reading too (Quart does until its response is
        # sent): whoever takes the last part, this one waits on the event.
        async with trio.open_nursery() as nursery:
            nursery.start_soon(self._drop_forever)
            if self.keep_connection:
                # Read the rest first: the server then sees a finished
                # request and keeps the connection for the next one.
                await self.body_finished.wait()
                await self._send(message)
            else:
                # Closing: keep hypercorn's queue moving while the response
                # ends (it queues the end of the stream behind the body).
                await self._send(message)
            nursery.cancel_scope.cancel()

    async def _drop_forever(self) -> None:
        while True:
            await self.receive()
