"""Where a benchmark level sends its sessions, besides one fresh local server.

:class:`Deployment` is what ``bench.run_level`` needs: the facilitator's
API (``base_url``, ``admin_token``), the WebSocket URLs sessions spread
over round-robin (``ws_urls``), and the figures of the process the row
reports on. :class:`~loadtests.servers.ServerProcess` is one (a fresh
local server); here are the two others:

- :class:`ClusterDeployment`: ``essaim serve --cluster`` processes on this
  machine and a real redis-server: one owner (creates the campaign, serves
  no phone) and N gateways; the row reports the first gateway, so its
  sessions held compare with one plain process on the same core.
- :class:`RunningDeployment`: URLs of servers already running (``--host``),
  whose resources the generator cannot read (those columns stay 0).
"""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

from .servers import ServerProcess

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))
from realservers.redis import RedisServer, redis_binary

__all__ = ["Deployment", "ClusterDeployment", "RunningDeployment"]


class Deployment(Protocol):
    base_url: str
    admin_token: str

    @property
    def ws_urls(self) -> list[str]: ...

    @property
    def pid(self) -> int: ...

    def rss_kib(self) -> int: ...

    def cpu_seconds(self) -> float: ...

    def frames_out(self) -> float: ...

    def histogram(self) -> dict[str, list[tuple[float, float]]]: ...

    def stop(self) -> None: ...


@dataclass
class ClusterDeployment:
    """An owner, ``gateways`` gateways and a redis-server, each process on
    its own core where given (``taskset -c``)."""

    gateways: int = 1
    gateway_cpus: tuple[str | None, ...] = ("0",)
    owner_cpu: str | None = "1"
    redis: RedisServer | None = None
    owner: ServerProcess | None = None
    members: list[ServerProcess] = field(default_factory=list)

    def start(self) -> ClusterDeployment:
        self.redis = RedisServer(redis_binary()).start()
        cluster = ["--cluster", self.redis.url]
        try:
            self.owner = ServerProcess("essaim", cpu=self.owner_cpu, extra_args=cluster).start()
            for i in range(self.gateways):
                cpu = self.gateway_cpus[i % len(self.gateway_cpus)] if self.gateway_cpus else None
                self.members.append(ServerProcess("essaim", cpu=cpu, extra_args=cluster,
                                                  admin_token=self.owner.admin_token).start())
        except BaseException:
            self.stop()
            raise
        return self

    @property
    def measured(self) -> ServerProcess:
        return self.members[0]

    @property
    def base_url(self) -> str:
        assert self.owner is not None
        return self.owner.base_url

    @property
    def admin_token(self) -> str:
        assert self.owner is not None
        return self.owner.admin_token

    @property
    def ws_urls(self) -> list[str]:
        return [m.ws_url for m in self.members]

    @property
    def pid(self) -> int:
        return self.measured.pid

    def rss_kib(self) -> int:
        return self.measured.rss_kib()

    def cpu_seconds(self) -> float:
        return self.measured.cpu_seconds()

    def frames_out(self) -> float:
        return self.measured.frames_out()

    def histogram(self) -> dict[str, list[tuple[float, float]]]:
        return self.measured.histogram()

    def owner_cpu_seconds(self) -> float:
        assert self.owner is not None
        return self.owner.cpu_seconds()

    def stop(self) -> None:
        for member in self.members:
            member.stop()
        if self.owner is not None:
            self.owner.stop()
        if self.redis is not None:
            self.redis.close()


@dataclass
class RunningDeployment:
    """Servers already running: ``hosts`` are their base URLs (http[s]://...);
    the first takes the facilitator's calls. Needs the admin token
    (``ESSAIM_ADMIN_TOKEN``) to create the campaign."""

    hosts: list[str]
    admin_token: str = field(default_factory=lambda: os.environ.get("ESSAIM_ADMIN_TOKEN", ""))
    pid: int = 0

    def __post_init__(self) -> None:
        if not self.admin_token:
            raise SystemExit("set ESSAIM_ADMIN_TOKEN to the deployment's admin token (it creates the campaign)")

    @property
    def base_url(self) -> str:
        return self.hosts[0].rstrip("/")

    @property
    def ws_urls(self) -> list[str]:
        return [h.rstrip("/").replace("https://", "wss://").replace("http://", "ws://") + "/ws" for h in self.hosts]

    def rss_kib(self) -> int:
        return 0

    def cpu_seconds(self) -> float:
        return 0.0

    def frames_out(self) -> float:
        return 0.0

    def histogram(self) -> dict[str, list[tuple[float, float]]]:
        return {}

    def stop(self) -> None:
        pass
