"""The plugin contract: every hook Essaim calls, in the order of a campaign.

This module is the reference; ``docs/plugins.md`` documents each hook with
the same signature (a test keeps them in step).

Three kinds of hooks:

* **Registration hooks** (``essaim_register_*``) run once at engine start, for
  every plugin. They receive a :class:`~essaim.plugin.registry.Registry` and declare
  phase types and named strategies. A duplicate or malformed registration fails
  at start-up with a message naming both plugins.
* **Strategy hooks** (``essaim_collection_*``, ``essaim_structuring_*``,
  ``essaim_moderation_*``, ``essaim_evaluation_*``, ``essaim_results_*``) are
  called only on the plugin that registered the strategy the campaign chose
  for that family; the chosen name is passed as ``strategy`` so one plugin can
  serve several strategies. A plugin that registers a strategy must implement
  every hook of that family (checked at start-up). They are called through
  pluggy (``firstresult``: the hook's value is the strategy's value), so any
  plugin may *wrap* one with ``@hookimpl(wrapper=True)``: the wrapper runs
  around whichever strategy the campaign chose, ``result = yield`` gives it
  that strategy's value (or raises its exception), and what it returns is
  the hook's value. ``tryfirst``/``trylast`` order wrappers; pluggy's
  tracing sees every call. A wrapped hook's strategy implementation must be
  a plain function (a wrapper cannot see into a coroutine): checked at load.
* **Lifecycle hooks** (``essaim_engine_*``, ``essaim_campaign_created``,
  ``essaim_phase_changed``) are observers, called on every plugin, one by
  one in registration order. Registration and lifecycle hooks cannot be
  wrapped (a wrapper there fails at load).

Rules for implementations:

* Hooks may be plain functions or ``async def``; the engine awaits results
  itself. Hooks marked *hot path* run inside a campaign's owner task for each
  command: keep them fast and do not block (no I/O, no heavy computation).
  Hooks marked *worker thread* run in a thread on an immutable snapshot and
  may take seconds; they must not touch anything else.
* ``state`` is the live :class:`~essaim.model.state.CampaignState`: read it, never
  modify it. Its one exception is ``state.caches`` (``snapshot.caches`` in
  worker-thread hooks), the campaign's :class:`~essaim.model.caches.CampaignCaches`
  where a plugin keeps what it derives from the state to answer fast
  (incremental indexes): ``state.caches.get((__name__, "index"), factory)``
  makes one on first use; the engine drops them all when the campaign
  finishes, when it is unloaded and when the engine closes, and a rebuilt
  campaign (replay, restart) starts with none, so a cache must only hold
  what can be recomputed from the state. Durable plugin state belongs in
  events (issue 18), never in a cache. Randomness comes from the ``rng`` argument, so a campaign is
  reproducible; what a strategy decides is recorded in events, never
  recomputed on replay.
* To refuse a participant's input, raise :class:`~essaim.errors.CommandError`
  (its message is shown to the participant). Any other exception is reported
  as a :class:`~essaim.errors.PluginError` naming the plugin.
* Implementations may accept any subset of a hook's arguments; specs only ever
  gain arguments, so plugins keep working across versions.
"""

from __future__ import annotations

import random
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

import pluggy

if TYPE_CHECKING:
    from essaim.engine import Engine
    from essaim.model.state import CampaignState, Card, Case, Participant
    from essaim.model.types import (
        Deal,
        EvaluationInput,
        EvaluationTask,
        ExportFile,
        FlagOutcome,
        ItemScore,
        OpportunitySheet,
        Prompt,
        Results,
        Screening,
        SortingInput,
        Structure,
        Suggestion,
        Verdict,
    )
    from essaim.plugin.registry import Registry

PROJECT_NAME = "essaim"

hookspec = pluggy.HookspecMarker(PROJECT_NAME)
hookimpl = pluggy.HookimplMarker(PROJECT_NAME)
#: Strategy hooks are called through pluggy on one plugin's implementation
#: (with the hook's wrappers around it): its value is the hook's value, and a
#: wrapper's ``result = yield`` receives that value, not a list.
strategy_hookspec = hookspec(firstresult=True)

