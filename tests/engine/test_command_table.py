"""One declaration per command: the table ties names, senders, payload shapes
and handlers; the JSON Schema it generates accepts and refuses exactly what
the engine's checks do; a plugin declares a command the same way."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import jsonschema_rs
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import essaim
from essaim import FACILITATOR, Actor, Command, CommandError, PluginError, hookimpl
from essaim.engine import commands as builtin
from essaim.engine._owner import CampaignOwner
from essaim.model.commands import CommandSpec, CommandTable
from essaim.model.schema import Boolean, Choice, Fields, Integer, Invalid, ListOf, Number, Object, Text
from essaim.plugin import PluginHost
from essaim.plugin.registry import Registry
from essaim.testing import joined, make_template, open_test_engine, run_campaign_to

BUILTIN_NAMES = {
    "participant": {"write_card", "support_card", "volunteer", "deal", "place", "flag", "judge", "evaluate"},
    "facilitator": {"start", "pause", "resume", "advance", "extend", "decide"},
    "engine": {"timeout", "join", "publish"},
}


def table() -> CommandTable:
    return PluginHost.load(entry_points=False).registry.commands


def test_every_builtin_command_is_declared_once_with_its_sender_and_handler() -> None:
    t = table()
    assert {s.name for s in t} == set().union(*BUILTIN_NAMES.values())
    for sender, names in BUILTIN_NAMES.items():
        assert {s.name for s in t if s.sender == sender} == names
    assert t.participant == BUILTIN_NAMES["participant"] and t.facilitator == BUILTIN_NAMES["facilitator"]
    assert t.every_phase == {"flag", "judge"}
    for spec in t:
        assert spec.plugin == "essaim.engine.commands"
        assert callable(spec.handler) and spec.handler.__module__ == builtin.__name__
    # The owner has no command methods of its own left to be reached by name.
    assert not [name for name in vars(CampaignOwner) if name.startswith("_cmd_")]


def test_both_moderation_choices_are_called_verdict() -> None:
    t = table()
    for name in ("judge", "decide"):
        schema = t.get(name).json_schema()  # type: ignore[union-attr]
        assert schema["properties"]["verdict"]["enum"] == ["hide", "keep"]
        assert "verdict" in schema["required"] and "outcome" not in schema["properties"]


def test_the_engine_commands_are_never_accepted_from_outside() -> None:
    t = table()
    for name in BUILTIN_NAMES["engine"]:
        for actor in (FACILITATOR, Actor.participant("p1")):
            with pytest.raises(CommandError) as refused:
                t.validate(actor, Command(name, {}))
            assert refused.value.code == "unknown_command"


# -- the JSON Schema says what the checks say -------------------------------------------------

ids = st.one_of(st.text(max_size=3), st.text(min_size=63, max_size=66), st.integers(), st.none())
json_values = st.recursive(
    st.one_of(st.none(), st.booleans(), st.integers(-5, 4000), st.floats(-5, 4000, allow_nan=False),
              st.sampled_from(["hide", "keep", "x", "", "a" * 65]), st.text(max_size=5)),
    lambda inner: st.one_of(st.lists(inner, max_size=4), st.dictionaries(st.text(max_size=3), inner, max_size=3)),
    max_leaves=12,
)


def payloads_for(spec: CommandSpec) -> st.SearchStrategy[dict[str, Any]]:
    """Objects with the spec's keys (each present or not) holding nearly-right and wrong values."""
    def value_for(field: Any) -> st.SearchStrategy[Any]:
        if isinstance(field, Text):
            return st.one_of(ids, st.text(max_size=field.max_len + 2).filter(lambda s: len(s) >= field.max_len - 1)
                             if field.max_len <= 300 else st.just("a" * (field.max_len + 1)), json_values)
        if isinstance(field, ListOf):
            leaf = st.one_of(ids, json_values)
            return st.one_of(
                st.lists(st.lists(st.lists(leaf, max_size=3), max_size=3), max_size=3),
                st.lists(leaf, max_size=4), st.lists(st.just("c1"), min_size=64, max_size=66), json_values)
        if isinstance(field, Object):
            return st.one_of(st.dictionaries(st.text(max_size=3), json_values, max_size=2), json_values)
        if isinstance(field, Choice):
            return st.one_of(st.sampled_from(field.values), json_values)
        if isinstance(field, (Integer, Number)):
            return st.one_of(st.integers(-2, 4000), st.floats(-2, 4000, allow_nan=False), st.just(2.0),
                             st.just(3600), st.just(3600.5), st.just(0), st.booleans(), json_values)
        return json_values
    keys = {key: value_for(field) for key, field in spec.payload}
    required = {key: keys.pop(key) for key, field in spec.payload if field.required}
    anything = {**required, **keys, "extra": json_values}
    return st.one_of(st.fixed_dictionaries(required, optional={**keys, "extra": json_values}),
                     st.fixed_dictionaries({}, optional=anything))


