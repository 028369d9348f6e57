"""One idea, one sheet: items that say an idea in other words are grouped
under its best-ranked item (issue 16), and each sheet carries its rank in
its theme and by people behind it."""

from __future__ import annotations

import csv
import io
import threading
from collections.abc import Mapping, Sequence
from typing import Any

from essaim.model.types import ItemScore, OpportunitySheet, Results, Structure, Theme

from essaim_builtins.bench.harness import Harness
from essaim_builtins.exports import essaim_results_export
from essaim_builtins.results import essaim_results_sheets, variants
from essaim_builtins.results.variants import group_items, variant_links

from .strategy_campaign import harness

NO_MEETINGS = ["one day a week without any meetings", "a day each week without meetings",
               "one day per week with no meetings", "one day a week without meetings at all"]
COFFEE = ["better coffee in the kitchen", "a better coffee machine", "good coffee for everyone"]
AGENDA = ["send the meeting agenda the day before", "every meeting needs an agenda sent ahead",
          "an agenda before each meeting", "meeting agenda shared in advance"]


def _campaign(items: Mapping[str, tuple[str, Sequence[str]]]) -> tuple[Harness, dict[str, list[str]]]:
    """Cards written by distinct people, then published as ``items``: iid ->
    (theme, texts)."""
    h = harness()
    h.start_phase(0)
    cards: dict[str, list[str]] = {}
    for iid, (_theme, texts) in items.items():
        cards[iid] = [h.write(h.join({"role": "Office"}), text) for text in texts]
    h.emit("items_published", items=[
        {"iid": iid, "title": texts[0], "cards": cards[iid], "theme": theme, "agreement": None}
        for iid, (theme, texts) in items.items()])
    return h, cards


async def _sheets(h: Harness, scores: Mapping[str, float], **settings: Any) -> list[OpportunitySheet]:
    items = [ItemScore(iid, s, s - 0.1, s + 0.1, 10, 0.5, 0.0) for iid, s in scores.items()]
    return list(await essaim_results_sheets(settings=settings, state=h.state, scores=items, min_segment_size=1))


async def test_a_lone_rewording_is_shown_under_its_idea_and_counts_its_people() -> None:
    h, cards = _campaign({"a": ("t1", NO_MEETINGS), "b": ("t1", ["One day a week without meetings!"]),
                          "c": ("t2", COFFEE)})
    h.emit("card_supported", cid=cards["b"][0], pid=h.join({"role": "Field"}))
    sheets = await _sheets(h, {"a": 0.8, "b": 0.7, "c": 0.6})
    assert [(s.rank, s.iid) for s in sheets] == [(1, "a"), (2, "c")]
    [variant] = sheets[0].variants
    assert variant.iid == "b" and variant.score == 0.7 and variant.supporters == 2
    assert variant.card_texts == ("One day a week without meetings!",)
    assert sheets[0].supporters == 4 + 2  # a's authors, b's author and its supporter
    assert sheets[0].cards == tuple(cards["a"])  # the sheet's own cards; the variant keeps its own
    assert sheets[1].variants == ()


async def test_the_best_ranked_wording_heads_the_group() -> None:
    h, _cards = _campaign({"a": ("t1", NO_MEETINGS), "b": ("t1", ["One day a week without meetings!"]),
                           "c": ("t2", COFFEE)})
    sheets = await _sheets(h, {"a": 0.5, "b": 0.9, "c": 0.6})
    assert [s.iid for s in sheets] == ["b", "c"]
    assert [v.iid for v in sheets[0].variants] == ["a"] and sheets[0].score == 0.9


async def test_two_ideas_sharing_words_stay_apart() -> None:
    # "meeting" in both, one theme: neither's wording points at the other.
    h, _cards = _campaign({"a": ("t1", NO_MEETINGS), "d": ("t1", AGENDA), "c": ("t2", COFFEE)})
    assert await variant_links(h.state) == {}
    assert [s.iid for s in await _sheets(h, {"a": 0.8, "d": 0.7, "c": 0.6})] == ["a", "d", "c"]


async def test_a_rewording_the_crowd_put_in_another_theme_with_other_ideas_stays_apart() -> None:
    h, _cards = _campaign({"a": ("t1", NO_MEETINGS), "b": ("t2", ["One day a week without meetings!"]),
                           "c": ("t2", COFFEE)})
    assert await variant_links(h.state) == {}
    # Alone in its theme, the crowd said nothing against it.
    h2, _ = _campaign({"a": ("t1", NO_MEETINGS), "b": ("t3", ["One day a week without meetings!"]),
                       "c": ("t2", COFFEE)})
    assert await variant_links(h2.state) == {"b": "a"}


async def test_grouping_can_be_turned_off() -> None:
    h, _cards = _campaign({"a": ("t1", NO_MEETINGS), "b": ("t1", ["One day a week without meetings!"]),
                           "c": ("t2", COFFEE)})
    sheets = await _sheets(h, {"a": 0.8, "b": 0.7, "c": 0.6}, group_variants=False)
    assert [s.iid for s in sheets] == ["a", "b", "c"] and all(not s.variants for s in sheets)


