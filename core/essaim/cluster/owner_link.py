"""The owner's side of cluster mode: publish what local owners make durable,
and answer what gateways ask.

Every campaign whose owner runs in this process is *attached*: its durable
batches of events go to the campaign's event stream (one XADD per batch,
id ``<last seq>-0``; a campaign's batches waiting merged into one, everything
waiting sent in one pipeline), and its request stream is read: commands go
to the engine (:meth:`~essaim.engine.Engine.submit_nowait`, the same path
as a local phone's) and the reply goes back on the asking gateway's reply
stream once the command is durable; joins, results, structure, exports and
catch-ups are answered from the engine and the store.

In failover mode (a store shared by the cluster) every entry carries the
owner's epoch and goes through a script that Valkey refuses for an epoch
older than the campaign's newest (``essaim:C:epoch``): an owner that lost
its campaign to another process cannot publish. A takeover starts with a
*tip* entry telling gateways the new epoch and durable seq (:meth:`OwnerLink.took_over`).

Publishing never blocks the owner: batches wait in a bounded buffer while
Valkey is away. Past :data:`MAX_UNPUBLISHED` events the oldest are dropped
(counted in ``dropped``): they are durable in the store, and gateways see
the gap in the stream and catch up from it.
"""

from __future__ import annotations

import base64
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import orjson
import trio

from essaim.cluster.bus import Add, Bus, BusError
from essaim.cluster.wire import (
    REPLIES_MAX_ENTRIES,
    STREAM_MAX_ENTRIES,
    encode_events,
    encode_stored,
    epoch_key,
    events_key,
    replies_key,
    requests_key,
    snapshot_key,
)
from essaim.errors import CommandError, EssaimError
from essaim.model.commands import Ack, Actor, Command
from essaim.model.events import Event

if TYPE_CHECKING:
    from essaim.engine import Engine
    from essaim.engine._owner import CampaignOwner

__all__ = ["OwnerLink", "MAX_UNPUBLISHED", "CATCHUP_MAX_EVENTS", "SNAPSHOT_TTL_SECONDS"]

log = logging.getLogger("essaim.cluster.owner")

#: Events and replies waiting for Valkey: ~20,000 acks/s for 10 s of an
#: outage; past it the oldest go (gateways catch up from the store).
MAX_UNPUBLISHED = 200_000
#: Events one catch-up reply carries; a gateway further behind asks again.
CATCHUP_MAX_EVENTS = 20_000
#: Seconds a snapshot handed to a gateway stays in Valkey (it reads it at once).
SNAPSHOT_TTL_SECONDS = 120
#: Requests read in one XREAD: a burst of commands from every gateway in one trip.
READ_COUNT = 1024
#: Milliseconds one XREAD of the request streams blocks; new campaigns join
#: the read within this.
READ_BLOCK_MS = 500
#: Expensive answers (results, structure, exports, catch-ups, replicas'
#: snapshots) computed at once; joins do not wait for them.
CONCURRENT_READS = 8
#: Seconds between two tries while Valkey is away.
RETRY_SECONDS = 0.5


@dataclass(slots=True)
class _Batch:
    campaign_id: str
    events: list[Event]
    published_at: float
    #: The owner's epoch (failover mode), or None.
    epoch: int | None = None


@dataclass
class _Outbox:
    items: list[_Batch | Add] = field(default_factory=list)
    #: Events and replies in ``items``.
    size: int = 0
    #: The batch of each campaign in ``items`` (new events join it).
    batches: dict[str, _Batch] = field(default_factory=dict)


