"""/metrics (prometheus_client, promtool-clean, behind a token or on its own
listener), /healthz and /readyz."""

from __future__ import annotations

import re

import requests
import trio
from realservers.promtool import check_metrics
from server_fixtures import new_campaign, participant_connection, running_server

from essaim.server.ops import readiness


async def _get(url: str, token: str | None = None) -> requests.Response:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    return await trio.to_thread.run_sync(lambda: requests.get(url, headers=headers, timeout=10))


def _samples(text: str) -> dict[str, float]:
    return {line.rsplit(" ", 1)[0]: float(line.rsplit(" ", 1)[1]) for line in text.splitlines()
            if line and not line.startswith("#")}


async def test_metrics_are_promtool_clean_and_cover_the_server(tmp_path):
    async with running_server(tmp_path, metrics_token="scrape-me") as server:
        campaign_id, code, fac = await new_campaign(server)
        await fac.phase(campaign_id, "start")
        async with participant_connection(server) as p:
            await p.join(code)
            await p.act_and_wait("write_card", text="a card for the metrics")
            await fac.phase(campaign_id, "advance")  # a phase change pushed to p: one staleness sample
            await p.until(lambda p: p.state["phase"]["index"] == 1)
            await fac.call("GET", f"/api/campaigns/{campaign_id}/results")
            r = await _get(server.base_url + "/metrics", "scrape-me")
    assert r.status_code == 200 and r.headers["Content-Type"].startswith("text/plain; version=0.0.4")
    lint = check_metrics(r.text)
    assert lint.returncode == 0 and not lint.stdout.strip() and not lint.stderr.strip(), lint.stdout + lint.stderr
    values = _samples(r.text)
    assert values["essaim_connections_open"] == 1 and values["essaim_connections_accepted_total"] == 1
    assert values["essaim_phase_push_staleness_seconds_count"] >= 1
    assert values["essaim_results_seconds_count"] >= 1
    assert "essaim_loop_lag_seconds_count" in values  # sampled every 0.25 s: see the fake-clock test below
    assert values["essaim_draining"] == 0 and values["essaim_campaigns_rebuilding"] == 0
    assert values[f'essaim_campaign_info{{campaign="{campaign_id}",phase="sort"}}'] == 1
    assert values["process_open_fds"] > 0 and values["process_max_fds"] > 0 and values["process_resident_memory_bytes"] > 0
    assert re.search(r'^essaim_build_info\{python="[\d.]+",version="[^"]+"\} 1\.0$', r.text, re.M)
    route = '/api/campaigns/<campaign_id>/results'
    assert values[f'essaim_http_request_duration_seconds_count{{method="GET",route="{route}",status="200"}}'] == 1
    assert values['essaim_http_request_duration_seconds_count{method="POST",route="/api/campaigns/<campaign_id>/phase/<action>",status="200"}'] == 2


async def test_metrics_need_a_token_and_are_no_oracle(tmp_path):
    async with running_server(tmp_path, metrics_token="scrape-me") as server:
        campaign_id, _, fac = await new_campaign(server)
        for token in (None, "wrong", fac.token):
            r = await _get(server.base_url + "/metrics", token)
            assert r.status_code == 401 and campaign_id not in r.text
            assert r.headers["WWW-Authenticate"].startswith("Bearer")
        assert (await _get(server.base_url + "/metrics", server.admin_token)).status_code == 200
        # The scraped 404s are one label value, not one per path tried.
        await _get(server.base_url + "/no/such/page")
        text = (await _get(server.base_url + "/metrics", "scrape-me")).text
        assert 'route="(unmatched)"' in text and "/no/such/page" not in text


async def test_metrics_address_serves_monitoring_only_without_a_token(tmp_path):
    async with running_server(tmp_path, metrics_address="127.0.0.1:0") as server:
        campaign_id, _, _ = await new_campaign(server)
        assert server.monitoring_port
        monitoring = f"http://127.0.0.1:{server.monitoring_port}"
        r = await _get(monitoring + "/metrics")
        assert r.status_code == 200 and campaign_id in r.text
        assert (await _get(monitoring + "/readyz")).status_code == 200
        assert (await _get(monitoring + "/healthz")).status_code == 200
        for path in ("/api/templates", f"/api/campaigns/{campaign_id}", "/", "/openapi.json"):
            assert (await _get(monitoring + path, server.admin_token)).status_code == 404, path
        assert (await _get(server.base_url + "/metrics")).status_code == 401  # the main listener still wants one


async def test_readyz_fails_while_draining_and_near_the_fd_limit(tmp_path, monkeypatch):
    async with running_server(tmp_path) as server:
        r = await _get(server.base_url + "/readyz")
        assert r.status_code == 200 and all(c["ok"] for c in r.json()["checks"].values())
        monkeypatch.setattr(readiness, "fd_limit", lambda: readiness.open_fds() + 1)
        r = await _get(server.base_url + "/readyz")
        assert r.status_code == 503 and not r.json()["checks"]["fds"]["ok"]
        monkeypatch.undo()
        server.draining = True
        try:
            r = await _get(server.base_url + "/readyz")
            assert r.status_code == 503 and r.json()["checks"]["draining"] == {"ok": False, "detail": "shutting down"}
            assert (await _get(server.base_url + "/healthz")).json()["status"] == "draining"
            assert (await _get(server.base_url + "/healthz")).status_code == 200  # alive: no restart wanted
        finally:
            server.draining = False


async def test_readyz_fails_while_a_campaign_asked_for_is_rebuilding(tmp_path):
    from essaim.errors import CommandError
    async with running_server(tmp_path) as server:
        campaign_id, _, _ = await new_campaign(server)
        engine = server.engine
        engine._loading.add(campaign_id)  # as while it is rebuilt after an unload
        try:
            assert (await _get(server.base_url + "/readyz")).status_code == 200  # nobody asked yet
            owner = engine._owners.pop(campaign_id)
            try:
                try:
                    engine.owner(campaign_id)
                except CommandError as error:
                    assert error.code == "unavailable"
                r = await _get(server.base_url + "/readyz")
                assert r.status_code == 503 and not r.json()["checks"]["rebuilding"]["ok"]
            finally:
                engine._owners[campaign_id] = owner
        finally:
            engine._loading.discard(campaign_id)
            engine._asked_while_loading.discard(campaign_id)
        assert (await _get(server.base_url + "/readyz")).status_code == 200


async def test_loop_lag_is_how_late_the_loop_wakes_a_sleeper(autojump_clock):
    from essaim.engine.metrics import Histogram
    from essaim.server.ops.metrics import LOOP_LAG_BUCKETS, watch_loop_lag
    hist = Histogram(LOOP_LAG_BUCKETS)
    async with trio.open_nursery() as nursery:
        nursery.start_soon(watch_loop_lag, hist, 1.0)
        await trio.sleep(0.5)
        autojump_clock.jump(0.7)  # a 0.7 s stall of the loop: the sleeper due at 1.0 wakes at 1.2
        await trio.sleep(8.9)  # ends at 10.1: no tie with the wake-up due at 10.2
        nursery.cancel_scope.cancel()
    assert hist.count == 9 and abs(hist.sum - 0.2) < 1e-9
