"""What the chaos suite breaks: real processes on 127.0.0.1.

- :class:`Cluster`: a redis-server (Valkey's protocol; no persistence, so a
  restart loses every key), a PostgreSQL shared by the whole run (a fresh
  schema per scenario) and ``essaim serve --cluster --store postgresql://``
  processes in failover mode. The first one creates the campaign and owns
  it; the phones go to the others (``gateways``), so killing or pausing the
  owner is one fault, not two.
- :class:`Solo`: one ``essaim serve`` on SQLite, its store on a small tmpfs
  to fill.

Each process is a :class:`~loadtests.servers.ServerProcess` in a session of
its own: SIGKILL, SIGSTOP and SIGCONT go to its pid and to nothing else.
"""

from __future__ import annotations

import os
import signal
import sys
import time
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import orjson

from essaim.bench.throwaway_postgres import ThrowawayPostgres

from ..servers import ServerProcess
from .prefill import prefill

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "tests"))
from realservers.redis import RedisServer, redis_binary

__all__ = ["Cluster", "Solo", "CAMPAIGN_TOML", "create_campaign", "owned_campaigns"]

#: One long collect phase: the phones write cards for the whole scenario
#: (cards per participant raised so a long run never meets the limit).
CAMPAIGN_TOML = """
[campaign]
title = "Chaos rehearsal"
[[phase]]
type = "collect"
title = "Ideas"
duration = "2h"
[phase.settings]
max_cards = 100000
"""

#: Seconds a new campaign may answer 503 (``unavailable``) while its owner loads it.
READY_SECONDS = 20.0


def _post(base: str, path: str, body: dict[str, object], token: str) -> dict[str, object]:
    req = urllib.request.Request(base + path, data=orjson.dumps(body), method="POST", headers={
        "Authorization": f"Bearer {token}", "Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=30) as resp:
        answer: dict[str, object] = orjson.loads(resp.read())
        return answer


def create_campaign(server: ServerProcess) -> tuple[str, str]:
    """A started campaign created through ``server``'s facilitator API: (id, join code)."""
    created = _post(server.base_url, "/api/campaigns", {"toml": CAMPAIGN_TOML}, server.admin_token)
    campaign_id, code = str(created["campaign_id"]), str(created["code"])
    start = f"/api/campaigns/{campaign_id}/phase/start"
    deadline = time.monotonic() + READY_SECONDS
    while True:
        try:
            _post(server.base_url, start, {}, str(created["facilitator_token"]))
            return campaign_id, code
        except urllib.error.HTTPError as exc:
            body = exc.read().decode(errors="replace")
            if exc.code != 503 or time.monotonic() > deadline:
                raise RuntimeError(f"starting the campaign: HTTP {exc.code} {body}") from exc
            time.sleep(0.2)


def owned_campaigns(server: ServerProcess) -> float:
    """``essaim_cluster_campaigns_owned`` of a process (its /metrics)."""
    return server.metrics().get("essaim_cluster_campaigns_owned", 0.0)


@dataclass
class Cluster:
    """``processes`` cluster members on one redis-server and one PostgreSQL schema."""

    postgres: ThrowawayPostgres
    processes: int = 3
    redis: RedisServer | None = None
    members: list[ServerProcess] = field(default_factory=list)
    schema: str = ""
    #: (campaign id, join code) of the campaign written by ``prefill``, if any.
    prefilled: tuple[str, str] | None = None

    @property
    def store_url(self) -> str:
        return self.postgres.url(self.schema)

    def start_valkey(self) -> RedisServer:
        self.redis = RedisServer(redis_binary()).start()
        return self.redis

    def start(self, first_gateway_valkey: str | None = None, prefill_people: int = 0) -> Cluster:
        """Valkey (unless started already), a schema, the processes; the first
        gateway reaches Valkey at ``first_gateway_valkey`` when given (a
        :class:`~loadtests.chaos.link.CuttableLink`). With ``prefill_people``,
        a campaign of that many participants is written to the store first
        (:mod:`.prefill`) and the first process, started alone, takes it."""
        redis = self.redis or self.start_valkey()
        self.schema = self.postgres.new_schema()
        if prefill_people:
            self.prefilled = prefill(self.store_url, prefill_people, CAMPAIGN_TOML)
        first = ServerProcess("essaim", extra_args=self._args(redis.url))
        self.members = [first] + [
            ServerProcess("essaim", admin_token=first.admin_token,
                          extra_args=self._args(first_gateway_valkey if i == 0 and first_gateway_valkey else redis.url))
            for i in range(self.processes - 1)]
        try:
            first.start()  # alone: a stored campaign is taken by the first process up
            with ThreadPoolExecutor(len(self.members)) as pool:
                list(pool.map(ServerProcess.start, self.gateways))
        except BaseException:
            self.stop()
            raise
        return self

    def _args(self, valkey: str) -> list[str]:
        return ["--cluster", valkey, "--store", self.store_url]

    @property
    def owner(self) -> ServerProcess:
        """The first member: it creates the campaign, so it owns it first."""
        return self.members[0]

    @property
    def gateways(self) -> list[ServerProcess]:
        return self.members[1:]

    def kill(self, member: ServerProcess) -> None:
        assert member.proc is not None
        member.proc.send_signal(signal.SIGKILL)
        member.proc.wait()

    def pause(self, member: ServerProcess) -> None:
        os.kill(member.pid, signal.SIGSTOP)

    def resume(self, member: ServerProcess) -> None:
        os.kill(member.pid, signal.SIGCONT)

    def stop(self) -> None:
        for member in self.members:
            if member.proc is not None and member.proc.poll() is None:
                os.kill(member.pid, signal.SIGCONT)  # a paused one must be able to stop
            member.stop()
        if self.redis is not None:
            self.redis.close()
            self.redis = None
        if self.schema:
            try:
                self.postgres.drop_schema(self.schema)
            except Exception as exc:  # a server left stopped by a failed scenario: say so, go on
                print(f"could not drop schema {self.schema}: {exc}", file=sys.stderr)
            self.schema = ""


@dataclass
class Solo:
    """One ``essaim serve`` whose SQLite store lives in ``store_dir``."""

    store_dir: Path
    server: ServerProcess | None = None

    def start(self) -> Solo:
        self.server = ServerProcess("essaim", store_dir=str(self.store_dir)).start()
        return self

    def stop(self) -> None:
        if self.server is not None:
            self.server.stop()