class OwnerLink:
    """Publication and request service of the campaigns owned here."""

    def __init__(self, engine: Engine, publish_bus: Bus, read_bus: Bus) -> None:
        self.engine = engine
        self._publish_bus = publish_bus
        self._read_bus = read_bus
        self._out = _Outbox()
        self._wake = trio.Event()
        self._in_flight = 0
        #: Campaigns whose dropped batches gateways must learn about (see _tips).
        self._tips_owed: set[str] = set()
        self._last_request: dict[str, str] = {}
        #: The epoch each campaign served here is published with (failover mode).
        self._epochs: dict[str, int] = {}
        self._reads = trio.CapacityLimiter(CONCURRENT_READS)
        self._nursery: trio.Nursery | None = None
        #: Batches dropped while Valkey was away (gateways caught up from the store).
        self.dropped = 0
        self.published = 0
        self.requests = 0
        #: Entries Valkey refused because a newer owner publishes the campaign.
        self.fenced = 0

    # -- attaching ------------------------------------------------------------------------

    async def attach(self, owner: CampaignOwner) -> None:
        """Publish this campaign's batches and serve its requests."""
        cid = owner.campaign_id
        # Not a use: the campaign is unloaded once finished and unused, as in one process.
        owner.subscribe(lambda events: self._on_events(cid, owner.epoch, events), use=False)
        await self.serve(cid, owner.epoch)

    async def serve(self, campaign_id: str, epoch: int | None = None) -> None:
        """Serve the campaign's requests from now on (requests older than its
        owner are for a previous one, whose gateways send again what they
        still wait for). A finished campaign taken over is served before it is
        loaded: the first request loads it."""
        if epoch is not None:
            self._epochs[campaign_id] = epoch
        if campaign_id in self._last_request:
            return
        try:
            self._last_request[campaign_id] = await self._read_bus.last_id(requests_key(campaign_id))
        except BusError:
            self._last_request[campaign_id] = "$"  # read what comes from the next read on
            log.warning("campaign %s: Valkey unreachable while attaching; serving its requests when it is back",
                        campaign_id)

    def detach(self, campaign_id: str) -> None:
        """Stop serving the campaign (it moved to another process)."""
        self._last_request.pop(campaign_id, None)
        self._epochs.pop(campaign_id, None)

    def took_over(self, campaign_id: str, seq: int, epoch: int, node: str) -> None:
        """Tell gateways a new owner serves the campaign from durable ``seq``:
        a tip entry, ordered with the batches that follow."""
        self._push(Add(events_key(campaign_id), {"tip": str(seq).encode(), "e": str(epoch).encode(),
                                                 "n": node.encode()},
                       ident=f"{seq}-{epoch + 1}", maxlen=STREAM_MAX_ENTRIES,
                       fence=(epoch_key(campaign_id), epoch)))

    # -- publishing -------------------------------------------------------------------------

    def _push(self, item: _Batch | Add) -> None:
        out = self._out
        if out.size + self._in_flight >= MAX_UNPUBLISHED:
            self._drop(out)
            self._out = out = _Outbox()
        out.items.append(item)
        out.size += len(item.events) if isinstance(item, _Batch) else 1
        self._wake.set()

    def _drop(self, out: _Outbox) -> None:
        self.dropped += out.size
        self._tips_owed.update(item.campaign_id for item in out.items if isinstance(item, _Batch))
        self._wake.set()
        log.error("Valkey unreachable: %d unpublished events and replies dropped; gateways catch up from the store",
                  out.size)

    def _on_events(self, campaign_id: str, epoch: int | None, events: list[Event]) -> None:
        last = self._out.batches.get(campaign_id)
        if last is not None and last.events[-1].seq + 1 == events[0].seq and last.epoch == epoch:
            # One entry for all the campaign's batches waiting, even with
            # replies between them: the entry stays ahead of every reply
            # that follows it (and gateways hold acks until applied anyway).
            last.events.extend(events)
            self._out.size += len(events)
            if self._out.size + self._in_flight > MAX_UNPUBLISHED:
                self._drop(self._out)
                self._out = _Outbox()
            return
        batch = _Batch(campaign_id, list(events), time.time(), epoch)
        self._push(batch)
        self._out.batches[campaign_id] = batch

    def reply(self, node: str, request: bytes, ok: Any = None, error: CommandError | None = None) -> None:
        fields = {"r": request}
        if error is not None:
            fields["e"] = orjson.dumps({"code": error.code, "message": error.message})
        else:
            fields["ok"] = orjson.dumps(ok)
        self._push(Add(replies_key(node), fields, maxlen=REPLIES_MAX_ENTRIES))

    async def run_publisher(self) -> None:
        while True:
            await self._wake.wait()
            await self.flush()

    async def flush(self) -> None:
        """Send everything waiting, in order, in one pipeline; keep it while
        Valkey is away (within MAX_UNPUBLISHED)."""
        while self._out.items or self._tips_owed:
            out, self._out = self._out, _Outbox()
            self._wake = trio.Event()
            tipped = set(self._tips_owed)
            adds = [self._entry(item) for item in out.items] + self._tips(tipped)
            self._in_flight = out.size
            try:
                results = await self._publish_bus.add_many(adds)
            except BusError as exc:
                log.warning("publishing failed, retrying: %s", exc)
                if out.size + self._out.size > MAX_UNPUBLISHED:
                    self._drop(out)  # the oldest go; what came meanwhile is kept
                else:
                    out.items.extend(self._out.items)
                    out.size += self._out.size
                    out.batches = self._out.batches  # new events join the newer batches
                    self._out = out
                await trio.sleep(RETRY_SECONDS)
                continue
            finally:
                self._in_flight = 0
            for add, result in zip(adds, results):
                if not isinstance(result, Exception) or "equal or smaller" in str(result):
                    continue  # equal or smaller: published before
                if "FENCED" in str(result):
                    self.fenced += 1
                    log.warning("Valkey refused a stale publication to %s: %s", add.key, result)
                else:
                    log.error("Valkey refused %s: %s", add.key, result)
            self.published += len(adds)
            self._tips_owed -= tipped

    def _tips(self, campaign_ids: set[str]) -> list[Add]:
        """After dropped batches, a *tip* entry per campaign (id ``<durable
        seq>-1``, no events): the last batches may be among those dropped, and
        without a later entry a gateway would not see that it is behind."""
        tips = []
        for cid in campaign_ids:
            owner = self.engine.loaded_owner(cid)
            if owner is not None:
                seq, epoch = owner.durable_seq, self._epochs.get(cid)
                fields = {"tip": str(seq).encode()} if epoch is None else {"tip": str(seq).encode(),
                                                                           "e": str(epoch).encode()}
                tips.append(Add(events_key(cid), fields, ident=f"{seq}-1", maxlen=STREAM_MAX_ENTRIES,
                                fence=None if epoch is None else (epoch_key(cid), epoch)))
        return tips

    @staticmethod
    def _entry(item: _Batch | Add) -> Add:
        if isinstance(item, Add):
            return item
        fields = {"b": encode_events(item.events), "t": repr(item.published_at).encode()}
        if item.epoch is None:
            return Add(events_key(item.campaign_id), fields, ident=f"{item.events[-1].seq}-0",
                       maxlen=STREAM_MAX_ENTRIES)
        fields["e"] = str(item.epoch).encode()
        return Add(events_key(item.campaign_id), fields, ident=f"{item.events[-1].seq}-0", maxlen=STREAM_MAX_ENTRIES,
                   fence=(epoch_key(item.campaign_id), item.epoch))

    # -- requests ---------------------------------------------------------------------------

    async def run_requests(self, *, task_status: trio.TaskStatus[None] = trio.TASK_STATUS_IGNORED) -> None:
        async with trio.open_nursery() as nursery:
            self._nursery = nursery
            task_status.started()
            while True:
                if not self._last_request:
                    await trio.sleep(READ_BLOCK_MS / 1000)  # nothing owned here yet
                    continue
                keys = {requests_key(cid): last for cid, last in self._last_request.items()}
                try:
                    got = await self._read_bus.read(keys, count=READ_COUNT, block_ms=READ_BLOCK_MS)
                except BusError as exc:
                    log.warning("reading requests failed, retrying: %s", exc)
                    await trio.sleep(RETRY_SECONDS)
                    continue
                for key, entries in got:
                    cid = key.split(":")[1]
                    if cid not in self._last_request:
                        continue
                    self._last_request[cid] = entries[-1][0].decode()
                    for _, fields in entries:
                        self.requests += 1
                        self._dispatch(cid, fields)

    def _dispatch(self, cid: str, fields: dict[bytes, bytes]) -> None:
        node, request, kind = fields[b"n"].decode(), fields[b"r"], fields[b"k"].decode()
        args = orjson.loads(fields[b"a"])
        if kind == "cmd":
            self._command(cid, node, request, args)
            return
        answer = _ANSWERS.get(kind)
        if answer is None:
            self.reply(node, request, error=CommandError(f"unknown request {kind!r}", code="bad_request"))
            return
        assert self._nursery is not None
        self._nursery.start_soon(self._answer, answer, cid, node, request, args)

    def _command(self, cid: str, node: str, request: bytes, args: dict[str, Any]) -> None:
        actor = Actor(args["role"], args.get("pid"))
        command = Command(args["type"], args.get("args") or {}, args.get("msg"))

        def reply(ack: Ack | None, error: CommandError | None) -> None:
            if error is not None:
                self.reply(node, request, error=error)
            else:
                assert ack is not None
                self.reply(node, request, {"seq": ack.seq, "result": ack.result, "duplicate": ack.duplicate})

        try:
            self.engine.submit_at_owner(cid, actor, command, reply)
        except CommandError as error:
            self.reply(node, request, error=error)

    async def _answer(self, answer: Answer, cid: str, node: str, request: bytes, args: dict[str, Any]) -> None:
        try:
            if answer is OwnerLink._join:
                # A join is a command: the owner's bounded queue paces it. Behind
                # the limiter of heavy reads, 400 joins/s queued up past the
                # gateways' deadline (bench-cluster at 5,000 sessions).
                ok = await answer(self, cid, node, request, args)
            else:
                async with self._reads:
                    ok = await answer(self, cid, node, request, args)
        except CommandError as error:
            self.reply(node, request, error=error)
        except BusError as error:
            self.reply(node, request, error=CommandError(f"{error}; try again in a moment", code="unavailable"))
        except EssaimError as error:
            log.error("campaign %s: a gateway's request failed: %s", cid, error, exc_info=error)
            self.reply(node, request, error=CommandError(str(error), code="plugin_error"))
        else:
            self.reply(node, request, ok)

    # -- answers (one per request kind) -------------------------------------------------------------

    async def _join(self, cid: str, node: str, request: bytes, args: dict[str, Any]) -> Any:
        pid, seq = await self.engine.join_at_owner(cid, args["profile"], args["token_hash"])
        return {"pid": pid, "seq": seq}

    async def _results(self, cid: str, node: str, request: bytes, args: dict[str, Any]) -> Any:
        return orjson.Fragment(orjson.dumps((await self.engine.results(cid, max_age=args["max_age"])).to_dict()))

    async def _structure(self, cid: str, node: str, request: bytes, args: dict[str, Any]) -> Any:
        return (await self.engine.structure(cid, max_age=args["max_age"])).to_dict()

    async def _export(self, cid: str, node: str, request: bytes, args: dict[str, Any]) -> Any:
        files = await self.engine.export(cid, args["format"])
        return [{"name": f.name, "media_type": f.media_type, "content": base64.b64encode(f.content).decode()}
                for f in files]

    async def _load(self, cid: str, node: str, request: bytes, args: dict[str, Any]) -> Any:
        """A new replica: the store's newest snapshot and the events after it,
        handed over as a key (it can be hundreds of MB; replies stay small)."""
        self.engine.owner(cid)  # NotFound / unavailable first
        store = self.engine.store
        stored = await trio.to_thread.run_sync(store.load, cid) if store.blocking else store.load(cid)
        blob = await trio.to_thread.run_sync(encode_stored, stored)
        key = snapshot_key(cid, node, int(request))
        await self._publish_bus.set(key, blob, ttl_seconds=SNAPSHOT_TTL_SECONDS)
        return {"key": key, "seq": stored.events[-1].seq if stored.events else stored.snapshot_seq}

    async def _events(self, cid: str, node: str, request: bytes, args: dict[str, Any]) -> Any:
        """Catch-up after a gap: the durable events after ``after``, at most CATCHUP_MAX_EVENTS."""
        self.engine.owner(cid)
        store = self.engine.store
        after = int(args["after"])
        events = (await trio.to_thread.run_sync(store.events, cid, after) if store.blocking
                  else store.events(cid, after))
        part = events[:CATCHUP_MAX_EVENTS]
        return {"events": orjson.Fragment(encode_events(part)), "more": len(events) > len(part)}


Answer = Callable[[OwnerLink, str, str, bytes, dict[str, Any]], Any]
_ANSWERS: dict[str, Answer] = {
    "join": OwnerLink._join, "results": OwnerLink._results, "structure": OwnerLink._structure,
    "export": OwnerLink._export, "load": OwnerLink._load, "events": OwnerLink._events,
}
