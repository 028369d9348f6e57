"""Security headers on every HTTP answer, and the web app's Content-Security-Policy.

* ``Content-Security-Policy`` on the HTML pages: scripts, styles, images
  and fonts only from the server itself, no inline script or style, no
  plugins, no ``<base>``, the WebSocket and API only to this host, and
  ``frame-ancestors 'none'``: no other site can frame the facilitator console
  (clickjacking: a click on "advance" or "hide" through a transparent
  frame). The app's own modules satisfy it; the browser tests fail on any
  violation reported on any screen.
* ``X-Frame-Options: DENY``: the same for browsers without CSP level 2.
* ``Referrer-Policy: no-referrer``: join codes and campaign ids in URLs do
  not leak to the sites people follow links to.
* ``X-Content-Type-Options: nosniff``: a card text served as JSON is never
  read as HTML or script.
"""

from __future__ import annotations

import re
from typing import Any

__all__ = ["add_security_headers", "page_policy"]

#: A Host header fit to be written into the policy (a name or address and a
#: port); anything else (a client can send any Host) gets 'self' alone.
_HOST = re.compile(r"[A-Za-z0-9.\-]+(?::\d{1,5})?|\[[0-9A-Fa-f:.]+\](?::\d{1,5})?")

_FIXED_DIRECTIVES = (
    "default-src 'self'",
    "script-src 'self'",
    "style-src 'self'",
    "img-src 'self'",
    "font-src 'self'",
    "object-src 'none'",
    "base-uri 'none'",
    "form-action 'self'",
    "frame-ancestors 'none'",
)


def page_policy(host: str) -> str:
    """The Content-Security-Policy of the web app's pages served as ``host``.

    ``connect-src`` names the WebSocket of this host explicitly: browsers
    that predate CSP level 3 (older Safari) do not let ``'self'`` cover
    ``ws:``/``wss:``, and phones are the audience."""
    connect = "connect-src 'self'"
    if _HOST.fullmatch(host):
        connect += f" ws://{host} wss://{host}"
    return "; ".join((*_FIXED_DIRECTIVES, connect))


def add_security_headers(response: Any, host: str) -> Any:
    """Set the headers on a Quart response (an ``after_request`` function)."""
    headers = response.headers
    headers["X-Content-Type-Options"] = "nosniff"
    headers["X-Frame-Options"] = "DENY"
    headers["Referrer-Policy"] = "no-referrer"
    attachment = headers.get("Content-Disposition", "").startswith("attachment")
    if response.mimetype == "text/html" and not attachment:
        headers["Content-Security-Policy"] = page_policy(host)
    return response