def accepted_by_engine(spec: CommandSpec, payload: Mapping[str, Any]) -> bool:
    try:
        spec.payload.check(payload)
    except Invalid:
        return False
    return True


SPECS = sorted(table(), key=lambda s: s.name)


@pytest.mark.parametrize("spec", SPECS, ids=[s.name for s in SPECS])
def test_the_json_schema_accepts_and_refuses_what_the_engine_does(spec: CommandSpec) -> None:
    validator = jsonschema_rs.Draft202012Validator(spec.json_schema())
    seen = {True: 0, False: 0}

    @settings(max_examples=120, deadline=None, derandomize=True, suppress_health_check=list(HealthCheck))
    @given(payloads_for(spec))
    def agree(payload: dict[str, Any]) -> None:
        ours = accepted_by_engine(spec, payload)
        seen[ours] += 1
        assert validator.is_valid(payload) == ours, (payload, ours)

    agree()
    if len(spec.payload):
        assert seen[True] and seen[False], f"{spec.name}: the examples never covered both answers: {seen}"


def test_the_schema_agrees_on_hand_picked_edges() -> None:
    t = table()
    cases = [
        ("write_card", {"text": "x" * 2000}, True), ("write_card", {"text": "x" * 2001}, False),
        ("write_card", {"text": "ok", "prompt": None}, True), ("write_card", {"text": None}, False),
        ("write_card", {}, False), ("write_card", {"text": "ok", "anything": [1]}, True),
        ("flag", {"cid": "c1", "reason": None}, True), ("flag", {"cid": "c1", "reason": "r" * 201}, False),
        ("place", {"hid": "h1"}, True), ("place", {"hid": "h1", "themes": None}, False),
        ("place", {"hid": "h1", "themes": [[["c1"] * 64]]}, True), ("place", {"hid": "h1", "themes": [[["c1"] * 65]]}, False),
        ("place", {"hid": "h1", "offtopic": ["x" * 65]}, False), ("place", {"hid": "h1", "themes": [["c1"]]}, False),
        ("advance", {}, True), ("advance", {"index": None}, True), ("advance", {"index": 2.0}, True),
        ("advance", {"index": 2.5}, False), ("advance", {"index": True}, False), ("advance", {"index": -1}, False),
        ("extend", {"seconds": 0.5}, True), ("extend", {"seconds": 0}, False), ("extend", {"seconds": 3600}, True),
        ("extend", {"seconds": 3600.01}, False), ("extend", {"seconds": False}, False),
        ("evaluate", {"kind": "pair"}, True), ("evaluate", {"kind": "pair", "data": None}, False),
        ("decide", {"cid": "c1", "verdict": "keep"}, True), ("decide", {"cid": "c1", "outcome": "keep"}, False),
    ]
    for name, payload, ok in cases:
        spec = t.get(name)
        assert spec is not None
        assert accepted_by_engine(spec, payload) == ok, (name, payload)
        assert jsonschema_rs.Draft202012Validator(spec.json_schema()).is_valid(payload) == ok, (name, payload)


def test_a_whole_message_schema_names_the_type_and_the_id() -> None:
    spec = table().get("judge")
    assert spec is not None
    validator = jsonschema_rs.Draft202012Validator(spec.message_schema())
    assert validator.is_valid({"type": "judge", "id": "a6", "case_id": "m3", "verdict": "hide"})
    assert not validator.is_valid({"type": "judge", "case_id": "m3", "verdict": "hide"})
    assert not validator.is_valid({"type": "flag", "id": "a6", "case_id": "m3", "verdict": "hide"})


def test_a_template_of_settings_schema_is_closed_and_a_payload_is_open() -> None:
    closed = Fields({"n": Integer()}, closed=True)
    with pytest.raises(Invalid, match="unknown key"):
        closed.check({"n": 1, "m": 2})
    Fields({"n": Integer()}).check({"n": 1, "m": 2})
    assert closed.json_schema()["additionalProperties"] is False


