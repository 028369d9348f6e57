"""The lean load generator: many protocol sessions from one asyncio process.

Locust spends a greenlet, a socket wrapper and its stats machinery per user
and tops out near 2,000 WebSocket users per process here; the capacity
benchmark needs 10,000+ from one core. This client drives the same
:class:`~loadtests.behaviour.Participant` over the ``websockets`` asyncio
client (about half the CPU per message of trio-websocket), with no
compression offered, and tallies the same samples the SLO gate reads.

Traffic goes to the URL given (127.0.0.1 in every make target); every loop
ends on the run's stop event or deadline.
"""

from __future__ import annotations

import asyncio
import gc
import random
import resource
import time
import urllib.request
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import orjson
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed, InvalidHandshake, InvalidStatus

from . import slo
from .behaviour import Participant, Sample
from .workload import CAMPAIGN, CONSOLE_POLL_SECONDS, ROLES, SITES, ConsolePolls, Workload

__all__ = ["Tally", "Facilitator", "Fleet", "LoopLag", "raise_open_files_limit"]

#: Seconds a connection may take to open and be welcomed before it counts as failed.
CONNECT_TIMEOUT_SECONDS = 30.0
#: Largest frame accepted from the server (a welcome with results is a few KiB).
MAX_FRAME_BYTES = 1 << 20
#: Parts of a server frame a participant reads; a frame with none of them is skipped.
_WANTED_KEYS = (b'"acks"', b'"errors"', b'"replies"', b'"phase"', b'"you"', b'"type":"error"', b'"type": "error"')
#: Generation-0 threshold of the generator's GC (the default 700 pauses it for long at 10,000 sessions).
GC_THRESHOLD0 = 50_000
#: Seconds between two looks at the generator's own event-loop lag.
LAG_PROBE_SECONDS = 0.05


