"""What participants receive of the results: the top sheets, bounded."""

from __future__ import annotations

from essaim.model.types import OpportunitySheet, Results
from essaim.server.views import PARTICIPANT_RESULT_CARDS, PARTICIPANT_RESULT_SHEETS, results_view


def _sheet(rank: int, cards: int) -> OpportunitySheet:
    return OpportunitySheet(
        rank=rank, iid=f"i{rank}", title=f"idea {rank}", cards=tuple(f"c{n}" for n in range(cards)),
        card_texts=tuple(f"card {rank}.{n}" for n in range(cards)), supporters=cards, score=1 / rank,
        low=0.5 / rank, high=1.5 / rank, consensus=0.5, controversy=0.1, segments={"site=Lyon": 0.4},
    )


def test_participants_get_the_top_sheets_with_a_few_cards_each() -> None:
    sheets = tuple(_sheet(rank, cards=12) for rank in range(1, 2001))
    results = Results(campaign_id="c", title="t", seq=1, sheets=sheets, scores=(), structure=None, counters={})
    view = results_view(results)
    assert [s["rank"] for s in view] == list(range(1, PARTICIPANT_RESULT_SHEETS + 1))
    assert all(len(s["cards"]) == PARTICIPANT_RESULT_CARDS for s in view)
    assert view[0]["cards"] == ["card 1.0", "card 1.1", "card 1.2"][:PARTICIPANT_RESULT_CARDS]
    assert view[0]["segments"] == {"site=Lyon": 0.4}


def test_every_sheet_of_small_results_is_sent() -> None:
    results = Results(campaign_id="c", title="t", seq=1, sheets=(_sheet(1, cards=2),), scores=(), structure=None,
                      counters={})
    (only,) = results_view(results)
    assert only["cards"] == ["card 1.0", "card 1.1"][:PARTICIPANT_RESULT_CARDS] and only["iid"] == "i1"
