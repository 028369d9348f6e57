"""The simulated participant follows a session from the frames it gets."""

from __future__ import annotations

import random
from pathlib import Path

from loadtests.behaviour import ACK_TIMEOUT_SECONDS, Participant, _Pending
from loadtests.workload import CAMPAIGN, Workload


def phase(index: int, kind: str, status: str = "running", server_time: float = 100.0) -> dict:
    return {"index": index, "type": kind, "status": status, "server_time": server_time}


def welcome(ph: dict) -> dict:
    return {"type": "welcome", "token": "tok", "pid": "p1", "seq": 5, "phase": ph, "you": {"hand": None}}


def test_a_writer_writes_and_the_ack_is_measured() -> None:
    p = Participant(random.Random(1), Workload(writer_share=1.0, supporter_share=0.0, flagger_share=0.0))
    assert p.hello()["type"] == "join"
    p.receive(welcome(phase(0, "collect")), now=10.0)
    frames, think = p.act(now=10.0)
    assert [f["type"] for f in frames] == ["write_card"] and think > 0
    samples = p.receive({"type": "update", "seq": 6, "acks": [
        {"id": frames[0]["id"], "seq": 6, "result": {"cid": "c9"}}]}, now=10.05)
    assert [(s.name, round(s.seconds, 3), s.error) for s in samples] == [("ack write_card", 0.05, None)]
    assert "c9" in p.own_cards and p.seq == 6


def test_a_sorter_volunteers_deals_and_places_its_hand() -> None:
    p = Participant(random.Random(2), Workload(sorter_share=1.0, writer_share=0.0, supporter_share=0.0,
                                               flagger_share=0.0))
    p.receive(welcome(phase(1, "sort")), now=0.0)
    frames, _ = p.act(now=0.0)
    assert [f["type"] for f in frames] == ["volunteer", "deal"]
    deal = frames[1]
    items = [f"c{i}" for i in range(8)]
    p.receive({"type": "update", "acks": [{"id": frames[0]["id"], "result": {"sorter": True}},
                                          {"id": deal["id"], "result": {"hand": {"hid": "h1", "items": items}}}]},
              now=0.1)
    frames, _ = p.act(now=1.0)
    place = frames[0]
    assert place["type"] == "place" and place["hid"] == "h1"
    placed = [c for theme in place["themes"] for idea in theme for c in idea] + place["offtopic"]
    assert sorted(placed) == sorted(items)
    assert frames[1]["type"] == "deal"


def test_refusals_a_person_meets_are_not_failures_but_others_are() -> None:
    p = Participant(random.Random(3), Workload(sorter_share=1.0, flagger_share=0.0))
    p.receive(welcome(phase(1, "sort")), now=0.0)
    frames, _ = p.act(now=0.0)
    samples = p.receive({"type": "update", "errors": [
        {"id": frames[1]["id"], "code": "nothing_left", "message": "..."},
        {"id": frames[0]["id"], "code": "busy", "message": "..."}]}, now=0.2)
    assert {s.name: s.error for s in samples} == {"ack deal": None, "ack volunteer": "busy"}
    assert p.hands_left == 0
    # not_found is expected of a support (the card was hidden meanwhile), of nothing else.
    p.pending.clear()
    p.receive(welcome(phase(0, "collect")), now=1.0)
    for n, kind in enumerate(("support_card", "flag")):
        p.pending[f"x{n}"] = _Pending(kind, {"type": kind, "id": f"x{n}"}, 1.0)
    samples = p.receive({"type": "update", "errors": [
        {"id": "x0", "code": "not_found", "message": "..."}, {"id": "x1", "code": "not_found", "message": "..."}]},
        now=1.2)
    assert {s.name: s.error for s in samples} == {"ack support_card": None, "ack flag": "not_found"}


def test_a_phase_change_measures_staleness_from_the_server_time() -> None:
    p = Participant(random.Random(4))
    p.receive(welcome(phase(0, "collect")), now=50.0)
    samples = p.receive({"type": "update", "phase": phase(1, "sort", server_time=100.0)}, now=100.4)
    assert [(s.kind, s.name, round(s.seconds, 3)) for s in samples] == [("push", "push phase sort running", 0.4)]
    assert p.receive({"type": "update", "phase": phase(1, "sort", server_time=101.0)}, now=101.0) == []


def test_unacked_actions_expire_and_are_resent_after_resume() -> None:
    p = Participant(random.Random(5), Workload(writer_share=1.0, supporter_share=0.0, flagger_share=0.0))
    p.receive(welcome(phase(0, "collect")), now=0.0)
    frames, _ = p.act(now=0.0)
    assert p.hello() == {"type": "resume", "campaign": "", "token": "tok", "seq": 5}
    assert p.resend(now=1.0) == frames
    late = p.expire(now=1.0 + ACK_TIMEOUT_SECONDS + 0.1)
    assert [(s.name, s.error) for s in late] == [("ack write_card", "timeout")]


def test_an_evaluator_answers_each_task_and_asks_for_the_next() -> None:
    p = Participant(random.Random(6), Workload(flagger_share=0.0))
    p.receive(welcome(phase(2, "evaluate")), now=0.0)
    frames, _ = p.act(now=0.0)
    assert [f["type"] for f in frames] == ["next"]
    task = {"kind": "pair", "a": {"iid": "i1"}, "b": {"iid": "i2"}}
    p.receive({"type": "update", "replies": [{"id": frames[0]["id"], "task": task}]}, now=0.1)
    frames, _ = p.act(now=5.0)
    assert [f["type"] for f in frames] == ["evaluate", "next"]
    assert frames[0]["data"]["a"] == "i1" and frames[0]["kind"] == "pair"


def test_rates_scale_with_participants() -> None:
    rates = CAMPAIGN.actions_per_second(10_000)
    assert rates["evaluate"] == 2 * CAMPAIGN.actions_per_second(5_000)["evaluate"]


def test_locust_is_never_imported_by_the_server_the_engine_or_the_tests() -> None:
    """Locust monkey-patches sockets on import: it must stay in its own process."""
    root = Path(__file__).resolve().parents[2]
    offenders = [
        str(path.relative_to(root))
        for folder in ("core", "plugins", "tests")
        for path in (root / folder).rglob("*.py")
        if any(line.lstrip().startswith(("import locust", "from locust", "from loadtests import locustfile",
                                         "import loadtests.locustfile"))
               for line in path.read_text(encoding="utf-8").splitlines())
    ]
    assert offenders == []
