"""A client that stops reading is cut off; nobody else notices."""

from __future__ import annotations

import socket

import orjson
import trio
from server_fixtures import new_campaign, participant_connection, running_server
from wsproto import ConnectionType, WSConnection
from wsproto.events import AcceptConnection, CloseConnection, Request, TextMessage

#: A tiny receive buffer so a client that stops reading fills it fast.
SLOW_RCVBUF = 4096
#: Short slow-client limits so the cut-off happens within the test.
SLOW_LIMITS = dict(slow_client_timeout=1.0, slow_client_close_grace=0.5)


async def _raw_client(server):
    """A WebSocket client on a raw socket (wsproto), so the test controls when it reads."""
    host, port = server.base_url.removeprefix("http://").rsplit(":", 1)
    sock = trio.socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, SLOW_RCVBUF)
    await sock.connect((host, int(port)))
    stream = trio.SocketStream(sock)
    ws = WSConnection(ConnectionType.CLIENT)
    await stream.send_all(ws.send(Request(host=f"{host}:{port}", target="/ws")))
    with trio.fail_after(5):
        while True:
            ws.receive_data(await stream.receive_some(65536))
            if any(isinstance(e, AcceptConnection) for e in ws.events()):
                break
    return stream, ws


async def _send(stream, ws, obj):
    await stream.send_all(ws.send(TextMessage(data=orjson.dumps(obj).decode())))


async def test_client_that_stops_reading_is_cut_off_and_others_are_served(tmp_path):
    async with running_server(tmp_path, socket_send_buffer=4096, outbox_max_items=64, **SLOW_LIMITS) as server:
        campaign_id, code, fac = await new_campaign(server)
        await fac.phase(campaign_id, "start")
        async with participant_connection(server) as seed:
            await seed.join(code)
            for i in range(20):
                await seed.act("write_card", text=f"meeting rooms are always booked by team {i} for planning")
            await seed.until(lambda p: len(p.acks) == 20)

        stream, ws = await _raw_client(server)
        await _send(stream, ws, {"type": "join", "campaign": code})
        # From now on the slow client never reads, and keeps asking for big replies
        # until the server cuts it off (the behaviour under test).
        try:
            for i in range(300):
                await _send(stream, ws, {"type": "suggest", "id": f"q{i}", "text": "meeting rooms booked planning team"})
        except (trio.BrokenResourceError, ConnectionResetError):
            pass

        async with participant_connection(server) as a, participant_connection(server) as b:
            await a.join(code)
            await b.join(code)
            for p in (a, b):
                for i in range(15):
                    await p.act("write_card", text=f"idea {i} from {p.welcome['pid']} about tools")
            for p in (a, b):
                await p.until(lambda p: len(p.acks) == 15)
                seqs = [ack["seq"] for ack in p.ack_log]
                assert seqs == sorted(seqs), "acks arrive in order"
            with trio.fail_after(10):
                while server.metrics.slow_disconnects < 1:
                    await trio.sleep(0.05)
                while server.metrics.connections_open > 2:
                    await trio.sleep(0.05)
            # The others are still served after the cut-off.
            assert "seq" in await a.act_and_wait("write_card", text="after the cut-off")
        assert server.metrics.slow_disconnects == 1

        # The slow client, reading at last, finds its connection closed.
        ended = False
        with trio.fail_after(10):
            while not ended:
                try:
                    data = await stream.receive_some(65536)
                except (trio.BrokenResourceError, ConnectionResetError):
                    ended = True
                    break
                if not data:
                    ended = True
                    break
                ws.receive_data(data)
                ended = any(isinstance(e, CloseConnection) and e.code == 4000 for e in ws.events())
        assert ended
        await stream.aclose()
