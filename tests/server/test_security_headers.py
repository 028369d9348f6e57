"""The HTML pages carry a Content-Security-Policy, cannot be framed, send no
referrer and are not content-sniffed; every other answer is not sniffed and
cannot be framed either."""

from __future__ import annotations

import pytest
import requests
import trio
from server_fixtures import running_server


async def _get(url: str) -> requests.Response:
    return await trio.to_thread.run_sync(lambda: requests.get(url, timeout=10))


def _directives(policy: str) -> dict[str, list[str]]:
    out = {}
    for part in policy.split(";"):
        name, *values = part.split()
        out[name] = values
    return out


@pytest.mark.parametrize("path", ["/", "/join/ABC123", "/facilitator"])
async def test_pages_carry_the_security_headers(tmp_path, path: str) -> None:
    async with running_server(tmp_path) as server:
        page = await _get(server.base_url + path)
        assert page.status_code == 200 and page.headers["Content-Type"].startswith("text/html")
        csp = _directives(page.headers["Content-Security-Policy"])
        assert csp["frame-ancestors"] == ["'none'"]
        assert csp["default-src"] == ["'self'"] and csp["script-src"] == ["'self'"]
        assert csp["object-src"] == ["'none'"] and csp["base-uri"] == ["'none'"]
        host = server.base_url.removeprefix("http://")
        assert f"ws://{host}" in csp["connect-src"] and f"wss://{host}" in csp["connect-src"]
        assert "'unsafe-inline'" not in page.headers["Content-Security-Policy"]
        assert page.headers["X-Frame-Options"] == "DENY"
        assert page.headers["Referrer-Policy"] == "no-referrer"
        assert page.headers["X-Content-Type-Options"] == "nosniff"


@pytest.mark.parametrize("path", ["/healthz", "/api/join/NOPE00", "/static/participant.js", "/openapi.json"])
async def test_other_answers_are_not_sniffed_or_framed(tmp_path, path: str) -> None:
    async with running_server(tmp_path) as server:
        answer = await _get(server.base_url + path)
        assert answer.headers["X-Content-Type-Options"] == "nosniff"
        assert answer.headers["X-Frame-Options"] == "DENY"
        assert answer.headers["Referrer-Policy"] == "no-referrer"
