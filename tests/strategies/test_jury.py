"""Moderation strategy ``jury``: who may judge, and how a case is decided."""

from __future__ import annotations

from .strategy_campaign import harness


def _campaign(people: int = 12, moderation: str = "jury_size = 5\nquorum = 3"):
    h = harness(moderation=moderation)
    pids = [h.join({"role": "Office"}) for _ in range(people)]
    h.start_phase(0)
    return h, pids


def test_jurors_have_no_stake_in_the_case() -> None:
    h, pids = _campaign(people=30, moderation="jury_size = 5\nquorum = 3\nrejudge = true")
    author, flagger, retaliator = pids[0], pids[1], pids[2]
    # pids[2]'s card was flagged by the author earlier: pids[2] may not judge the author's cards.
    other = h.write(retaliator, "a card by p3")
    h.flag(author, other)
    card = h.write(author, "a card by p1")
    for _ in range(20):  # many draws: the rule holds every time
        case_id = h.flag(flagger, card)
        if case_id is None:
            break
        case = h.state.cases[case_id]
        assert len(case.jury) == 5
        assert not {author, flagger, retaliator} & set(case.jury)
        for juror in case.jury[:3]:
            h.vote(case_id, juror, "keep")
        flagger = pids[3 + len(h.state.cases) % 20]


def test_flag_counts_alone_never_hide() -> None:
    h, pids = _campaign(people=20)
    card = h.write(pids[0], "an unpopular but fine idea")
    for pid in pids[1:15]:
        h.flag(pid, card)
    assert not h.state.cards[card].hidden
    assert len(h.state.cases) == 1 and len(h.state.cases["m1"].flaggers) == 14


def test_a_lead_of_two_decides_and_a_full_tie_keeps() -> None:
    h, pids = _campaign(moderation="jury_size = 4\nquorum = 2\nmargin = 2")
    card = h.write(pids[0], "some card")
    case_id = h.flag(pids[1], card)
    jury = h.state.cases[case_id].jury
    assert h.vote(case_id, jury[0], "hide") is None  # below quorum
    assert h.vote(case_id, jury[1], "keep") is None  # 1-1: no lead yet
    assert h.vote(case_id, jury[2], "hide") is None  # 2-1: a lead of one
    assert h.vote(case_id, jury[3], "keep") == "keep"  # everyone voted, 2-2: a tie keeps
    assert not h.state.cards[card].hidden
    card2 = h.write(pids[0], "another card")
    case2 = h.flag(pids[2], card2)
    jury2 = h.state.cases[case2].jury
    h.vote(case2, jury2[0], "hide")
    assert h.vote(case2, jury2[1], "hide") == "hide"  # 2-0 at quorum
    assert h.state.cards[card2].hidden
    log = h.state.moderation_log
    assert [(e["cid"], e["action"], e["by"]) for e in log] == [(card, "keep", "jury"), (card2, "hide", "jury")]


def test_a_card_a_jury_kept_goes_to_the_facilitator_when_flagged_again() -> None:
    h, pids = _campaign()
    card = h.write(pids[0], "contested card")
    case_id = h.flag(pids[1], card)
    for juror in h.state.cases[case_id].jury[:3]:
        h.vote(case_id, juror, "keep")
    again = h.flag(pids[2], card)
    assert again is not None and h.state.cases[again].jury == []
    assert not h.state.cards[card].hidden


def test_rejudge_setting_draws_a_new_jury() -> None:
    h, pids = _campaign(moderation="jury_size = 3\nquorum = 2\nrejudge = true")
    card = h.write(pids[0], "contested card")
    case_id = h.flag(pids[1], card)
    for juror in h.state.cases[case_id].jury[:2]:
        h.vote(case_id, juror, "keep")
    again = h.flag(pids[2], card)
    assert len(h.state.cases[again].jury) == 3


def test_small_campaigns_still_get_a_jury() -> None:
    h, pids = _campaign(people=4)
    card = h.write(pids[0], "a card")
    case_id = h.flag(pids[1], card)
    assert sorted(h.state.cases[case_id].jury) == sorted(pids[2:])
