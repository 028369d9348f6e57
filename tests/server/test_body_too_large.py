"""A request body over the limit is answered 413, and the connection it came
on either answers the next request or is closed: never left hanging.

HTTP clients (OkHttp, URLSession, httpx, requests) reuse keep-alive
connections. Before the fix, the request after a 413 on the same connection
got no answer at all (5 of 6 tries in the adversarial test).
"""

from __future__ import annotations

import h11
import pytest
import requests
import trio
from server_fixtures import running_server

from essaim.server.http.facilitator import MAX_BODY_BYTES

#: Long enough for a loaded machine to answer a small request; a hang lasts forever.
ANSWER_DEADLINE = 20


async def _receive(stream: trio.SocketStream, conn: h11.Connection) -> h11.Response | None:
    """The next response (its body read), or None when the server closed the connection."""
    response = None
    with trio.fail_after(ANSWER_DEADLINE):
        while True:
            event = conn.next_event()
            if event is h11.NEED_DATA:
                try:
                    data = await stream.receive_some(65536)
                except trio.BrokenResourceError:
                    data = b""  # reset: closed too
                conn.receive_data(data)
                continue
            if isinstance(event, h11.ConnectionClosed):
                return None
            if isinstance(event, h11.Response):
                response = event
            if isinstance(event, h11.EndOfMessage):
                return response


def _too_large_request(size: int, port: int, token: str) -> list[object]:
    headers = [("Host", f"127.0.0.1:{port}"), ("Content-Type", "application/json"),
               ("Authorization", f"Bearer {token}"), ("Content-Length", str(size))]
    return [h11.Request(method="POST", target="/api/campaigns", headers=headers)]


@pytest.mark.parametrize("size", [MAX_BODY_BYTES + 1, 2 * MAX_BODY_BYTES, 16 * MAX_BODY_BYTES])
async def test_the_request_after_a_413_is_answered_or_the_connection_closed(tmp_path, size: int) -> None:
    async with running_server(tmp_path) as server:
        port = int(server.base_url.rsplit(":", 1)[1])
        for attempt in range(6):
            stream = await trio.open_tcp_stream("127.0.0.1", port)
            conn = h11.Connection(h11.CLIENT)
            for event in _too_large_request(size, port, server.admin_token):
                await stream.send_all(conn.send(event))  # type: ignore[arg-type]

            async def send_body(stream: trio.SocketStream = stream, conn: h11.Connection = conn) -> None:
                # Like a client library: the whole body, whatever the server says meanwhile.
                chunk = b" " * 65536
                left = size
                try:
                    while left:
                        await stream.send_all(conn.send(h11.Data(data=chunk[:left])))
                        left -= min(left, len(chunk))
                    await stream.send_all(conn.send(h11.EndOfMessage()))
                except (trio.BrokenResourceError, trio.ClosedResourceError):
                    pass  # the server stopped reading and closed: allowed

            async with trio.open_nursery() as nursery:
                nursery.start_soon(send_body)
                first = await _receive(stream, conn)
            assert first is not None and first.status_code == 413, f"attempt {attempt}: {first}"
            if conn.their_state is h11.MUST_CLOSE or conn.our_state is not h11.DONE:
                # The server said it closes: it must really close, not leave the socket open.
                with trio.fail_after(ANSWER_DEADLINE):
                    while await _read_or_eof(stream):
                        pass
            else:
                conn.start_next_cycle()
                await stream.send_all(conn.send(h11.Request(method="GET", target="/healthz",
                                                            headers=[("Host", f"127.0.0.1:{port}")])))
                await stream.send_all(conn.send(h11.EndOfMessage()))
                second = await _receive(stream, conn)
                assert second is not None and second.status_code == 200, f"attempt {attempt}: {second}"
            await stream.aclose()


async def _read_or_eof(stream: trio.SocketStream) -> bool:
    try:
        return bool(await stream.receive_some(65536))
    except trio.BrokenResourceError:
        return False


async def test_a_reusing_client_library_carries_on_after_a_413(tmp_path) -> None:
    """requests (urllib3) keeps the connection for the next request unless told to close it."""
    async with running_server(tmp_path) as server:

        def calls() -> list[int]:
            statuses = []
            with requests.Session() as session:
                for _ in range(6):
                    big = session.post(server.base_url + "/api/campaigns", data=b" " * (MAX_BODY_BYTES + 1),
                                       headers={"Content-Type": "application/json",
                                                "Authorization": f"Bearer {server.admin_token}"},
                                       timeout=ANSWER_DEADLINE)
                    statuses.append(big.status_code)
                    statuses.append(session.get(server.base_url + "/healthz", timeout=ANSWER_DEADLINE).status_code)
            return statuses

        assert await trio.to_thread.run_sync(calls) == [413, 200] * 6
