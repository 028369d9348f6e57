"""The HTML report reads without a manual: places shared by ties, scores out
of 100, ideas by theme with their cards, groups compared, the moderation log
with the cards' text (what a leader reads; the browser tests look at it)."""

from __future__ import annotations

import re
from typing import Any

from essaim_builtins.exports.html import CARDS_SHOWN, agreement_words, render


def _sheet(rank: int, iid: str, score: float, cards: int = 1, **extra: Any) -> dict[str, Any]:
    texts = [f"{iid} card {n}" for n in range(cards)]
    return {"rank": rank, "iid": iid, "title": texts[0], "card_texts": texts, "supporters": cards,
            "score": score, "low": score - 0.05, "high": score + 0.05, "consensus": 0.5, "controversy": 0.0,
            "segments": {}, "points": round(100 * score), "place": rank, "low_points": round(100 * score) - 5,
            "high_points": round(100 * score) + 5, **extra}


def _doc(**extra: Any) -> dict[str, Any]:
    sheets = [_sheet(1, "i1", 0.8, cards=5, segments={"role=Field": 0.9, "role=Office": 0.4}),
              _sheet(2, "i2", 0.6), _sheet(2, "i3", 0.6, place=2), _sheet(4, "i4", 0.3)]
    sheets[2]["place"] = 2
    doc = {"title": "Better <work>", "created_at": 1796313600.0, "counters": {"participants": 300, "cards": 1234,
           "hidden": 2, "judgments": 6656}, "questions": [{"text": "What slows you down?", "for": ""},
           {"text": "What do office people not see?", "for": "Field"}], "scale": "Scores out of 100: fine.",
           "sheets": sheets, "themes": [{"title": "Meetings", "iids": ["i2", "i1"]}],
           "log": [{"ts": 1796313700.0, "cid": "c9", "text": "A rude remark", "action": "hide", "by": "jury",
                    "votes": {"hide": 3, "keep": 1}}], "min_segment_size": 5}
    return {**doc, **extra}


def _page(doc: dict[str, Any]) -> str:
    (report,) = render(doc, now=1796317200.0)
    assert report.name == "report.html"
    return report.content.decode()


def test_the_report_says_what_when_and_how_many() -> None:
    page = _page(_doc())
    assert "<h1>Better &lt;work&gt;</h1>" in page
    assert "Campaign of 3 December 2026 · report made 3 December 2026, 17:00 UTC" in page
    assert "<strong>1,234</strong>cards written (2 hidden by moderation)" in page
    assert "<strong>4</strong>ideas ranked" in page and "<strong>1</strong>themes" in page
    assert "What do office people not see? <span class=\"hint\">(asked to Field only)</span>" in page
    assert "Scores out of 100: fine." in page


def test_ties_share_a_place_everywhere() -> None:
    page = _page(_doc())
    places = re.findall(r'<tr><td class="num">(=?\d+)</td><td>i\d card 0</td><td class="score">', page)
    assert places == ["1", "=2", "=2", "4"]


def test_ideas_by_theme_with_their_cards_and_the_rest_folded() -> None:
    page = _page(_doc())
    meetings = page.index("<h3>Meetings</h3>")
    loose = page.index("<h3>Ideas in no theme</h3>")
    assert meetings < page.index("<strong>i1 card 0</strong>") < page.index("<strong>i2 card 0</strong>") < loose
    assert page.index("<strong>i3 card 0</strong>") > loose
    # The idea's own title is not repeated as a card; what does not fit folds away, nothing is dropped.
    assert "<li>i1 card 1</li><li>i1 card 2</li></ul>" in page
    assert f"<summary>{5 - CARDS_SHOWN} more cards</summary>" in page and "<li>i1 card 4</li>" in page


def test_groups_compared_and_small_ones_explained() -> None:
    page = _page(_doc())
    assert "40 for Office (role) to 90 for Field (role)" in page
    none = _page(_doc(sheets=[_sheet(1, "i1", 0.5)]))
    assert "No profile group had enough people to be compared (at least 5 per group" in none


def test_the_moderation_log_shows_the_card_text() -> None:
    page = _page(_doc())
    assert "<td>A rude remark</td><td>hide</td><td>jury (3 hide, 1 keep)</td>" in page
    assert "No moderation decision." in _page(_doc(log=[]))


def test_agreement_in_words() -> None:
    assert agreement_words({"consensus": 0.7, "controversy": 0.0}) == "broad"
    assert agreement_words({"consensus": 0.4, "controversy": 0.3}) == "mixed · divides groups"
    assert agreement_words({"consensus": 0.1}) == "low"


def test_an_empty_campaign_still_renders() -> None:
    page = _page(_doc(sheets=[], themes=[], questions=[], log=[]))
    assert page.count("No idea was evaluated.") == 2 and "The campaign asked no open question." in page


def test_plugin_phases_reports_get_their_own_section_before_the_moderation_log() -> None:
    page = _page(_doc(phase_reports={"pledges": {"title": "Action pledges", "columns": ["Idea", "Pledge"],
                                                  "rows": [["Fewer meetings", "I'll cancel <mine>"]]}}))
    assert '<li><a href="#phase-report-0">Action pledges</a></li>' in page
    section = page.index('<h2 id="phase-report-0">Action pledges</h2>')
    assert section < page.index('<h2 id="moderation">')
    assert "<td>Fewer meetings</td><td>I&#x27;ll cancel &lt;mine&gt;</td>" in page


def test_a_widely_supported_idea_placed_low_is_named_with_why() -> None:
    sheets = [_sheet(rank, f"i{rank}", 1 - rank / 20, cards=1) for rank in range(1, 13)]
    for sheet in sheets:
        sheet["supporters"] = 3
    sheets[11]["supporters"] = 80  # the most supported idea, placed 12th
    page = _page(_doc(sheets=sheets))
    section = page[page.index('<h3 id="supported-lower">'):]
    assert "<li>“i12 card 0”: 80 people, place 12 (40/100)</li>" in section
    assert "“i11 card 0”" not in section, "an idea no more supported than those above it is not singled out"
    assert 'id="supported-lower"' not in _page(_doc()), "nothing to say when the ranking is short"
