"""uvicorn + websockets (asyncio) with no engine: the usual alternative stack.

A bare ASGI app (no framework), one writer task per connection fed by a
bounded queue, the same broadcaster and answers as ``bare_quart_trio``.
``--paced`` paces counters refreshes and phase frames as ``bare_quart_trio
--paced`` and essaim serve do (``mini.in_slices``, ``mini.PhasePacer``):
``make bench`` runs it as ``uvicorn-paced``, the fastest common Python
stack next to the mandated one, in the same campaign workload.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable
from functools import partial
from typing import Any

import orjson
import uvicorn

from . import mini

campaign = mini.Campaign()
outboxes: set[asyncio.Queue[bytes]] = set()
settings = {"broadcast": mini.COUNTERS_INTERVAL_SECONDS, "budget": mini.COUNTERS_FRAME_BUDGET, "paced": False}
pacer = mini.PhasePacer(campaign)
#: Paced pushes under way (asyncio keeps only weak references to tasks).
pushes: set[asyncio.Task[None]] = set()


def fan_out(frame: bytes, boxes: Iterable[asyncio.Queue[bytes]] | None = None) -> None:
    for box in list(outboxes) if boxes is None else boxes:
        try:
            box.put_nowait(frame)
        except asyncio.QueueFull:
            pass  # a slow reader misses a refresh; the next one replaces it


async def broadcaster() -> None:
    await mini.broadcast_counters(campaign, settings, lambda: list(outboxes), asyncio.sleep, fan_out)


def push_phase() -> None:
    if not settings["paced"]:
        fan_out(mini.phase_frame(campaign))
        return
    task = asyncio.get_running_loop().create_task(mini.in_slices(
        list(outboxes), pacer.slice_sizes(), asyncio.sleep, partial(fan_out, mini.phase_frame(campaign))))
    pushes.add(task)
    task.add_done_callback(pushes.discard)


async def http(scope: dict[str, Any], receive: Any, send: Any) -> None:
    path, status, body = scope["path"], 200, b""
    parts = path.strip("/").split("/")
    if path == "/metrics":
        body = mini.metrics_text(campaign).encode()
    elif path == "/api/campaigns":
        body = orjson.dumps({"campaign_id": campaign.campaign_id, "code": campaign.code,
                             "facilitator_token": "bare"})
    elif len(parts) == 4 and parts[3] == "stats":
        body = orjson.dumps({"counters": campaign.counters(), "connections": campaign.connections})
    elif len(parts) == 5 and parts[3] == "phase" and campaign.control(parts[4]):
        push_phase()
        body = orjson.dumps({"phase": campaign.phase()})
    else:
        status, body = 404, b'{"error": {"code": "not_found", "message": "no such route"}}'
    await send({"type": "http.response.start", "status": status,
                "headers": [(b"content-type", b"application/json")]})
    await send({"type": "http.response.body", "body": body})


async def websocket(receive: Any, send: Any) -> None:
    if (await receive())["type"] != "websocket.connect":
        return
    await send({"type": "websocket.accept"})
    box: asyncio.Queue[bytes] = asyncio.Queue(mini.OUTBOX_FRAMES)
    campaign.connections += 1

    async def writer() -> None:
        while True:
            frame = await box.get()
            await send({"type": "websocket.send", "text": frame.decode()})
            campaign.frames_out += 1

    task = asyncio.create_task(writer())
    try:
        while (message := await receive())["type"] == "websocket.receive":
            reply = mini.reply_to(campaign, message.get("text") or message.get("bytes"), box in outboxes)
            outboxes.add(box)
            if reply is not None:
                await box.put(reply)
    finally:
        outboxes.discard(box)
        campaign.connections -= 1
        task.cancel()


async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
    if scope["type"] == "lifespan":
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                asyncio.get_running_loop().create_task(broadcaster())
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                await send({"type": "lifespan.shutdown.complete"})
                return
    elif scope["type"] == "websocket":
        await websocket(receive, send)
    else:
        await http(scope, receive, send)


def main() -> None:
    args = mini.parse_args(__doc__.splitlines()[0])
    settings.update(broadcast=args.broadcast, budget=args.frame_budget, paced=args.paced)
    mini.tune_process()
    uvicorn.run(app, host=args.host, port=args.port, ws="websockets-sansio", ws_per_message_deflate=False,
                backlog=4096, ws_max_size=64 * 1024, access_log=False, log_level="warning",
                lifespan="on")


if __name__ == "__main__":
    main()
