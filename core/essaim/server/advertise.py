"""The address the server puts in links (join link, QR code, facilitator link).

A server listening on every interface (``--host 0.0.0.0``) has no single
address of its own: printing ``127.0.0.1`` sends every phone that scans the
QR code to itself. So the links use, in order: ``public_url`` when set (a
proxy, a DNS name), else the address this machine reaches its network with
(the interface of its default route), else loopback, flagged as reachable
from this machine only so that the terminal and the facilitator console can
say so.
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from essaim.server.settings import Settings

__all__ = ["Advertised", "advertised", "lan_address", "WILDCARD_HOSTS"]

#: Hosts that mean "every interface": they name no address a phone can use.
WILDCARD_HOSTS = ("0.0.0.0", "::", "")
#: Any routable address works: connecting a UDP socket sends nothing, it only
#: makes the kernel pick the interface of the route to it (the default route).
_ROUTE_PROBE = ("10.255.255.255", 9)


@dataclass(frozen=True, slots=True)
class Advertised:
    """The base URL of links, and whether another device can open it."""

    base_url: str
    #: False when the links point at this machine's loopback (only a browser
    #: on this machine can open them).
    reachable: bool
    #: Why not, and what to do, when not reachable (English, for the terminal).
    hint: str = ""


def lan_address() -> str | None:
    """This machine's address on its network (IPv4, the default route's
    interface), or None when it has no route (offline, loopback only)."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        try:
            probe.connect(_ROUTE_PROBE)
            address = str(probe.getsockname()[0])
        except OSError:
            return None
    return None if _is_loopback(address) or address == "0.0.0.0" else address


def _is_loopback(host: str) -> bool:
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False  # a DNS name: assume others can resolve it


def _url_host(host: str) -> str:
    return f"[{host}]" if ":" in host and not host.startswith("[") else host


def advertised(settings: Settings, *, find_lan: Callable[[], str | None] = lan_address) -> Advertised:
    """Where links should point for ``settings`` (its ``port`` is the real one)."""
    if settings.public_url:
        return Advertised(settings.public_url.rstrip("/"), reachable=True)
    host = settings.host
    if host in WILDCARD_HOSTS:
        lan = find_lan()
        if lan is not None:
            return Advertised(f"http://{lan}:{settings.port}", reachable=True)
        return Advertised(
            f"http://127.0.0.1:{settings.port}", reachable=False,
            hint="no network address found on this machine (is it connected?); set PUBLIC_URL= "
                 "(--public-url) to the address phones should use",
        )
    url = f"http://{_url_host(host)}:{settings.port}"
    if _is_loopback(host):
        return Advertised(
            url, reachable=False,
            hint=f"the server listens on {host}, which phones cannot reach: run `HOST=0.0.0.0 make run` "
                 "(--host 0.0.0.0) to let devices on your network join, or set PUBLIC_URL= behind a proxy",
        )
    return Advertised(url, reachable=True)
