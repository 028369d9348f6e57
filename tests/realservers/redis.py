"""A real redis-server (Debian's; Valkey speaks the same protocol) on a free
loopback port in a temporary directory.

``RedisServer`` is a plain context manager, so the cluster benchmark
(``make bench-cluster``) starts its server the same way the tests do; the
``redis_server`` fixture wraps it for pytest. Persistence is off (no RDB,
no AOF): a restart in a fault test is a Valkey that lost everything, the
worst case a gateway must recover from.
"""

from __future__ import annotations

import shutil
import signal
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from . import free_port, require_binary

__all__ = ["RedisServer", "redis_server", "redis_binary"]

#: Seconds redis-server gets to accept connections (it starts in milliseconds).
START_TIMEOUT_SECONDS = 10.0


def redis_binary() -> str:
    """The redis-server binary, or skip (fail under CI) with how to install it."""
    return require_binary("redis-server", package="redis-server", search=("/usr/sbin", "/usr/bin"))


class RedisServer:
    """One redis-server process; ``url`` is ``redis://127.0.0.1:PORT``.

    :meth:`stop` and :meth:`start` again on the same port simulate a Valkey
    restart (with every key lost); :meth:`pause`/:meth:`resume` (SIGSTOP /
    SIGCONT) simulate a server that stops answering."""

    def __init__(self, binary: str, port: int | None = None) -> None:
        self.binary = binary
        self.port = port or free_port()
        self.dir = Path(tempfile.mkdtemp(prefix="essaim-redis-"))
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}"

    def start(self) -> RedisServer:
        args = [self.binary, "--port", str(self.port), "--bind", "127.0.0.1", "--dir", str(self.dir),
                "--save", "", "--appendonly", "no", "--protected-mode", "yes", "--daemonize", "no",
                "--logfile", str(self.dir / "redis.log")]
        self.proc = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + START_TIMEOUT_SECONDS
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"redis-server exited at start: {self.log_tail()}")
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.5) as s:
                    s.sendall(b"PING\r\n")
                    if s.recv(16).startswith(b"+PONG"):
                        return self
            except OSError:
                time.sleep(0.05)
        self.stop()
        raise RuntimeError(f"redis-server did not answer on port {self.port} within {START_TIMEOUT_SECONDS:g} s")

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(10)
        self.proc = None

    def pause(self) -> None:
        assert self.proc is not None
        self.proc.send_signal(signal.SIGSTOP)

    def resume(self) -> None:
        assert self.proc is not None
        self.proc.send_signal(signal.SIGCONT)

    def close(self) -> None:
        self.stop()
        shutil.rmtree(self.dir, ignore_errors=True)

    def log_tail(self) -> str:
        try:
            return (self.dir / "redis.log").read_text(errors="replace")[-2000:]
        except OSError:
            return "(no log)"

    def __enter__(self) -> RedisServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.close()


@pytest.fixture
def redis_server() -> Iterator[RedisServer]:
    """A fresh redis-server for one test, on its own port and directory."""
    with RedisServer(redis_binary()) as server:
        yield server
