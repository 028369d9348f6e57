"""The gateway's side of cluster mode: replicas, requests, replies.

One reader task follows, in a single XREAD BLOCK, this process's reply
stream, the directory of campaigns, and the event stream of every replica
from its own seq. A batch that does not follow a replica's seq (entries
trimmed, a Valkey that restarted empty, a publication the owner dropped)
is a gap: the replica asks the owner for the durable events after its seq,
applies them, and goes back to the stream, so nothing is lost or applied
twice. Requests (commands, joins, reads) wait in a bounded buffer, leave in
one pipeline, and each has a deadline: a request the owner does not answer
in time (owner or Valkey gone) is answered ``unavailable``, which phones
retry with the same message id (applied once: the owner remembers ids).
"""

from __future__ import annotations

import itertools
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import orjson
import trio

from essaim.cluster.bus import Add, Bus, BusError
from essaim.cluster.replica import OnReply, Replica, error_from_reply
from essaim.cluster.sources import OwnerSource, ReplicaSource
from essaim.cluster.wire import (
    CAMPAIGNS,
    CODES,
    DIRECTORY,
    REQUESTS_MAX_ENTRIES,
    decode_events,
    events_key,
    replies_key,
    requests_key,
)
from essaim.engine.metrics import LATENCY_BUCKETS, Histogram
from essaim.errors import CommandError, LimitExceeded, PluginError, StoreError

if TYPE_CHECKING:
    from essaim.plugin import PluginHost

__all__ = ["GatewayLink", "MAX_PENDING_REQUESTS", "REQUEST_TIMEOUT_SECONDS"]

log = logging.getLogger("essaim.cluster.gateway")

#: Requests of this process waiting for their owner's answer. Like the
#: owner's command queue: past it, "busy" at once instead of a longer wait.
MAX_PENDING_REQUESTS = 8192
#: Seconds a request may wait for its answer; then "unavailable" (the phone
#: retries). An owner answers in milliseconds; results of a big campaign
#: take seconds, so reads get READ_TIMEOUT_SECONDS.
REQUEST_TIMEOUT_SECONDS = 10.0
READ_TIMEOUT_SECONDS = 60.0
#: Entries read in one XREAD across all streams.
READ_COUNT = 1024
#: Milliseconds one XREAD blocks; a new replica joins the read within this.
READ_BLOCK_MS = 250
#: Seconds between two tries while Valkey is away.
RETRY_SECONDS = 0.5
#: Seconds of failing reads before this gateway refuses actions at once
#: (before that, a request still leaves and gets its own answer or deadline).
DOWN_AFTER_SECONDS = 1.0

#: Requests sent again to a new owner after a takeover: those applied once
#: however often they come (a participant's command carries its message id,
#: a join its token, reads change nothing). A facilitator's command has no
#: id (a second "extend" would extend twice): it gets "unavailable" instead.
RESENDABLE = frozenset({"join", "results", "structure", "export", "load", "events"})


@dataclass(slots=True)
class _Pending:
    deadline: float
    on_reply: OnReply
    campaign_id: str
    add: Add
    timeout: float
    resendable: bool


def _unavailable(what: str) -> CommandError:
    return CommandError(f"{what}; try again in a moment", code="unavailable")


