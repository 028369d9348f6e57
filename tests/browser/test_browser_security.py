"""The facilitator console (and the participant page) cannot be framed by
another site (clickjacking), and the app runs under its own
Content-Security-Policy (every browser test fails on a violation: see
browser_fixtures.CspWatchedBrowser)."""

from __future__ import annotations

from typing import Any

import pytest
from browser_fixtures import browser, server  # noqa: F401 - pytest fixtures
from browser_harness import DESKTOP, ServerProcess, create_campaign


@pytest.mark.parametrize("target", ["facilitator", "participant"])
def test_pages_cannot_be_framed_by_another_site(server: ServerProcess, browser: Any, target: str) -> None:
    campaign = create_campaign(server)
    url = campaign.facilitator_url if target == "facilitator" else campaign.join_url
    page = browser.unwatched_context(viewport=DESKTOP).new_page()
    # about:blank with the attacker's markup: another origin than the server's.
    page.set_content(f'<iframe id="victim" src="{url}" width="800" height="600"></iframe>')  # waits for load
    framed = next(f for f in page.frames if f != page.main_frame)
    assert not framed.url.startswith(server.base), f"the page loaded inside the frame: {framed.url}"
    assert page.frame_locator("#victim").locator("#main").count() == 0, "nothing of the app rendered"


def test_every_screen_runs_under_the_policy(server: ServerProcess, browser: Any) -> None:
    """The participant page and the console load their modules, styles and
    socket with no violation (the fixture checks the whole module's pages)."""
    campaign = create_campaign(server)
    phone = browser.new_page()
    phone.goto(campaign.join_url)
    phone.wait_for_selector("#conn[data-status=online]")
    console = browser.new_page(viewport=DESKTOP)
    console.goto(campaign.facilitator_url)
    console.wait_for_selector("#ctl-start")
    console.wait_for_selector(".share svg")
    assert not browser.violations, browser.violations
