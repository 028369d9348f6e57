"""Helpers for testing plugins (and Essaim itself) against a real engine.

A plugin is best tested the way it runs: registered in a real engine, with
a campaign driven through its phases. These helpers keep such tests short::

    from essaim.testing import joined, make_template, open_test_engine, run_campaign_to

    async def test_my_strategy():
        async with open_test_engine(plugins=[my_plugin]) as engine:
            template = make_template(phases=["collect", {"type": "evaluate", "strategy": "dot_vote"}])
            created = await engine.create_campaign(template)
            people = await joined(engine, created.campaign_id, 10)
            await run_campaign_to(engine, created.campaign_id, 1)
            ...

Everything here is real: the engine, the plugin host, the store (in memory
unless you pass one). Nothing is mocked.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterable, Mapping, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from essaim.engine import Engine, EngineLimits, open_engine
from essaim.engine.watch import phase_over, phase_running, watch_campaign
from essaim.errors import error_to_reraise
from essaim.model.commands import FACILITATOR, Actor, Command
from essaim.model.state import CampaignState
from essaim.model.template import CampaignTemplate
from essaim.plugin import DEFAULT_PLUGINS, PluginHost
from essaim.plugin.hookspecs import hookimpl
from essaim.store import Store

__all__ = [
    "DEFAULT_TEST_PROFILE",
    "HookCall",
    "PluginCallRecorder",
    "joined",
    "make_template",
    "open_test_engine",
    "run_campaign_to",
    "wait_for_phase",
]

#: The profile questions of :func:`make_template` unless you give others:
#: two choices, so segment breakdowns have something to split on.
DEFAULT_TEST_PROFILE: tuple[dict[str, Any], ...] = (
    {"key": "role", "label": "Your role", "choices": ["Field", "Office"]},
)

#: Phase duration of :func:`make_template`: long enough that no timer fires
#: during a test unless the test moves the clock on purpose.
DEFAULT_TEST_PHASE_DURATION = "30m"


@asynccontextmanager
async def open_test_engine(
    plugins: Iterable[object] = (),
    *,
    store: Store | str | Path | None = None,
    disable: Iterable[str] = (),
    builtins: Iterable[str] = DEFAULT_PLUGINS,
    entry_points: bool = False,
    limits: EngineLimits | None = None,
) -> AsyncIterator[Engine]:
    """An engine with the built-ins and ``plugins`` registered.

    The store is in memory unless ``store`` is given (a Store or a SQLite
    path). Installed entry-point plugins are left out by default so a test
    sees only what it asked for; pass ``entry_points=True`` to load them.
    An error that ends the engine (a failing plugin, the test's own
    assertion) is raised as itself, not inside trio's exception groups.
    """
    host = PluginHost.load(builtins=builtins, disable=disable, extra=plugins, entry_points=entry_points)
    try:
        async with open_engine(store, plugins=host, limits=limits) as engine:
            yield engine
    except BaseExceptionGroup as group:
        # The engine's nursery wraps whatever ends it (the test's own
        # assertion, a plugin's error) in an exception group: a test prints
        # that one error, with its traceback, not nested groups around it.
        leaf = error_to_reraise(group)
        if leaf is group:
            raise
        raise leaf  # noqa: B904


def make_template(
    phases: Sequence[str | Mapping[str, Any]] = ("collect", "sort", "evaluate", "results"),
    *,
    title: str = "Test campaign",
    profile: Sequence[Mapping[str, Any]] = DEFAULT_TEST_PROFILE,
    moderation: str | Mapping[str, Any] | None = None,
    results: str | Mapping[str, Any] | None = None,
    **campaign: Any,
) -> CampaignTemplate:
    """A template built from Python values, checked like a TOML file.

    ``phases`` items are phase type names, or tables as in ``[[phase]]``
    (``{"type": "evaluate", "strategy": "dot_vote", "settings": {...}}``);
    phases without a duration get one long enough not to expire during a
    test. ``moderation`` and ``results`` are a strategy name or a table
    (``{"strategy": ..., "settings": {...}}``). Other keyword arguments go
    to ``[campaign]`` (``anonymity``, ``language``, ``min_segment_size``).
    """
    phase_tables = []
    for phase in phases:
        table = {"type": phase} if isinstance(phase, str) else dict(phase)
        table.setdefault("duration", DEFAULT_TEST_PHASE_DURATION)
        phase_tables.append(table)
    data: dict[str, Any] = {
        "campaign": {"title": title, **campaign},
        "profile": [dict(attr) for attr in profile],
        "phase": phase_tables,
    }
    for section, value in (("moderation", moderation), ("results", results)):
        if value is not None:
            data[section] = {"strategy": value} if isinstance(value, str) else dict(value)
    return CampaignTemplate.from_toml(data, source="make_template()")


async def joined(
    engine: Engine, campaign_id: str, n: int, profile: Mapping[str, Any] | None = None
) -> list[Actor]:
    """Join ``n`` participants with the same ``profile``; their actors, in join order."""
    actors = []
    for _ in range(n):
        member = await engine.join(campaign_id, profile or {})
        actors.append(engine.authenticate(campaign_id, member.token))
    return actors


async def wait_for_phase(engine: Engine, campaign_id: str, index: int) -> CampaignState:
    """Wait until phase ``index`` runs (``len(phases)``: until the campaign is finished)."""
    with watch_campaign(engine, campaign_id) as watcher:
        return await watcher.wait_until(phase_running(index))


async def run_campaign_to(engine: Engine, campaign_id: str, index: int) -> CampaignState:
    """Start the campaign if needed and advance it as the facilitator until
    phase ``index`` runs (``len(phases)``: until it is finished).

    Waits through transitions (such as aggregating the sorting before an
    evaluation). Raises ValueError if the campaign is already past ``index``.
    """
    state = engine.state(campaign_id)
    assert state.template is not None
    if not 0 <= index <= len(state.template.phases):
        raise ValueError(f"phase index {index} out of range; this campaign has {len(state.template.phases)} phases")
    reached = phase_running(index)
    with watch_campaign(engine, campaign_id) as watcher:
        if state.status == "draft":
            await engine.execute(campaign_id, FACILITATOR, Command("start"))
        while not reached(state):
            if state.status == "finished" or state.phase_index > index:
                raise ValueError(f"campaign {campaign_id} is already past phase {index}")
            if state.status == "between" and engine.owner(campaign_id).transitioning:
                # The next phase is being prepared off the owner: wait for it.
                await watcher.wait_until(lambda s: s.status != "between")
                continue
            ended = state.phase_index
            await engine.execute(campaign_id, FACILITATOR, Command("advance", {"index": ended}))
            await watcher.wait_until(phase_over(ended))
    return state


@dataclass(frozen=True, slots=True)
class HookCall:
    """One lifecycle hook call seen by a :class:`PluginCallRecorder`."""

    hook: str
    args: Mapping[str, Any]


class PluginCallRecorder:
    """A plugin that records every lifecycle hook call, in order.

    Register it with ``open_test_engine(plugins=[recorder])`` and assert on
    ``recorder.calls`` or ``recorder.hooks()``. Strategy hooks are only
    called on the plugin that owns the strategy, so they are not recorded
    here: register a wrapper (``@hookimpl(wrapper=True)``) to observe those.
    """

    def __init__(self) -> None:
        self.calls: list[HookCall] = []

    def hooks(self) -> list[str]:
        """The names of the hooks called so far, in order."""
        return [call.hook for call in self.calls]

    @hookimpl
    def essaim_engine_started(self, engine: Engine) -> None:
        self.calls.append(HookCall("essaim_engine_started", {"engine": engine}))

    @hookimpl
    def essaim_campaign_created(self, state: CampaignState) -> None:
        self.calls.append(HookCall("essaim_campaign_created", {"campaign_id": state.campaign_id}))

    @hookimpl
    def essaim_phase_changed(self, state: CampaignState, previous: int, current: int) -> None:
        self.calls.append(HookCall(
            "essaim_phase_changed", {"campaign_id": state.campaign_id, "previous": previous, "current": current}
        ))

    @hookimpl
    def essaim_engine_stopping(self, engine: Engine) -> None:
        self.calls.append(HookCall("essaim_engine_stopping", {"engine": engine}))
