"""Locust scenarios: participants over the real WebSocket protocol and a
facilitator over the HTTP API. Run through ``python -m loadtests.run`` (make
loadtest), or by hand::

    locust -f loadtests/locustfile.py --headless --host http://127.0.0.1:8000 \\
        --essaim-profile smoke --admin-token TOKEN -u 150 -r 75 -t 2m

Each participant has one receive greenlet; acks fire ``events.request``
(type ``WS``, name ``ack <action>``, time from send to ack) and phase
changes fire type ``PUSH`` (name ``push phase …``, time = staleness, receive
time minus the server's ``phase.server_time``). The SLO gate runs when
Locust quits and sets the exit code.

This module imports Locust (which monkey-patches sockets): never import it
from the server, the engine or the tests.
"""

from __future__ import annotations

import json
import random
import sys
import time
from pathlib import Path
from typing import Any

import gevent
import gevent.event
import gevent.lock
import websocket
from locust import HttpUser, User, constant, events, task
from locust.runners import WorkerRunner

# Locust imports this file by path: make the ``loadtests`` package importable.
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from loadtests import slo
from loadtests.behaviour import Participant, Sample
from loadtests.profiles import PROFILES
from loadtests.summary import summarize
from loadtests.workload import CAMPAIGN, CONSOLE_POLL_SECONDS, ROLES, SITES, ConsolePolls

#: Seconds a WebSocket connect + welcome may take before it counts as failed.
CONNECT_TIMEOUT_SECONDS = 30.0
#: Seconds between two reconnection attempts after an unexpected drop.
RECONNECT_BACKOFF_SECONDS = 1.0
#: Attempts before a participant gives up reconnecting (bounds the loop).
MAX_RECONNECTS = 5


@events.init_command_line_parser.add_listener
def _options(parser: Any) -> None:
    parser.add_argument("--essaim-profile", choices=sorted(PROFILES), default="smoke", env_var="ESSAIM_LOAD_PROFILE",
                        help="workload profile (loadtests/profiles.py)")
    parser.add_argument("--admin-token", default="", env_var="ESSAIM_ADMIN_TOKEN",
                        help="server admin token, to create the campaign")
    parser.add_argument("--campaign-code", default="", env_var="ESSAIM_LOAD_CAMPAIGN",
                        help="join an existing campaign (distributed runs: create it first)")
    parser.add_argument("--facilitator-token", default="", env_var="ESSAIM_LOAD_FACILITATOR_TOKEN",
                        help="facilitator token of --campaign-code, to drive its phases")
    parser.add_argument("--campaign-id", default="", env_var="ESSAIM_LOAD_CAMPAIGN_ID")


class _Campaign:
    """What the facilitator user learns and the participants wait for."""

    ready = gevent.event.Event()
    code = ""
    started_at = 0.0


def _ws_url(host: str) -> str:
    return host.replace("https://", "wss://").replace("http://", "ws://").rstrip("/") + "/ws"


class ParticipantUser(User):
    """One phone in the room: joins, acts at the workload's rates, keeps its
    token and unacked actions, and resumes after a drop."""

    wait_time = constant(0)  # think times come from the Participant

    def on_start(self) -> None:
        opts = self.environment.parsed_options
        profile = PROFILES[opts.essaim_profile]
        self.storm_after = profile.storm_after
        self.stormed = False
        if opts.campaign_code:
            _Campaign.code, _Campaign.started_at = opts.campaign_code, _Campaign.started_at or time.time()
            _Campaign.ready.set()
        _Campaign.ready.wait(CONNECT_TIMEOUT_SECONDS)
        rng = random.Random()
        self.p = Participant(rng, CAMPAIGN, profile.compression,
                             {"role": rng.choice(ROLES), "site": rng.choice(SITES)}, _Campaign.code)
        self.ws: websocket.WebSocket | None = None
        self.reader: gevent.Greenlet | None = None
        self.closing = False
        self.connecting = gevent.lock.Semaphore()
        with self.connecting:
            self._connect("connect+welcome")
        if self.storm_after:
            # A timer per user, not a check between think times: every client drops at the same moment.
            gevent.spawn_later(max(_Campaign.started_at + self.storm_after - time.time(), 0.0), self._storm)

    def on_stop(self) -> None:
        self.closing = True
        if self.ws is not None:
            self.ws.close()
        if self.reader is not None:
            self.reader.kill(block=False)

    def _fire(self, samples: list[Sample]) -> None:
        for s in samples:
            self.environment.events.request.fire(
                request_type="PUSH" if s.kind == "push" else "WS", name=s.name,
                response_time=s.seconds * 1000.0, response_length=s.size,
                exception=None if s.error is None else RuntimeError(s.error), context={})

    def _connect(self, name: str) -> bool:
        """(Re)connect, join or resume, and re-send unacked actions."""
        started = time.time()
        host = self.host.rstrip("/")
        try:
            self.ws = websocket.create_connection(_ws_url(host), timeout=CONNECT_TIMEOUT_SECONDS, origin=host)
            self.ws.send(json.dumps(self.p.hello()))
            welcome = json.loads(self.ws.recv())
            if welcome.get("type") != "welcome":
                raise ConnectionError(f"{welcome.get('code')}: {welcome.get('message')}")
        except Exception as exc:  # any failure to connect is a measured connection error
            self._fire([Sample("connect", name, time.time() - started, error=f"{type(exc).__name__}: {exc}")])
            self.ws = None
            return False
        self.ws.settimeout(None)
        self.p.receive(welcome, time.time())
        self._fire([Sample("connect", name, time.time() - started)])
        for frame in self.p.resend(time.time()):
            self.ws.send(json.dumps(frame))
        self.reader = gevent.spawn(self._read, self.ws)
        return True

    def _read(self, ws: websocket.WebSocket) -> None:
        while True:
            try:
                raw = ws.recv()
            except Exception as exc:  # the socket closed or failed
                if not self.closing and ws is self.ws:
                    self._fire([Sample("connect", "connection lost", 0.0, error=f"{type(exc).__name__}: {exc}")])
                    self.ws = None
                return
            if not raw:
                continue
            self._fire(self.p.receive(json.loads(raw), time.time()))

    def _storm(self) -> None:
        """Drop the connection and come back at once with the token."""
        if self.closing:
            return
        with self.connecting:
            self.stormed = True
            old, self.ws = self.ws, None
            if old is not None:
                old.abort()
                old.close()
            self._connect("resume after drop")

    @task
    def act(self) -> None:
        if self.ws is None:
            for _ in range(MAX_RECONNECTS):
                gevent.sleep(RECONNECT_BACKOFF_SECONDS * random.random())
                with self.connecting:
                    if self.ws is not None or self._connect("reconnect"):
                        break
            else:
                gevent.sleep(CONNECT_TIMEOUT_SECONDS)
                return
        now = time.time()
        self._fire(self.p.expire(now))
        frames, think = self.p.act(now)
        ws = self.ws
        try:
            for f in frames:
                ws.send(json.dumps(f))
        except Exception:  # the reader reports the loss; resume next time
            if self.ws is ws:
                self.ws = None
        gevent.sleep(think)


