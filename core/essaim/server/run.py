"""Run the server: engine, hypercorn (trio worker), hubs, sweeper, drain.

::

    async with trio.open_nursery() as nursery:
        server = await nursery.start(serve, settings)   # listening
        ...
        server.stop_requested.set()                      # 1012 drain, then engine closes

Order at exit: participant sockets get 1012 (shutdown trigger), hypercorn
finishes its connections within ``graceful_timeout``, the hubs stop, and
the engine makes everything queued durable and closes the store.
"""

from __future__ import annotations

import gc
import logging
from pathlib import Path
from typing import Any, cast

import trio
from hypercorn.trio.run import worker_serve
from hypercorn.typing import ASGIFramework
from hypercorn.utils import wrap_app

from essaim.engine import open_engine
from essaim.errors import BusError
from essaim.plugin import PluginHost
from essaim.server.advertise import advertised
from essaim.server.app import EssaimServer
from essaim.server.hypercorn_config import hypercorn_config, listening_sockets
from essaim.server.ops.gc_tuning import freeze_startup_objects, tune_gc
from essaim.server.ops.metrics import watch_loop_lag
from essaim.server.settings import Settings
from essaim.server.ws.deflate import refuse_permessage_deflate
from essaim.server.ws.release import release_closed_connections
from essaim.server.ws.transports import track_transports
from essaim.store import Store

__all__ = ["serve", "STORE_FILE"]

log = logging.getLogger("essaim.server")

#: The embedded store's file inside the data folder.
STORE_FILE = "essaim.sqlite3"


def _open_engine(settings: Settings, store: Store | str | Path, plugins: PluginHost | None) -> Any:
    """The engine: on its own, or in cluster mode on ``settings.cluster``
    (owner of its campaigns, gateway to the others: essaim.cluster)."""
    if not settings.cluster:
        return open_engine(store, plugins=plugins, finished_later=True)
    try:
        from essaim.cluster import open_cluster_engine
    except ImportError as exc:  # valkey-glide is an optional dependency
        raise BusError(f"cluster mode needs valkey-glide ({exc}); install it with: pip install 'essaim[cluster]'") from None
    return open_cluster_engine(settings.cluster, store, plugins=plugins, finished_later=True)


async def serve(
    settings: Settings,
    *,
    store: Store | str | Path | None = None,
    plugins: PluginHost | None = None,
    task_status: trio.TaskStatus[EssaimServer] = trio.TASK_STATUS_IGNORED,
) -> None:
    """Serve until ``server.stop_requested`` is set. ``store`` defaults to
    ``settings.store`` (a PostgreSQL URL), else the SQLite file in
    ``settings.data_dir``."""
    refuse_permessage_deflate()
    track_transports()
    release_closed_connections()
    tune_gc(settings.gc_threshold0)
    if store is None and settings.store:
        store = settings.store
    if store is None:
        Path(settings.data_dir).mkdir(parents=True, exist_ok=True)
        store = Path(settings.data_dir) / STORE_FILE
    async with _open_engine(settings, store, plugins) as engine:
        async with trio.open_nursery() as nursery:
            server = EssaimServer(engine, settings, nursery)
            config = hypercorn_config(settings)
            sockets = listening_sockets(config, settings)
            port = sockets.insecure_sockets[0].getsockname()[1]
            server.advertised = advertised(settings.with_changes(port=port))
            if settings.metrics_address:
                server.monitoring_port = sockets.insecure_sockets[1].getsockname()[1]
            server.gc_pauses.install()
            nursery.start_soon(server.sweep_slow_clients)
            nursery.start_soon(watch_loop_lag, server.metrics.loop_lag)

            async def run_hypercorn(*, task_status: trio.TaskStatus[list[str]] = trio.TASK_STATUS_IGNORED) -> None:
                # Essaim's ASGI callables take plain dicts (the hot path builds its
                # events as dict literals); hypercorn's TypedDicts stop at this boundary.
                app = cast(ASGIFramework, server.asgi)
                await worker_serve(
                    wrap_app(app, config.wsgi_max_body_size, "asgi"), config, sockets=sockets,
                    shutdown_trigger=server.shutdown_trigger, task_status=task_status,
                )
                nursery.cancel_scope.cancel()

            await nursery.start(run_hypercorn)
            freeze_startup_objects()

            async def freeze_campaigns_loaded_later() -> None:
                # Finished campaigns are rebuilt after the server started
                # listening (at start-up, or when asked for after an unload):
                # frozen too, or every full collection would scan their
                # ~200 MiB of objects. gc.freeze() alone: a full collection
                # now would pause the live campaigns.
                while True:
                    await engine.campaign_loaded.wait()
                    gc.freeze()

            nursery.start_soon(freeze_campaigns_loaded_later)
            nursery.start_soon(server.gc_freezer.run)
            log.info("listening", extra={"event": "listening", "url": server.base_url,
                                         "metrics_port": server.monitoring_port or None,
                                         "campaigns": len(engine.campaign_ids())})
            task_status.started(server)
        server.gc_pauses.uninstall()
    log.info("stopped", extra={"event": "stopped"})
