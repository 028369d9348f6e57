"""The participant WebSocket (``/ws``), served as a bare ASGI route.

Served outside Quart's request machinery (~30% cheaper per frame). Each
connection has two tasks: the *reader* (this handler) parses frames,
checks them and hands actions to the engine with ``submit_nowait``; the
*writer* waits on the connection's :class:`~essaim.server.ws.outbox.Outbox`
and sends at most one frame per ``update_interval``, built from whatever
is owed by then. Acks are queued by the engine's reply callback once the
action is durable. A client that does not read (outbox full, or a frame
stuck in the kernel past ``slow_client_timeout``) is closed with 4000 and
its socket cut after a grace period, so it never holds anyone else back.

Resources: one outbox (a few lists and flags), one token bucket per
participant (in the hub), two tasks. Errors in a client's input are
answered with an error code; they never reach the campaign.
"""

from __future__ import annotations

import itertools
import logging
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

import orjson
import trio

from essaim.engine._owner import check_profile
from essaim.errors import CommandError, EssaimError
from essaim.model.commands import MAX_MSG_ID_CHARS, Actor, Command
from essaim.server.ops.sampled_log import SampledLog
from essaim.server.proxies import FORWARDED_SCHEME_KEY, client_address
from essaim.server.ratelimit import TokenBucket
from essaim.server.views import (
    PROTOCOL_VERSION,
    campaign_view,
    counters_view,
    phase_view,
    results_view,
    results_wanted,
    task_view,
    you_view,
)
from essaim.server.ws.messages import QUERIES, QUERY_TYPES, SESSION_MESSAGES, check_message
from essaim.server.ws.outbox import Outbox
from essaim.server.ws.transports import abort_transport

if TYPE_CHECKING:
    from essaim.model.commands import Ack
    from essaim.server.context import ServerContext
    from essaim.server.ws.fanout import CampaignHub

__all__ = ["ParticipantSocket", "Connection", "QUERY_TYPES", "CLOSE_TOO_SLOW", "CLOSE_RESTART",
           "CLOSE_UNAUTHORIZED", "CLOSE_POLICY", "CLOSE_TRY_AGAIN_LATER"]

log = logging.getLogger("essaim.server.ws")

CLOSE_NORMAL = 1000
CLOSE_POLICY = 1008
CLOSE_RESTART = 1012
#: RFC 6455 "Try Again Later": the address holds too many sockets; the page retries with back-off.
CLOSE_TRY_AGAIN_LATER = 1013
CLOSE_TOO_SLOW = 4000
CLOSE_UNAUTHORIZED = 4003

#: Numbers the sockets of this process for log lines.
_connection_ids = itertools.count(1)
#: What a send raises when the client is already going away: hypercorn's
#: shutdown of the socket met the frame (BusyResourceError), or the reset
#: did (Broken/ClosedResourceError; hypercorn catches most of those itself).
PEER_GONE = (trio.BusyResourceError, trio.BrokenResourceError, trio.ClosedResourceError)

#: Seconds a join may take once started, shielded from join_timeout and the
#: drain: a durable join takes milliseconds, and a participant created without
#: its token reaching the client is a ghost. Past this the store is stuck:
#: the join is answered "unavailable" and closed with 1012, so the phone retries.
JOIN_SHIELD_SECONDS = 10.0


#: A join code that does not fit is a bad request whatever its length (a
#: join code is never "too long" to a person typing it); a bad token is
#: unauthorized, as a wrong one is.
_JOIN_CODES = {"campaign": "bad_request"}
_RESUME_CODES = {"campaign": "bad_request", "token": "unauthorized"}


def _error(code: str, message: str, msg_id: Any = None) -> dict[str, Any]:
    return {"id": msg_id, "code": code, "message": message}


