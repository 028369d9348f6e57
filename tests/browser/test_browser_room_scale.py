"""What a leader reads, at 5 and at 300 participants: the HTML report and the
console of a campaign a simulated crowd ran (``essaim simulate --data``), in
headless Chromium, checked with axe-core and photographed (reports/screenshots).
"""

from __future__ import annotations

import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from browser_fixtures import browser  # noqa: F401 - pytest fixture
from browser_harness import (
    ADMIN_TOKEN,
    DESKTOP,
    REPO,
    Api,
    ServerProcess,
    axe_violations,
    describe,
    free_port,
    shoot,
)

from essaim_builtins.exports.html import supported_lower

#: The two crowds the issue asks to look at; 300 people simulate in ~15 s.
CROWDS = (5, 300)
#: Rows the console shows before "Show all" (console-results.js: RESULTS_SHOWN).
RESULTS_SHOWN = 20
#: Simulated seconds per phase: enough for every simulated person to act.
PHASE_SECONDS = "3"
#: A phone's width: the report must read there too, without sideways scrolling.
PHONE_WIDTH = 390


@pytest.fixture(scope="module")
def simulated(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[ServerProcess, dict[int, str]]]:
    """A server holding one finished campaign per crowd size: {participants: campaign id}."""
    data: Path = tmp_path_factory.mktemp("essaim-simulated")
    campaigns = {}
    for n in CROWDS:
        out = subprocess.run(
            [sys.executable, "-m", "essaim", "simulate", "--participants", str(n), "--phase-seconds", PHASE_SECONDS,
             "--data", str(data), "--no-progress", "--seed", "1"],
            cwd=REPO, capture_output=True, text=True, timeout=300, check=True).stdout
        match = re.search(r"Simulated campaign (\w+) ", out)
        assert match, out
        campaigns[n] = match.group(1)
    server = ServerProcess(data_dir=data, port=free_port())
    server.start()
    yield server, campaigns
    server.stop()


def no_sideways_scroll(page: Any) -> None:
    overflow = page.evaluate("() => document.documentElement.scrollWidth - innerWidth")
    assert overflow <= 0, f"the page is {overflow}px wider than the screen"


def unclipped(page: Any, selector: str) -> None:
    """Every text in ``selector`` shows whole: nothing is cut by its box."""
    clipped = page.evaluate(f"""() => [...document.querySelectorAll({selector!r})]
        .filter((e) => e.scrollWidth > e.clientWidth + 1 || e.scrollHeight > e.clientHeight + 1)
        .map((e) => e.textContent.slice(0, 60))""")
    assert not clipped, clipped


@pytest.mark.parametrize("participants", CROWDS)
def test_the_html_report(simulated: tuple[ServerProcess, dict[int, str]], browser: Any, participants: int) -> None:
    server, campaigns = simulated
    api = Api(server.base, ADMIN_TOKEN)
    campaign_id = campaigns[participants]
    results = api.call(f"/api/campaigns/{campaign_id}/results")
    report = api.call(f"/api/campaigns/{campaign_id}/export/html").decode()
    page = browser.new_context(viewport=DESKTOP).new_page()
    page.set_content(report)
    violations = axe_violations(page, f"HTML report, {participants} participants")
    assert page.inner_text("h1") == results["title"]
    assert page.locator(".counts li").first.inner_text().replace("\n", " ") == f"{participants} participants"
    assert page.locator("#questions + ol li").count() == 3, "the demo's three questions"
    # Every idea in the ranking, every theme of the crowd's structure with its ideas.
    sheets = results["sheets"]
    assert page.locator("#ranking + table tbody tr").count() == len(sheets)
    themes = [t["title"] for t in (results["structure"] or {}).get("themes", [])
              if any(i["iid"] in {s["iid"] for s in sheets} for i in t["ideas"])]
    headings = page.locator("#themes ~ h3").all_inner_texts()
    assert set(themes) <= set(headings)
    assert page.locator("#themes ~ ul.ideas > li").count() == len(sheets)
    no_sideways_scroll(page)
    unclipped(page, "td, th, h1, h2, h3, li, summary")
    shoot(page, f"report-{participants}")
    if participants == max(CROWDS):
        page.set_viewport_size({"width": DESKTOP["width"], "height": 1500})
        shoot(page, "report-1-top", full_page=False, doc=True)
        page.locator("#groups").scroll_into_view_if_needed()
        page.evaluate("() => document.querySelector('#groups').scrollIntoView()")
        shoot(page, "report-2-groups", full_page=False, doc=True)
        log = api.call(f"/api/campaigns/{campaign_id}/moderation")
        hidden = [c["text"] for c in log.get("hidden_cards", [])]
        rows = page.locator("#moderation + table tbody tr td:nth-child(2)").all_inner_texts()
        assert rows and all(not re.fullmatch(r"c\d+", text) for text in rows), "cards by their text"
        assert set(hidden) <= set(rows)
    # On a phone too: the report reads without sideways scrolling.
    page.set_viewport_size({"width": PHONE_WIDTH, "height": 800})
    no_sideways_scroll(page)
    assert not violations, describe(violations)


def test_the_console_at_300(simulated: tuple[ServerProcess, dict[int, str]], browser: Any) -> None:
    server, campaigns = simulated
    campaign_id = campaigns[max(CROWDS)]
    sheets = Api(server.base, ADMIN_TOKEN).call(f"/api/campaigns/{campaign_id}/results")["sheets"]
    page = browser.new_context(viewport=DESKTOP).new_page()
    page.goto(f"{server.base}/facilitator#campaign={campaign_id}&token={ADMIN_TOKEN}")
    page.wait_for_selector(".results-table tbody tr")
    # Long pages get sections, reachable from the bar.
    assert page.locator("#sections a").count() >= 5
    # The top of the ranking first, then all of it; the table gets the width it needs.
    # (How many sheets the crowd leaves depends on how its near-duplicates were
    # grouped: with at most RESULTS_SHOWN there is nothing more to show.)
    shown = page.locator(".results-table tbody tr").count()
    assert shown == min(len(sheets), RESULTS_SHOWN)
    if len(sheets) > RESULTS_SHOWN:
        page.click("#results-more")
        page.wait_for_function(
            f"() => document.querySelectorAll('.results-table tbody tr').length === {len(sheets)}")
    else:
        assert not page.locator("#results-more").count()
    assert page.evaluate("() => { const w = document.querySelector('.table-wrap'); return w.scrollWidth <= w.clientWidth; }")
    no_sideways_scroll(page)
    violations = axe_violations(page, "facilitator console, 300 participants")
    # A widely supported idea placed low is named with why, as in the report.
    expected = [s["title"] for s in supported_lower(sheets)]
    named = page.locator(".supported-lower li").all_inner_texts()
    assert [re.sub(r"^“(.*)”: .*$", r"\1", text) for text in named] == expected
    page.click("#results-themes")
    page.wait_for_selector(".theme-row")
    assert "(1 ideas)" not in page.inner_text(".results-table"), "one idea, singular"
    page.locator("#results").scroll_into_view_if_needed()
    shoot(page, "facilitator-6-results-300", full_page=False, doc=True)
    violations += axe_violations(page, "facilitator console by theme, 300 participants")
    assert not violations, describe(violations)
