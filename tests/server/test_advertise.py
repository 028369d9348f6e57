"""Links point where phones can go: never 127.0.0.1 for a server listening
on every interface, and the terminal and console say when they cannot."""

from __future__ import annotations

import ipaddress

from essaim.server.advertise import advertised, lan_address
from essaim.server.settings import Settings


def test_wildcard_host_advertises_the_network_address():
    got = advertised(Settings(host="0.0.0.0", port=8000), find_lan=lambda: "192.168.1.20")
    assert got.base_url == "http://192.168.1.20:8000" and got.reachable


def test_wildcard_host_without_network_says_so():
    got = advertised(Settings(host="0.0.0.0", port=8000), find_lan=lambda: None)
    assert got.base_url == "http://127.0.0.1:8000"
    assert not got.reachable and "PUBLIC_URL" in got.hint


def test_public_url_wins_and_loses_its_trailing_slash():
    got = advertised(Settings(host="0.0.0.0", public_url="https://essaim.example.org/"),
                     find_lan=lambda: "10.0.0.2")
    assert got.base_url == "https://essaim.example.org" and got.reachable


def test_loopback_host_is_flagged_with_what_to_do():
    for host in ("127.0.0.1", "localhost", "::1"):
        got = advertised(Settings(host=host, port=8000))
        assert not got.reachable and "HOST=0.0.0.0" in got.hint, host
    assert advertised(Settings(host="::1", port=8000)).base_url == "http://[::1]:8000"


def test_a_named_interface_is_used_as_is():
    got = advertised(Settings(host="10.1.2.3", port=9000))
    assert got.base_url == "http://10.1.2.3:9000" and got.reachable


def test_lan_address_is_a_real_non_loopback_address_or_none():
    found = lan_address()
    assert found is None or not ipaddress.ip_address(found).is_loopback
