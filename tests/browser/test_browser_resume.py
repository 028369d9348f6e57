"""Participants carry on across a server restart: the page reconnects and
resumes on its own, a typed draft survives, an action done while the server
was down is delivered once, and an action whose ack was lost is not applied twice."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from browser_fixtures import browser, server  # noqa: F401 - pytest fixtures
from browser_harness import PHONE, ServerProcess, create_campaign, free_port, shoot

#: Reconnect back-off is at most 5 s; after a 1012 close, 1–5 s. Leave room for a slow start.
RESUME_TIMEOUT_MS = 30_000


def test_restart_loses_nothing(server: ServerProcess, browser: Any) -> None:
    campaign = create_campaign(server)
    campaign.phase("start")
    page = browser.new_context(viewport=PHONE, locale="en-GB").new_page()
    page.goto(campaign.join_url)
    page.wait_for_selector("#view-title:has-text('Share your ideas')")
    pid = page.evaluate("() => window.essaim.saved.get('pid')")
    page.evaluate("() => { window.acked = []; window.essaim.session.addEventListener('ack', (e) => window.acked.push(e.detail.entry)); }")

    page.fill("#card-text", "Written before the restart")
    page.click("button[type=submit]")
    page.wait_for_function("() => window.acked.length === 1")

    server.stop()
    page.wait_for_selector("#conn[data-status=offline]")
    # Done while the server is down: kept in the outbox (and localStorage).
    page.fill("#card-text", "Written while the server was down")
    page.click("button[type=submit]")
    page.wait_for_selector(".my-card.pending")
    # The first card again, with the same id, as if its ack had been lost in a crash.
    page.evaluate("() => { const s = window.essaim.session; s.outbox.unshift(window.acked[0]); s.saved.set('outbox', s.outbox); }")
    page.fill("#card-text", "A half-typed idea")
    shoot(page, "participant-offline")
    assert page.evaluate("() => JSON.parse(localStorage.getItem(`essaim:${window.essaim.session.code}:outbox`)).length") == 2

    server.start()
    page.wait_for_function("() => window.essaim.session.ready && window.essaim.session.outbox.length === 0",
                           timeout=RESUME_TIMEOUT_MS)
    page.wait_for_selector("#my-cards-title:has-text('(2)')")
    assert page.locator(".my-card.pending").count() == 0
    assert page.input_value("#card-text") == "A half-typed idea"
    assert page.evaluate("() => window.essaim.saved.get('pid')") == pid, "resumed as the same participant"
    assert campaign.show()["counters"]["cards"] == 2, "each card applied exactly once"

    # A reload (e.g. the phone killed the tab) resumes too, draft included.
    page.reload()
    page.wait_for_selector("#my-cards-title:has-text('(2)')")
    assert page.input_value("#card-text") == "A half-typed idea"
    assert page.evaluate("() => window.essaim.saved.get('pid')") == pid
    assert campaign.show()["counters"]["participants"] == 1


def test_rate_limited_actions_are_sent_again(browser: Any, tmp_path: Path) -> None:
    """`rate_limited` means "later", not "no": the page keeps the action and re-sends it."""
    strict = ServerProcess(data_dir=tmp_path, port=free_port(), settings=("rate_per_second=2", "rate_burst=2"))
    strict.start()
    try:
        campaign = create_campaign(strict)
        campaign.phase("start")
        page = browser.new_context(viewport=PHONE, locale="en-GB").new_page()
        page.goto(campaign.join_url)
        page.wait_for_selector("#card-text")
        page.evaluate("() => { window.refusals = []; window.essaim.session.addEventListener('notice', (e) => window.refusals.push(e.detail.code)); }")
        for n in range(6):
            page.fill("#card-text", f"Idea number {n} written in a hurry")
            page.click("#card-submit")
        page.wait_for_function("() => window.essaim.session.outbox.length === 0", timeout=RESUME_TIMEOUT_MS)
        assert "rate_limited" in page.evaluate("() => window.refusals"), "the burst was over the limit"
        assert campaign.show()["counters"]["cards"] == 6
        page.wait_for_selector("#my-cards-title:has-text('(6)')")
    finally:
        strict.stop()
