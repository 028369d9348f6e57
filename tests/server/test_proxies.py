"""Trusted proxies: forwarded headers name the client only from a trusted peer."""

from __future__ import annotations

import pytest
from server_fixtures import new_campaign, participant_connection, running_server

from essaim.server.proxies import CLIENT_KEY, ProxyHeaders, client_address
from essaim.server.settings import SettingsError, load_settings, unknown_environment


def _scope(peer: str, *headers: tuple[str, str], type_: str = "http") -> dict:
    return {"type": type_, "client": (peer, 50000), "scheme": "ws" if type_ == "websocket" else "http",
            "headers": [(k.lower().encode(), v.encode()) for k, v in [("host", "10.0.0.2:8000"), *headers]]}


def test_forwarded_for_is_believed_from_a_trusted_peer_only():
    proxies = ProxyHeaders(["10.0.0.0/24", "::1"])
    spoof = ("X-Forwarded-For", "198.51.100.7")
    assert client_address(proxies.apply(_scope("10.0.0.5", spoof))) == "198.51.100.7"
    assert client_address(proxies.apply(_scope("::1", spoof))) == "198.51.100.7"
    # Anyone else sending the header gets their own address.
    assert client_address(proxies.apply(_scope("203.0.113.9", spoof))) == "203.0.113.9"
    # Nothing trusted: the header is never read.
    assert client_address(ProxyHeaders([]).apply(_scope("10.0.0.5", spoof))) == "10.0.0.5"


def test_the_chain_is_read_from_the_right_so_a_client_cannot_pick_its_address():
    proxies = ProxyHeaders(["10.0.0.0/24"])
    # The client sent "X-Forwarded-For: 1.1.1.1"; nginx appended the real peer.
    forged = _scope("10.0.0.5", ("X-Forwarded-For", "1.1.1.1, 203.0.113.9"))
    assert client_address(proxies.apply(forged)) == "203.0.113.9"
    # Two trusted hops (a load balancer, then nginx): the first untrusted one from the right.
    two_hops = _scope("10.0.0.5", ("X-Forwarded-For", "203.0.113.9"), ("X-Forwarded-For", "10.0.0.7"))
    assert client_address(proxies.apply(two_hops)) == "203.0.113.9"
    # A malformed hop stops at the trusted proxy that reported it.
    garbage = _scope("10.0.0.5", ("X-Forwarded-For", "not-an-ip, 10.0.0.7"))
    assert client_address(proxies.apply(garbage)) == "10.0.0.7"
    # No header at all: the proxy itself.
    assert client_address(proxies.apply(_scope("10.0.0.5"))) == "10.0.0.5"


def test_rfc7239_forwarded_when_chosen_and_only_then():
    scope = _scope("10.0.0.5", ("Forwarded", 'for="[2001:db8::7]:4711";proto=https;host=essaim.example.org'),
                   ("X-Forwarded-For", "198.51.100.7"), type_="websocket")
    applied = ProxyHeaders(["10.0.0.5"], "forwarded").apply(scope)
    assert client_address(applied) == "2001:db8::7"
    assert applied["scheme"] == "wss" and (b"host", b"essaim.example.org") in applied["headers"]
    assert client_address(ProxyHeaders(["10.0.0.5"]).apply(scope)) == "198.51.100.7"


def test_proto_and_host_from_a_trusted_proxy_and_the_peer_is_kept():
    proxies = ProxyHeaders(["10.0.0.5"])
    scope = _scope("10.0.0.5", ("X-Forwarded-Proto", "https"), ("X-Forwarded-Host", "essaim.example.org"),
                   type_="websocket")
    applied = proxies.apply(scope)
    assert applied["scheme"] == "wss"
    assert [v for k, v in applied["headers"] if k == b"host"] == [b"essaim.example.org"]
    assert applied["client"] == ("10.0.0.5", 50000)  # the TCP peer, for cutting slow clients off
    untrusted = ProxyHeaders(["10.0.0.6"]).apply(scope)
    assert untrusted["scheme"] == "ws" and [v for k, v in untrusted["headers"] if k == b"host"] == [b"10.0.0.2:8000"]
    assert client_address({"type": "http"}) == "" and CLIENT_KEY not in scope


