"""A gateway's upkeep: replicas of finished campaigns nobody uses are
unloaded, and its link to Valkey shows in /readyz (without failing it) and
/metrics. Real redis-server; the server test runs a real hypercorn server."""

from __future__ import annotations

from pathlib import Path

import requests
import trio
from realservers.redis import RedisServer
from server_fixtures import new_campaign, running_server
from test_replication import STEP, TEMPLATE

from essaim import FACILITATOR, Command
from essaim.cluster import open_cluster_engine
from essaim.engine import EngineLimits
from essaim.store import MemoryStore


async def test_a_finished_campaigns_replica_nobody_uses_is_unloaded(redis_server: RedisServer) -> None:
    limits = EngineLimits(unload_finished_after=0.5)
    async with open_cluster_engine(redis_server.url, MemoryStore()) as owner, \
            open_cluster_engine(redis_server.url, MemoryStore(), limits=limits) as gateway:
        cid = (await owner.create_campaign(TEMPLATE)).campaign_id
        with trio.fail_after(STEP):
            await gateway.ready(cid)
        replica = gateway.gateway.replicas[cid]
        unsubscribe = replica.subscribe(lambda events: None)  # a hub with phones: in use
        for _ in range(4):  # start, then through the three phases to the end
            await gateway.execute(cid, FACILITATOR, Command("start" if _ == 0 else "advance"))
        with trio.fail_after(STEP):
            await replica.applied(owner.campaign(cid).durable_seq)
        assert replica.state.status == "finished"
        await trio.sleep(2.0)  # two sweeps past the idle time: listened, so kept
        assert cid in gateway.gateway.replicas
        unsubscribe()
        with trio.fail_after(STEP):
            while cid in gateway.gateway.replicas:
                await trio.sleep(0.1)
        assert gateway.campaign_ids() == []
        with trio.fail_after(STEP):  # asked for again: replicated again
            await gateway.ready(cid)
        assert gateway.state(cid).status == "finished"


def _get(url: str, token: str | None = None) -> requests.Response:
    return requests.get(url, headers={"Authorization": f"Bearer {token}"} if token else {}, timeout=10)


async def test_readyz_reports_the_valkey_link_without_failing_on_it(redis_server: RedisServer,
                                                                   tmp_path: Path) -> None:
    async with running_server(tmp_path, cluster=redis_server.url, metrics_token="scrape") as server:
        await new_campaign(server)
        ready = await trio.to_thread.run_sync(_get, server.base_url + "/readyz")
        assert ready.status_code == 200 and ready.json()["checks"]["cluster_bus"]["ok"] is True
        redis_server.pause()  # Valkey stops answering
        try:
            with trio.fail_after(STEP):
                while server.engine.gateway.connected:  # type: ignore[attr-defined]
                    await trio.sleep(0.1)
            ready = await trio.to_thread.run_sync(_get, server.base_url + "/readyz")
            metrics = await trio.to_thread.run_sync(_get, server.base_url + "/metrics", "scrape")
        finally:
            redis_server.resume()
    bus = ready.json()["checks"]["cluster_bus"]
    assert ready.status_code == 200 and ready.json()["status"] == "ready", ready.text
    assert bus["ok"] is False and bus["required"] is False and redis_server.url in bus["detail"]
    assert "essaim_cluster_bus_connected 0.0" in metrics.text
