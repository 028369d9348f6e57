"""A phone while the server cannot save (its disk full, for real: a tmpfs):
the page says it is reconnecting and keeps the person's card, the server
process keeps running, and once space is freed the card goes through by
itself, once."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from browser_fixtures import browser  # noqa: F401 - pytest fixture
from browser_harness import PHONE, ServerProcess, create_campaign, free_port, shoot
from realservers.tmpfs import fill, mounted_tmpfs

#: Cards tried on the full disk before the first refusal must have come.
MAX_CARDS_WHILE_FULL = 30
#: Retries of "unavailable" back off up to 15 s; leave room for a slow machine.
RECOVERY_TIMEOUT_MS = 60_000


def test_the_page_says_reconnecting_keeps_the_card_and_sends_it_once_space_is_back(
    browser: Any, tmp_path: Path
) -> None:
    with mounted_tmpfs(tmp_path / "data", "2m") as data:
        server = ServerProcess(data_dir=data, port=free_port())
        server.start()
        try:
            campaign = create_campaign(server)
            campaign.phase("start")
            page = browser.new_context(viewport=PHONE, locale="en-GB").new_page()
            page.goto(campaign.join_url)
            page.wait_for_selector("#card-text")
            page.fill("#card-text", "Written before the disk filled up")
            page.click("#card-submit")
            page.wait_for_function("() => window.essaim.session.outbox.length === 0")

            filler = fill(data)
            for n in range(MAX_CARDS_WHILE_FULL):
                page.fill("#card-text", f"Idea {n} while the server cannot save")
                page.click("#card-submit")
                try:  # pacing only: acknowledged (the WAL still had room), or refused
                    page.wait_for_function(
                        "() => window.essaim.session.outbox.length === 0 || "
                        "document.querySelector('#conn').dataset.status === 'unavailable'", timeout=3000)
                except Exception:
                    continue  # this one waits for the disk; the next is refused
                if page.evaluate("() => document.querySelector('#conn').dataset.status") == "unavailable":
                    break
            page.wait_for_selector("#conn[data-status=unavailable]:has-text('Reconnecting')")
            assert page.locator(".my-card.pending").count() >= 1  # the person's text is kept
            kept = page.evaluate("() => window.essaim.session.outbox.map((e) => e.frame.text)")
            assert kept and all(text.startswith("Idea") for text in kept)
            shoot(page, "participant-store-unavailable")
            assert server.process is not None and server.process.poll() is None, "the server must not exit"

            os.unlink(filler)
            page.wait_for_function("() => window.essaim.session.outbox.length === 0", timeout=RECOVERY_TIMEOUT_MS)
            page.wait_for_selector("#conn[data-status=online]")
            cards = page.locator(".my-card").count()
            assert page.locator(".my-card.pending").count() == 0
            assert campaign.show()["counters"]["cards"] == cards, "each card applied exactly once"
        finally:
            server.stop()
