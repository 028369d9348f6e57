"""The bus: Valkey (or Redis 7, same protocol) through valkey-glide under trio.

valkey-glide runs natively on trio (through anyio); on the cluster's own
traffic it carried 3-4x the publications and 10-15x the request round
trips of coredis on this machine (``python -m loadtests.bus_clients``,
docs/scaling.md). :class:`Bus` is the small surface cluster mode uses:
streams (XADD with an explicit id, XREAD BLOCK, XREVRANGE), pipelines,
a hash for the directory of campaigns, and plain keys for snapshots.
Every failure of the server or the network is a :class:`BusError`, with
the URL in its message.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from urllib.parse import urlsplit

from glide import (
    Batch,
    BatchOptions,
    GlideClient,
    GlideClientConfiguration,
    GlideError,
    Logger,
    LogLevel,
    NodeAddress,
    ServerCredentials,
    StreamAddOptions,
    StreamReadOptions,
    TrimByMaxLen,
)
from glide_shared.commands.core_options import ExpirySet, ExpiryType
from glide_shared.commands.stream import MaxId, MinId

from essaim.errors import BusError

__all__ = ["Bus", "BusError", "Add", "Entry", "parse_url", "FENCED_XADD"]

log = logging.getLogger("essaim.cluster.bus")

#: Milliseconds a command (other than a blocking read, whose BLOCK is added)
#: may take before it fails: Valkey answers in well under a millisecond, so
#: seconds mean it is gone, and callers then answer "unavailable".
REQUEST_TIMEOUT_MS = 3000
#: Seconds to reach Valkey at start-up before ``essaim serve`` gives up with a clear error.
CONNECT_TIMEOUT_MS = 3000

Entry = tuple[bytes, dict[bytes, bytes]]


@dataclass(frozen=True, slots=True)
class Add:
    """One XADD of a pipeline: ``ident`` None lets Valkey number the entry;
    ``maxlen`` trims the stream to about that many entries. With ``fence``
    (an epoch key and the writer's epoch), Valkey refuses the entry if the
    key holds a newer epoch (:data:`FENCED_XADD`): a stale owner cannot
    publish."""

    key: str
    fields: Mapping[str, bytes]
    ident: str | None = None
    maxlen: int | None = None
    fence: tuple[str, int] | None = None


#: XADD unless the campaign's epoch key (KEYS[2]) holds a newer epoch than
#: the publisher's (ARGV[1]); the key keeps the newest epoch seen (a Valkey
#: that restarted empty learns it again from the next publication). ARGV[2]
#: is the entry id, ARGV[3] the MAXLEN (or ""), then fields and values.
FENCED_XADD = """
local epoch = tonumber(ARGV[1])
local current = tonumber(redis.call('GET', KEYS[2]) or '0')
if epoch < current then
  return redis.error_reply('FENCED epoch ' .. ARGV[1] .. ' is older than the owner epoch ' .. current)
end
if epoch > current then redis.call('SET', KEYS[2], ARGV[1]) end
local args = {'XADD', KEYS[1]}
if ARGV[3] ~= '' then
  table.insert(args, 'MAXLEN'); table.insert(args, '~'); table.insert(args, ARGV[3])
end
table.insert(args, ARGV[2])
for i = 4, #ARGV do table.insert(args, ARGV[i]) end
return redis.call(unpack(args))
"""


def parse_url(url: str) -> tuple[str, int, str | None, int]:
    """(host, port, password, database) of ``redis://[:password@]host[:port][/db]``."""
    parts = urlsplit(url)
    if parts.scheme not in ("redis", "valkey") or not parts.hostname:
        raise BusError(f"{url!r} is not a Valkey URL; expected redis://host:port (or valkey://host:port)")
    try:
        db = int(parts.path.strip("/") or 0)
        port = parts.port or 6379
    except ValueError:
        raise BusError(f"{url!r}: the port and the database must be numbers") from None
    return parts.hostname, port, parts.password, db


def _add_options(add: Add) -> StreamAddOptions:
    trim = TrimByMaxLen(exact=False, threshold=add.maxlen) if add.maxlen else None
    return StreamAddOptions(id=add.ident, trim=trim)


class Bus:
    """One connection to Valkey. Open with :meth:`connect`; glide reconnects
    by itself after a restart of the server, commands meanwhile raise BusError."""

    def __init__(self, url: str, client: GlideClient) -> None:
        self.url = url
        self._client = client

    @classmethod
    async def connect(cls, url: str, *, name: str = "essaim") -> Bus:
        host, port, password, db = parse_url(url)
        Logger.set_logger_config(LogLevel.OFF)  # glide's own stdout log: our BusError says what matters
        config = GlideClientConfiguration(
            [NodeAddress(host, port)], request_timeout=REQUEST_TIMEOUT_MS, database_id=db or None,
            credentials=ServerCredentials(password) if password else None, client_name=name,
        )
        try:
            client = await GlideClient.create(config)
        except GlideError as exc:
            raise BusError(f"cannot reach Valkey at {url}: {exc}; is it running, and is the URL right?") from None
        return cls(url, client)

    async def close(self) -> None:
        try:
            await self._client.close()
        except GlideError:
            pass

    def _error(self, what: str, exc: Exception) -> BusError:
        return BusError(f"Valkey at {self.url}: {what} failed: {exc}")

    async def add(self, add: Add) -> bytes:
        try:
            ident = await self._client.xadd(add.key, list(add.fields.items()), _add_options(add))
        except GlideError as exc:
            raise self._error("XADD", exc) from None
        assert ident is not None
        return ident

    async def add_many(self, adds: Sequence[Add]) -> list[object]:
        """One pipeline of XADDs (not a transaction). Per entry: its id, or
        the server's refusal (an id not above the stream's last one; a fenced
        entry of a stale epoch)."""
        batch = Batch(is_atomic=False)
        for add in adds:
            if add.fence is not None:
                fields = [part for pair in add.fields.items() for part in pair]
                batch.custom_command(["EVAL", FENCED_XADD, "2", add.key, add.fence[0], str(add.fence[1]),
                                      add.ident or "*", str(add.maxlen or ""), *fields])
            else:
                batch.xadd(add.key, list(add.fields.items()), _add_options(add))
        try:
            return list(await self._client.exec(batch, raise_on_error=False, options=BatchOptions(REQUEST_TIMEOUT_MS))
                        or ())
        except GlideError as exc:
            raise self._error("a pipeline", exc) from None

    async def read(self, streams: Mapping[str, str], *, count: int, block_ms: int) -> list[tuple[str, list[Entry]]]:
        """XREAD COUNT BLOCK: the entries after each stream's id, oldest first."""
        try:
            got = await self._client.xread(dict(streams), StreamReadOptions(block_ms=block_ms, count=count))
        except GlideError as exc:
            raise self._error("XREAD", exc) from None
        return [(key.decode(), [(ident, dict(fv)) for ident, fv in entries.items()])
                for key, entries in (got or {}).items()]

    async def last_id(self, key: str) -> str:
        """The id of the stream's newest entry, or "0-0" for an empty one."""
        try:
            got = await self._client.xrevrange(key, MaxId(), MinId(), count=1)
        except GlideError as exc:
            raise self._error("XREVRANGE", exc) from None
        return next(iter(got)).decode() if got else "0-0"

    async def get(self, key: str) -> bytes | None:
        try:
            return await self._client.get(key)
        except GlideError as exc:
            raise self._error("GET", exc) from None

    async def set(self, key: str, value: bytes, *, ttl_seconds: int) -> None:
        try:
            await self._client.set(key, value, expiry=ExpirySet(ExpiryType.SEC, ttl_seconds))
        except GlideError as exc:
            raise self._error("SET", exc) from None

    async def hset(self, key: str, values: Mapping[str, bytes]) -> None:
        try:
            await self._client.hset(key, dict(values))
        except GlideError as exc:
            raise self._error("HSET", exc) from None

    async def hsetnx(self, key: str, field: str, value: bytes) -> bool:
        try:
            return await self._client.hsetnx(key, field, value)
        except GlideError as exc:
            raise self._error("HSETNX", exc) from None

    async def hget(self, key: str, field: str) -> bytes | None:
        try:
            return await self._client.hget(key, field)
        except GlideError as exc:
            raise self._error("HGET", exc) from None

    async def hgetall(self, key: str) -> dict[str, bytes]:
        try:
            got = await self._client.hgetall(key)
        except GlideError as exc:
            raise self._error("HGETALL", exc) from None
        return {k.decode(): v for k, v in got.items()}

    async def expire(self, key: str, seconds: int) -> None:
        try:
            await self._client.expire(key, seconds)
        except GlideError as exc:
            raise self._error("EXPIRE", exc) from None
