"""A plugin's own phase in real browsers (issue 18): the pledges example,
installed as a distribution, between built-in phases; two phones pledge
through its screen module, the console spotlights an idea through its
panel, the exports carry the pledges; a phone whose screen module fails to
load shows a readable error and stays connected."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from browser_fixtures import browser  # noqa: F401 - pytest fixture
from browser_harness import DESKTOP, PHONE_CONTEXT, ServerProcess, axe_violations, create_campaign, describe, free_port
from example_dists import PLEDGES, install, module_as_distribution, with_path

TALLY_PLUGIN = Path(__file__).resolve().parents[1] / "tally_plugin.py"
TEMPLATE = """
[campaign]
title = "Pledges in a browser"
anonymity = "anonymous"
language = "en"

[[phase]]
type = "collect"
title = "Ideas"
duration = "8m"

[[phase]]
type = "evaluate"
title = "Priorities"
duration = "8m"

[[phase]]
type = "pledges"
title = "What will you do?"
duration = "8m"
[phase.settings]
max_pledges = 2

[[phase]]
type = "results"
title = "Results"
duration = "6m"
auto_advance = false
"""


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    """``essaim serve`` with the pledges plugin and the tests' tally plugin
    (a phase type without a screen) installed, found by their entry points."""
    site = install(PLEDGES, tmp_path_factory.mktemp("pledges") / "site")
    tally = module_as_distribution(TALLY_PLUGIN, "tally", tmp_path_factory.mktemp("tally") / "site")
    proc = ServerProcess(data_dir=tmp_path_factory.mktemp("essaim-data"), port=free_port(), env=with_path(site, tally))
    proc.start()
    yield proc
    proc.stop()


def phone(browser: Any) -> Any:
    return browser.new_context(**PHONE_CONTEXT, locale="en-GB").new_page()


def test_pledges_between_built_in_phases(server: ServerProcess, browser: Any, tmp_path: Path) -> None:
    campaign = create_campaign(server, toml=TEMPLATE)
    ann, bob, broken = phone(browser), phone(browser), phone(browser)
    # This phone gets a screen module that does not parse: it must say so, and stay connected.
    broken.route("**/plugins/pledges/screen.js", lambda route: route.fulfill(
        status=200, content_type="text/javascript", body="export function mount( {"))
    for page in (ann, bob, broken):
        page.goto(campaign.join_url)
        page.wait_for_selector("#conn[data-status=online]")
    campaign.phase("start")
    ann.wait_for_selector("#card-text")
    for text in ("Fewer meetings", "Faster laptops"):
        ann.fill("#card-text", text)
        ann.click("#card-submit")
    ann.wait_for_function("() => window.essaim.session.outbox.length === 0")
    campaign.phase("advance", index=0)
    campaign.phase("advance", index=1)

    # The plugin's screen, with the ranked ideas to pledge on.
    for page in (ann, bob):
        page.wait_for_selector("#pledges-ideas li[data-iid]")
    idea = ann.locator("#pledges-ideas li[data-iid]", has_text="Fewer meetings")
    iid = idea.get_attribute("data-iid")
    idea.locator("textarea").fill("I'll cancel my Monday meeting")
    idea.locator("button.primary").click()
    ann.wait_for_selector(f"li[data-iid='{iid}'] >> text=You pledged: I'll cancel my Monday meeting")
    bob.wait_for_selector(f"li[data-iid='{iid}'] >> text=1 pledge")
    violations = axe_violations(ann, "plugin phase screen")

    # The console's panel: the board, and the spotlight on every phone.
    console = browser.new_context(viewport=DESKTOP).new_page()
    console.goto(campaign.facilitator_url)
    console.wait_for_selector(f"#pledges-board li[data-iid='{iid}']")
    console.click(f"#pledges-board li[data-iid='{iid}'] button.spotlight")
    bob.wait_for_selector("#pledges-spotlight:has-text('In the spotlight: Fewer meetings')")

    # The broken screen: a readable error, the socket still up.
    broken.wait_for_selector("#plugin-failed:has-text('could not be loaded')")
    assert broken.get_attribute("#conn", "data-status") == "online"

    campaign.phase("advance", index=2)
    ann.wait_for_selector("ol.results li")
    report = campaign.api.call(f"/api/campaigns/{campaign.campaign_id}/export/json")
    assert report["phase_reports"]["pledges"]["rows"] == [["Fewer meetings", 1, "I'll cancel my Monday meeting"]]
    html = campaign.api.call(f"/api/campaigns/{campaign.campaign_id}/export/html")
    assert b"Action pledges" in html and b"Monday meeting" in html
    assert not violations, describe(violations)


def test_a_phase_type_without_a_screen_gets_the_generic_screen(server: ServerProcess, browser: Any) -> None:
    toml = TEMPLATE.replace('type = "pledges"', 'type = "tally"').replace("[phase.settings]\nmax_pledges = 2\n", "")
    campaign = create_campaign(server, toml=toml)
    page = phone(browser)
    page.goto(campaign.join_url)
    page.wait_for_selector("#conn[data-status=online]")
    campaign.phase("start")
    campaign.phase("advance", index=0)
    campaign.phase("advance", index=1)
    page.wait_for_selector("#plugin-generic:has-text('What will you do?')")
    assert page.locator("#plugin-generic").inner_text().count("facilitator") == 1
    violations = axe_violations(page, "plugin phase generic screen")
    assert not violations, describe(violations)