class FacilitatorUser(HttpUser):
    """Creates the campaign (admin token), waits for the crowd, then runs
    each phase for its compressed duration and ends the run."""

    fixed_count = 1
    wait_time = constant(0)

    def on_start(self) -> None:
        opts = self.environment.parsed_options
        self.profile = PROFILES[opts.essaim_profile]
        self.campaign_id, self.token = opts.campaign_id, opts.facilitator_token
        if not opts.campaign_code:
            r = self.client.post("/api/campaigns", json={"template": "demo"},
                                 headers={"Authorization": f"Bearer {opts.admin_token}"}, name="create campaign")
            r.raise_for_status()
            created = r.json()
            self.campaign_id, self.token = created["campaign_id"], created["facilitator_token"]
            _Campaign.code = created["code"]
        self.console = ConsolePolls(self.campaign_id)
        _Campaign.started_at = time.time()
        _Campaign.ready.set()

    def _phase(self, action: str, index: int | None = None) -> None:
        # With ``index``, an advance racing the phase timer (at compression 1
        # the holds equal the template's durations) ends nothing instead of
        # ending the next phase: 409 wrong_phase is the expected answer then.
        with self.client.post(f"/api/campaigns/{self.campaign_id}/phase/{action}",
                              json={} if index is None else {"index": index},
                              headers={"Authorization": f"Bearer {self.token}"}, name=f"phase {action}",
                              catch_response=True) as response:
            if response.status_code == 409 and index is not None:
                response.success()

    def _hold(self, seconds: float) -> None:
        """Wait ``seconds`` with the facilitator console open: it polls as
        facilitator.js does (workload.console_paths), results included."""
        deadline = time.time() + seconds
        while time.time() < deadline:
            started = time.time()
            for name, path in self.console.reads(started):
                self.client.get(path, headers={"Authorization": f"Bearer {self.token}"}, name=name)
            gevent.sleep(max(0.0, min(deadline, started + CONSOLE_POLL_SECONDS) - time.time()))

    @task
    def run_campaign(self) -> None:
        if not self.token:
            gevent.sleep(3600)  # a distributed worker without the facilitator token: nothing to drive
            return
        self._hold(self.profile.ramp_seconds + 2)
        c = self.profile.compression
        self._phase("start")
        for index, phase in enumerate(("collect", "sort", "evaluate")):
            self._hold(CAMPAIGN.phase_seconds(phase) / c)
            self._phase("advance", index)
        self._hold(min(CAMPAIGN.results_seconds / c, 15.0))
        if not isinstance(self.environment.runner, WorkerRunner):
            gevent.spawn(self.environment.runner.quit)
        gevent.sleep(3600)


@events.quitting.add_listener
def _slo_gate(environment: Any, **_: Any) -> None:
    """Judge the run; a breach makes Locust exit 1 with one line per SLO."""
    if isinstance(environment.runner, WorkerRunner):
        return
    stats = environment.stats
    # An exception in a user's code is a failure too: the client stopped following the session.
    crashes = sum(e["count"] for e in environment.runner.exceptions.values())
    m = slo.Measured(requests=stats.total.num_requests + crashes, failures=stats.total.num_failures + crashes)
    for (name, method), entry in stats.entries.items():
        if method == "WS" and name.startswith("ack "):
            m.acks = slo.merge([m.acks, entry.response_times])
        elif method == "PUSH":
            m.pushes = slo.merge([m.pushes, entry.response_times])
        if method == "WS" and (name.startswith("connect") or name in ("connection lost", "reconnect",
                                                                     "resume after drop")):
            m.connection_errors += entry.num_failures
    objectives = slo.Objectives.from_env()
    breaches = slo.check(m, objectives)
    text = summarize(environment, m, breaches)
    print(text, flush=True)
    prefix = getattr(environment.parsed_options, "csv_prefix", None)
    if prefix:  # run.py prints it again after Locust's own long tables
        Path(f"{prefix}_summary.txt").write_text(text + "\n", encoding="utf-8")
        # The same judgement for a pipeline; the exit code is unchanged.
        verdict = slo.verdict(m, objectives, breaches, profile=environment.parsed_options.essaim_profile,
                              host=environment.host, finished_at=time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()))
        Path(f"{prefix}_verdict.json").write_text(json.dumps(verdict, indent=2) + "\n", encoding="utf-8")
    if breaches:
        environment.process_exit_code = 1
