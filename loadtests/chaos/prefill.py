"""A campaign of realistic size before the fault (``--prefill PEOPLE``).

A takeover rebuilds the campaign from PostgreSQL: its cost grows with the
campaign, which the suite's own phones (a few thousand cards) never reach.
This writes one straight into the store with an in-process engine, as fast
as the engine commits (``essaim.bench.engine``'s drivers): PEOPLE join,
each writes three cards and supports one. The cluster's first process then
takes it over at start, and the scenario's phones join it on top.
"""

from __future__ import annotations

import trio

from essaim import FACILITATOR, Command
from essaim.bench.engine import collect_commands, drive_nowait
from essaim.engine import open_engine
from essaim.model.template import CampaignTemplate

__all__ = ["prefill", "CARDS_EACH"]

#: Cards each prefilled participant writes (and one support each): about a
#: collect phase's worth (one in five people writes ~15 cards in the method).
CARDS_EACH = 3
#: Participants sending at once: each has one command in the owner's queue,
#: which refuses more than 8,192 (``busy``); half of it leaves room.
PEOPLE_AT_ONCE = 4000


async def _prefill(store_url: str, people: int, toml: str) -> tuple[str, str]:
    async with open_engine(store_url) as engine:
        created = await engine.create_campaign(CampaignTemplate.parse(toml))
        cid = created.campaign_id
        tokens = [""] * people

        async def join(i: int) -> None:
            tokens[i] = (await engine.join(cid, {})).token

        async with trio.open_nursery() as nursery:
            for i in range(people):
                nursery.start_soon(join, i)
        actors = [engine.authenticate(cid, token) for token in tokens]
        await engine.execute(cid, FACILITATOR, Command("start"))
        for first in range(0, people, PEOPLE_AT_ONCE):
            group = range(first, min(people, first + PEOPLE_AT_ONCE))
            figures = await drive_nowait(engine, cid, [actors[i] for i in group], [
                collect_commands(i, actors[i].pid or "", engine.state(cid), CARDS_EACH, 1) for i in group])
            if figures.errors:
                raise RuntimeError(f"prefilling: {figures.errors} commands refused")
        return cid, created.code


def prefill(store_url: str, people: int, toml: str) -> tuple[str, str]:
    """A started campaign with ``people`` participants' cards in the store: (id, join code)."""
    return trio.run(_prefill, store_url, people, toml)
