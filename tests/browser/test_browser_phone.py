"""The participant app on a phone: a wrong join code, a full hand of cards
to sort, the icon. Each checked in headless Chromium at 360 px."""

from __future__ import annotations

import urllib.request
from typing import Any

from browser_fixtures import browser, server  # noqa: F401 - pytest fixtures
from browser_harness import PHONE_CONTEXT, ServerProcess, axe_violations, create_campaign, describe, shoot

#: A hand of 8 cards, grouped, fits in about two phone screens (it was 2,400 px).
HAND_OF_EIGHT_MAX_HEIGHT = 1500
CARDS = [
    "Too many approval steps for small purchases", "Meetings that could have been an e-mail",
    "The expense tool is slow and confusing and nobody knows who maintains it", "No shared calendar between teams",
    "Laptops take ten minutes to start", "Nobody knows who decides what", "Onboarding documents are out of date",
    "Meeting rooms are always booked", "Printers never work on Mondays", "Too many tools for the same job",
]


def phone(browser: Any) -> Any:
    return browser.new_context(**PHONE_CONTEXT, locale="en-GB").new_page()


def test_a_wrong_code_keeps_what_was_typed(server: ServerProcess, browser: Any) -> None:
    page = phone(browser)
    page.goto(f"{server.base}/")
    page.fill("#code", "nope42")
    page.click("button[type=submit]")
    page.wait_for_selector("#code-error:has-text('does not exist')")
    assert page.input_value("#code") == "nope42", "the code typed stays, to be corrected"
    assert page.locator(".error:visible").count() == 1, "one error, said once"
    assert page.url == f"{server.base}/"
    shoot(page, "participant-0-wrong-code")
    violations = axe_violations(page, "participant wrong code")
    page.fill("#code", "AB")
    page.click("button[type=submit]")
    page.wait_for_selector("#code-error:has-text('4 to 12 letters')")
    # A wrong link says the same, with its code ready to correct.
    page.goto(f"{server.base}/join/NOPE42")
    page.wait_for_selector("#code-error:has-text('does not exist')")
    assert page.input_value("#code") == "NOPE42"
    assert not violations, describe(violations)


def test_a_hand_of_eight_fits_a_phone(server: ServerProcess, browser: Any) -> None:
    campaign = create_campaign(server, hand_size=8)
    writer, sorter = phone(browser), phone(browser)
    for page in (writer, sorter):
        page.goto(campaign.join_url)
        page.wait_for_selector("#conn[data-status=online]")
    campaign.phase("start")
    writer.wait_for_selector("#card-text")
    for text in CARDS:
        writer.fill("#card-text", text)
        writer.click("#card-submit")
    writer.wait_for_function("() => window.essaim.session.outbox.length === 0")
    campaign.phase("advance")
    sorter.click("#volunteer")
    sorter.wait_for_selector("#group-7")
    sorter.select_option("#group-0", "1")
    sorter.select_option("#group-1", "1")
    sorter.select_option("#group-2", "2")
    sorter.select_option("#group-3", "off")
    height = sorter.evaluate("() => document.documentElement.scrollHeight")
    assert height <= HAND_OF_EIGHT_MAX_HEIGHT, f"a hand of 8 is {height} px tall"
    first = sorter.inner_text("#card-0")
    # "Same idea as" lists the other card of the group by its whole text, not a cut one.
    assert first in sorter.locator("#same-1 option").all_inner_texts()
    shoot(sorter, "participant-sort-hand-of-8")
    violations = axe_violations(sorter, "participant hand of 8")
    sorter.click("#place")
    sorter.wait_for_selector("text=Your grouping was recorded")
    assert not violations, describe(violations)


def test_the_icon(server: ServerProcess, browser: Any) -> None:
    with urllib.request.urlopen(f"{server.base}/favicon.ico", timeout=10) as r:
        assert r.status == 200 and r.headers["Content-Type"].startswith("image/svg+xml")
        assert b"<svg" in r.read()
    page = phone(browser)
    page.goto(f"{server.base}/")
    assert page.get_attribute("link[rel=icon]", "href") == "/static/favicon.svg"