class ParticipantSocket:
    """The ASGI callable for ``/ws``."""

    def __init__(self, server: ServerContext) -> None:
        self.server = server
        #: Open sockets per client address (entries leave at zero).
        self._by_address: dict[str, int] = {}
        #: Refusals are logged sampled: a flood is one line per 10 s with its size.
        self.join_floods = SampledLog(log)
        self.action_floods = SampledLog(log)

    def sockets_of(self, address: str) -> int:
        return self._by_address.get(address, 0)

    def tracked_addresses(self) -> int:
        return len(self._by_address)

    def origin_allowed(self, scope: dict[str, Any]) -> bool:
        """Same origin, or one of ``allowed_origins``. No Origin header
        (not a browser) is allowed: only browsers are tricked cross-site.
        Behind a trusted proxy the host (and the scheme, when it says) are
        the public ones it forwarded (:mod:`essaim.server.proxies`)."""
        origin = host = None
        for name, value in scope.get("headers", ()):
            if name == b"origin":
                origin = value.decode("latin-1")
            elif name == b"host":
                host = value.decode("latin-1")
        if origin is None:
            return True
        if origin in self.server.settings.allowed_origins:
            return True
        parts = urlsplit(origin)
        scheme = scope.get(FORWARDED_SCHEME_KEY)
        return host is not None and parts.netloc == host and (scheme is None or parts.scheme == scheme)

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        first = await receive()
        if first["type"] != "websocket.connect":
            return
        metrics = self.server.metrics
        if not self.origin_allowed(scope):
            metrics.origin_refused += 1
            await send({"type": "websocket.close", "code": CLOSE_POLICY})  # before accept: HTTP 403
            return
        await send({"type": "websocket.accept"})
        if self.server.draining:
            await send({"type": "websocket.close", "code": CLOSE_RESTART})
            return
        address = client_address(scope)
        held = self._by_address.get(address, 0)
        if held >= self.server.settings.max_sockets_per_address:
            metrics.address_limit_refused += 1
            await send({"type": "websocket.close", "code": CLOSE_TRY_AGAIN_LATER,
                        "reason": "too many open connections from your address; try again later"})
            return
        self._by_address[address] = held + 1
        conn = Connection(self, scope, send)
        metrics.connections_total += 1
        metrics.connections_open += 1
        self.server.live.add(conn)
        try:
            await conn.run(receive)
        finally:
            conn.finished = True
            self.server.forget(conn)
            metrics.connections_open -= 1
            self.server.hubs.leave(conn)
            left = self._by_address[address] - 1
            if left:
                self._by_address[address] = left
            else:
                del self._by_address[address]


