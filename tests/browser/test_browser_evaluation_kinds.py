"""Every built-in evaluation strategy can be answered from the phone: the
page renders the task the `next` query gives (rate, vote, approval or budget
ballot) and sends an `evaluate` the server accepts."""

from __future__ import annotations

from typing import Any

import pytest
from browser_fixtures import browser, server  # noqa: F401 - pytest fixtures
from browser_harness import ADMIN_TOKEN, PHONE, TEMPLATE, Api, ServerProcess, axe_violations, describe, shoot

CARDS = ["Too many approval steps", "Meetings without an agenda", "Slow laptops at the start of the day"]
#: How each strategy's task is answered on the page.
ANSWER = {
    "ratings": lambda page: page.click("#rate-send"),
    "agree_disagree": lambda page: page.click("#vote-agree"),
    "approval": lambda page: (page.check("#ballot-0"), page.click("#ballot-send")),
    "budget": lambda page: (page.fill("#ballot-0", "3"), page.click("#ballot-send")),
}


@pytest.mark.parametrize("strategy", sorted(ANSWER))
def test_evaluation_kind(server: ServerProcess, browser: Any, strategy: str) -> None:
    toml = TEMPLATE.read_text(encoding="utf-8").replace(
        'type = "evaluate"\n', f'type = "evaluate"\nstrategy = "{strategy}"\n', 1)
    created = Api(server.base, ADMIN_TOKEN).call("/api/campaigns", {"toml": toml})
    api = Api(server.base, created["facilitator_token"])
    phase = f"/api/campaigns/{created['campaign_id']}/phase"
    api.call(f"{phase}/start", {})
    page = browser.new_context(viewport=PHONE, locale="en-GB").new_page()
    page.goto(created["join_url"])
    for text in CARDS:
        page.wait_for_selector("#card-text")
        page.fill("#card-text", text)
        page.click("#card-submit")
    page.wait_for_function("() => window.essaim.session.outbox.length === 0")
    api.call(f"{phase}/advance", {})  # sort: nobody sorts, every card stays its own idea
    page.wait_for_selector("#view-title:has-text('Help structure the ideas')")
    api.call(f"{phase}/advance", {})
    page.wait_for_selector("#view-title:has-text('Which matters more?')")
    page.wait_for_selector("#rate-send, #vote-agree, #ballot-send")
    violations = axe_violations(page, f"participant evaluate ({strategy})")
    shoot(page, f"participant-evaluate-{strategy}")
    before = api.call(f"/api/campaigns/{created['campaign_id']}")["counters"]["judgments"]
    ANSWER[strategy](page)
    page.wait_for_selector("text=1 answered")
    page.wait_for_function("() => window.essaim.session.outbox.length === 0")
    assert api.call(f"/api/campaigns/{created['campaign_id']}")["counters"]["judgments"] == before + 1
    assert not violations, describe(violations)