#: The hooks a plugin must implement when it registers a strategy of a family.
FAMILY_HOOKS: dict[str, tuple[str, ...]] = {
    "collection": (
        "essaim_collection_prompts",
        "essaim_collection_check_card",
        "essaim_collection_similar",
    ),
    "structuring": ("essaim_structuring_deal", "essaim_structuring_aggregate"),
    "moderation": (
        "essaim_moderation_screen",
        "essaim_moderation_flag",
        "essaim_moderation_verdict",
    ),
    "evaluation": (
        "essaim_evaluation_next",
        "essaim_evaluation_check",
        "essaim_evaluation_scores",
    ),
    "results": ("essaim_results_sheets",),
    "export": ("essaim_results_export",),
}


# -- registration ------------------------------------------------------------------


@hookspec
def essaim_register_commands(registry: Registry) -> None:
    """Declare commands with ``registry.add_command(CommandSpec(...))``.

    Called once at engine start, on every plugin, before
    :func:`essaim_register_phase_types` (whose phase types name the
    participant commands they allow). The built-in commands are declared
    here too, by the core plugin :mod:`essaim.engine.commands`. A declared
    command's payload is checked before it reaches the campaign, and its
    handler runs in the campaign's owner task (see
    :class:`~essaim.model.commands.CommandSpec`).

    .. versionadded:: 0.2
    """


@hookspec
def essaim_register_phase_types(registry: Registry) -> None:
    """Declare phase types with ``registry.add_phase_type(...)``.

    Called once at engine start, on every plugin. A phase type names the
    strategy family it uses (or none), its default strategy, and the
    participant commands allowed while it runs.

    .. versionadded:: 0.1
    """


@hookspec
def essaim_register_strategies(registry: Registry) -> None:
    """Declare named strategies with ``registry.add_strategy(family, name, ...)``
    and export formats with ``registry.add_export_format(name, ...)``.

    Called once at engine start, on every plugin, after
    :func:`essaim_register_phase_types`. A campaign then chooses a strategy
    by name per phase (and for moderation and results).

    .. versionadded:: 0.1
    """


# -- lifecycle -------------------------------------------------------------------------


@hookspec
def essaim_engine_started(engine: Engine) -> None:
    """The engine has opened its store and rebuilt every campaign (with
    ``open_engine(finished_later=True)``, as the server does: every
    campaign that is not finished; the finished ones are rebuilt right
    after, while the live ones are served, and ``engine.loaded`` is set
    once they all are).

    Called on every plugin; may be async. Do not start long-running work here
    without your own nursery and cancel scope.

    .. versionadded:: 0.1
    """


@hookspec
def essaim_campaign_created(state: CampaignState) -> None:
    """A campaign was created and its creation is durable. Every plugin.

    .. versionadded:: 0.1
    """


@hookspec
def essaim_phase_changed(state: CampaignState, previous: int, current: int) -> None:
    """The current phase index changed (``-1`` before start; ``len(phases)``
    once finished). Called on every plugin after the change is applied.
    Hot path: keep it fast.

    .. versionadded:: 0.1
    """


@hookspec
def essaim_engine_stopping(engine: Engine) -> None:
    """The engine is about to close its store. Every plugin; may be async.

    .. versionadded:: 0.1
    """


# -- collection ------------------------------------------------------------------------


@strategy_hookspec
def essaim_collection_prompts(
    strategy: str, settings: Mapping[str, Any], state: CampaignState, participant: Participant
) -> Sequence[Prompt]:
    """The prompts this participant answers in the current collection phase,
    fitted to their profile. Hot path (called at join and at phase change).

    .. versionadded:: 0.1
    """


@strategy_hookspec
def essaim_collection_check_card(
    strategy: str,
    settings: Mapping[str, Any],
    state: CampaignState,
    participant: Participant,
    text: str,
    prompt: str | None,
) -> str:
    """Validate and normalise a new card's text; return the text to keep.

    Raise :class:`~essaim.errors.CommandError` to refuse it (too long, empty,
    unknown prompt...). Called before the moderation screen. Hot path.

    .. versionadded:: 0.1
    """


@strategy_hookspec
def essaim_collection_similar(
    strategy: str, settings: Mapping[str, Any], state: CampaignState, text: str, limit: int
) -> Sequence[Suggestion]:
    """Existing visible cards similar to ``text``, best first, at most ``limit``.

    Called while a participant types, so it must answer in well under a
    millisecond for thousands of cards (keep an incremental index). Hot path.

    .. versionadded:: 0.1
    """


