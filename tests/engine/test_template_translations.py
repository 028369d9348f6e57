"""A template's texts in other languages ([translations.<language>]): read,
checked against the template (a translation that matches nothing fails,
naming its key), kept through storage, and given to every client."""

from __future__ import annotations

import pytest

from essaim.errors import TemplateError
from essaim.model.template import CampaignTemplate

BASE = """
[campaign]
title = "How do we run our projects?"
language = "en"

[[profile]]
choices = ["North", "South"]
label = "Your site"
key = "site"

[[phase]]
type = "collect"
title = "Ideas"
[phase.settings]
prompts = [{ id = "slow", text = "What slows you down?" }, { id = "change", text = "What would you change?" }]

[[phase]]
type = "results"
title = "Results"
"""

FRENCH = """
[translations.fr]
title = "Comment menons-nous nos projets ?"
phases = ["Idées", "Résultats"]
prompts = { slow = "Qu'est-ce qui vous ralentit ?" }
profile.site = { label = "Votre site", choices = { North = "Nord", South = "Sud" } }
"""


def test_translations_are_read_and_survive_storage() -> None:
    template = CampaignTemplate.parse(BASE + FRENCH)
    assert template.translations == {"fr": {
        "title": "Comment menons-nous nos projets ?",
        "phases": ["Idées", "Résultats"],
        "prompts": {"slow": "Qu'est-ce qui vous ralentit ?"},
        "profile": {"site": {"label": "Votre site", "choices": {"North": "Nord", "South": "Sud"}}},
    }}
    assert CampaignTemplate.from_dict(template.to_dict()) == template
    # A campaign stored before translations existed reads back with none.
    stored = template.to_dict()
    del stored["translations"]
    assert CampaignTemplate.from_dict(stored).translations == {}
    assert CampaignTemplate.parse(BASE).translations == {}


@pytest.mark.parametrize(("toml", "key", "says"), [
    ('[translations.french]\ntitle = "x"', "translations.french", "not a language tag"),
    ('[translations.fr]\ntitel = "x"', "translations.fr.titel", "unknown key(s) ['titel']"),
    ('[translations.fr]\nphases = ["Idées"]', "translations.fr.phases", "a list of 2 phase titles"),
    ('[translations.fr]\nprompts = { slowly = "x" }', "translations.fr.prompts.slowly", "no prompt has the id"),
    ('[translations.fr]\nprompts = { slow = 3 }', "translations.fr.prompts.slow", "not a non-empty string"),
    ('[translations.fr]\nprofile.role = { label = "Rôle" }', "translations.fr.profile.role",
     "no profile question has the key 'role'"),
    ('[translations.fr]\nprofile.site = { choices = { East = "Est" } }', "translations.fr.profile.site.choices.East",
     "'East' is not a choice of 'site'"),
    ('[translations.fr]\nprofile.site = { hint = "x" }', "translations.fr.profile.site", "'label' and 'choices'"),
    ('[translations.fr]\ntitle = ""', "translations.fr.title", "not a non-empty string"),
])
def test_a_translation_that_matches_nothing_is_an_error(toml: str, key: str, says: str) -> None:
    with pytest.raises(TemplateError) as err:
        CampaignTemplate.parse(BASE + toml, source="t.toml")
    assert err.value.key == key and says in str(err.value)
