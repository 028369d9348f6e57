"""A full disk under the single-process server (SQLite): no exit; writes
refused with ``unavailable`` while reads and sockets stay up; accepted again
once space is freed, without a restart; every acknowledged card in the log
once.

For real: the data folder is a small tmpfs (tests/realservers/tmpfs.py: as
root, as the tests run here and in CI), filled with a file until the kernel
says ENOSPC. Where mounting is not permitted, the test skips and says so.
"""

from __future__ import annotations

import os
import sqlite3
from collections.abc import Iterator
from pathlib import Path

import orjson
import pytest
import requests
import trio
from realservers.tmpfs import fill, mounted_tmpfs
from server_fixtures import new_campaign, participant_connection, running_server
from trio_websocket import ConnectionClosed

from essaim import FACILITATOR, Command
from essaim.server.run import STORE_FILE
from essaim.server.ws import participant

PROFILE = {"role": "Office", "site": "North"}
#: Room for the store's file and its WAL, small enough to fill in a blink.
TMPFS_SIZE = "2m"
#: Cards sent after the disk is full; the first failed commit comes within a
#: few (the WAL grows by a page per commit). A bound, not a count to reach.
MAX_CARDS_WHILE_FULL = 50
TEST_SECONDS = 60


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    """A tmpfs at tmp_path/data, the test server's data folder."""
    with mounted_tmpfs(tmp_path / "data", TMPFS_SIZE) as mount:
        yield mount


async def test_a_full_disk_refuses_writes_until_space_is_freed_without_a_restart(small_disk: Path) -> None:
    with trio.fail_after(TEST_SECONDS):
        async with running_server(small_disk.parent) as server:
            engine = server.engine
            cid, code, _ = await new_campaign(server)
            async with participant_connection(server) as phone:
                await phone.join(code, PROFILE)
                await engine.execute(cid, FACILITATOR, Command("start"))
                first = await phone.act_and_wait("write_card", text="Written before the disk filled up")
                assert "seq" in first

                filler = fill(small_disk)
                # Cards until one's commit fails (the WAL may still have had
                # room for a few: durable all the same). That one is applied
                # and waits for the disk; it is acknowledged once space is back.
                pending = None
                for k in range(MAX_CARDS_WHILE_FULL):
                    msg_id = await phone.act("write_card", text=f"Card {k} while the disk is full")
                    async with trio.open_nursery() as race:
                        async def unwritable() -> None:
                            await engine.store_health.wait_unwritable()
                            race.cancel_scope.cancel()

                        race.start_soon(unwritable)
                        await phone.until(lambda p, sent=msg_id: sent in p.acks)
                        race.cancel_scope.cancel()
                    if not engine.store_health.writable:
                        pending = msg_id
                        break
                assert pending is not None, f"the store never failed in {MAX_CARDS_WHILE_FULL} cards on a full disk"
                assert "full" in (engine.store_health.error or "")
                refused = await phone.act_and_wait("write_card", text="Refused: the disk is full")
                assert refused["code"] == "unavailable" and pending not in phone.acks

                # /readyz sends new people elsewhere meanwhile; /healthz: alive.
                ready = await trio.to_thread.run_sync(
                    lambda: requests.get(server.base_url + "/readyz", timeout=10))
                assert ready.status_code == 503 and not ready.json()["checks"]["store"]["ok"]
                assert "full" in ready.json()["checks"]["store"]["detail"]
                health = await trio.to_thread.run_sync(
                    lambda: requests.get(server.base_url + "/healthz", timeout=10))
                assert health.status_code == 200
                # The server is up, the socket too: reads are answered.
                await phone.send({"type": "suggest", "id": "q1", "text": "disk filled"})
                await phone.until(lambda p: "q1" in p.replies)
                assert phone.replies["q1"]["suggestions"]
                # A join that cannot be written closes with a retryable code.
                async with participant_connection(server) as newcomer:
                    await newcomer.send({"type": "join", "campaign": code, "profile": PROFILE})
                    with pytest.raises(ConnectionClosed):
                        while True:
                            await newcomer.recv()
                    assert [e["code"] for e in newcomer.errors] == ["unavailable"]
                    assert newcomer.ws.closed.code == 1012

                os.unlink(filler)  # space is back: the writer's next retry commits
                await engine.store_health.wait_writable()
                await phone.until(lambda p: pending in p.acks)
                retry_id = refused["id"]
                await phone.send({"type": "write_card", "id": retry_id, "text": "Card sent again, same id"})
                await phone.until(lambda p: retry_id in p.acks)
                after = await phone.act_and_wait("write_card", text="Written after the space came back")
                assert "seq" in after
                ready = await trio.to_thread.run_sync(
                    lambda: requests.get(server.base_url + "/readyz", timeout=10))
                assert ready.json()["checks"]["store"]["ok"]
                acked = {a["id"]: a["seq"] for a in phone.ack_log if not a.get("duplicate")}
    db = sqlite3.connect(small_disk / STORE_FILE)
    try:
        rows = db.execute("SELECT seq, type, data FROM events WHERE campaign = ? ORDER BY seq", (cid,)).fetchall()
    finally:
        db.close()
    assert [seq for seq, _, _ in rows] == list(range(1, len(rows) + 1))
    cards = [(orjson.loads(data)["msg"], seq) for seq, etype, data in rows if etype == "card_written"]
    assert len(cards) == len({msg for msg, _ in cards}), "a card written twice"
    assert dict(cards) == acked  # every acknowledged card, at its seq; nothing else


async def test_a_join_caught_by_the_full_disk_closes_with_a_retryable_code(
    small_disk: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Joins until one is accepted but cannot be committed: it is not welcomed
    # within the join's shield, and must close with 1012, never 1008.
    monkeypatch.setattr(participant, "JOIN_SHIELD_SECONDS", 1.0)
    with trio.fail_after(TEST_SECONDS):
        async with running_server(small_disk.parent) as server:
            _, code, _ = await new_campaign(server)
            filler = fill(small_disk)
            for _ in range(MAX_CARDS_WHILE_FULL):
                assert server.engine.store_health.writable  # so this join is accepted, not refused at once
                async with participant_connection(server) as newcomer:
                    await newcomer.send({"type": "join", "campaign": code, "profile": PROFILE})
                    try:
                        await newcomer.until(lambda p: p.welcome is not None)
                        continue
                    except ConnectionClosed:
                        pass
                    assert [e["code"] for e in newcomer.errors] == ["unavailable"]
                    assert newcomer.ws.closed.code == 1012
                    break
            else:
                pytest.fail(f"every one of {MAX_CARDS_WHILE_FULL} joins was written on a full disk")
            os.unlink(filler)
            await server.engine.store_health.wait_writable()
