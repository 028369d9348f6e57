"""A sorter who reloads the page with a hand open gets the hand back.

Phones discard background tabs, so a reload in the middle of a hand is
ordinary: the page must show the open hand again (with the grouping in
progress), place it, and deal the next one. Before the fix the page stayed
on "Connecting…" after ``Cannot read properties of null (reading 'focus')``.
"""

from __future__ import annotations

from typing import Any

from browser_fixtures import browser, server  # noqa: F401 - pytest fixtures
from browser_harness import PHONE, ServerProcess, create_campaign

CARDS = [
    "Fewer meetings on Mondays", "A quiet room for focused work", "Shared calendar for the team",
    "Better coffee in the kitchen", "Bike racks near the entrance", "Clear owners for each project",
    "Shorter approval chains", "A wiki that people actually read", "Lunch talks between teams",
    "Standing desks for those who want one",
]


def _participant(browser: Any, url: str) -> tuple[Any, list[str]]:
    page = browser.new_context(viewport=PHONE, locale="en-GB").new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.goto(url)
    return page, errors


def test_reload_with_an_open_hand_restores_it(server: ServerProcess, browser: Any) -> None:
    campaign = create_campaign(server)
    writer, _ = _participant(browser, campaign.join_url)
    sorter, errors = _participant(browser, campaign.join_url)
    for page in (writer, sorter):
        page.wait_for_selector("#view-title:has-text('Waiting for the start')")
    campaign.phase("start")
    writer.wait_for_selector("#view-title:has-text('Share your ideas')")
    for text in CARDS:
        writer.fill("#card-text", text)
        writer.click("#card-submit")
    writer.wait_for_function("() => window.essaim.session.outbox.length === 0")
    campaign.phase("advance")

    sorter.wait_for_selector("#view-title:has-text('Help structure the ideas')")
    sorter.click("#volunteer")
    sorter.wait_for_selector("#place")
    hid = sorter.evaluate("() => window.essaim.session.state.you.hand.hid")
    sorter.select_option("#group-0", "1")

    sorter.reload()
    sorter.wait_for_selector("#place", timeout=15_000)
    assert sorter.evaluate("() => window.essaim.session.state.you.hand.hid") == hid, "the same open hand"
    assert sorter.input_value("#group-0") == "1", "the grouping in progress survives the reload"
    assert sorter.locator("#conn[data-status=online]").count() == 1

    sorter.select_option("#group-1", "1")
    sorter.click("#place")
    sorter.wait_for_selector("text=Your grouping was recorded")
    sorter.click("#deal")
    sorter.wait_for_function(f"() => window.essaim.session.state.you.hand && "
                             f"window.essaim.session.state.you.hand.hid !== {hid!r}")
    sorter.wait_for_selector("#place")
    assert errors == [], f"page errors: {errors}"
