"""Start a server under test as its own process, pinned to a core, and read
its resources from /proc and its frame counter from ``/metrics``.

Used by ``run.py`` (make loadtest), ``bench.py`` (make bench) and
``perf.py``. Servers listen on 127.0.0.1 only.
"""

from __future__ import annotations

import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from dataclasses import dataclass, field

__all__ = ["ServerProcess", "KINDS", "free_port", "taskset_prefix"]

#: Seconds a server gets to start listening (the engine replays its store first).
START_TIMEOUT_SECONDS = 30.0
#: Seconds a server gets to stop after SIGINT before it is killed.
STOP_TIMEOUT_SECONDS = 15.0
#: Joins per second (and burst) the local server accepts from 127.0.0.1 in a load test.
LOAD_JOIN_RATE_PER_SECOND = 100_000
#: Sockets the local server accepts from 127.0.0.1 in a load test: more than any profile opens.
LOAD_SOCKETS_PER_ADDRESS = 1_000_000
#: Clock ticks per second for /proc/<pid>/stat.
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")

#: What each kind of server is, for the tables.
KINDS = {
    "essaim": "essaim serve (hypercorn trio + quart-trio + engine, SQLite)",
    "bare": "hypercorn trio + quart-trio, no engine",
    "bare-asgi": "hypercorn trio + quart-trio, /ws as a bare ASGI route, no engine",
    "bare-paced": "as bare-asgi, counters refresh and phase frames paced as essaim serve paces them",
    "uvicorn": "uvicorn + websockets (asyncio), no engine",
    "uvicorn-paced": "uvicorn + websockets (asyncio), no engine, paced as bare-paced and essaim serve",
}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def taskset_prefix(cpu: str | None) -> list[str]:
    """``taskset -c CPU`` when asked and available: the server and the load
    generator then do not fight over one core."""
    if cpu is None or cpu == "" or shutil.which("taskset") is None:
        return []
    return ["taskset", "-c", cpu]


