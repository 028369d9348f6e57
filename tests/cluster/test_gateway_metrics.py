"""A cluster gateway's /metrics, scraped from a real server on a real
redis-server: promtool-clean with the cluster collector's families, and
showing the gateway's link, its campaign and its store (issue 14 asks of a
gateway what it asks of a single process)."""

from __future__ import annotations

from pathlib import Path

import requests
import trio
from realservers.promtool import check_metrics
from realservers.redis import RedisServer
from server_fixtures import new_campaign, participant_connection, running_server

#: The cluster families every gateway exports, whatever happened yet (takeovers
#: and step-downs come with failover mode, on PostgreSQL: tests/cluster/test_failover.py).
CLUSTER_FAMILIES = ("essaim_cluster_bus_connected", "essaim_cluster_campaigns_owned",
                    "essaim_cluster_requests_resent_total", "essaim_cluster_publications_fenced_total",
                    "essaim_replica_lag_seconds_count")


def _samples(text: str) -> dict[str, float]:
    return {line.rsplit(" ", 1)[0]: float(line.rsplit(" ", 1)[1]) for line in text.splitlines()
            if line and not line.startswith("#")}


async def test_a_gateways_metrics_are_promtool_clean_with_the_cluster_families(redis_server: RedisServer,
                                                                         tmp_path: Path) -> None:
    async with running_server(tmp_path, cluster=redis_server.url, metrics_token="scrape") as server:
        campaign_id, code, fac = await new_campaign(server)
        await fac.phase(campaign_id, "start")
        async with participant_connection(server) as phone:
            await phone.join(code)
            await phone.act_and_wait("write_card", text="a card through the owner and back")
            scrape = await trio.to_thread.run_sync(lambda: requests.get(
                server.base_url + "/metrics", headers={"Authorization": "Bearer scrape"}, timeout=10))
    assert scrape.status_code == 200
    lint = check_metrics(scrape.text)
    assert lint.returncode == 0 and not lint.stdout.strip() and not lint.stderr.strip(), lint.stdout + lint.stderr
    values = _samples(scrape.text)
    missing = [name for name in CLUSTER_FAMILIES if name not in values]
    assert not missing, f"a gateway's /metrics lacks {missing}"
    assert values["essaim_cluster_bus_connected"] == 1
    assert values["essaim_cluster_campaigns_owned"] == 1  # one process: the gateway owns its campaign
    assert values["essaim_connections_open"] == 1 and values["essaim_store_writable"] == 1