# -- structuring -------------------------------------------------------------------


@strategy_hookspec
def essaim_structuring_deal(
    strategy: str,
    settings: Mapping[str, Any],
    state: CampaignState,
    sorter: Participant,
    rng: random.Random,
) -> Deal | None:
    """Deal a hand to a sorter who asks for one, or None when nothing is left
    for them. The hand is recorded in a ``hand_dealt`` event. Hot path.

    .. versionadded:: 0.1
    """


@strategy_hookspec
def essaim_structuring_aggregate(
    strategy: str, settings: Mapping[str, Any], snapshot: SortingInput
) -> Structure:
    """Aggregate the sorters' placements into the crowd's structure.

    Worker thread: runs on an immutable snapshot, may take seconds, must be
    deterministic for a given snapshot (the order of placements must not
    change the result). Its output at the end of a sorting phase becomes the
    items the evaluation works on.

    .. versionadded:: 0.1
    """


# -- moderation ----------------------------------------------------------------------


@strategy_hookspec
def essaim_moderation_screen(strategy: str, settings: Mapping[str, Any], text: str) -> Screening:
    """Screen a text at submission: mask personal data, catch obvious abuse.
    Hot path.

    .. versionadded:: 0.1
    """


@strategy_hookspec
def essaim_moderation_flag(
    strategy: str,
    settings: Mapping[str, Any],
    state: CampaignState,
    card: Card,
    flagger: Participant,
    rng: random.Random,
) -> FlagOutcome:
    """A participant flagged a card with no open case: draw a jury (and say
    whether to hide at once). Flags on a card with an open case only add to
    it. Hot path.

    .. versionadded:: 0.1
    """


@strategy_hookspec
def essaim_moderation_verdict(
    strategy: str, settings: Mapping[str, Any], state: CampaignState, case: Case
) -> Verdict | None:
    """Decide an open case from its votes so far: ``"hide"``, ``"keep"``, or
    None to wait for more votes. Called after each juror's vote. Hot path.

    .. versionadded:: 0.1
    """


# -- evaluation ----------------------------------------------------------------------


@strategy_hookspec
def essaim_evaluation_next(
    strategy: str,
    settings: Mapping[str, Any],
    state: CampaignState,
    participant: Participant,
    rng: random.Random,
) -> EvaluationTask | None:
    """What this participant evaluates next (a pair, an item to rate, a
    ballot), or None when they are done. Hot path.

    .. versionadded:: 0.1
    """


@strategy_hookspec
def essaim_evaluation_check(
    strategy: str,
    settings: Mapping[str, Any],
    state: CampaignState,
    participant: Participant,
    kind: str,
    data: Mapping[str, Any],
) -> Mapping[str, Any]:
    """Validate a judgment and return its normalised data (recorded in a
    ``judgment_recorded`` event). Raise CommandError to refuse it. Hot path.

    .. versionadded:: 0.1
    """


@strategy_hookspec
def essaim_evaluation_scores(
    strategy: str, settings: Mapping[str, Any], snapshot: EvaluationInput
) -> Sequence[ItemScore]:
    """Score every item from the judgments, with uncertainty, consensus and
    controversy. Worker thread, on an immutable snapshot.

    .. versionadded:: 0.1
    """


# -- results -----------------------------------------------------------------------------


@strategy_hookspec
def essaim_results_sheets(
    strategy: str,
    settings: Mapping[str, Any],
    state: CampaignState,
    scores: Sequence[ItemScore],
    min_segment_size: int,
) -> Sequence[OpportunitySheet]:
    """Turn scores into ranked opportunity sheets. Segment breakdowns of
    fewer than ``min_segment_size`` participants must be left out
    (``essaim.plugin.segments.SegmentFilter.for_state``: in this hook it uses the
    judge counts the engine made in a worker thread, on the scores'
    snapshot).

    .. versionadded:: 0.1
    """


@strategy_hookspec
def essaim_results_export(
    format: str, state: CampaignState, results: Results
) -> Sequence[ExportFile]:
    """Render results in a format this plugin registered with
    ``registry.add_export_format``. Anonymous campaigns must not reveal
    participant identities beyond their opaque ids.

    .. versionadded:: 0.1
    """
