"""hypercorn (trio) + quart-trio with no engine: the ceiling of our stack.

One writer task per connection fed by a bounded channel (``send_nowait``),
as the brief prescribes; a broadcaster puts one shared, pre-encoded frame in
every channel. Acks are answered at once: no durability, no strategy.

``--asgi-ws`` serves ``/ws`` as a bare ASGI route in front of the Quart app
(what essaim serve does, ~30% cheaper per frame); without it ``/ws`` is a
Quart websocket route. ``--paced`` spreads each counters refresh over its
interval instead of waking every writer at once, and each phase frame in
slices sized from the measured CPU per frame (``mini.PhasePacer``), as
essaim serve does.
"""

from __future__ import annotations

from collections.abc import Iterable
from functools import partial
from typing import Any

import trio
from hypercorn.config import Config
from hypercorn.trio import serve
from quart import websocket
from quart_trio import QuartTrio

from . import mini

app = QuartTrio(__name__)
campaign = mini.Campaign()
outboxes: set[trio.MemorySendChannel] = set()
settings = {"broadcast": mini.COUNTERS_INTERVAL_SECONDS, "budget": mini.COUNTERS_FRAME_BUDGET, "paced": False}
pacer = mini.PhasePacer(campaign)


def fan_out(frame: bytes, boxes: Iterable[trio.MemorySendChannel] | None = None) -> None:
    for box in list(outboxes) if boxes is None else boxes:
        try:
            box.send_nowait(frame)
        except (trio.WouldBlock, trio.ClosedResourceError):
            pass  # a slow reader misses a refresh (the next one replaces it), or it left


async def broadcaster() -> None:
    await mini.broadcast_counters(campaign, settings, lambda: list(outboxes), trio.sleep, fan_out)


@app.before_serving
async def start_broadcaster() -> None:
    app.nursery.start_soon(broadcaster)


@app.route("/metrics")
async def metrics() -> str:
    return mini.metrics_text(campaign)


@app.route("/api/campaigns", methods=["POST"])
async def create() -> dict:
    return {"campaign_id": campaign.campaign_id, "code": campaign.code, "facilitator_token": "bare"}


@app.route("/api/campaigns/<cid>/stats")
async def stats(cid: str) -> dict:
    return {"counters": campaign.counters(), "connections": campaign.connections}


@app.route("/api/campaigns/<cid>/phase/<action>", methods=["POST"])
async def phase(cid: str, action: str) -> tuple[dict, int]:
    if not campaign.control(action):
        return {"error": {"code": "bad_request", "message": f"unknown action {action}"}}, 400
    if settings["paced"]:
        app.nursery.start_soon(mini.in_slices, list(outboxes), pacer.slice_sizes(), trio.sleep,
                               partial(fan_out, mini.phase_frame(campaign)))
    else:
        fan_out(mini.phase_frame(campaign))
    return {"phase": campaign.phase()}, 200


async def writer(receive: trio.MemoryReceiveChannel) -> None:
    async for frame in receive:
        await websocket.send(frame.decode())
        campaign.frames_out += 1


@app.websocket("/ws")
async def ws() -> None:
    send, receive = trio.open_memory_channel[bytes](mini.OUTBOX_FRAMES)
    campaign.connections += 1
    try:
        async with trio.open_nursery() as nursery:
            nursery.start_soon(writer, receive)
            while True:
                reply = mini.reply_to(campaign, await websocket.receive(), send in outboxes)
                outboxes.add(send)
                if reply is not None:
                    await send.send(reply)
    finally:
        outboxes.discard(send)
        campaign.connections -= 1


async def asgi_ws(receive: Any, send: Any) -> None:
    """The same session as :func:`ws`, on raw ASGI messages."""
    if (await receive())["type"] != "websocket.connect":
        return
    await send({"type": "websocket.accept"})
    box, outbox = trio.open_memory_channel[bytes](mini.OUTBOX_FRAMES)
    campaign.connections += 1

    async def write() -> None:
        async for frame in outbox:
            await send({"type": "websocket.send", "text": frame.decode()})
            campaign.frames_out += 1

    try:
        async with trio.open_nursery() as nursery:
            nursery.start_soon(write)
            while (message := await receive())["type"] == "websocket.receive":
                reply = mini.reply_to(campaign, message.get("text") or message.get("bytes"), box in outboxes)
                outboxes.add(box)
                if reply is not None:
                    await box.send(reply)
            nursery.cancel_scope.cancel()
    finally:
        outboxes.discard(box)
        campaign.connections -= 1


async def asgi_front(scope: dict[str, Any], receive: Any, send: Any) -> None:
    if scope["type"] == "websocket" and scope["path"] == "/ws":
        await asgi_ws(receive, send)
    else:
        await app(scope, receive, send)


def main() -> None:
    args = mini.parse_args(__doc__.splitlines()[0], asgi_ws=True)
    settings.update(broadcast=args.broadcast, budget=args.frame_budget, paced=args.paced)
    mini.tune_process()
    config = Config()
    config.bind = [f"{args.host}:{args.port}"]
    config.backlog = 4096
    config.websocket_max_message_size = 64 * 1024
    config.accesslog = None
    trio.run(serve, asgi_front if args.asgi_ws else app, config)


if __name__ == "__main__":
    main()
