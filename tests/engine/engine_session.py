"""Helpers that drive a real engine in the engine tests.

Everything is real: the engine, the built-in plugins, the stores. A
:class:`Session` wraps one campaign so a test reads as the campaign it plays.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import trio

from essaim import FACILITATOR, Ack, Actor, Command, Event, open_engine
from essaim.engine import Engine
from essaim.model.state import CampaignState
from essaim.model.template import CampaignTemplate
from essaim.plugin import PluginHost
from essaim.store import Store

#: The four phases of the method in 30 minutes, as in the demo template.
CAMPAIGN_30_MIN = ("collect:10m", "sort:10m", "evaluate:8m", "results:2m")

PROFILE_TOML = """
[[profile]]
key = "site"
label = "Your site"
choices = ["North", "South"]
"""


def template_toml(
    phases: Sequence[str] = CAMPAIGN_30_MIN,
    *,
    manual: Sequence[int] = (),
    phase_settings: dict[int, str] | None = None,
    strategies: dict[int, str] | None = None,
    extra: str = "",
) -> str:
    """A template from ``"type:duration"`` phases; ``manual`` lists the
    indexes of phases with ``auto_advance = false``; ``strategies`` and
    ``phase_settings`` (TOML lines) are per phase index."""
    parts = ['[campaign]\ntitle = "Engine test"\nmin_segment_size = 1\n', PROFILE_TOML]
    for i, spec in enumerate(phases):
        ptype, duration = spec.split(":")
        parts.append(f'[[phase]]\ntype = "{ptype}"\ntitle = "Phase {i}"\nduration = "{duration}"\n')
        if i in manual:
            parts.append("auto_advance = false\n")
        if strategies and i in strategies:
            parts.append(f'strategy = "{strategies[i]}"\n')
        if phase_settings and i in phase_settings:
            parts.append(f"[phase.settings]\n{phase_settings[i]}\n")
    parts.append('[moderation]\nstrategy = "jury"\n[moderation.settings]\njury_size = 3\nquorum = 2\n')
    parts.append(extra)
    return "\n".join(parts)


@dataclass
class Session:
    """One campaign on one engine, with the facilitator's and participants' actions."""

    engine: Engine
    cid: str
    people: list[Actor] = field(default_factory=list)

    @property
    def state(self) -> CampaignState:
        return self.engine.state(self.cid)

    async def fac(self, ctype: str, **args: Any) -> Ack:
        return await self.engine.execute(self.cid, FACILITATOR, Command(ctype, args))

    async def act(self, actor: Actor, ctype: str, msg_id: str | None = None, **args: Any) -> Ack:
        return await self.engine.execute(self.cid, actor, Command(ctype, args, msg_id))

    async def join(self, n: int = 1, site: str = "North") -> list[Actor]:
        new = []
        for _ in range(n):
            joined = await self.engine.join(self.cid, {"site": site})
            new.append(self.engine.authenticate(self.cid, joined.token))
        self.people += new
        return new

    async def write_cards(self, texts: Sequence[str], authors: Sequence[Actor] | None = None) -> list[str]:
        authors = authors or self.people
        cids = []
        for i, text in enumerate(texts):
            ack = await self.act(authors[i % len(authors)], "write_card", text=text)
            cids.append(ack.result["cid"])
        return cids

    def recorder(self) -> EventRecorder:
        return EventRecorder(self)


class EventRecorder:
    """Collects every durable event of a campaign and lets a test wait for one."""

    def __init__(self, session: Session) -> None:
        self.events: list[Event] = []
        self._waiters: list[tuple[Callable[[Event], bool], trio.Event]] = []
        session.engine.owner(session.cid).subscribe(self._on_events)

    def _on_events(self, events: list[Event]) -> None:
        self.events.extend(events)
        for predicate, done in list(self._waiters):
            if any(predicate(e) for e in events):
                done.set()
                self._waiters.remove((predicate, done))

    def types(self) -> list[str]:
        return [e.type for e in self.events]

    def of(self, etype: str) -> list[Event]:
        return [e for e in self.events if e.type == etype]

    async def wait_for(self, etype: str, **match: Any) -> Event:
        """The first durable event of ``etype`` whose data has ``match``, waiting if needed."""

        def predicate(e: Event) -> bool:
            return e.type == etype and all(e.data.get(k) == v for k, v in match.items())

        for e in self.events:
            if predicate(e):
                return e
        done = trio.Event()
        self._waiters.append((predicate, done))
        await done.wait()
        return next(e for e in self.events if predicate(e))


@asynccontextmanager
async def open_session(
    toml: str | None = None,
    *,
    store: Store | str | Path | None = None,
    people: int = 0,
    plugins: PluginHost | None = None,
) -> AsyncIterator[Session]:
    """A fresh engine with one campaign created from ``toml`` and ``people`` joined."""
    async with open_engine(store, plugins=plugins) as engine:
        created = await engine.create_campaign(CampaignTemplate.parse(toml or template_toml()))
        session = Session(engine, created.campaign_id)
        await session.join(people)
        yield session


@asynccontextmanager
async def reopen(store: Store | str | Path, cid: str, plugins: PluginHost | None = None) -> AsyncIterator[Session]:
    """The same campaign on a new engine over the same store (a restart)."""
    async with open_engine(store, plugins=plugins) as engine:
        yield Session(engine, cid)


def trio_now_for(session: Session, wall: float) -> float:
    """The trio clock time of a wall-clock time in the engine's events."""
    return wall - session.engine.clock() + trio.current_time()