# -- a plugin's own command -----------------------------------------------------------------


class Cheers:
    """Declares a participant command allowed in its own phase type."""

    __name__ = "cheers"

    def __init__(self) -> None:
        self.handled: list[Mapping[str, Any]] = []

    @hookimpl
    def essaim_register_commands(self, registry: Registry) -> None:
        async def cheer(owner: Any, participant: Any, args: Mapping[str, Any]) -> list[Any]:
            self.handled.append(dict(args))
            # Only built-in events exist today (plugin events come with issue 18).
            return [("sorter_volunteered", {"pid": participant.pid, "result": {"loud": args.get("loud", False)}})]

        registry.add_command(CommandSpec(
            "cheer", "participant",
            Fields({"loud": Boolean(), "times": Integer(minimum=1, maximum=3, required=True),
                    "words": ListOf(Text(10), max_items=2)}),
            cheer, description="cheer for the crowd"))

    @hookimpl
    def essaim_register_phase_types(self, registry: Registry) -> None:
        registry.add_phase_type("cheering", family=None, commands={"cheer"})


async def test_a_plugin_command_is_checked_at_the_edge_and_run_by_the_owner() -> None:
    plugin = Cheers()
    async with open_test_engine(plugins=[plugin]) as engine:
        assert engine.commands.get("cheer").plugin == "cheers"  # type: ignore[union-attr]
        cid = (await engine.create_campaign(make_template(phases=["collect", "cheering"]))).campaign_id
        [alice] = await joined(engine, cid, 1)
        await run_campaign_to(engine, cid, 0)
        with pytest.raises(CommandError) as early:
            await engine.execute(cid, alice, Command("cheer", {"times": 1}))
        assert early.value.code == "wrong_phase" and plugin.handled == []
        await run_campaign_to(engine, cid, 1)

        seq = engine.state(cid).seq
        for bad, code in (({"times": 4}, "bad_request"), ({}, "bad_request"), ({"times": 1, "words": ["x" * 11]}, "too_long"),
                          ({"times": 1, "loud": "yes"}, "bad_request")):
            with pytest.raises(CommandError) as refused:
                # Refused at once, from submit_nowait itself: the owner never sees it.
                engine.submit_nowait(cid, alice, Command("cheer", bad, "m1"), lambda ack, error: None)
            assert refused.value.code == code, (bad, refused.value)
        with pytest.raises(CommandError) as forbidden:
            await engine.execute(cid, FACILITATOR, Command("cheer", {"times": 1}))
        assert forbidden.value.code == "forbidden"
        assert plugin.handled == [] and engine.state(cid).seq == seq

        ack = await engine.execute(cid, alice, Command("cheer", {"times": 2, "loud": True}, "m2"))
        assert ack.result == {"loud": True} and plugin.handled == [{"times": 2, "loud": True}]
        again = await engine.execute(cid, alice, Command("cheer", {"times": 2, "loud": True}, "m2"))
        assert again.duplicate and len(plugin.handled) == 1  # idempotent like any command


def test_a_command_declared_twice_or_a_phase_type_allowing_an_undeclared_one_fails_at_load() -> None:
    class Twice:
        __name__ = "twice"

        @hookimpl
        def essaim_register_commands(self, registry: Registry) -> None:
            registry.add_command(CommandSpec("judge", "participant", Fields(), builtin.judge))

    with pytest.raises(PluginError, match=r"plugin 'twice': command 'judge' is already declared by "
                                          r"'essaim\.engine\.commands'"):
        PluginHost.load(extra=[Twice()], entry_points=False)

    class Undeclared:
        __name__ = "undeclared"

        @hookimpl
        def essaim_register_phase_types(self, registry: Registry) -> None:
            registry.add_phase_type("dancing", family=None, commands={"dance"})

    with pytest.raises(PluginError, match=r"allows unknown commands \['dance'\].*add_command"):
        PluginHost.load(extra=[Undeclared()], entry_points=False)

    with pytest.raises(PluginError, match="cannot disable essential"):
        PluginHost.load(disable=["essaim.engine.commands"], entry_points=False)


def test_the_table_gives_every_payload_as_json_schema() -> None:
    schema = table().json_schema(sender="participant")
    assert set(schema["$defs"]) == BUILTIN_NAMES["participant"]
    jsonschema_rs.Draft202012Validator(schema)  # a valid schema document
    assert essaim.Engine.commands.__doc__