class Connection:
    """One participant's socket after the handshake."""

    __slots__ = ("server", "endpoint", "scope", "_asgi_send", "outbox", "hub", "campaign_id", "pid", "actor",
                 "bucket", "counters_sent", "board_sent", "results_sent", "sending_since", "phase_changed_at", "conn_id", "slow",
                 "finished", "_nursery", "_prejoin_close", "__weakref__")

    def __init__(self, endpoint: ParticipantSocket, scope: dict[str, Any], send: Any) -> None:
        self.server = server = endpoint.server
        #: The /ws route this socket came in by (its flood logs).
        self.endpoint = endpoint
        self.scope = scope
        self._asgi_send = send
        #: Names this socket in log lines ("conn": "c42"): follows one phone through its lines.
        self.conn_id = f"c{next(_connection_ids)}"
        self.outbox = Outbox(server.settings.outbox_max_items)
        self.hub: CampaignHub | None = None
        self.campaign_id: str | None = None
        self.pid: str | None = None
        self.actor: Actor | None = None
        self.bucket: TokenBucket | None = None
        self.counters_sent = 0
        self.board_sent = 0
        self.results_sent = 0
        #: trio time a frame started going out, while it is going out (for the slow-client sweeper).
        self.sending_since: float | None = None
        #: When the phase change in the frame being built was made durable (its staleness, once sent).
        self.phase_changed_at: float | None = None
        self.slow = False
        self.finished = False
        self._nursery: trio.Nursery | None = None
        self._prejoin_close: int | None = None

    # -- lifecycle --------------------------------------------------------------------------

    async def run(self, receive: Any) -> None:
        settings = self.server.settings
        async with trio.open_nursery() as nursery:
            self._nursery = nursery
            code: int | None = None  # stays None when join_timeout passes
            with trio.move_on_after(settings.join_timeout):
                code = await self._join(receive)
            if self._prejoin_close is not None:
                code = self._prejoin_close
            if code is None and self.hub is None:
                code = CLOSE_POLICY  # join_timeout
            if code is not None:
                await self._close(code)
                return
            nursery.start_soon(self._writer)
            await self._read(receive)
            nursery.cancel_scope.cancel()

    async def send(self, message: dict[str, Any]) -> None:
        """Send an ASGI message; a client already going away is not an error.

        A frame that was on its way when the client closed or reset the
        connection can meet hypercorn's shutdown of the socket, and the
        transport raises (:data:`PEER_GONE`). That is ordinary client
        behaviour (a page closed, a phone out of coverage), so it is logged
        at debug level and the connection ends, instead of surfacing as
        "Error in ASGI Framework"."""
        try:
            await self._asgi_send(message)
        except PEER_GONE as error:
            log.debug("client gone while a frame was going out", extra={
                "event": "peer_gone", "conn": self.conn_id, "campaign": self.campaign_id, "pid": self.pid,
                "error": repr(error)})
            if self._nursery is not None:
                self._nursery.cancel_scope.cancel()

    def shutdown(self, code: int) -> None:
        """Close with ``code`` (1012 at server shutdown)."""
        if self.hub is None:
            self._prejoin_close = code
            if self._nursery is not None:
                self._nursery.cancel_scope.cancel()
        else:
            self.outbox.close(code)

    async def _close(self, code: int) -> None:
        with trio.CancelScope(shield=True):
            with trio.move_on_after(self.server.settings.slow_client_close_grace):
                await self.send({"type": "websocket.close", "code": code})

    def cut_off_slow(self) -> None:
        """The client does not read: close 4000, and cut the socket if even that does not go out."""
        if self.slow or self.finished:
            return
        self.slow = True
        metrics = self.server.metrics
        metrics.slow_disconnects += 1
        metrics.updates_dropped += self.outbox.close(CLOSE_TOO_SLOW)
        log.info("slow client cut off", extra={"event": "slow_client", "conn": self.conn_id,
                                                "campaign": self.campaign_id, "pid": self.pid,
                                                "client": client_address(self.scope)})
        self.server.nursery.start_soon(self._abort_after_grace)

    async def _abort_after_grace(self) -> None:
        await trio.sleep(self.server.settings.slow_client_close_grace)
        if not self.finished:
            await abort_transport(self.scope.get("client"))

    # -- joining ------------------------------------------------------------------------------

    async def _send_now(self, obj: dict[str, Any]) -> None:
        data = orjson.dumps(obj)
        metrics = self.server.metrics
        metrics.frames_out += 1
        metrics.bytes_out += len(data)
        await self.send({"type": "websocket.send", "text": data.decode()})

    async def _join(self, receive: Any) -> int | None:
        """Wait for join/resume; answer errors directly (no writer yet).
        Returns a close code, or None once welcomed."""
        settings = self.server.settings
        metrics = self.server.metrics
        for _ in range(settings.max_frames_before_join):
            event = await receive()
            if event["type"] != "websocket.receive":
                return CLOSE_NORMAL
            raw = event.get("text") or event.get("bytes") or b""
            metrics.frames_in += 1
            metrics.bytes_in += len(raw)
            msg = _parse(raw)
            if msg is None:
                await self._send_error_frame("bad_json", "frames must be JSON objects")
                continue
            mtype = msg.get("type")
            if not isinstance(mtype, (str, type(None))):  # a missing type is an unknown one, below
                await self._send_error_frame("bad_request", "'type' must be a string, e.g. \"join\"")
                continue
            if mtype in ("join", "resume") and not self.server.may_attempt_join(self.scope):
                self.endpoint.join_floods.log(
                    logging.WARNING, "join attempts rate limited", "rate_limited", kind="join",
                    conn=self.conn_id, client=client_address(self.scope))
                await self._send_error_frame("rate_limited", "too many join attempts from your address; wait a moment")
                continue
            try:
                if mtype == "join":
                    # A finished campaign gets a look at its results, not a new participant.
                    return None if await self._do_join(msg) else CLOSE_NORMAL
                if mtype == "resume":
                    await self._do_resume(msg)
                    return None
            except CommandError as error:
                await self._send_error_frame(error.code, error.message)
                if error.code == "unauthorized":
                    return CLOSE_UNAUTHORIZED
                if error.code == "unavailable":
                    # The campaign is still being rebuilt after a restart (or
                    # is stopping): 1012 makes the phone retry in 1-5 s.
                    return CLOSE_RESTART
                continue
            if mtype in self.server.engine.commands.participant or mtype in QUERY_TYPES:
                await self._send_error_frame("not_joined", "send 'join' or 'resume' first")
            else:
                await self._send_error_frame("unknown_type", f"unknown type {mtype!r}; send 'join' or 'resume' first")
        await self._send_error_frame("not_joined", "too many frames before 'join' or 'resume'; reconnect")
        return CLOSE_POLICY

    async def _send_error_frame(self, code: str, message: str) -> None:
        self.server.metrics.errors[code] += 1
        await self._send_now({"type": "error", "code": code, "message": message})

    async def _campaign(self, msg: dict[str, Any]) -> str:
        """The campaign of the join code, ready to be served here (in cluster
        mode this gateway's replica of it, built on first use)."""
        code = msg["campaign"]  # checked with the message
        engine = self.server.engine
        campaign_id = await engine.find(code)
        await engine.ready(campaign_id)
        return campaign_id

    async def _do_join(self, msg: dict[str, Any]) -> bool:
        """Join; True once welcomed as a participant, False when the campaign
        is over (the client got a spectator's welcome: nothing was written)."""
        engine = self.server.engine
        check_message(SESSION_MESSAGES["join"][0], msg, _JOIN_CODES)
        campaign_id = await self._campaign(msg)
        profile = msg.get("profile") or {}
        state = engine.state(campaign_id)
        if state.status == "finished":
            await self._welcome_spectator(campaign_id)
            return False
        check_profile(state.template, profile)  # refuse before writing anything
        # Once the join is on its way, join_timeout or the drain must not cut it
        # short: the participant would exist without the client ever getting its
        # token. A drain asked meanwhile closes (1012) right after the welcome.
        welcomed = False
        with trio.CancelScope(shield=True), trio.move_on_after(JOIN_SHIELD_SECONDS):
            joined = await engine.join(campaign_id, profile)
            await self._welcome(campaign_id, joined.pid, joined.token, resumed=False)
            welcomed = True
        if not welcomed:
            # The join was accepted but is not durable yet (the store failed
            # meanwhile): retryable, as any "unavailable". The participant it
            # makes once the store is back never gets its token; the phone
            # joins again.
            raise CommandError("joining takes longer than it should (the server cannot save right now); "
                               "reconnect in a moment", code="unavailable")
        return True

    async def _welcome_spectator(self, campaign_id: str) -> None:
        """Someone opening a finished campaign's link sees its results without
        becoming a participant: late visitors must not change the count of
        who took part (nor write anything). The socket then closes (1000)."""
        engine = self.server.engine
        results = results_view(await engine.results(campaign_id))
        state = engine.state(campaign_id)
        await self._send_now({
            "type": "welcome", "protocol": PROTOCOL_VERSION, "resumed": False, "spectator": True,
            "token": None, "pid": None, "seq": engine.campaign(campaign_id).durable_seq,
            "campaign": campaign_view(state), "phase": phase_view(engine, state),
            "counters": counters_view(state, self.server.hubs.connection_count(campaign_id)),
            "board": None,  # every welcome has it (a typed decoder needs it); no phase runs once finished
            "you": None, "results": results,
        })

    async def _do_resume(self, msg: dict[str, Any]) -> None:
        engine = self.server.engine
        check_message(SESSION_MESSAGES["resume"][0], msg, _RESUME_CODES)
        campaign_id = await self._campaign(msg)
        token = msg["token"]
        actor = engine.authenticate(campaign_id, token)
        if actor.role != "participant":
            # A facilitator token acts through the HTTP API, never as a participant.
            raise CommandError("this token is not a participant's; join again", code="unauthorized")
        await self._welcome(campaign_id, actor.pid, token, resumed=True)  # type: ignore[arg-type]

    async def _welcome(self, campaign_id: str, pid: str, token: str, *, resumed: bool) -> None:
        engine = self.server.engine
        hub = self.server.hubs.get(campaign_id)
        self.campaign_id, self.pid, self.actor = campaign_id, pid, Actor.participant(pid)
        self.bucket = hub.bucket(pid)
        try:
            prompts = await hub.prompts_for(pid)
            # From here to the send, nothing awaits: the snapshot and the
            # registration see the same state, so no change falls between them.
            state = engine.state(campaign_id)
            limit = self.server.settings.max_connections_per_participant
            if len(hub.by_pid.get(pid, ())) >= limit:
                raise CommandError(f"this participant already has {limit} open connections; close another tab "
                                   "or device, then reconnect", code="limit_exceeded")
        except BaseException:
            self.server.hubs.prune(hub)  # a hub made for this welcome alone must not stay
            raise
        self.hub = hub
        hub.add(self)
        self.outbox.take_answers()
        self.outbox.phase = self.outbox.counters = self.outbox.you = self.outbox.results = False
        self.counters_sent = hub.counters.version
        self.board_sent = hub.board.version
        results = None
        if results_wanted(engine, state) and hub.results.version:
            results = orjson.Fragment(hub.shared(hub.results))
            self.results_sent = hub.results.version
        welcome = {
            "type": "welcome",
            "protocol": PROTOCOL_VERSION,
            "resumed": resumed,
            "token": token,
            "pid": pid,
            "seq": engine.campaign(campaign_id).durable_seq,
            "campaign": campaign_view(state),
            "phase": phase_view(engine, state),
            "counters": counters_view(state, len(hub.connections)),
            "board": orjson.Fragment(hub.shared(hub.board)),
            "you": you_view(engine, state, pid, prompts, hub.cards_by_author.get(pid, ())),
            "results": results,
        }
        await self._send_now(welcome)
        log.debug("participant welcomed", extra={"event": "welcomed", "conn": self.conn_id, "campaign": campaign_id,
                                                 "pid": pid, "resumed": resumed, "client": client_address(self.scope)})

    # -- reading -----------------------------------------------------------------------------

    async def _read(self, receive: Any) -> None:
        metrics = self.server.metrics
        while True:
            event = await receive()
            if event["type"] != "websocket.receive":
                return
            raw = event.get("text") or event.get("bytes") or b""
            metrics.frames_in += 1
            metrics.bytes_in += len(raw)
            msg = _parse(raw)
            if msg is None:
                self._answer_error(_error("bad_json", "frames must be JSON objects"))
                continue
            await self._handle(msg)

    def _answer_error(self, entry: dict[str, Any]) -> None:
        self.server.metrics.errors[entry["code"]] += 1
        if not self.outbox.error(entry):
            self.cut_off_slow()

    async def _handle(self, msg: dict[str, Any]) -> None:
        mtype = msg.get("type")
        msg_id = msg.get("id")
        valid_id = msg_id.__class__ is str and 0 < len(msg_id) <= MAX_MSG_ID_CHARS
        # An id that is not one (missing, "", too long, a number) is never
        # echoed back: the error says "id": null, as docs/protocol.md §5 says.
        echo = msg_id if valid_id else None
        if not isinstance(mtype, (str, type(None))):
            self._answer_error(_error("bad_request", "'type' must be a string", echo))
            return
        is_action = mtype in self.server.engine.commands.participant
        if not is_action and mtype not in QUERY_TYPES:
            if mtype in ("join", "resume"):
                self._answer_error(_error("bad_request", "already joined on this connection", echo))
            else:
                self._answer_error(_error("unknown_type", f"unknown type {mtype!r}", echo))
            return
        if not valid_id:
            self._answer_error(_error("bad_request", f"'id' must be a string of 1 to {MAX_MSG_ID_CHARS} characters",
                                      None))
            return
        assert self.bucket is not None
        if not self.bucket.take(trio.current_time()):
            self.endpoint.action_floods.log(
                logging.WARNING, "actions rate limited", "rate_limited", kind="action", conn=self.conn_id,
                campaign=self.campaign_id, pid=self.pid, client=client_address(self.scope))
            self._answer_error(_error("rate_limited", "too many actions; slow down", msg_id))
            return
        if is_action:
            self._submit(mtype, msg, msg_id)  # type: ignore[arg-type]
        else:
            await self._query(mtype, msg, msg_id)  # type: ignore[arg-type]

    def _submit(self, mtype: str, msg: dict[str, Any], msg_id: str) -> None:
        args = {k: v for k, v in msg.items() if k not in ("type", "id")}
        started = trio.current_time()
        metrics = self.server.metrics
        outbox = self.outbox

        def reply(ack: Ack | None, error: CommandError | None) -> None:
            metrics.ack_seconds.observe(trio.current_time() - started)
            if ack is not None:
                entry: dict[str, Any] = {"id": msg_id, "seq": ack.seq, "result": ack.result}
                if ack.duplicate:
                    entry["duplicate"] = True
                if not outbox.ack(entry):
                    self.cut_off_slow()
            elif error is not None:
                self._answer_error(_error(error.code, error.message, msg_id))

        try:
            self.server.engine.submit_nowait(self.campaign_id, self.actor, Command(mtype, args, msg_id), reply)  # type: ignore[arg-type]
        except CommandError as error:
            self._answer_error(_error(error.code, error.message, msg_id))

    async def _query(self, mtype: str, msg: dict[str, Any], msg_id: str) -> None:
        engine = self.server.engine
        try:
            check_message(QUERIES[mtype][0], msg)
            if mtype == "suggest":
                text = msg["text"]
                found = await engine.suggest(self.campaign_id, text)  # type: ignore[arg-type]
                entry: dict[str, Any] = {"id": msg_id, "suggestions": [
                    {"cid": s.cid, "text": s.text, "score": s.score} for s in found]}
            else:
                task = await engine.next_task(self.campaign_id, self.pid)  # type: ignore[arg-type]
                state = engine.state(self.campaign_id)  # type: ignore[arg-type]
                entry = {"id": msg_id, "task": task_view(state, task) if task is not None else None}
        except CommandError as error:
            self._answer_error(_error(error.code, error.message, msg_id))
            return
        except EssaimError as error:  # a plugin raised: the participant gets an error, the server a log line
            assert self.hub is not None
            self.hub.report_plugin_error(mtype, error)
            self._answer_error(_error("plugin_error", f"'{mtype}' is not available right now; try again later",
                                      msg_id))
            return
        if not self.outbox.reply(entry):
            self.cut_off_slow()

    # -- writing -----------------------------------------------------------------------------

    async def _writer(self) -> None:
        interval = self.server.settings.update_interval
        outbox = self.outbox
        last_sent = -interval
        while True:
            await outbox.wait()
            if outbox.close_code is None and trio.current_time() < last_sent + interval:
                # Pace: everything that arrives meanwhile shares this frame. (Only
                # when the interval is not over yet: a sleep costs a cancel scope
                # even when its deadline has passed, and the send is a checkpoint.)
                await trio.sleep_until(last_sent + interval)
            if outbox.close_code is not None:
                await self._close(outbox.close_code)
                assert self._nursery is not None
                self._nursery.cancel_scope.cancel()
                return
            frame = await self._build_frame()
            if frame is None:
                continue
            metrics = self.server.metrics
            metrics.frames_out += 1
            metrics.bytes_out += len(frame)
            self.sending_since = trio.current_time()
            await self.send({"type": "websocket.send", "text": frame.decode()})
            self.sending_since = None
            last_sent = trio.current_time()
            if self.phase_changed_at is not None:
                metrics.phase_staleness.observe(last_sent - self.phase_changed_at)
                self.phase_changed_at = None

    async def _build_frame(self) -> bytes | None:
        """Everything owed now, in one frame; shared parts spliced in as encoded bytes."""
        hub = self.hub
        assert hub is not None and self.pid is not None
        outbox = self.outbox
        prompts = await hub.prompts_for(self.pid) if outbox.you else None
        # No await below: the frame is one consistent view.
        if outbox.close_code is not None:
            return None
        acks, errors, replies = outbox.take_answers()
        phase, counters, you, results = outbox.phase, outbox.counters, outbox.you, outbox.results
        outbox.phase = outbox.counters = outbox.you = outbox.results = False
        counters = counters or self.counters_sent < hub.counters.version  # piggyback when stale
        if not (acks or errors or replies or phase or counters or you or results):
            return None
        engine = self.server.engine
        campaign = engine.campaign(hub.campaign_id)
        parts = [b'{"type":"update","seq":', str(campaign.durable_seq).encode()]
        if acks:
            parts += [b',"acks":', orjson.dumps(acks)]
        if errors:
            parts += [b',"errors":', orjson.dumps(errors)]
        if replies:
            parts += [b',"replies":', orjson.dumps(replies)]
        if phase:
            parts += [b',"phase":', hub.shared(hub.phase)]
            self.phase_changed_at = hub.phase_changed_at
        if counters:
            parts += [b',"counters":', hub.shared(hub.counters)]
            self.counters_sent = hub.counters.version
        if (counters or phase) and self.board_sent < hub.board.version:
            parts += [b',"board":', hub.shared(hub.board)]
            self.board_sent = hub.board.version
        if you:
            parts += [b',"you":', orjson.dumps(you_view(engine, campaign.state, self.pid, prompts or [],
                                                        hub.cards_by_author.get(self.pid, ())))]
        if results:
            parts += [b',"results":', hub.shared(hub.results)]
            self.results_sent = hub.results.version
        parts.append(b"}")
        return b"".join(parts)


def _parse(raw: str | bytes) -> dict[str, Any] | None:
    try:
        msg = orjson.loads(raw)
    except orjson.JSONDecodeError:
        return None
    return msg if isinstance(msg, dict) else None
