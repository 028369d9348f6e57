"""Who is the client, behind a reverse proxy: :func:`client_address`.

Behind nginx every socket comes from the proxy's address, so per-address
limits (joins, sockets) would become one limit for the whole audience and
the logs would name only the proxy. The proxy says who its client was in
``X-Forwarded-For`` (or RFC 7239 ``Forwarded``); anyone can send those
headers, so they are believed **only from a peer in** ``trusted_proxies``.

The chain is read from the right, as nginx's ``real_ip_recursive`` does:
each hop was appended by the hop after it, so the first address that is not
itself a trusted proxy is the client (whatever a client put further left is
ignored). Only the header family named by ``proxy_headers`` is read: a
proxy that writes one family usually passes the other through from the
client untouched, where it could be forged.

:meth:`ProxyHeaders.apply` runs once per HTTP request or WebSocket, at the
ASGI entry (``EssaimServer.asgi``); it leaves ``scope["client"]`` (the TCP
peer, which :mod:`essaim.server.ws.transports` needs) alone and records the
client address under :data:`CLIENT_KEY`; from a trusted proxy it also sets
``scope["scheme"]`` and the ``host`` header from ``X-Forwarded-Proto`` /
``X-Forwarded-Host`` (or ``proto=`` / ``host=``), so the WebSocket Origin
check compares the browser's origin with the public one.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

__all__ = ["client_address", "ProxyHeaders", "parse_trusted_proxies", "PROXY_HEADER_FAMILIES", "CLIENT_KEY",
           "FORWARDED_SCHEME_KEY"]

Network = ipaddress.IPv4Network | ipaddress.IPv6Network

#: Where :meth:`ProxyHeaders.apply` records the client address in the scope.
CLIENT_KEY = "essaim.client"
#: Set (to the forwarded scheme) when a trusted proxy said which scheme the client used.
FORWARDED_SCHEME_KEY = "essaim.forwarded_scheme"
#: ``x-forwarded``: X-Forwarded-For/-Proto/-Host (nginx, HAProxy, most load
#: balancers); ``forwarded``: the RFC 7239 ``Forwarded`` header.
PROXY_HEADER_FAMILIES = ("x-forwarded", "forwarded")
#: Hops read from a forwarding chain at most: a chain is a few proxies long;
#: a client padding it cannot make the server walk thousands of entries.
MAX_CHAIN_HOPS = 16


def client_address(scope: Mapping[str, Any]) -> str:
    """The client's IP address for an HTTP or WebSocket ASGI scope: the
    forwarded one when the peer is a trusted proxy, else the TCP peer's; ""
    when unknown (a Unix socket, a test client). The one function to key
    per-address limits and log lines on."""
    found = scope.get(CLIENT_KEY)
    if found is not None:
        return str(found)
    peer = scope.get("client")
    return str(peer[0]) if peer else ""


def parse_trusted_proxies(entries: Iterable[str]) -> tuple[Network, ...]:
    """Addresses or CIDR blocks; ``ValueError`` naming the first malformed entry."""
    networks = []
    for entry in entries:
        try:
            networks.append(ipaddress.ip_network(entry.strip(), strict=True))
        except ValueError as exc:
            hint = ""
            try:
                hint = f" (did you mean {ipaddress.ip_network(entry.strip(), strict=False)}?)"
            except ValueError:
                pass
            raise ValueError(f"{entry!r} is not an IP address or CIDR block{hint}: {exc}") from None
    return tuple(networks)


def _ip(text: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    """An address from a header value: ``1.2.3.4``, ``1.2.3.4:80``,
    ``[2001:db8::1]:4711`` or ``2001:db8::1``; None if it is none of those."""
    text = text.strip().strip('"')
    if text.startswith("["):
        text = text[1:text.find("]")] if "]" in text else text
    elif text.count(":") == 1:
        text = text.split(":", 1)[0]
    try:
        return ipaddress.ip_address(text)
    except ValueError:
        return None


def _header_values(headers: Iterable[tuple[bytes, bytes]], name: bytes) -> list[str]:
    """Every comma-separated element of every ``name`` header, in order."""
    values: list[str] = []
    for key, value in headers:
        if key.lower() == name:
            values.extend(v.strip() for v in value.decode("latin-1").split(","))
    return values


def _forwarded_elements(headers: Iterable[tuple[bytes, bytes]]) -> list[dict[str, str]]:
    """RFC 7239 ``Forwarded`` elements as ``{"for": ..., "proto": ..., "host": ...}``."""
    elements = []
    for element in _header_values(headers, b"forwarded"):
        pairs: dict[str, str] = {}
        for pair in element.split(";"):
            key, sep, value = pair.partition("=")
            if sep:
                pairs[key.strip().lower()] = value.strip().strip('"')
        elements.append(pairs)
    return elements


class ProxyHeaders:
    """The trusted proxies and the header family they write (from the settings)."""

    def __init__(self, trusted: Sequence[str], family: str = "x-forwarded") -> None:
        if family not in PROXY_HEADER_FAMILIES:
            raise ValueError(f"proxy headers {family!r}: use one of {list(PROXY_HEADER_FAMILIES)}")
        self.networks = parse_trusted_proxies(trusted)
        self.family = family

    def trusts(self, address: str) -> bool:
        ip = _ip(address)
        return ip is not None and any(ip in net for net in self.networks)

    def apply(self, scope: dict[str, Any]) -> dict[str, Any]:
        """The scope as the application sees it (see the module docstring).
        Cheap when no proxy is trusted: one dictionary copy."""
        peer = scope.get("client")
        peer_address = str(peer[0]) if peer else ""
        scope = {**scope, CLIENT_KEY: peer_address}
        if not self.networks or not self.trusts(peer_address):
            return scope
        headers = scope.get("headers", ())
        if self.family == "forwarded":
            elements = _forwarded_elements(headers)
            chain = [e.get("for", "") for e in elements]
            nearest = elements[-1] if elements else {}
            proto, host = nearest.get("proto"), nearest.get("host")
        else:
            chain = _header_values(headers, b"x-forwarded-for")
            protos = _header_values(headers, b"x-forwarded-proto")
            hosts = _header_values(headers, b"x-forwarded-host")
            proto, host = (protos[-1] if protos else None), (hosts[-1] if hosts else None)
        scope[CLIENT_KEY] = self._client_from_chain(chain, peer_address)
        if proto in ("http", "https"):
            scope[FORWARDED_SCHEME_KEY] = proto
            websocket = scope.get("type") == "websocket"
            scope["scheme"] = {"http": "ws", "https": "wss"}[proto] if websocket else proto
        if host:
            scope["headers"] = [(k, v) for k, v in headers if k.lower() != b"host"] + [(b"host", host.encode("latin-1"))]
        return scope

    def _client_from_chain(self, chain: list[str], peer: str) -> str:
        """The rightmost hop that is not a trusted proxy; a malformed hop
        ends the walk at the trusted proxy that reported it."""
        client = peer
        for hop in reversed(chain[-MAX_CHAIN_HOPS:]):
            ip = _ip(hop)
            if ip is None:
                break
            client = str(ip)
            if not any(ip in net for net in self.networks):
                break
        return client