@pytest.mark.parametrize("entry", ["10.0.0.300", "10.0.0.1/8", "proxy.example.org", "10.0.0.0/33"])
def test_a_malformed_trusted_proxy_stops_the_start_naming_it(entry):
    with pytest.raises(SettingsError, match=rf"trusted_proxies.*{entry.split('/')[0]}"):
        load_settings(environ={"ESSAIM_TRUSTED_PROXIES": f"127.0.0.1, {entry}"})


def test_trusted_proxies_and_proxy_headers_settings():
    s = load_settings(environ={"ESSAIM_TRUSTED_PROXIES": "10.0.0.0/8, ::1", "ESSAIM_PROXY_HEADERS": "forwarded"})
    assert s.trusted_proxies == ("10.0.0.0/8", "::1") and s.proxy_headers == "forwarded"
    with pytest.raises(SettingsError, match="proxy_headers"):
        load_settings(environ={"ESSAIM_PROXY_HEADERS": "x-real-ip"})


def test_an_unknown_essaim_variable_is_reported_with_the_closest_setting():
    messages = unknown_environment({"ESSAIM_RATE_PER_SECONDS": "3", "ESSAIM_PORT": "1", "ESSAIM_SLOW": "1",
                                    "ESSAIM_SLO_ACK_P95_MS": "1", "ESSAIM_WHATEVER": "x", "HOME": "/"})
    assert len(messages) == 2
    assert "ESSAIM_RATE_PER_SECONDS" in messages[0] and "ESSAIM_RATE_PER_SECOND?" in messages[0]
    assert "ESSAIM_WHATEVER" in messages[1]


async def test_joins_behind_a_trusted_proxy_are_limited_per_client(tmp_path):
    """Every socket comes from 127.0.0.1 (the 'proxy'): with it trusted, each
    forwarded client has its own join budget; a forged header from an
    untrusted peer would change nothing (the unit tests above)."""
    async with running_server(tmp_path, join_rate_per_second=0.001, join_burst=1,
                              trusted_proxies=("127.0.0.1",)) as server:
        campaign_id, code, _ = await new_campaign(server)
        for client in ("198.51.100.1", "198.51.100.2"):
            async with participant_connection(server, extra_headers=[(b"X-Forwarded-For", client.encode())]) as p:
                await p.join(code)
        async with participant_connection(server, extra_headers=[(b"X-Forwarded-For", b"198.51.100.1")]) as p:
            await p.send({"type": "join", "campaign": code})
            assert (await p.recv())["code"] == "rate_limited"
        assert server.engine.state(campaign_id).counters["participants"] == 2


async def test_origin_check_uses_the_forwarded_host_and_scheme(tmp_path):
    async with running_server(tmp_path, trusted_proxies=("127.0.0.1",)) as server:
        public = [(b"X-Forwarded-Host", b"essaim.example.org"), (b"X-Forwarded-Proto", b"https")]
        async with participant_connection(server, extra_headers=[*public, (b"Origin", b"https://essaim.example.org")]) as p:
            await p.send({"type": "join", "campaign": "NOPE00"})
            assert (await p.recv())["code"] == "not_found"  # the handshake was accepted
        assert server.metrics.origin_refused == 0
        from trio_websocket import HandshakeError
        with pytest.raises(HandshakeError):
            async with participant_connection(server, extra_headers=[*public, (b"Origin", b"http://essaim.example.org")]):
                pass
        assert server.metrics.origin_refused == 1


def test_essaim_serve_refuses_to_start_on_a_malformed_entry(tmp_path, capsys):
    from essaim.cli import main
    assert main(["serve", "--data", str(tmp_path), "--set", "trusted_proxies=10.0.0.1,10.0.0.0/33"]) == 2
    err = capsys.readouterr().err
    assert "trusted_proxies" in err and "10.0.0.0/33" in err
