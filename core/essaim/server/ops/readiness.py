"""Liveness and readiness: ``/healthz`` and ``/readyz``.

``/healthz`` answers while the process and its trio loop run: a liveness
probe that fails only when restarting the process is the cure.
``/readyz`` says whether new people should be sent here: a load balancer
or a Kubernetes readiness probe takes the process out of rotation while it
is not, without killing it (docs/operations.md):

- ``store``: the store takes writes (:func:`store_writable`);
- ``draining``: a shutdown has begun (its sockets are being closed with 1012);
- ``rebuilding``: a campaign somebody asked for is still being rebuilt
  (they were answered ``unavailable``); finished campaigns rebuilt in the
  background after a restart, which nobody asked for, do not count;
- ``fds``: open file descriptors below :data:`FD_READY_SHARE` of the limit
  (one per socket: the rest is kept for the phones already here to reconnect).

In cluster mode ``/readyz`` also reports ``cluster_bus``, this gateway's
link to Valkey, **without** failing readiness on it (``"required": false``):
Valkey is shared, so when it goes every gateway loses it at once, and
failing readiness everywhere would empty the load balancer: phones could
not even reconnect to read the campaign and keep their actions for later,
a write outage made total. A gateway cut from Valkey alone answers actions
``unavailable`` (phones retry), and the check, the
``essaim_cluster_bus_connected`` metric and its alert tell the operator.
"""

from __future__ import annotations

import os
import resource
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import trio

if TYPE_CHECKING:
    from essaim.engine import Engine
    from essaim.server.context import ServerContext

__all__ = ["Readiness", "ReadinessCheck", "check_readiness", "store_writable", "open_fds", "fd_limit",
           "FD_READY_SHARE"]

#: Ready while open file descriptors stay below this share of the soft limit:
#: at 90% a new crowd would exhaust the rest, and the phones already here
#: need fds to reconnect after a network blip.
FD_READY_SHARE = 0.9
#: Where Linux lists a process's open file descriptors.
PROC_FD = "/proc/self/fd"


@dataclass(frozen=True, slots=True)
class ReadinessCheck:
    name: str
    ok: bool
    detail: str
    #: False: reported, but readiness does not depend on it.
    required: bool = True


@dataclass(frozen=True, slots=True)
class Readiness:
    checks: tuple[ReadinessCheck, ...]

    @property
    def ready(self) -> bool:
        return all(c.ok for c in self.checks if c.required)

    def to_dict(self) -> dict[str, Any]:
        def check(c: ReadinessCheck) -> dict[str, Any]:
            return {"ok": c.ok, "detail": c.detail} if c.required else {"ok": c.ok, "detail": c.detail,
                                                                        "required": False}

        return {"status": "ready" if self.ready else "not_ready", "checks": {c.name: check(c) for c in self.checks}}


def store_writable(engine: Engine) -> tuple[bool, str]:
    """Whether the store takes writes now: the writer's store-health signal
    (:mod:`essaim.engine.health`). While it is down, campaigns refuse writes
    with ``unavailable``: send new people elsewhere."""
    if engine.writer.finished.is_set():
        return False, "the writer is closed"
    health = engine.store_health
    if not health.writable:
        return False, f"the store cannot be written for now ({health.error}); retrying"
    return True, "the store takes writes"


def open_fds() -> int:
    """Open file descriptors of this process (-1 where /proc is missing). A
    directory listing of up to ~20,000 entries: call it in a worker thread."""
    try:
        return len(os.listdir(PROC_FD))
    except OSError:
        return -1


def fd_limit() -> int:
    """The soft open-files limit (RLIMIT_NOFILE); -1 when unlimited."""
    soft, _ = resource.getrlimit(resource.RLIMIT_NOFILE)
    return -1 if soft == resource.RLIM_INFINITY else int(soft)


async def check_readiness(server: ServerContext) -> Readiness:
    engine = server.engine
    writable, why = store_writable(engine)
    draining = server.draining or server.stop_requested.is_set()
    asked = sorted(engine.rebuilding(asked_only=True))
    fds, limit = await trio.to_thread.run_sync(open_fds), fd_limit()
    fds_ok = fds < 0 or limit < 0 or fds < FD_READY_SHARE * limit
    link = engine.cluster_link()
    optional = () if link is None else (ReadinessCheck("cluster_bus", link[0], link[1], required=False),)
    return Readiness((
        ReadinessCheck("store", writable, why),
        ReadinessCheck("draining", not draining, "shutting down" if draining else "serving"),
        ReadinessCheck("rebuilding", not asked,
                       f"{len(asked)} campaign(s) asked for are still being rebuilt" if asked else "none asked for"),
        ReadinessCheck("fds", fds_ok, f"{fds} open of {limit} allowed (ready below {FD_READY_SHARE:.0%})"),
        *optional,
    ))