class GatewayLink:
    """Replicas of the campaigns owned elsewhere, and the requests to their owners."""

    def __init__(self, node: str, host: PluginHost, send_bus: Bus, read_bus: Bus, *,
                 source: ReplicaSource | None = None, serves_own: bool = False,
                 unload_finished_after: float = 0.0) -> None:
        self.node = node
        #: Where replicas are built and gaps filled from (the owner by default).
        self.source: ReplicaSource = source or OwnerSource(self)
        #: Failover mode: this process's own campaigns are served from replicas too.
        self.serves_own = serves_own
        #: Seconds a finished campaign's replica nobody uses stays (0 keeps them), as the engine does.
        self.unload_finished_after = unload_finished_after
        #: When each replica was last asked for (trio time).
        self._used: dict[str, float] = {}
        #: The newest owner epoch seen on each replica's stream (failover mode);
        #: a replica starts from the directory's (so its first takeover is seen).
        self.epochs: dict[str, int] = {}
        self._announced_epochs: dict[str, int] = {}
        #: Called as ``on_takeover(campaign_id, epoch, node)`` when a campaign's
        #: stream says another owner took it (the engine steps down if it was us).
        self.on_takeover: Callable[[str, int, str], None] = lambda campaign_id, epoch, node: None
        self.resent = 0
        self.host = host
        self._send_bus = send_bus
        self._read_bus = read_bus
        self._numbers = itertools.count(1)
        self._pending: dict[int, _Pending] = {}
        self._outgoing: list[tuple[int, Add]] = []
        self._wake = trio.Event()
        self._replies_from = "0-0"
        self._directory_from = "$"
        self.replicas: dict[str, Replica] = {}
        self._loading: set[str] = set()
        #: Set, then replaced, each time a replica is ready (or its loading failed).
        self._replica_done = trio.Event()
        #: Campaigns owned elsewhere: id -> join code (the directory).
        self.directory: dict[str, str] = {}
        self.codes: dict[str, str] = {}
        #: False while Valkey does not answer: commands are refused at once.
        self.connected = True
        self._nursery: trio.Nursery | None = None
        #: Seconds from the owner's publication of a batch to its application here.
        self.lag_seconds = Histogram(LATENCY_BUCKETS)
        self.gaps = 0

    # -- requests ---------------------------------------------------------------------------

    def request(self, campaign_id: str, kind: str, args: Any, on_reply: OnReply, *,
                timeout: float = REQUEST_TIMEOUT_SECONDS) -> None:
        """Send a request to the campaign's owner; ``on_reply(ok, error)``
        runs on the trio thread with its answer, or ``unavailable`` after
        ``timeout``. Raises CommandError at once when it cannot be sent."""
        if not self.connected:
            raise _unavailable("the cluster's bus (Valkey) is unreachable from this server")
        if len(self._pending) >= MAX_PENDING_REQUESTS:
            raise LimitExceeded("this server is waiting on too many answers; retry in a moment", code="busy")
        number = next(self._numbers)
        add = Add(requests_key(campaign_id), {
            "k": kind.encode(), "n": self.node.encode(), "r": str(number).encode(), "a": orjson.dumps(args),
        }, maxlen=REQUESTS_MAX_ENTRIES)
        resendable = kind in RESENDABLE or (kind == "cmd" and args.get("role") == "participant" and bool(args.get("msg")))
        self._pending[number] = _Pending(trio.current_time() + timeout, on_reply, campaign_id, add, timeout, resendable)
        self._outgoing.append((number, add))
        self._wake.set()

    def _resend(self, campaign_id: str) -> None:
        """Send the campaign's unanswered requests again (a new owner took it
        over); those that cannot be repeated safely are answered unavailable."""
        now = trio.current_time()
        for number, pending in list(self._pending.items()):
            if pending.campaign_id != campaign_id:
                continue
            if pending.resendable:
                pending.deadline = now + pending.timeout
                self._outgoing.append((number, pending.add))
                self.resent += 1
            else:
                self._answer(number, None, _unavailable("the campaign moved to another server meanwhile"))
        self._wake.set()

    async def read_key(self, key: str) -> bytes | None:
        return await self._read_bus.get(key)

    async def ask(self, campaign_id: str, kind: str, args: Any, *, timeout: float = READ_TIMEOUT_SECONDS) -> Any:
        """:meth:`request`, awaited: the answer, or its CommandError raised."""
        done = trio.Event()
        outcome: list[tuple[Any, CommandError | None]] = []

        def on_reply(ok: Any, error: CommandError | None) -> None:
            outcome.append((ok, error))
            done.set()

        self.request(campaign_id, kind, args, on_reply, timeout=timeout)
        await done.wait()
        ok, error = outcome[0]
        if error is not None:
            raise error
        return ok

    def _answer(self, number: int, ok: Any, error: CommandError | None) -> None:
        pending = self._pending.pop(number, None)
        if pending is not None:  # else: answered "unavailable" already (late)
            pending.on_reply(ok, error)

    async def run_sender(self) -> None:
        while True:
            await self._wake.wait()
            self._wake = trio.Event()
            sending, self._outgoing = self._outgoing, []
            if not sending:
                continue
            try:
                results = await self._send_bus.add_many([add for _, add in sending])
            except BusError as exc:
                log.warning("sending requests failed: %s", exc)
                for number, _ in sending:
                    self._answer(number, None, _unavailable("the cluster's bus (Valkey) did not take this action"))
                continue
            for (number, _), result in zip(sending, results):
                if isinstance(result, Exception):
                    self._answer(number, None, _unavailable(f"Valkey refused the request ({result})"))

    async def run_deadlines(self) -> None:
        """Answer ``unavailable`` to requests past their deadline (one sweep
        per second over all of them, not a timer per request)."""
        while True:
            await trio.sleep(1.0)
            now = trio.current_time()
            late = [n for n, p in self._pending.items() if p.deadline <= now]
            for number in late:
                self._answer(number, None, _unavailable("the campaign's owner did not answer in time"))
            for replica in self.replicas.values():
                replica.expire_held(now)
            if self.unload_finished_after > 0:
                self._unload_idle(now)

    def _unload_idle(self, now: float) -> None:
        """Drop replicas of finished campaigns nobody used for
        ``unload_finished_after`` seconds (a connected phone counts as use),
        as the engine unloads its own: a 10,000-person campaign's state is
        ~200 MiB. Asked for again, it is replicated again."""
        for campaign_id, replica in list(self.replicas.items()):
            if replica.listened:
                self._used[campaign_id] = now
            elif (replica.state.status == "finished"
                  and now - self._used.get(campaign_id, now) >= self.unload_finished_after):
                del self.replicas[campaign_id]
                self._used.pop(campaign_id, None)
                log.info("campaign %s: replica unloaded after %.0f s unused", campaign_id, self.unload_finished_after)

    # -- replicas ---------------------------------------------------------------------------

    def replica(self, campaign_id: str) -> Replica | None:
        """The ready replica, or None (its loading then starts, if it was not under way)."""
        replica = self.replicas.get(campaign_id)
        if replica is not None and replica.broken:  # see Replica.broken: rebuilt from the store
            del self.replicas[campaign_id]
            replica = None
        self._used[campaign_id] = trio.current_time()
        if replica is None and campaign_id not in self._loading and self._nursery is not None:
            self._loading.add(campaign_id)
            self._nursery.start_soon(self._load, campaign_id)
        return replica

    async def _load(self, campaign_id: str) -> None:
        """Build a replica from the owner's store, then follow the stream from its seq."""
        try:
            stored = await self.source.load(campaign_id)
            state = await trio.to_thread.run_sync(stored.rebuild, self.host.registry.phase_states)
            self.host.registry.require_installed(state)
            self.replicas[campaign_id] = Replica(state, self.host, self)
            self.epochs[campaign_id] = max(self.epochs.get(campaign_id, 0), self._announced_epochs.get(campaign_id, 0))
            log.info("campaign %s replicated at seq %d", campaign_id, state.seq)
        except (CommandError, BusError, StoreError) as exc:
            log.warning("campaign %s could not be replicated yet: %s", campaign_id, exc)
        except PluginError as exc:  # a plugin its log needs is not installed here
            log.error("campaign %s cannot be replicated on this server: %s", campaign_id, exc)
        finally:
            self._loading.discard(campaign_id)
            self._replica_done.set()
            self._replica_done = trio.Event()

    async def replicated(self, campaign_id: str) -> Replica:
        """The campaign's replica, once ready; CommandError "unavailable" if
        its loading fails (the owner or Valkey is gone)."""
        while True:
            done = self._replica_done
            replica = self.replica(campaign_id)
            if replica is not None:
                return replica
            await done.wait()
            if campaign_id not in self._loading and campaign_id not in self.replicas:
                raise _unavailable("this campaign could not be loaded on this server")

    def _start_catch_up(self, replica: Replica) -> None:
        replica.catching_up = True
        assert self._nursery is not None
        self._nursery.start_soon(self._catch_up, replica)

    async def _catch_up(self, replica: Replica) -> None:
        """Fill a gap from the owner's store: the durable events after the replica's seq."""
        self.gaps += 1
        try:
            while True:
                events, more = await self.source.events_after(replica.campaign_id, replica.state.seq)
                if events and not replica.apply(events):
                    raise _unavailable(f"the owner's events after seq {replica.state.seq} do not follow it")
                if not more:
                    return
        except (CommandError, BusError, StoreError) as exc:
            log.warning("campaign %s: catching up failed, trying again: %s", replica.campaign_id, exc)
            await trio.sleep(RETRY_SECONDS)
        finally:
            replica.catching_up = False

    # -- the reader ---------------------------------------------------------------------------

    async def load_directory(self) -> None:
        self._directory_from = await self._read_bus.last_id(DIRECTORY)
        for cid, value in (await self._read_bus.hgetall(CAMPAIGNS)).items():
            self.learn(cid, orjson.loads(value))

    async def look_up(self, campaign_id: str) -> bool:
        """Whether the directory knows the campaign (asking Valkey when this
        process has not heard of it yet: it may have been created a moment ago)."""
        if campaign_id not in self.directory:
            try:
                info = await self._read_bus.hget(CAMPAIGNS, campaign_id) if self.connected else None
            except BusError:
                info = None
            if info is not None:
                self.learn(campaign_id, orjson.loads(info))
        return campaign_id in self.directory

    async def look_up_code(self, code: str) -> str | None:
        """The campaign of a join code this process has not heard of yet, from Valkey."""
        try:
            cid = await self._read_bus.hget(CODES, code) if self.connected else None
        except BusError:
            return None
        if cid is None or not await self.look_up(cid.decode()):
            return None
        return cid.decode()

    def learn(self, campaign_id: str, info: dict[str, Any]) -> None:
        if info.get("node") == self.node and not self.serves_own:
            return  # ours: the local engine serves it
        self.directory[campaign_id] = info["code"]
        if "epoch" in info:
            self._announced_epochs[campaign_id] = int(info["epoch"])
        self.codes[info["code"]] = campaign_id

    async def run_reader(self, *, task_status: trio.TaskStatus[None] = trio.TASK_STATUS_IGNORED) -> None:
        async with trio.open_nursery() as nursery:
            self._nursery = nursery
            task_status.started()
            failing_since: float | None = None
            while True:
                keys = {replies_key(self.node): self._replies_from, DIRECTORY: self._directory_from}
                for cid, replica in self.replicas.items():
                    if not replica.catching_up:
                        keys[events_key(cid)] = f"{replica.state.seq}-0"
                try:
                    got = await self._read_bus.read(keys, count=READ_COUNT, block_ms=READ_BLOCK_MS)
                except BusError as exc:
                    # One slow answer on a loaded machine is not an outage:
                    # refuse actions once reads have failed for DOWN_AFTER_SECONDS.
                    now = trio.current_time()
                    failing_since = now if failing_since is None else failing_since
                    if self.connected and now - failing_since >= DOWN_AFTER_SECONDS:
                        log.error("lost Valkey: %s; actions are refused as unavailable until it is back", exc)
                        self.connected = False
                    await trio.sleep(RETRY_SECONDS)
                    continue
                failing_since = None
                if not self.connected:
                    log.info("Valkey is back")
                    self.connected = True
                for key, entries in got:
                    self._on_entries(key, entries)

    def _on_entries(self, key: str, entries: list[tuple[bytes, dict[bytes, bytes]]]) -> None:
        if key == DIRECTORY:
            self._directory_from = entries[-1][0].decode()
            for _, fields in entries:
                self.learn(fields[b"c"].decode(), orjson.loads(fields[b"i"]))
            return
        if key.startswith("essaim:node:"):
            self._replies_from = entries[-1][0].decode()
            for _, fields in entries:
                number = int(fields[b"r"])
                if b"e" in fields:
                    self._answer(number, None, error_from_reply(orjson.loads(fields[b"e"])))
                else:
                    self._answer(number, orjson.loads(fields[b"ok"]), None)
            return
        campaign_id = key.split(":")[1]
        replica = self.replicas.get(campaign_id)
        if replica is None or replica.catching_up or replica.broken:
            return
        now = time.time()
        for _, fields in entries:
            epoch = int(fields.get(b"e", 0))
            known = self.epochs.get(campaign_id, 0)
            if epoch < known:
                continue  # a stale owner's entry (Valkey refuses them; a restarted one may not know yet)
            if epoch > known:
                self.epochs[campaign_id] = epoch
                if known:  # a takeover since this replica was built
                    log.warning("campaign %s: owner epoch %d (node %s)", campaign_id, epoch,
                                fields.get(b"n", b"?").decode())
                    self._resend(campaign_id)
                    self.on_takeover(campaign_id, epoch, fields.get(b"n", b"").decode())
            if b"tip" in fields:  # batches were dropped up to there, or a takeover: behind it, catch up
                if int(fields[b"tip"]) > replica.state.seq:
                    self._start_catch_up(replica)
                    return
                continue
            if not replica.apply(decode_events(fields[b"b"])):
                self._start_catch_up(replica)
                return
            self.lag_seconds.observe(max(0.0, now - float(fields[b"t"])))