async def test_links_are_computed_once_per_publication() -> None:
    h, cards = _campaign({"a": ("t1", NO_MEETINGS), "b": ("t1", ["One day a week without meetings!"])})
    first = await variant_links(h.state)
    assert await variant_links(h.state) is first
    h.emit("items_published", items=[{"iid": "ab", "title": "x", "cards": cards["a"] + cards["b"], "theme": "t1",
                                      "agreement": None}])
    assert await variant_links(h.state) == {}


async def test_theme_rank_and_support_rank() -> None:
    h, cards = _campaign({"a": ("t1", NO_MEETINGS), "d": ("t1", AGENDA), "c": ("t2", COFFEE)})
    for _ in range(5):  # the coffee idea has the most people behind it
        h.emit("card_supported", cid=cards["c"][0], pid=h.join({"role": "Field"}))
    sheets = await _sheets(h, {"a": 0.8, "c": 0.7, "d": 0.6})
    assert [(s.iid, s.theme, s.theme_rank) for s in sheets] == [("a", "t1", 1), ("c", "t2", 1), ("d", "t1", 2)]
    # c: 3 authors + 5 supporters; a and d: 4 authors each, a tie sharing rank 2.
    assert [(s.iid, s.support_rank) for s in sheets] == [("a", 2), ("c", 1), ("d", 2)]


async def test_top_counts_ideas_not_items() -> None:
    h, _cards = _campaign({"a": ("t1", NO_MEETINGS), "b": ("t1", ["One day a week without meetings!"]),
                           "c": ("t2", COFFEE)})
    assert [s.iid for s in await _sheets(h, {"a": 0.8, "b": 0.7, "c": 0.6}, top=2)] == ["a", "c"]


def test_group_items_in_rank_order_through_chains_and_ignoring_unranked_items() -> None:
    links = {"c": "b", "b": "a", "e": "gone"}
    assert group_items(["c", "d", "a", "e", "b"], links) == [["c", "a", "b"], ["d"], ["e"]]
    assert group_items([], links) == []


async def test_exports_show_variants_and_the_ranking_by_theme() -> None:
    h, _cards = _campaign({"a": ("t1", NO_MEETINGS), "b": ("t1", ["One day a week without meetings!"]),
                           "d": ("t1", AGENDA), "c": ("t2", COFFEE)})
    sheets = await _sheets(h, {"a": 0.8, "b": 0.7, "c": 0.6, "d": 0.5})
    structure = Structure(themes=(Theme("t1", "Meetings", (), 1.0), Theme("t2", "Coffee", (), 1.0)))
    results = Results(campaign_id=h.state.campaign_id, title="T", seq=h.state.seq, sheets=tuple(sheets),
                      scores=(), structure=structure, counters={})
    [report] = await essaim_results_export(format="html", state=h.state, results=results)
    page = report.content.decode()
    assert "Also said as: “One day a week without meetings!”" in page
    titles = {s.iid: s.title for s in sheets}
    by_theme = page[page.index('id="themes"'):page.index('id="groups"')]
    # Themes in the order of their best sheet, each with its sheets in rank order.
    assert by_theme.index("<h3>Meetings</h3>") < by_theme.index(titles["a"]) < by_theme.index(
        titles["d"]) < by_theme.index("<h3>Coffee</h3>") < by_theme.index(titles["c"])
    [table] = await essaim_results_export(format="csv", state=h.state, results=results)
    rows = list(csv.DictReader(io.StringIO(table.content.decode())))
    assert [(r["iid"], r["variants"], r["theme"], r["theme_rank"]) for r in rows] == [
        ("a", "b", "t1", "1"), ("c", "", "t2", "1"), ("d", "", "t1", "2")]


async def test_links_are_computed_in_a_worker_thread(monkeypatch) -> None:
    # At 20,000 cards the lookups take seconds: never on the trio thread.
    threads = []
    real = variants.compute_links

    def spy(items):  # type: ignore[no-untyped-def]
        threads.append(threading.current_thread())
        return real(items)

    monkeypatch.setattr(variants, "compute_links", spy)
    h, _cards = _campaign({"a": ("t1", NO_MEETINGS), "b": ("t1", ["One day a week without meetings!"])})
    assert await variant_links(h.state) == {"b": "a"}
    assert threads and threads[0] is not threading.main_thread()


async def test_a_wording_typed_many_times_still_finds_its_idea() -> None:
    # More copies of one wording than a lookup returns, written first: each
    # wording is indexed once, with the items it occurs in.
    copies = ["One day a week without meetings!"] * 25
    h, _cards = _campaign({"b": ("t1", copies), "c": ("t2", COFFEE),
                           "a": ("t1", (NO_MEETINGS * 7)[:25] + ["one day a week without meetings"])})
    assert await variant_links(h.state) == {"b": "a"}
