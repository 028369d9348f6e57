"""The participant app in French, and keyboard-only from the join code to the results."""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qs, urlparse

from browser_fixtures import browser, server  # noqa: F401 - pytest fixtures
from browser_harness import (
    ADMIN_TOKEN,
    DESKTOP,
    PHONE,
    TEMPLATE,
    Api,
    ServerProcess,
    axe_violations,
    create_campaign,
    describe,
    shoot,
)

#: Tab presses allowed to reach a control: a hand of 4 cards has about 12 stops.
MAX_TABS = 40


def tab_to(page: Any, element_id: str) -> None:
    for _ in range(MAX_TABS):
        page.keyboard.press("Tab")
        if page.evaluate("() => document.activeElement && document.activeElement.id") == element_id:
            return
    raise AssertionError(f"#{element_id} cannot be reached with the Tab key")


def test_french_interface(server: ServerProcess, browser: Any) -> None:
    campaign = create_campaign(server)
    context = browser.new_context(viewport=PHONE, locale="fr-FR")
    # This phone's clock is an hour fast: the timer must still count from the server's time.
    context.add_init_script("Date.now = ((now) => () => now() + 3600 * 1000)(Date.now);")
    page = context.new_page()
    page.goto(f"{server.base}/")
    page.wait_for_selector("h1:has-text('Rejoindre une session')")
    assert page.evaluate("() => document.documentElement.lang") == "fr"
    page.fill("#code", campaign.code.lower())
    page.click("button[type=submit]")
    page.wait_for_selector("#view-title:has-text('En attente du départ')")
    campaign.phase("start")
    page.wait_for_selector("#view-title:has-text('Partagez vos idées')")
    page.wait_for_selector("text=Ajouter ma carte")
    page.wait_for_selector("#counters:has-text('1 participant · 0 carte')")  # French singular for 0 and 1
    timer = page.inner_text("#timer")
    assert timer.startswith(("7:", "8:")), f"the 8-minute phase shows {timer!r}"
    shoot(page, "participant-fr-collect")
    violations = axe_violations(page, "participant collect (fr)")
    page.click("#lang")
    page.wait_for_selector("#view-title:has-text('Share your ideas')")
    assert page.evaluate("() => document.documentElement.lang") == "en"
    page.reload()
    page.wait_for_selector("#view-title:has-text('Share your ideas')")  # the choice is kept
    assert not violations, describe(violations)


def test_keyboard_only(server: ServerProcess, browser: Any) -> None:
    campaign = create_campaign(server)
    helpers = []
    for _ in range(2):  # others write cards so there is something to sort and compare
        other = browser.new_context(viewport=PHONE).new_page()
        other.goto(campaign.join_url)
        other.wait_for_selector("#conn[data-status=online]")
        helpers.append(other)
    page = browser.new_context(viewport=PHONE, locale="en-GB").new_page()
    page.goto(f"{server.base}/")
    page.wait_for_selector("#code:focus")
    page.keyboard.type(campaign.code)
    page.keyboard.press("Enter")
    page.wait_for_selector("#view-title:has-text('Waiting for the start')")
    campaign.phase("start")

    page.wait_for_selector("#card-text:focus")
    page.keyboard.type("Keyboard users deserve a clear focus ring")
    tab_to(page, "card-submit")
    page.keyboard.press("Enter")
    page.wait_for_selector("#my-cards-title:has-text('(1)')")
    for i, other in enumerate(helpers):
        for n in range(2):
            other.fill("#card-text", f"Idea {n} from helper {i}: fewer meetings on mondays")
            other.click("button[type=submit]")
    page.wait_for_function("() => window.essaim.session.outbox.length === 0")
    campaign.phase("advance")

    page.wait_for_selector("#view-title:has-text('Help structure the ideas')")
    tab_to(page, "volunteer")
    page.keyboard.press("Enter")
    page.wait_for_selector("#hand-title:focus")
    tab_to(page, "group-0")
    page.keyboard.press("ArrowDown")  # Not sure -> Theme 1
    page.wait_for_selector("#group-0:focus")
    assert page.input_value("#group-0") == "1"
    tab_to(page, "place")
    shoot(page, "participant-keyboard-sort")
    page.keyboard.press("Enter")
    page.wait_for_selector("text=Your grouping was recorded")
    campaign.phase("advance")

    page.wait_for_selector("#view-title:has-text('Which matters more?')")
    tab_to(page, "choice-a")
    page.keyboard.press("Enter")
    page.wait_for_selector("text=1 answered")
    campaign.phase("advance")
    page.wait_for_selector("#view-title:has-text('Results')")
    page.wait_for_selector(".result")


