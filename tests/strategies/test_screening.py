"""The screen at submission (moderation strategy ``jury``)."""

from __future__ import annotations

import pytest

from essaim_builtins.moderation.screening import screen_text


@pytest.mark.parametrize(
    ("text", "masked", "finding"),
    [
        ("write to jean.dupont@example.org please", "write to [email] please", "email"),
        ("call me at +33 6 12 34 56 78 tonight", "call me at [phone] tonight", "phone"),
        ("refund to FR76 3000 6000 0112 3456 7890 189 now", "refund to [iban] now", "iban"),
    ],
)
def test_personal_data_is_masked_not_refused(text: str, masked: str, finding: str) -> None:
    result = screen_text(text)
    assert result.text == masked
    assert finding in result.findings
    assert result.reject is None and not result.hide


def test_abusive_words_hide_the_card_for_review_by_default() -> None:
    result = screen_text("ce projet est géré par des connards")
    assert result.hide and "abuse" in result.findings and result.reject is None
    assert screen_text("this is bullshit", abuse_action="reject").reject
    assert not screen_text("this is bullshit", abuse_action="off").hide


def test_extra_words_extend_the_list() -> None:
    assert not screen_text("the blorfs are late").hide
    assert screen_text("the blorfs are late", extra_words=["blorfs"]).hide


@pytest.mark.parametrize("junk", ["aaaaaaaaaaaaaaaaa", "bad bad bad bad bad bad bad", "12345 !!! 678 ??? ---- 99"])
def test_junk_is_refused_with_a_message(junk: str) -> None:
    assert screen_text(junk).reject


def test_ordinary_ideas_pass_untouched() -> None:
    text = "Meetings start late because the room booking tool is slow (2 minutes per booking)."
    result = screen_text(text)
    assert result.text == text and result.findings == () and result.reject is None and not result.hide
    assert "shouting" in screen_text("WHY ARE MEETINGS ALWAYS SO LATE IN THIS PLACE").findings


@pytest.mark.parametrize("text", [
    "client 96 card 10 1a2b3c",
    "client 12 card 3 38270915",  # a load test's generated text: two numbers are not one phone number
    "Team meeting on 12.03.2024 at 9am",
    "The 2023-2024 budget cycle started too late",
    "On a dépensé 12 500 000 euros en conseil",
    "Le chiffre d'affaires a augmenté de +10 000 000 € sans hausse des salaires",
    "Passer de Windows 10.0.19045.3693 à Windows 11",
    "Part number 0451-2203-17 is always out of stock",
])
def test_numbers_that_are_not_personal_data_stay(text: str) -> None:
    result = screen_text(text)
    assert result.text == text and "phone" not in result.findings


@pytest.mark.parametrize(("text", "masked"), [
    ("appelez le 06.12.34.56.78 le matin", "appelez le [phone] le matin"),
    ("mon numéro 0612345678 si besoin", "mon numéro [phone] si besoin"),
    ("ping me at (415) 555-0132", "ping me at [phone]"),
    ("text 07700 900123 tonight", "text [phone] tonight"),
    ("+33 (0)6 98 76 54 32 même la nuit", "[phone] même la nuit"),
    ("ma carte 4970 1012 3456 7893 a été enregistrée", "ma carte [phone] a été enregistrée"),
    ("mon NIR 1 85 05 78 006 084 91", "mon NIR [phone]"),
])
def test_phone_card_and_identity_numbers_are_masked_whole(text: str, masked: str) -> None:
    assert screen_text(text).text == masked


def test_precision_and_recall_on_the_labelled_cards() -> None:
    """The quality benchmark's labelled French/English cards (make bench-quality prints the figures)."""
    from essaim_builtins.bench.personal_data import load_cards, score, screen_mask

    cards = load_cards()
    assert len(cards) >= 200 and {c.lang for c in cards} == {"fr", "en"}
    misses: list[str] = []
    result = score(cards, screen_mask, misses)
    assert result.precision >= 0.95, misses
    assert result.recall >= 0.95, misses
    assert result.clean_changed <= result.clean_cards // 100, misses
