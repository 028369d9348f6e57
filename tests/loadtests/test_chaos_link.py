"""The relay the chaos suite cuts between one gateway and Valkey: it relays,
a cut closes what it relays and refuses new connections, a restore relays
again on the same port (an echo server stands in for Valkey)."""

from __future__ import annotations

import asyncio

import pytest

from loadtests.chaos.link import CuttableLink


async def _echo(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    while data := await reader.read(1024):
        writer.write(data)
        await writer.drain()
    writer.close()


async def _round_trip(port: int, payload: bytes) -> bytes:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        writer.write(payload)
        await writer.drain()
        return await asyncio.wait_for(reader.readexactly(len(payload)), 10)
    finally:
        writer.close()


async def _cut_and_restore() -> None:
    upstream = await asyncio.start_server(_echo, "127.0.0.1", 0)
    link = CuttableLink(upstream.sockets[0].getsockname()[1])
    await link.start()
    try:
        assert await _round_trip(link.port, b"PING") == b"PING"
        reader, writer = await asyncio.open_connection("127.0.0.1", link.port)
        writer.write(b"x")
        assert await asyncio.wait_for(reader.readexactly(1), 10) == b"x"
        await link.cut()
        assert await asyncio.wait_for(reader.read(1), 10) == b""  # the open connection is closed
        writer.close()
        with pytest.raises(OSError):
            await _round_trip(link.port, b"PING")  # and new ones are refused
        await link.restore()
        assert await _round_trip(link.port, b"PONG") == b"PONG"
    finally:
        await link.close()
        upstream.close()
        await upstream.wait_closed()


def test_a_cut_closes_and_refuses_then_a_restore_relays_again() -> None:
    asyncio.run(_cut_and_restore())
