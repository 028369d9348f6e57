"""A TCP relay to Valkey that the chaos suite can cut: one gateway's link.

The gateway is started with ``--cluster`` pointing here instead of at the
redis-server; :meth:`CuttableLink.cut` closes every relayed connection and
stops listening (the gateway's reconnections are refused), as when that one
machine loses its route to Valkey while the rest of the cluster keeps it;
:meth:`restore` listens again on the same port. A cut that refuses
connections; a silent one (packets dropped) is not simulated.
"""

from __future__ import annotations

import asyncio
import contextlib

from ..servers import free_port

__all__ = ["CuttableLink"]

#: Bytes read at once from either side of a relayed connection.
CHUNK_BYTES = 65536


class CuttableLink:
    def __init__(self, upstream_port: int) -> None:
        self.upstream_port = upstream_port
        self.port = free_port()
        self._server: asyncio.Server | None = None
        self._writers: set[asyncio.StreamWriter] = set()
        self._relays: set[asyncio.Task[None]] = set()

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}"

    async def start(self) -> None:
        self._server = await asyncio.start_server(self._relay, "127.0.0.1", self.port, reuse_address=True)

    async def cut(self) -> None:
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()
            self._server = None
        for writer in list(self._writers):
            writer.close()
        self._writers.clear()

    async def restore(self) -> None:
        await self.start()

    async def close(self) -> None:
        """Cut for good, and wait for the relays to end (none left running)."""
        await self.cut()
        if self._relays:
            await asyncio.wait(self._relays, timeout=5)

    async def _relay(self, client_r: asyncio.StreamReader, client_w: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._relays.add(task)
        try:
            await self._relay_one(client_r, client_w)
        finally:
            self._relays.discard(task)

    async def _relay_one(self, client_r: asyncio.StreamReader, client_w: asyncio.StreamWriter) -> None:
        try:
            upstream_r, upstream_w = await asyncio.open_connection("127.0.0.1", self.upstream_port)
        except OSError:
            client_w.close()
            return
        self._writers.update((client_w, upstream_w))
        try:
            await asyncio.gather(_pipe(client_r, upstream_w), _pipe(upstream_r, client_w))
        finally:
            for w in (client_w, upstream_w):
                self._writers.discard(w)
                w.close()


async def _pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    with contextlib.suppress(OSError, ConnectionError):
        while data := await reader.read(CHUNK_BYTES):
            writer.write(data)
            await writer.drain()
    writer.close()
