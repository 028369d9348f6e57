"""kill -9 in the middle of a command stream loses no acknowledged action.

An engine runs in a subprocess (durability_worker.py) on a SQLite file and
prints a line per durable ack while ~40 commands are always in flight. The
test kills it with SIGKILL after some acks, restarts it on the same file
(a second subprocess, killed the same way), then opens the file in-process
and checks: every acknowledged command is in the log at the seq it was
acknowledged with, none is there twice, the seqs run 1..n without a gap, the
restarted state (snapshot + tail) equals a fresh replay of the log, and
re-sending commands (acknowledged or not) applies each one once.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections import Counter
from pathlib import Path

import orjson
import trio

from essaim import Actor, Command, open_engine
from essaim.model.state import CampaignState

HERE = Path(__file__).parent
#: Acks read before the kill, per round: enough to cross several group
#: commits and snapshots (the worker snapshots every 500 events).
KILL_AFTER_ACKS = 1500
ROUNDS = 2
#: Hang guard for the whole test (processes are killed well before).
TEST_SECONDS = 120


class Lines:
    """Lines from a subprocess's stdout."""

    def __init__(self, stream: trio.abc.ReceiveStream) -> None:
        self.stream = stream
        self.buffer = b""

    async def next(self) -> str | None:
        while b"\n" not in self.buffer:
            chunk = await self.stream.receive_some(65536)
            if not chunk:
                return None
            self.buffer += chunk
        line, self.buffer = self.buffer.split(b"\n", 1)
        return line.decode()


def parse_ack(line: str) -> tuple[str, str, int]:
    kind, pid, msg_id, seq = line.split()
    assert kind == "ACK", line
    return pid, msg_id, int(seq)


async def run_and_kill(db: Path, round_: int, *options: str,
                       kill_after: int = KILL_AFTER_ACKS) -> tuple[str, list[tuple[str, str, int]]]:
    """Start a worker (with ``options``), read ``kill_after`` acks, SIGKILL it
    mid-stream, and return the campaign id and every ack it printed (before
    the kill landed too)."""
    env = dict(os.environ, PYTHONUNBUFFERED="1")
    proc = await trio.lowlevel.open_process(
        [sys.executable, "-m", "durability_worker", str(db), str(round_), *options],
        stdout=subprocess.PIPE, cwd=HERE, env=env,
    )
    try:
        assert proc.stdout is not None
        lines = Lines(proc.stdout)
        ready = await lines.next()
        assert ready is not None and ready.startswith("READY "), ready
        cid = ready.split()[1]
        acks = []
        while len(acks) < kill_after:
            line = await lines.next()
            assert line is not None, "the worker stopped before it was killed"
            acks.append(parse_ack(line))
        proc.kill()  # SIGKILL: no shutdown, no flush, no last commit
        while (line := await lines.next()) is not None:
            acks.append(parse_ack(line))
    finally:
        with trio.CancelScope(shield=True):
            proc.kill()  # a no-op once it is dead; no stray worker if the test fails
            await proc.wait()
            await proc.stdout.aclose()  # type: ignore[union-attr]
    assert proc.returncode == -signal.SIGKILL
    return cid, acks


async def test_sigkill_mid_stream_loses_no_acknowledged_command(tmp_path: Path) -> None:
    db = tmp_path / "durable.sqlite3"
    acked: list[tuple[str, str, int]] = []
    with trio.fail_after(TEST_SECONDS):
        cids = set()
        for round_ in range(1, ROUNDS + 1):
            cid, acks = await run_and_kill(db, round_)
            cids.add(cid)
            acked += acks
        assert len(cids) == 1  # the second worker carried on with the same campaign

        async with open_engine(db) as engine:
            events = await trio.to_thread.run_sync(engine.store.events, cid, 0)
            stored = await trio.to_thread.run_sync(engine.store.load, cid)
            live = engine.state(cid)

            # The log: 1..n with no gap, every ack in it where it was acked.
            assert [e.seq for e in events] == list(range(1, len(events) + 1))
            by_seq = {e.seq: e for e in events}
            for pid, msg_id, seq in acked:
                event = by_seq.get(seq)
                assert event is not None, f"acknowledged {msg_id} (seq {seq}) is missing"
                assert (event.data.get("pid"), event.data.get("msg")) == (pid, msg_id)
            # No command applied twice, acknowledged or not.
            applied = Counter((e.data["pid"], e.data["msg"]) for e in events if "msg" in e.data)
            assert applied and max(applied.values()) == 1
            assert len(acked) == len({(pid, msg) for pid, msg, _ in acked}) >= ROUNDS * KILL_AFTER_ACKS

            # Derived state: the restart (snapshot + tail) equals a fresh replay.
            assert stored.snapshot is not None and stored.snapshot_seq > 0
            replayed = CampaignState(cid)
            for event in events:
                replayed.apply(event)
            assert orjson.dumps(live.to_dict()) == orjson.dumps(replayed.to_dict())

            # Clients re-send what they sent last (acked or not): each applies once.
            acked_seq = {(pid, msg_id): seq for pid, msg_id, seq in acked}
            last_sent: dict[str, tuple[int, int]] = {}
            for pid, msg_id, _ in acked:
                round_, _, k = msg_id.split("-")
                last_sent[pid] = max(last_sent.get(pid, (0, -1)), (int(round_[1:]), int(k)))
            seq_before = live.seq
            for pid, (round_, k) in last_sent.items():
                for resend in (k, k + 1):  # the last acked one, and the one in flight
                    msg_id = f"r{round_}-{pid}-{resend}"
                    ack = await engine.execute(
                        cid, Actor.participant(pid), Command("write_card", {"text": "re-sent after the crash"}, msg_id)
                    )
                    if resend == k:
                        assert ack.duplicate and ack.seq == acked_seq[(pid, msg_id)]
            events = await trio.to_thread.run_sync(engine.store.events, cid, 0)
            applied = Counter((e.data["pid"], e.data["msg"]) for e in events if "msg" in e.data)
            assert max(applied.values()) == 1
            assert live.seq - seq_before <= len(last_sent)  # only the never-durable ones were new
