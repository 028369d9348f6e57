"""Join flooding and socket hoarding: join/resume attempts are rate limited
per client address, sockets per participant are capped."""

from __future__ import annotations

import requests
import trio
from server_fixtures import new_campaign, participant_connection, running_server

from essaim.server import ratelimit
from essaim.server.ratelimit import AddressBuckets


async def test_join_attempts_from_one_address_are_rate_limited(tmp_path):
    # A tiny sustained rate: nothing refills during the test.
    async with running_server(tmp_path, join_rate_per_second=0.001, join_burst=3) as server:
        campaign_id, code, _ = await new_campaign(server)
        tokens = []
        for _ in range(3):
            async with participant_connection(server) as p:
                tokens.append((await p.join(code))["token"])
        async with participant_connection(server) as p:
            await p.send({"type": "join", "campaign": code})
            assert (await p.recv())["code"] == "rate_limited"
            await p.send({"type": "resume", "campaign": code, "token": tokens[0], "seq": 0})
            assert (await p.recv())["code"] == "rate_limited"
        assert server.engine.state(campaign_id).counters["participants"] == 3


async def test_sockets_per_participant_are_capped(tmp_path):
    async with running_server(tmp_path, max_connections_per_participant=2) as server:
        campaign_id, code, _ = await new_campaign(server)
        async with participant_connection(server) as first:
            token = (await first.join(code))["token"]
            resume = {"type": "resume", "campaign": code, "token": token, "seq": 0}
            async with participant_connection(server) as second:
                await second.send(resume)
                assert (await second.recv())["type"] == "welcome"
                async with participant_connection(server) as third:
                    await third.send(resume)
                    error = await third.recv()
                    assert error["code"] == "limit_exceeded" and "close another" in error["message"]
            hub = server.hubs.get(campaign_id)
            with trio.fail_after(10):
                while len(hub.by_pid[first.welcome["pid"]]) > 1:  # the server sees the close
                    await trio.sleep(0.01)
            async with participant_connection(server) as again:
                await again.send(resume)
                assert (await again.recv())["type"] == "welcome"


def test_address_buckets_are_per_address_and_bounded(monkeypatch):
    buckets = AddressBuckets(rate=1.0, burst=2)
    assert [buckets.take("10.0.0.1", 0.0) for _ in range(3)] == [True, True, False]
    assert buckets.take("10.0.0.2", 0.0)  # another address has its own attempts
    assert buckets.take("10.0.0.1", 1.0)  # one attempt back after a second
    monkeypatch.setattr(ratelimit, "MAX_TRACKED_ADDRESSES", 10)
    for i in range(50):
        buckets.take(f"10.1.0.{i}", 2.0)
    assert len(buckets._buckets) <= 10


async def _get_join_info(server, code: str, address: str | None = None) -> requests.Response:
    headers = {"X-Forwarded-For": address} if address else {}
    return await trio.to_thread.run_sync(
        lambda: requests.get(f"{server.base_url}/api/join/{code}", headers=headers, timeout=10))


async def test_join_code_lookups_over_http_share_the_join_limit(tmp_path):
    """GET /api/join/{code} answers whether a code exists: guessing codes
    there costs the same attempts as joining over the WebSocket."""
    async with running_server(tmp_path, join_rate_per_second=0.001, join_burst=3) as server:
        _, code, _ = await new_campaign(server)
        assert (await _get_join_info(server, code)).status_code == 200
        assert (await _get_join_info(server, "NOPE1")).status_code == 404
        assert (await _get_join_info(server, "NOPE2")).status_code == 404
        refused = await _get_join_info(server, code)
        assert refused.status_code == 429 and refused.json()["error"]["code"] == "rate_limited"
        assert int(refused.headers["Retry-After"]) >= 1
        # The same address has no attempts left on the WebSocket either.
        async with participant_connection(server) as p:
            await p.send({"type": "join", "campaign": code})
            assert (await p.recv())["code"] == "rate_limited"


async def test_websocket_joins_spend_the_attempts_of_http_lookups(tmp_path):
    async with running_server(tmp_path, join_rate_per_second=0.001, join_burst=2) as server:
        _, code, _ = await new_campaign(server)
        for _ in range(2):
            async with participant_connection(server) as p:
                await p.join(code)
        assert (await _get_join_info(server, code)).status_code == 429


async def test_the_join_limit_is_per_client_address_behind_a_trusted_proxy(tmp_path):
    """The address is the one client_address() gives: each forwarded client has its own attempts."""
    async with running_server(tmp_path, join_rate_per_second=0.001, join_burst=1,
                              trusted_proxies=("127.0.0.1",)) as server:
        _, code, _ = await new_campaign(server)
        assert (await _get_join_info(server, code, "198.51.100.1")).status_code == 200
        assert (await _get_join_info(server, code, "198.51.100.1")).status_code == 429
        assert (await _get_join_info(server, code, "198.51.100.2")).status_code == 200