def raise_open_files_limit() -> int:
    """One socket is one file: lift the soft limit to the hard one (20,000 here).

    Also calms the garbage collector, as the server does: with default
    thresholds, full collections over 10,000 sessions' objects pause the
    generator for hundreds of milliseconds, which would show up as server
    latency."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < hard:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    gc.set_threshold(GC_THRESHOLD0, 20, 100)
    return hard


@dataclass
class Tally:
    """Everything measured in one window, ready for :func:`slo.check`."""

    measured: slo.Measured = field(default_factory=slo.Measured)
    connect: dict[int, int] = field(default_factory=dict)
    errors: Counter[str] = field(default_factory=Counter)
    by_name: dict[str, dict[int, int]] = field(default_factory=dict)
    frames_in: int = 0
    recording: bool = True

    def add(self, samples: list[Sample]) -> None:
        if not self.recording:
            return
        m = self.measured
        for s in samples:
            m.requests += 1
            if s.error is not None:
                m.failures += 1
                self.errors[f"{s.name}: {s.error}"] += 1
                if s.kind == "connect":
                    m.connection_errors += 1
                continue
            if s.kind != "console":  # the console's reads have no SLO of their own: by name only
                slo.record(m.acks if s.kind == "ack" else m.pushes if s.kind == "push" else self.connect, s.seconds)
            slo.record(self.by_name.setdefault(s.name, {}), s.seconds)

    def reset(self) -> None:
        self.measured, self.connect, self.errors, self.frames_in = slo.Measured(), {}, Counter(), 0
        self.by_name = {}

    def slowest(self, q: float = 0.99, n: int = 3) -> list[tuple[str, float, int]]:
        """The ``n`` names with the highest ``q`` percentile: (name, ms, count)."""
        rows = [(name, slo.percentile(h, q), sum(h.values())) for name, h in self.by_name.items()]
        return sorted(rows, key=lambda r: -r[1])[:n]


class LoopLag:
    """The generator's own event-loop lag: when it is as large as the acks'
    latency, the generator (not the server) is what is measured."""

    def __init__(self) -> None:
        self.hist: dict[int, int] = {}

    async def run(self, stop: asyncio.Event) -> None:
        loop = asyncio.get_running_loop()
        while not stop.is_set():
            due = loop.time() + LAG_PROBE_SECONDS
            await asyncio.sleep(LAG_PROBE_SECONDS)
            slo.record(self.hist, max(loop.time() - due, 0.0))

    def p99_ms(self) -> float:
        return slo.percentile(self.hist, 0.99)

    def max_ms(self) -> float:
        return float(max(self.hist, default=0))


class Facilitator:
    """The facilitator HTTP API, from a thread (urllib blocks)."""

    def __init__(self, base: str, admin_token: str) -> None:
        self.base, self.admin_token = base.rstrip("/"), admin_token
        self.campaign_id = self.code = self.token = ""

    def _post(self, path: str, body: dict[str, Any], token: str) -> dict[str, Any]:
        req = urllib.request.Request(self.base + path, data=orjson.dumps(body), method="POST", headers={
            "Authorization": f"Bearer {token}", "Content-Type": "application/json"})
        with urllib.request.urlopen(req, timeout=60) as resp:
            return orjson.loads(resp.read())

    async def create(self, template: str = "demo") -> str:
        created = await asyncio.to_thread(self._post, "/api/campaigns", {"template": template}, self.admin_token)
        self.campaign_id, self.code = created["campaign_id"], created["code"]
        self.token = created["facilitator_token"]
        return self.code

    async def phase(self, action: str) -> dict[str, Any]:
        return await asyncio.to_thread(
            self._post, f"/api/campaigns/{self.campaign_id}/phase/{action}", {}, self.token)

    def _get(self, name: str, path: str) -> Sample:
        req = urllib.request.Request(self.base + path, headers={"Authorization": f"Bearer {self.token}"})
        t = time.monotonic()
        try:
            with urllib.request.urlopen(req, timeout=60) as resp:
                resp.read()
        except OSError as exc:  # HTTPError and URLError are OSErrors
            return Sample("console", name, time.monotonic() - t, error=str(exc))
        return Sample("console", name, time.monotonic() - t)

    async def watch(self, tally: Tally, stop: asyncio.Event) -> None:
        """Poll as one open facilitator console does (workload.console_paths),
        until ``stop``; each GET is a ``console`` sample in ``tally``."""
        polls = ConsolePolls(self.campaign_id)
        while not stop.is_set():
            started = time.monotonic()
            reads = polls.reads(started)
            tally.add(list(await asyncio.gather(*(asyncio.to_thread(self._get, *read) for read in reads))))
            try:
                await asyncio.wait_for(stop.wait(), max(0.0, started + CONSOLE_POLL_SECONDS - time.monotonic()))
            except TimeoutError:
                pass


class Fleet:
    """N participant sessions, opened at a bounded rate, spread round-robin
    over the WebSocket URLs given (the gateways of a cluster, or one server).
    Each URL carries the campaign code (``/ws?c=CODE``), as the web app
    sends it, so a proxy can route by campaign, and each session sends the
    Origin of the server it connects to, as a browser on its page would."""

    def __init__(self, ws_urls: str | Sequence[str], code: str, *, workload: Workload = CAMPAIGN,
                 compression: float = 1.0, seed: int = 1) -> None:
        urls = [ws_urls] if isinstance(ws_urls, str) else list(ws_urls)
        self.ws_urls = [f"{url}{'&' if '?' in url else '?'}c={code}" for url in urls]
        self.code = code
        self.workload, self.compression = workload, compression
        self.rng = random.Random(seed)
        self.tally = Tally()
        self.stop = asyncio.Event()
        self.welcomed = 0
        self.open = 0
        self.tasks: list[asyncio.Task[None]] = []

    def participant(self) -> Participant:
        profile = {"role": self.rng.choice(ROLES), "site": self.rng.choice(SITES)}
        return Participant(random.Random(self.rng.random()), self.workload, self.compression, profile, self.code)

    async def grow(self, n: int, per_second: float) -> None:
        """Open sessions until ``n`` are running, ``per_second`` at most."""
        gap = 1.0 / per_second
        while len(self.tasks) < n and not self.stop.is_set():
            url = self.ws_urls[len(self.tasks) % len(self.ws_urls)]
            self.tasks.append(asyncio.create_task(self._session(self.participant(), url)))
            await asyncio.sleep(gap)

    async def wait_welcomed(self, n: int, timeout: float) -> bool:
        deadline = time.monotonic() + timeout
        while self.welcomed < n and time.monotonic() < deadline:
            await asyncio.sleep(0.5)
        return self.welcomed >= n

    async def reset(self) -> None:
        """Forget what was measured so far (the ramp), keep the sessions."""
        self.tally.reset()

    async def sync(self) -> None:
        """Nothing to gather: every session is in this process (see fleet_processes.SpreadFleet)."""

    async def close(self) -> None:
        self.stop.set()
        if self.tasks:
            await asyncio.wait(self.tasks, timeout=30)
        for t in self.tasks:
            t.cancel()

    async def _session(self, p: Participant, url: str) -> None:
        started = time.time()
        try:
            origin = "http" + url.split("/ws")[0].removeprefix("ws")  # ws://h:p/ws?c=.. -> http://h:p
            async with connect(url, origin=origin, compression=None, open_timeout=CONNECT_TIMEOUT_SECONDS,
                               ping_interval=None, close_timeout=2, max_size=MAX_FRAME_BYTES) as ws:
                self.open += 1
                try:
                    await ws.send(orjson.dumps(p.hello()).decode())
                    welcome = orjson.loads(await asyncio.wait_for(ws.recv(), CONNECT_TIMEOUT_SECONDS))
                    if welcome.get("type") != "welcome":
                        raise ConnectionError(f"{welcome.get('code')}: {welcome.get('message')}")
                    p.receive(welcome, time.time())
                    self.welcomed += 1
                    self.tally.add([Sample("connect", "connect+welcome", time.time() - started)])
                    reader = asyncio.create_task(self._read(ws, p))
                    try:
                        await self._act(ws, p)
                    finally:
                        reader.cancel()
                finally:
                    self.open -= 1
        except (OSError, TimeoutError, InvalidHandshake, InvalidStatus, ConnectionError, ConnectionClosed) as exc:
            if not self.stop.is_set():
                self.tally.add([Sample("connect", "connect+welcome", time.time() - started,
                                       error=type(exc).__name__ + (f" {exc}" if isinstance(exc, ConnectionError) else ""))])

    async def _read(self, ws: Any, p: Participant) -> None:
        while True:
            raw = await ws.recv(decode=False)
            self.tally.frames_in += 1
            # Most frames are counter refreshes, which change nothing a
            # participant acts on: skip parsing them (keeps the generator cheap).
            if not any(key in raw for key in _WANTED_KEYS):
                continue
            self.tally.add(p.receive(orjson.loads(raw), time.time()))

    async def _act(self, ws: Any, p: Participant) -> None:
        while not self.stop.is_set():
            now = time.time()
            self.tally.add(p.expire(now))
            frames, think = p.act(now)
            for f in frames:
                await ws.send(orjson.dumps(f).decode())
            try:
                await asyncio.wait_for(self.stop.wait(), think)
            except TimeoutError:
                pass