@dataclass
class ServerProcess:
    kind: str
    cpu: str | None = None
    port: int = field(default_factory=free_port)
    broadcast: float | None = None
    frame_budget: float | None = None
    admin_token: str = field(default_factory=lambda: secrets.token_urlsafe(16))
    proc: subprocess.Popen | None = None
    data_dir: str = ""
    log_path: str = ""
    #: More environment for the server (e.g. essaim settings as ESSAIM_* variables).
    extra_env: dict[str, str] = field(default_factory=dict)
    #: More arguments for ``essaim serve`` (e.g. ``--cluster redis://...``).
    extra_args: list[str] = field(default_factory=list)
    #: Folder of the SQLite store when it must be elsewhere (the chaos suite's
    #: small tmpfs, to fill); empty: the temporary ``data_dir``, with the log.
    store_dir: str = ""

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def ws_url(self) -> str:
        return f"ws://127.0.0.1:{self.port}/ws"

    @property
    def ws_urls(self) -> list[str]:
        return [self.ws_url]

    @property
    def pid(self) -> int:
        assert self.proc is not None
        return self.proc.pid

    def command(self) -> list[str]:
        py = sys.executable
        if self.kind == "essaim":
            cmd = [py, "-m", "essaim", "serve", "--host", "127.0.0.1", "--port", str(self.port),
                   "--data-dir", self.store_dir or self.data_dir, *self.extra_args]
        elif self.kind in ("bare", "bare-asgi", "bare-paced", "uvicorn", "uvicorn-paced"):
            module = "uvicorn_websockets" if self.kind.startswith("uvicorn") else "bare_quart_trio"
            cmd = [py, "-m", f"loadtests.baselines.{module}", "--port", str(self.port)]
            if self.kind in ("bare-asgi", "bare-paced"):
                cmd.append("--asgi-ws")
            if self.kind in ("bare-paced", "uvicorn-paced"):
                cmd.append("--paced")
            if self.broadcast is not None:
                cmd += ["--broadcast", str(self.broadcast)]
            if self.frame_budget is not None:
                cmd += ["--frame-budget", str(self.frame_budget)]
        else:
            raise SystemExit(f"unknown server kind {self.kind!r}; choose one of {sorted(KINDS)}")
        return taskset_prefix(self.cpu) + cmd

    def env(self) -> dict[str, str]:
        env = dict(os.environ, ESSAIM_ADMIN_TOKEN=self.admin_token, ESSAIM_LOG_LEVEL="warning", **self.extra_env)
        if self.kind == "essaim":
            # Every simulated participant comes from 127.0.0.1: the per-address
            # limits (an office behind one NAT) would refuse all but ~300 joins
            # and 1,000 sockets.
            env.setdefault("ESSAIM_JOIN_RATE_PER_SECOND", str(LOAD_JOIN_RATE_PER_SECOND))
            env.setdefault("ESSAIM_JOIN_BURST", str(LOAD_JOIN_RATE_PER_SECOND))
            env.setdefault("ESSAIM_MAX_SOCKETS_PER_ADDRESS", str(LOAD_SOCKETS_PER_ADDRESS))
        if self.kind == "essaim" and self.broadcast is not None:
            env["ESSAIM_COUNTERS_INTERVAL"] = str(self.broadcast)
        if self.kind == "essaim" and self.frame_budget is not None and self.frame_budget > 0:
            env["ESSAIM_COUNTERS_FRAME_BUDGET"] = str(self.frame_budget)
        return env

    def start(self) -> ServerProcess:
        self.data_dir = tempfile.mkdtemp(prefix=f"essaim-load-{self.kind}-")
        self.log_path = os.path.join(self.data_dir, "server.log")
        with open(self.log_path, "wb") as log:
            self.proc = subprocess.Popen(self.command(), env=self.env(), stdout=log, stderr=subprocess.STDOUT,
                                         start_new_session=True)
        deadline = time.monotonic() + START_TIMEOUT_SECONDS
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise SystemExit(f"the {self.kind} server exited at start-up; its log:\n{self.log_tail()}")
            try:
                self.metrics()
                return self
            except OSError:
                time.sleep(0.2)
        self.stop()
        raise SystemExit(f"the {self.kind} server did not answer /metrics within {START_TIMEOUT_SECONDS:g} s")

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGINT)
            try:
                self.proc.wait(STOP_TIMEOUT_SECONDS)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        if self.data_dir:
            shutil.rmtree(self.data_dir, ignore_errors=True)
            self.data_dir = ""

    def __enter__(self) -> ServerProcess:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def log_tail(self, lines: int = 30) -> str:
        try:
            with open(self.log_path, encoding="utf-8", errors="replace") as f:
                return "".join(f.readlines()[-lines:])
        except OSError:
            return "(no log)"

    # -- measurements -------------------------------------------------------------------------

    def _server_pid(self) -> int:
        """The Python process itself (taskset execs, so it is the same pid)."""
        return self.pid

    def rss_kib(self) -> int:
        with open(f"/proc/{self._server_pid()}/status") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
        return 0

    def cpu_seconds(self) -> float:
        with open(f"/proc/{self._server_pid()}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS

    def metrics_text(self) -> str:
        # /metrics takes the admin token (or metrics_token); the baselines ignore it.
        request = urllib.request.Request(self.base_url + "/metrics",
                                         headers={"Authorization": f"Bearer {self.admin_token}"})
        with urllib.request.urlopen(request, timeout=10) as resp:
            return resp.read().decode()

    def metrics(self) -> dict[str, float]:
        """Unlabelled series of ``/metrics`` (name → value)."""
        out = {}
        for line in self.metrics_text().splitlines():
            if line and not line.startswith("#") and "{" not in line:
                name, _, value = line.partition(" ")
                try:
                    out[name] = float(value)
                except ValueError:
                    pass
        return out

    def histogram(self) -> dict[str, list[tuple[float, float]]]:
        """Cumulative ``_bucket`` series of ``/metrics``: name → [(le, count)]."""
        out: dict[str, list[tuple[float, float]]] = {}
        for line in self.metrics_text().splitlines():
            if "_bucket{le=" not in line:
                continue
            name, _, rest = line.partition("_bucket{le=\"")
            le, _, count = rest.partition("\"} ")
            try:
                out.setdefault(name, []).append((float(le), float(count)))
            except ValueError:
                pass
        return out

    def frames_out(self) -> float:
        return self.metrics().get("essaim_frames_out_total", 0.0)


def bucket_quantile(before: list[tuple[float, float]], after: list[tuple[float, float]], q: float) -> float:
    """Upper bound (seconds) of the bucket holding quantile ``q`` of the
    observations made between two scrapes of one cumulative histogram."""
    old = dict(before)
    deltas = [(le, count - old.get(le, 0.0)) for le, count in after]
    total = deltas[-1][1] if deltas else 0.0
    if total <= 0:
        return 0.0
    for le, seen in deltas:
        if seen >= q * total:
            return le
    return float("inf")
