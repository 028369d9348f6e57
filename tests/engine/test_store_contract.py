"""The Store contract, on every store: memory, SQLite (a real file) and
PostgreSQL (a real server, a schema per test).

What the engine relies on: an append is one transaction (all of a batch or
none of it), a seq is written once per campaign, what was appended is read
back as it was (after a restart too), the newest snapshot and the events
after it make a campaign, finished campaigns are found with their codes,
after a failed append :meth:`Store.written` tells whether the batch got
in anyway, and fencing: a claim's epoch, and appends of a stale epoch refused. Store-specific matters (schema versions, files) have their own
test modules.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest

from essaim import Event
from essaim.errors import StoreConflict, StoreFenced
from essaim.store import Store, WriteItem

MakeStore = Callable[[], Store]


def ev(seq: int, etype: str = "phase_started", **data: object) -> Event:
    return Event(seq, etype, 1000.0 + seq / 8, dict(data))


def created(code: str = "ABC234") -> Event:
    return Event(1, "campaign_created", 1000.0, {"code": code, "template": {"title": "T"}})


def logged(store: Store, campaign_id: str, after: int = 0) -> list[tuple[int, str, float, dict[str, object]]]:
    return [(e.seq, e.type, e.ts, e.data) for e in store.events(campaign_id, after)]


def test_a_new_store_is_empty(make_store: MakeStore) -> None:
    store = make_store()
    assert store.campaign_ids() == []
    assert store.finished_campaigns() == {}
    assert store.events("k1") == []
    loaded = store.load("k1")
    assert (loaded.snapshot, loaded.snapshot_seq, list(loaded.events)) == (None, 0, [])


def test_events_read_back_as_written_in_order(make_store: MakeStore) -> None:
    store = make_store()
    data = {"text": "Moins de relèves 🚑, plus de \"temps\"", "nested": {"a": [1, 2.5, None, True]}}
    store.append([WriteItem("k1", [created(), ev(2, "card_written", **data)]), WriteItem("k2", [created("XYZ789")])])
    store.append([WriteItem("k1", [ev(3), ev(4)])])
    assert logged(store, "k1") == [
        (1, "campaign_created", 1000.0, {"code": "ABC234", "template": {"title": "T"}}),
        (2, "card_written", 1000.25, data),
        (3, "phase_started", 1000.375, {}),
        (4, "phase_started", 1000.5, {}),
    ]
    assert [e.seq for e in store.events("k1", after=2)] == [3, 4]
    assert store.events("k1", after=4) == []
    assert sorted(store.campaign_ids()) == ["k1", "k2"]


def test_what_was_appended_survives_a_restart(make_store: MakeStore) -> None:
    first = make_store()
    first.append([WriteItem("k1", [created(), ev(2), ev(3)], snapshot=b'{"seq": 2}', snapshot_seq=2)])
    first.close()
    again = make_store()
    assert again.campaign_ids() == ["k1"]
    assert [e.seq for e in again.events("k1")] == [1, 2, 3]
    assert again.load("k1").snapshot == b'{"seq": 2}'


def test_a_campaign_loads_as_its_newest_snapshot_and_the_events_after_it(make_store: MakeStore) -> None:
    store = make_store()
    store.append([WriteItem("k1", [created(), ev(2), ev(3)], snapshot=b"first", snapshot_seq=3)])
    store.append([WriteItem("k1", [ev(4), ev(5)])])
    loaded = store.load("k1")
    assert (loaded.campaign_id, loaded.snapshot, loaded.snapshot_seq) == ("k1", b"first", 3)
    assert [e.seq for e in loaded.events] == [4, 5]
    store.append([WriteItem("k1", [ev(6)], snapshot=b"second", snapshot_seq=6), WriteItem("k1", [ev(7)])])
    loaded = store.load("k1")
    assert (loaded.snapshot, loaded.snapshot_seq, [e.seq for e in loaded.events]) == (b"second", 6, [7])
    # A snapshot never hides events: the whole log is still there.
    assert [e.seq for e in store.events("k1")] == list(range(1, 8))
    # Two snapshots of one campaign in one batch: the newer one stays.
    store.append([WriteItem("k1", [ev(8)], snapshot=b"third", snapshot_seq=8),
                  WriteItem("k1", [ev(9)], snapshot=b"fourth", snapshot_seq=9)])
    assert (store.load("k1").snapshot, store.load("k1").snapshot_seq) == (b"fourth", 9)


def test_finished_campaigns_are_found_with_their_join_codes(make_store: MakeStore) -> None:
    store = make_store()
    store.append([
        WriteItem("done", [created("DONE22"), ev(2), ev(3, "campaign_finished", index=1)]),
        WriteItem("live", [created("LIVE33"), ev(2)]),
    ])
    assert store.finished_campaigns() == {"done": "DONE22"}


def test_a_seq_already_stored_is_refused_and_the_whole_batch_with_it(make_store: MakeStore) -> None:
    store = make_store()
    store.append([WriteItem("k1", [created(), ev(2)])])
    with pytest.raises(StoreConflict):
        store.append([WriteItem("k2", [created()]), WriteItem("k1", [ev(3), Event(2, "phase_ended", 0.0, {})])])
    assert store.campaign_ids() == ["k1"]  # k2's row went with the refused batch
    assert logged(store, "k1") == [(1, "campaign_created", 1000.0, {"code": "ABC234", "template": {"title": "T"}}),
                                   (2, "phase_started", 1000.25, {})]
    with pytest.raises(StoreConflict):
        store.append([WriteItem("k1", [ev(3), ev(3)])])  # twice in one batch
    assert [e.seq for e in store.events("k1")] == [1, 2]


def test_a_large_batch_is_one_transaction(make_store: MakeStore) -> None:
    # Larger than SQLite's rows per statement (2000): several statements, one transaction.
    store = make_store()
    events = [created()] + [ev(seq, "card_written", text=f"card {seq}") for seq in range(2, 4502)]
    store.append([WriteItem("k1", events[:3000]), WriteItem("k1", events[3000:])])
    assert len(store.events("k1")) == 4501
    late = [ev(seq) for seq in range(4502, 7502)]
    with pytest.raises(StoreConflict):
        store.append([WriteItem("k2", [created()] + [ev(s) for s in range(2, 3000)]),
                      WriteItem("k1", late + [ev(4501)])])
    assert store.campaign_ids() == ["k1"] and len(store.events("k1")) == 4501


def test_written_tells_whether_a_batch_got_in(make_store: MakeStore) -> None:
    store = make_store()
    batch = [WriteItem("k1", [created(), ev(2, note="a")]), WriteItem("k2", [created()])]
    assert store.written(batch) is False
    store.append(batch)
    assert store.written(batch) is True
    # The same seq holding another event: someone else wrote it.
    with pytest.raises(StoreConflict):
        store.written([WriteItem("k1", [ev(2, note="b")])])
    # Half a batch in the log cannot come from one transaction.
    with pytest.raises(StoreConflict):
        store.written([WriteItem("k1", [ev(2, note="a")]), WriteItem("k1", [ev(3)])])
    # A batch of snapshots alone has nothing to look for: write it again.
    assert store.written([WriteItem("k1", [], snapshot=b"s", snapshot_seq=2)]) is False


def test_claims_number_each_campaigns_owners_and_survive_a_restart(make_store: MakeStore) -> None:
    store = make_store()
    assert [store.claim("k1", "node-a"), store.claim("k1", "node-b"), store.claim("k2", "node-a")] == [1, 2, 1]
    store.close()
    assert make_store().claim("k1", "node-c") == 3


def test_an_append_of_a_stale_epoch_is_refused_with_nothing_of_its_batch(make_store: MakeStore) -> None:
    store = make_store()
    old = store.claim("k1", "node-a")
    store.append([WriteItem("k1", [created(), ev(2)], epoch=old)])
    new = store.claim("k1", "node-b")
    with pytest.raises(StoreFenced) as refused:
        store.append([WriteItem("k2", [created()]), WriteItem("k1", [ev(3)], snapshot=b"s", snapshot_seq=3,
                                                                     epoch=old)])
    assert refused.value.campaigns == {"k1": old}
    assert store.campaign_ids() == ["k1"] and [e.seq for e in store.events("k1")] == [1, 2]
    assert store.load("k1").snapshot is None
    store.append([WriteItem("k1", [ev(3)], snapshot=b"s", snapshot_seq=3, epoch=new), WriteItem("k2", [created()])])
    assert [e.seq for e in store.events("k1")] == [1, 2, 3] and store.load("k1").snapshot == b"s"


def test_an_epoch_never_claimed_is_refused_and_no_epoch_is_never_checked(make_store: MakeStore) -> None:
    store = make_store()
    with pytest.raises(StoreFenced) as refused:
        store.append([WriteItem("k1", [created()], epoch=1)])
    assert refused.value.campaigns == {"k1": 1} and store.campaign_ids() == []
    store.claim("k1", "node-a")
    store.append([WriteItem("k1", [created()])])  # one process: no epoch, no fencing
    assert [e.seq for e in store.events("k1")] == [1]


def test_two_epochs_of_one_campaign_in_a_batch_refuse_the_older(make_store: MakeStore) -> None:
    store = make_store()
    store.claim("k1", "node-a")
    new = store.claim("k1", "node-a")
    with pytest.raises(StoreFenced) as refused:
        store.append([WriteItem("k1", [created()], epoch=new - 1), WriteItem("k1", [ev(2)], epoch=new)])
    assert refused.value.campaigns == {"k1": new - 1} and store.events("k1") == []
