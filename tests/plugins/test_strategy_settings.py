"""A strategy declares each setting's type, allowed values or range and
default; a template that breaks them is refused when the campaign is
created, naming the file and the key and saying what is allowed."""

from __future__ import annotations

from importlib.resources import files
from typing import Any

import jsonschema_rs
import pytest

from essaim import CampaignTemplate, PluginHost, TemplateError, hookimpl
from essaim.model.schema import Anything, Integer
from essaim.plugin.registry import Registry
from essaim.testing import make_template, open_test_engine

HOST = PluginHost.load(entry_points=False)


def test_every_builtin_strategy_declares_the_type_of_every_setting() -> None:
    assert HOST.registry.strategies
    for (family, name), info in HOST.registry.strategies.items():
        assert info.settings is not None, f"{family} strategy {name!r} declares no settings"
        for key, field in info.settings:
            assert not isinstance(field, Anything), f"{name}.{key} is only described, not typed"
            assert field.description, f"{name}.{key} has no description"
        # Its own defaults fit its declaration, and the declaration is valid JSON Schema.
        info.settings.check(info.settings.defaults())
        jsonschema_rs.Draft202012Validator(info.settings.json_schema())


def bad(template: dict[str, Any]) -> str:
    with pytest.raises(TemplateError) as refused:
        CampaignTemplate.from_toml(template, source="mine.toml").check(HOST.registry, source="mine.toml")
    return str(refused.value)


def table(**sections: Any) -> dict[str, Any]:
    return {"campaign": {"title": "t"}, "phase": [{"type": "collect"}, {"type": "sort"}, {"type": "evaluate"}],
            **sections}


@pytest.mark.parametrize(("template", "expected"), [
    (table(moderation={"settings": {"abuse_action": "shout"}}),
     "mine.toml: [moderation.settings.abuse_action] moderation strategy 'jury': must be one of "
     "['hide', 'reject', 'off']; found 'shout'"),
    (table(moderation={"settings": {"jury_sise": 5}}),
     "mine.toml: [moderation.settings.jury_sise] moderation strategy 'jury' has no setting 'jury_sise'; "
     "its settings are: jury_size: a whole number, at least 1 and at most 50;"),
    (table(moderation={"settings": {"rejudge": "yes"}}), "[moderation.settings.rejudge] moderation strategy 'jury': "
     "must be true or false; found 'yes'"),
    ({"campaign": {"title": "t"}, "phase": [{"type": "collect"}, {"type": "sort", "settings": {"hand_size": 100}}]},
     "[phase[1].settings.hand_size] structuring strategy 'crowd_sort': must be a whole number, at least 2 and at "
     "most 64; found 100"),
    ({"campaign": {"title": "t"}, "phase": [{"type": "collect", "settings": {"prompts": [{"id": "a"}]}}]},
     "[phase[0].settings.prompts[].text] collection strategy 'prompts': is required"),
    ({"campaign": {"title": "t"}, "phase": [{"type": "evaluate", "strategy": "ratings",
                                             "settings": {"criteria": [{"id": "v", "mx": 5}]}}]},
     "[phase[0].settings.criteria[]] evaluation strategy 'ratings': has unknown key(s) ['mx']"),
    (table(results={"settings": {"top": 0}}), "[results.settings.top] results strategy 'opportunity_sheets'"),
    ({"campaign": {"title": "t"}, "phase": [{"type": "collect", "settings": {"max_chars": float("nan")}}]},
     "[phase[0].settings.max_chars]"),
])
def test_a_bad_setting_is_refused_naming_the_file_the_key_and_what_is_allowed(template: Any, expected: str) -> None:
    assert expected in bad(template)


async def test_a_refused_template_creates_no_campaign() -> None:
    async with open_test_engine() as engine:
        template = make_template(phases=["collect"], moderation={"strategy": "jury",
                                                                 "settings": {"abuse_action": "shout"}})
        with pytest.raises(TemplateError, match=r"^\[moderation.settings.abuse_action\] moderation strategy .jury.: must be one of"):
            await engine.create_campaign(template)
        assert engine.campaign_ids() == []


def test_the_shipped_templates_and_every_default_pass() -> None:
    demo = files("essaim").joinpath("templates/demo.toml").read_text(encoding="utf-8")
    CampaignTemplate.parse(demo, source="demo.toml").check(HOST.registry, source="demo.toml")
    every_default = {"campaign": {"title": "t"}, "phase": [
        {"type": "collect", "settings": HOST.registry.strategies[("collection", "prompts")].settings.defaults()},  # type: ignore[union-attr]
        {"type": "sort", "settings": HOST.registry.strategies[("structuring", "crowd_sort")].settings.defaults()},  # type: ignore[union-attr]
        {"type": "evaluate", "strategy": "ratings",
         "settings": HOST.registry.strategies[("evaluation", "ratings")].settings.defaults()},  # type: ignore[union-attr]
    ], "moderation": {"settings": HOST.registry.strategies[("moderation", "jury")].settings.defaults()}}  # type: ignore[union-attr]
    CampaignTemplate.from_toml(every_default).check(HOST.registry)


class ThirdParty:
    """Strategies declared the old way (descriptions only) and not at all."""

    __name__ = "third_party"

    @hookimpl
    def essaim_register_strategies(self, registry: Registry) -> None:
        registry.add_strategy("results", "described", settings={"top": "how many", "n": Integer(minimum=1)})
        registry.add_strategy("results", "undeclared")

    @hookimpl
    def essaim_results_sheets(self) -> list[Any]:
        return []


def test_described_settings_take_any_value_and_undeclared_ones_are_not_checked() -> None:
    host = PluginHost.load(entry_points=False, extra=[ThirdParty()])
    described = {"campaign": {"title": "t"}, "phase": [{"type": "collect"}],
                 "results": {"strategy": "described", "settings": {"top": "whatever", "n": 2}}}
    CampaignTemplate.from_toml(described).check(host.registry)
    described["results"]["settings"]["extra"] = 1
    with pytest.raises(TemplateError, match="results strategy 'described' has no setting 'extra'"):
        CampaignTemplate.from_toml(described).check(host.registry)
    loose = {"campaign": {"title": "t"}, "phase": [{"type": "collect"}],
             "results": {"strategy": "undeclared", "settings": {"anything": [1, 2]}}}
    CampaignTemplate.from_toml(loose).check(host.registry)


def test_a_setting_declared_with_something_else_than_a_field_fails_at_load() -> None:
    class Wrong:
        __name__ = "wrong"

        @hookimpl
        def essaim_register_strategies(self, registry: Registry) -> None:
            registry.add_strategy("results", "wrong", settings={"top": 5})  # type: ignore[dict-item]

        @hookimpl
        def essaim_results_sheets(self) -> list[Any]:
            return []

    from essaim import PluginError
    with pytest.raises(PluginError, match="plugin 'wrong': strategy 'wrong' declares setting 'top' as int"):
        PluginHost.load(entry_points=False, extra=[Wrong()])
