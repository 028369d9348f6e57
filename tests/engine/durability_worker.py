"""A process that streams commands into an engine on a SQLite file and
prints one line per durable acknowledgement, for the SIGKILL test.

Run as ``python -m durability_worker DB ROUND`` from this folder
(``--phase tally``: the campaign is one phase of the test plugin's own
kind, and every command is a ``tally_vote``, :mod:`tally_plugin`). On a new
file it creates a campaign, joins the participants and starts it; on an
existing file it carries on with the campaign there. Then every participant
sends commands one after another (the next from the reply to the previous),
so ``--participants`` commands are always in flight, and each durable ack is
written to stdout at once, unbuffered::

    READY <campaign id> <seq>
    ACK <pid> <msg id> <seq>

The test kills the process with SIGKILL in the middle of this stream.
"""

from __future__ import annotations

import argparse
import os
import random
import sys
from pathlib import Path

import trio

import essaim.engine._owner
from essaim import FACILITATOR, Ack, Actor, Command, CommandError, open_engine
from essaim.model.template import CampaignTemplate
from essaim.plugin import PluginHost

TEMPLATE = """
[campaign]
title = "Durability under SIGKILL"

[[phase]]
type = "collect"
title = "Ideas"
duration = "4h"
[phase.settings]
max_cards = 100000
"""

TALLY_TEMPLATE = """
[campaign]
title = "A plugin phase under SIGKILL"

[[phase]]
type = "tally"
title = "Show of hands"
duration = "4h"
"""

#: Commands sent in all, so a worker nobody kills still stops.
MAX_COMMANDS = 200_000


def card_text(round_: int, i: int, k: int) -> str:
    return f"Card {k} of participant {i} in round {round_}: shorter meetings"


def emit(line: str) -> None:
    # One write per line, straight to the pipe: nothing waits in a buffer
    # when the process is killed.
    os.write(1, (line + "\n").encode())


async def run(db: Path, round_: int, participants: int, phase: str) -> None:
    tally = phase == "tally"
    plugins = None
    if tally:
        sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # tests/, where the test plugin lives
        import tally_plugin
        plugins = PluginHost.load(extra=[tally_plugin], entry_points=False)
    async with open_engine(db, plugins=plugins) as engine:
        if engine.campaign_ids():
            cid = engine.campaign_ids()[0]
        else:
            template = CampaignTemplate.parse(TALLY_TEMPLATE if tally else TEMPLATE)
            cid = (await engine.create_campaign(template)).campaign_id
            async with trio.open_nursery() as nursery:
                for _ in range(participants):
                    nursery.start_soon(engine.join, cid)
            await engine.execute(cid, FACILITATOR, Command("start"))
        state = engine.state(cid)
        actors = [Actor.participant(pid) for pid in state.participants]
        emit(f"READY {cid} {state.seq}")
        rng = random.Random(round_)
        sent = 0
        done = trio.Event()

        def command_for(i: int, k: int) -> Command:
            pid = actors[i].pid
            msg_id = f"r{round_}-{pid}-{k}"
            if tally:
                return Command("tally_vote", {"option": f"option {rng.randint(1, 5)}"}, msg_id)
            if k % 4 == 3 and state.cards:
                card = state.cards[f"c{rng.randint(1, len(state.cards))}"]
                if card.author != pid and pid not in card.supporters:
                    return Command("support_card", {"cid": card.cid}, msg_id)
            return Command("write_card", {"text": card_text(round_, i, k)}, msg_id)

        def send(i: int, k: int) -> None:
            nonlocal sent
            if sent >= MAX_COMMANDS:
                done.set()
                return
            sent += 1
            command = command_for(i, k)

            def reply(ack: Ack | None, error: CommandError | None) -> None:
                if ack is not None:
                    emit(f"ACK {actors[i].pid} {command.msg_id} {ack.seq}")
                send(i, k + 1)

            engine.submit_nowait(cid, actors[i], command, reply)

        for i in range(len(actors)):
            send(i, 0)
        await done.wait()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("db", type=Path)
    parser.add_argument("round", type=int)
    parser.add_argument("--participants", type=int, default=40)
    parser.add_argument("--snapshot-every", type=int, default=500)
    parser.add_argument("--phase", choices=("collect", "tally"), default="collect")
    args = parser.parse_args()
    # Snapshots often, so the restart reads a snapshot and a tail.
    essaim.engine._owner.SNAPSHOT_EVERY = args.snapshot_every
    essaim.engine._owner.SNAPSHOT_FORCE_AFTER = args.snapshot_every
    trio.run(run, args.db, args.round, args.participants, args.phase)


if __name__ == "__main__":
    main()
