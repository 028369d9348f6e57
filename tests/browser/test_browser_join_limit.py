"""A phone whose join is refused for the address's join limit (an office
behind one NAT joining at once) joins a moment later on its own: it does not
stay on "Connecting…" until the server gives up on the socket."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from browser_fixtures import browser  # noqa: F401 - pytest fixture
from browser_harness import PHONE, ServerProcess, create_campaign, free_port

#: Seconds a refused phone may take: its back-off is at most 5 s, an attempt comes back every second.
JOIN_TIMEOUT_MS = 25_000


def test_a_rate_limited_join_is_tried_again(browser: Any, tmp_path: Path) -> None:
    # Two attempts, one more each second: the first phone's lookup and join use them up.
    strict = ServerProcess(data_dir=tmp_path, port=free_port(), settings=("join_rate_per_second=1", "join_burst=2"))
    strict.start()
    try:
        campaign = create_campaign(strict)
        pages = [browser.new_context(viewport=PHONE, locale="en-GB").new_page() for _ in range(2)]
        for page in pages:
            page.goto(campaign.join_url)
        for page in pages:
            page.wait_for_selector("#view-title:has-text('Waiting for the start')", timeout=JOIN_TIMEOUT_MS)
        assert campaign.show()["counters"]["participants"] == 2
    finally:
        strict.stop()
