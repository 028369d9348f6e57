"""Backups of the SQLite store while the server serves, and the restore drill
of docs/operations.md ("Backups and restore")."""

from __future__ import annotations

import shutil
import sqlite3

import pytest
import trio
from server_fixtures import new_campaign, participant_connection, running_server

from essaim import open_engine
from essaim.cli import main
from essaim.cli.backup import backup_store
from essaim.server.run import STORE_FILE

#: Cards written while the backup runs; the writers go on during and after it.
WRITERS = 4


async def test_online_backup_while_serving_then_the_restore_drill(tmp_path):
    backup = tmp_path / "backup.sqlite3"
    acked_before: set[str] = set()
    acked_after_backup = 0
    async with running_server(tmp_path) as server:
        campaign_id, code, fac = await new_campaign(server)
        await fac.phase(campaign_id, "start")
        backed_up = trio.Event()
        acked: set[str] = set()

        async def write_cards(n: int) -> None:
            nonlocal acked_after_backup
            async with participant_connection(server) as p:
                await p.join(code)
                for i in range(25):
                    ack = await p.act_and_wait("write_card", text=f"writer {n} card {i} about the backups")
                    acked.add(ack["result"]["cid"])
                    if backed_up.is_set():
                        acked_after_backup += 1
                        if acked_after_backup >= WRITERS:
                            return

        async with trio.open_nursery() as nursery:
            for n in range(WRITERS):
                nursery.start_soon(write_cards, n)
            with trio.fail_after(30):
                while len(acked) < 20:
                    await trio.sleep(0.01)
            acked_before = set(acked)  # acknowledged, so durable, before the backup began
            figures = await trio.to_thread.run_sync(backup_store, tmp_path / "data" / STORE_FILE, backup)
            backed_up.set()
        assert figures["campaigns"] == 1 and figures["events"] > len(acked_before)
        assert acked_after_backup >= WRITERS  # the server kept acknowledging during and after the backup

    # The drill: a fresh data folder holding the backup alone (never beside an old -wal file).
    restored = tmp_path / "restored"
    restored.mkdir()
    shutil.copy(backup, restored / STORE_FILE)
    assert not (restored / (STORE_FILE + "-wal")).exists()
    async with open_engine(restored / STORE_FILE) as engine:
        state = engine.state(campaign_id)
        assert acked_before <= set(state.cards)
        assert state.code == code
        joined = await engine.join(campaign_id, {})  # and it takes writes again
        assert joined.pid in engine.state(campaign_id).participants


def test_essaim_backup_command(tmp_path, capsys):
    data = tmp_path / "data"
    assert main(["campaign", "new", "demo", "--data", str(data)]) == 0
    out = tmp_path / "copy.sqlite3"
    assert main(["backup", "--data", str(data), str(out)]) == 0
    assert "1 campaign(s)" in capsys.readouterr().out
    with sqlite3.connect(out) as db:
        assert db.execute("PRAGMA journal_mode").fetchone()[0] == "delete"  # one self-contained file
        assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    assert main(["backup", "--data", str(data), str(out)]) != 0  # never overwrites
    assert "exists already" in capsys.readouterr().err
    assert main(["backup", "--data", str(tmp_path / "nothing"), str(tmp_path / "x.sqlite3")]) != 0


@pytest.mark.parametrize("damage", [b"\x00" * 4096])
def test_a_damaged_copy_fails_its_check(tmp_path, damage):
    data = tmp_path / "data"
    assert main(["campaign", "new", "demo", "--data", str(data)]) == 0
    source = data / STORE_FILE
    with sqlite3.connect(source) as db:  # make the table span pages, then damage one
        db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    raw = bytearray(source.read_bytes())
    raw[4096:8192] = damage
    broken = tmp_path / "broken.sqlite3"
    broken.write_bytes(bytes(raw))
    from essaim.cli.failure import CLIError
    with pytest.raises(CLIError, match=r"integrity check|failed"):
        backup_store(broken, tmp_path / "out.sqlite3")
