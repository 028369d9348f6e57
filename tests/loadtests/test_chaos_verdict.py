"""The chaos suite's verdict (``make chaos``): what counts as lost, as
duplicated, and as recovered. The suite itself runs real processes and
faults; these check its arithmetic, so a verdict of 0 lost means 0 lost."""

from __future__ import annotations

from essaim.model.events import Event
from loadtests.chaos.generator import Ack, Ledger
from loadtests.chaos.verdict import Verdict, compare


def card(seq: int, msg: str, pid: str = "p") -> Event:
    return Event(seq=seq, type="card_written", ts=0.0, data={"pid": pid, "msg": msg, "text": "t"})


def ledger(*acks: tuple[str, int | None, bool]) -> Ledger:
    out = Ledger()
    for msg, seq, duplicate in acks:
        out.acked(Ack(msg, seq, duplicate, at=1.0, sent=0.5))
    return out


def judged(led: Ledger, log: list[Event]) -> Verdict:
    verdict = Verdict("s", "the fault", bound=5.0, recovered=1.0, converged=True)
    compare(led, log, verdict)
    return verdict


def test_every_ack_in_the_log_once_is_a_pass() -> None:
    log = [Event(1, "campaign_created", 0.0, {}), card(2, "p0-1"), card(3, "p1-1")]
    verdict = judged(ledger(("p0-1", 2, False), ("p1-1", 3, False), ("p0-1", 2, True)), log)
    assert (verdict.acked, verdict.lost, verdict.duplicates, verdict.ok) == (2, 0, 0, True)


def test_an_ack_missing_from_the_log_is_lost() -> None:
    verdict = judged(ledger(("p0-1", 2, False), ("p0-2", 3, False)), [card(2, "p0-1")])
    assert (verdict.lost, verdict.ok) == (1, False)
    assert any("p0-2" in note for note in verdict.notes)


def test_a_card_twice_in_the_log_or_acked_under_another_seq_is_a_duplicate() -> None:
    assert judged(ledger(("p0-1", 2, False)), [card(2, "p0-1"), card(3, "p0-1")]).duplicates == 1
    assert judged(ledger(("p0-1", 3, False)), [card(2, "p0-1")]).duplicates == 1
    twice = judged(ledger(("p0-1", 2, False), ("p0-1", 4, True)), [card(2, "p0-1")])
    assert (twice.duplicates, twice.ok) == (1, False)


def test_one_message_id_from_two_participants_is_two_actions() -> None:
    verdict = judged(ledger(("p0-1", 4, False)), [card(2, "w0", "a"), card(3, "w0", "b"), card(4, "p0-1")])
    assert (verdict.duplicates, verdict.ok) == (0, True)


def test_not_recovered_or_over_the_bound_fails() -> None:
    verdict = judged(ledger(("p0-1", 2, False)), [card(2, "p0-1")])
    verdict.recovered = None
    assert not verdict.ok
    verdict.recovered = 5.5
    assert not verdict.ok


def test_recovery_waits_for_every_phone_acked_for_an_action_sent_after_the_moment() -> None:
    led = Ledger()
    led.acked(Ack("p0-1", 2, False, at=9.0, sent=1.0))  # sent before the fault: does not count
    led.acked(Ack("p0-2", 3, False, at=12.0, sent=10.5))
    assert led.first_ack_after(10.0, phones=2) is None  # p1 not acked again yet
    led.acked(Ack("p1-1", 4, False, at=13.5, sent=11.0))
    led.acked(Ack("p1-2", 5, False, at=14.0, sent=13.6))
    assert led.first_ack_after(10.0, phones=2) == 3.5  # the slowest phone's first ack after the fault