def test_a_french_phone_reads_the_template_in_french(server: ServerProcess, browser: Any) -> None:
    """The template's [translations.fr]: questions, title, phase names and
    prompts in French on a French phone; the answer stays the template's own
    choice, so segments are the same in every language."""
    campaign = create_campaign(server, profile=True)
    page = browser.new_context(viewport=PHONE, locale="fr-FR").new_page()
    page.goto(campaign.join_url)
    page.wait_for_selector("label[for=profile-role]:has-text('Votre rôle')")
    assert page.locator("#profile-role option").all_inner_texts()[1:] == ["Terrain", "Bureau", "Direction"]
    violations = axe_violations(page, "participant profile (fr)")
    page.select_option("#profile-role", label="Terrain")
    page.click("button[type=submit]")
    page.wait_for_selector("#view-title:has-text('En attente du départ')")  # bad_profile would stop here
    assert page.title().startswith("Comment mieux travailler ensemble ?")
    campaign.phase("start")
    page.wait_for_selector("#view-title:has-text('Partagez vos idées')")
    page.wait_for_selector("#phase-name:has-text('Idées · 1/4')")
    page.wait_for_selector(".prompt-choices:has-text('Si vous pouviez changer une chose demain, laquelle ?')")
    shoot(page, "participant-fr-template", doc=True)
    violations += axe_violations(page, "participant collect, French template")
    # An English phone in the same campaign reads the template's own texts.
    english = browser.new_context(viewport=PHONE, locale="en-GB").new_page()
    english.goto(campaign.join_url)
    english.select_option("#profile-role", "Office")
    english.click("button[type=submit]")
    english.wait_for_selector(".prompt-choices:has-text('If you could change one thing tomorrow')")
    assert english.inner_text("#phase-name").startswith("Ideas")
    assert not violations, describe(violations)


def test_profile_questions(server: ServerProcess, browser: Any) -> None:
    """The template's profile questions are asked before joining (the page
    reads them from the public GET /api/join/<code>), and the answers reach
    the participant's profile."""
    campaign = create_campaign(server, profile=True)
    assert campaign.show()["campaign"]["profile"], "the test template has profile questions"
    context = browser.new_context(viewport=PHONE, locale="en-GB")
    page = context.new_page()
    page.goto(campaign.join_url)
    page.wait_for_selector("#view-title:has-text('A few questions about you')")
    violations = axe_violations(page, "participant profile")
    shoot(page, "participant-0-profile")
    page.select_option("#profile-role", "Field")
    page.click("button[type=submit]")
    page.wait_for_selector("#view-title:has-text('Waiting for the start')")  # bad_profile would stop here
    assert campaign.show()["counters"]["participants"] == 1
    assert not violations, describe(violations)


def test_facilitator_creates_a_campaign(server: ServerProcess, browser: Any) -> None:
    page = browser.new_context(viewport=DESKTOP).new_page()
    page.goto(f"{server.base}/facilitator")
    page.wait_for_selector("h2:has-text('Create a campaign')")
    violations = axe_violations(page, "facilitator start")
    page.fill("#admin-token", ADMIN_TOKEN)
    page.dispatch_event("#admin-token", "change")
    page.wait_for_selector("#template option[value=demo]", state="attached")
    page.set_input_files("#toml", str(TEMPLATE))
    page.click("button:has-text('Create')")
    # The facilitator link and token are shown once, with copy buttons.
    page.wait_for_selector("#created-h")
    link = page.input_value("#created-link")
    assert "#campaign=" in link and page.input_value("#created-token") in link
    violations += axe_violations(page, "facilitator campaign created")
    shoot(page, "facilitator-0-created", doc=True)
    page.click("#open-console")
    page.wait_for_selector("#ctl-start")
    campaign_id = parse_qs(urlparse(page.url).query)["campaign"][0]
    page.click("#ctl-start")
    page.wait_for_selector("#ctl-pause")
    page.click("#ctl-pause")
    page.wait_for_selector("#ctl-resume")
    page.click("#ctl-resume")
    page.wait_for_selector("#ctl-extend")
    before = Api(server.base, ADMIN_TOKEN).call(f"/api/campaigns/{campaign_id}")["phase"]["deadline"]
    page.click("#ctl-extend")
    page.wait_for_function("() => document.querySelector('#live').textContent.includes('+1 min')")
    after = Api(server.base, ADMIN_TOKEN).call(f"/api/campaigns/{campaign_id}")["phase"]
    assert after["status"] == "running" and after["deadline"] >= before + 59
    # A new tab finds the campaign again: this browser remembers it.
    other = page.context.new_page()
    other.goto(f"{server.base}/facilitator")
    other.wait_for_selector("#known-h")
    other.click(".known-link")
    other.wait_for_selector("#ctl-pause")
    # The console in French.
    other.click("#lang")
    other.wait_for_selector("#cards-h:has-text('Cartes reçues')")
    other.wait_for_selector("#sections a[href='#results']:has-text('Résultats')")
    assert other.evaluate("() => document.documentElement.lang") == "fr"
    violations += axe_violations(other, "facilitator console (fr)")
    shoot(other, "facilitator-fr", full_page=False)
    assert not violations, describe(violations)
