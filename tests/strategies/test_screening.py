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
