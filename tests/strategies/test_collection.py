"""Collection strategy ``prompts``: prompts per segment, card checks, suggestions."""

from __future__ import annotations

import pytest

from essaim import CommandError

from .strategy_campaign import harness


def _call(h, hook, **kwargs):
    return h._call("collection", hook, state=h.state, **kwargs)


def test_prompts_follow_the_profile_segment() -> None:
    h = harness()
    field, office = h.join({"role": "Field"}), h.join({"role": "Office"})
    h.start_phase(0)

    def ids(pid: str) -> list[str]:
        return [p.id for p in _call(h, "essaim_collection_prompts", participant=h.state.participants[pid])]

    assert ids(field) == ["all", "field"]
    assert ids(office) == ["all"]


def test_cards_are_normalised_and_checked() -> None:
    h = harness()
    pid = h.join({"role": "Office"})
    h.start_phase(0)
    p = h.state.participants[pid]
    assert _call(h, "essaim_collection_check_card", participant=p, text="  too \n\n many   spaces ", prompt=None) \
        == "too many spaces"
    with pytest.raises(CommandError) as too_long:
        _call(h, "essaim_collection_check_card", participant=p, text="x" * 281, prompt=None)
    assert too_long.value.code == "too_long"
    with pytest.raises(CommandError):
        _call(h, "essaim_collection_check_card", participant=p, text="ok idea", prompt="field")  # not their segment


def test_suggestions_find_similar_cards_and_skip_hidden_ones() -> None:
    h = harness()
    pid = h.join({"role": "Office"})
    h.start_phase(0)
    meeting = h.write(pid, "Meetings always start late and run over")
    h.write(pid, "The canteen closes too early")
    hidden = h.write(pid, "Late meetings waste everyone's morning")
    h.emit("case_decided", case_id=None, cid=hidden, outcome="hide", by="facilitator")
    found = _call(h, "essaim_collection_similar", text="late meetings", limit=5)
    assert [s.cid for s in found] == [meeting]


def test_suggestions_follow_a_new_state_with_the_same_id() -> None:
    first = harness()
    pid = first.join({"role": "Office"})
    first.start_phase(0)
    first.write(pid, "Parking is always full")
    assert _call(first, "essaim_collection_similar", text="parking", limit=5)
    second = harness()
    second.state.campaign_id = first.state.campaign_id
    other = second.join({"role": "Office"})
    second.start_phase(0)
    second.write(other, "Coffee machine broken")
    assert _call(second, "essaim_collection_similar", text="parking", limit=5) == []


def test_the_word_being_typed_is_completed() -> None:
    h = harness()
    pid = h.join({"role": "Office"})
    h.start_phase(0)
    meeting = h.write(pid, "Meetings always start late")
    h.write(pid, "Mechanics need better tools")
    found = _call(h, "essaim_collection_similar", text="too many meet", limit=5)
    # "Mechanics" shares only the trigram "<me": a weak match, ranked below.
    assert found[0].cid == meeting and all(s.score < found[0].score / 2 for s in found[1:])
    # A stem is shorter than its words: "meeti" is completed by "meet" too.
    assert _call(h, "essaim_collection_similar", text="too many meeti", limit=5)[0].cid == meeting


def test_word_forms_are_suggested_in_french_and_english() -> None:
    h = harness()
    pid = h.join({"role": "Office"})
    h.start_phase(0)
    cards = {text: h.write(pid, text) for text in (
        "Des menus végétariens à la cantine", "Un parrainage des nouveaux arrivants",
        "Une formation aux nouveaux outils", "Recycling bins on every floor", "Parking is always full")}
    for typed, expected in (("Plus d'options végétariennes ", "Des menus végétariens à la cantine"),
                            ("Un parrain pour chaque nouveau ", "Un parrainage des nouveaux arrivants"),
                            ("Former les équipes aux outils ", "Une formation aux nouveaux outils"),
                            ("We should recycle more ", "Recycling bins on every floor")):
        found = _call(h, "essaim_collection_similar", text=typed, limit=1)
        assert [s.cid for s in found] == [cards[expected]], typed
