"""The plugin contract: every hook Essaim calls, in the order of a campaign.

This module is the reference: ``docs/hooks.md`` is generated from it
(``python -m essaim.plugin.reference``; a test fails when it is stale).
Each hook's docstring says when it fires (``When:``), who implements it,
whether it may block and on which thread, every argument (``Args:``; the
arguments many hooks share are described once, in :data:`ARGUMENTS`) and
what to return (``Returns:``).

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
  events (issue 18), never in a cache.
* Randomness comes from the ``rng`` argument, so a campaign is
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

#: Arguments many hooks share, described once (a hook's ``Args:`` section
#: describes the others; the generated reference shows every argument).
ARGUMENTS: dict[str, str] = {
    "registry": "the :class:`~essaim.plugin.registry.Registry`, bound to this plugin (a duplicate names both "
    "plugins)",
    "strategy": "the name of the strategy the campaign chose for this family, so one plugin can serve several",
    "settings": "that strategy's settings from the template (``[phase.settings]``, ``[moderation.settings]``, "
    "``[results.settings]``), checked against what the strategy declared; read them with defaults",
    "state": "the campaign's live :class:`~essaim.model.state.CampaignState`: read it, never change it "
    "(except ``state.caches``)",
    "participant": "the :class:`~essaim.model.state.Participant` concerned",
    "rng": "a ``random.Random`` seeded from the campaign and its seq: draw from it, never from ``random``, so a "
    "campaign is reproducible",
    "engine": "the :class:`~essaim.engine.Engine`",
}


# -- registration ------------------------------------------------------------------


@hookspec
def essaim_register_commands(registry: Registry) -> None:
    """Declare commands with ``registry.add_command(CommandSpec(...))``.

    A declared command's payload is checked before it reaches the campaign,
    and its handler runs in the campaign's owner task (see
    :class:`~essaim.model.commands.CommandSpec` and docs/plugins.md,
    "Commands").

    When: once at engine start, on every plugin, before
    ``essaim_register_phase_types`` (whose phase types name the commands they allow).
    Who implements: plugins that add a command; the core plugin
    :mod:`essaim.engine.commands` declares every built-in command here.
    Blocking / thread: plain function only; runs at load.

    .. versionadded:: 0.2
    """


@hookspec
def essaim_register_phase_types(registry: Registry) -> None:
    """Declare phase types with ``registry.add_phase_type(...)``: the
    strategy family a phase uses (or none), its default strategy, and the
    participant commands allowed while it runs.

    When: once at engine start, on every plugin, after
    ``essaim_register_commands`` and before ``essaim_register_strategies``.
    Who implements: plugins that add a kind of phase (``essaim_builtins.phases``
    declares ``collect``, ``sort``, ``evaluate``, ``results``).
    Blocking / thread: plain function only; runs at load, before any campaign.

    .. versionadded:: 0.1
    """


@hookspec
def essaim_register_strategies(registry: Registry) -> None:
    """Declare named strategies with ``registry.add_strategy(family, name,
    settings={...})`` (each setting with its type, range and default) and
    export formats with ``registry.add_export_format(name, ...)``. A
    campaign then chooses a strategy by name per phase, and for moderation
    and results.

    When: once at engine start, on every plugin, after ``essaim_register_phase_types``.
    Who implements: every plugin that provides a strategy or an export format.
    Blocking / thread: plain function only; runs at load.

    .. versionadded:: 0.1
    """


# -- lifecycle -------------------------------------------------------------------------


@hookspec
def essaim_engine_started(engine: Engine) -> None:
    """The engine has opened its store and rebuilt its campaigns.

    With ``open_engine(finished_later=True)`` (the server) only the
    campaigns that are not finished are rebuilt by then; the finished ones
    follow while the live ones are served (``engine.loaded`` is set once
    they all are; meanwhile asking for one raises ``CommandError`` with
    code ``unavailable``).

    When: once, before the engine is handed to the program.
    Who implements: observers (metrics, integrations); every plugin, in registration order.
    Blocking / thread: trio thread; may be ``async``. Do not start long-running
    work here without your own nursery and cancel scope.

    .. versionadded:: 0.1
    """


@hookspec
def essaim_campaign_created(state: CampaignState) -> None:
    """A campaign was created and its creation is durable.

    When: after ``engine.create_campaign`` recorded the campaign.
    Who implements: observers; every plugin, in registration order.
    Blocking / thread: trio thread; may be ``async``; keep it short (the
    facilitator waits for the creation to return).

    Args:
        state: the new campaign's state (status ``draft``).

    .. versionadded:: 0.1
    """


@hookspec
def essaim_phase_changed(state: CampaignState, previous: int, current: int) -> None:
    """The current phase index changed, after the change is applied.

    When: on start, on every advance or timeout, and when the campaign finishes.
    Who implements: observers; every plugin, in registration order.
    Blocking / thread: **hot path**, inside the campaign's owner task; must be
    a plain function (an ``async`` one is refused with a PluginError).

    Args:
        previous: the phase index before (``-1`` before the start).
        current: the phase index now (``len(phases)`` once finished).

    .. versionadded:: 0.1
    """


@hookspec
def essaim_engine_stopping(engine: Engine) -> None:
    """The engine is about to stop taking commands and close its store.

    When: once, as the engine closes.
    Who implements: observers that hold resources; every plugin.
    Blocking / thread: trio thread, shielded from cancellation; may be
    ``async``; keep it short.

    .. versionadded:: 0.1
    """


# -- collection ------------------------------------------------------------------------


@strategy_hookspec
def essaim_collection_prompts(
    strategy: str, settings: Mapping[str, Any], state: CampaignState, participant: Participant
) -> Sequence[Prompt]:
    """The prompts this participant answers in the current collection
    phase, fitted to their profile.

    When: a participant asks what to answer (at join and at each phase change).
    Who implements: the plugin owning the campaign's collection strategy (``prompts`` is built in).
    Blocking / thread: hot path; may be ``async``.

    Returns:
        The :class:`~essaim.model.types.Prompt` objects (``id``, ``text``) to show, in order.

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
    """Validate and normalise a new card's text. Raise
    :class:`~essaim.errors.CommandError` to refuse it (too long, empty,
    unknown prompt...): the participant sees its message, nothing changes.

    When: a participant writes a card (``write_card``), before the moderation screen.
    Who implements: the collection strategy's plugin.
    Blocking / thread: hot path; may be ``async``.

    Args:
        participant: the author.
        text: the card's text as sent (at most 2,000 characters).
        prompt: the id of the prompt it answers, or None.

    Returns:
        The text to keep (then screened by the moderation strategy).

    .. versionadded:: 0.1
    """


@strategy_hookspec
def essaim_collection_similar(
    strategy: str, settings: Mapping[str, Any], state: CampaignState, text: str, limit: int
) -> Sequence[Suggestion]:
    """Existing visible cards similar to what a participant is typing, so
    they can support one instead of writing a duplicate.

    When: while a participant types (the ``suggest`` query).
    Who implements: the collection strategy's plugin.
    Blocking / thread: hot path, called very often: answer in well under a
    millisecond for thousands of cards (keep an incremental index in ``state.caches``).

    Args:
        text: what the participant has typed so far.
        limit: the most suggestions to return.

    Returns:
        At most ``limit`` :class:`~essaim.model.types.Suggestion` objects
        (``cid``, ``text``, ``score``), best first, of visible cards only.

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
    """Deal a hand to a sorter who asks for one (``deal``); it is recorded
    in a ``hand_dealt`` event.

    Items are card ids, or groups of cards named by their members with
    ``essaim.model.hand_items.group_id(cards)`` (``"g:c3+c17"``): the server
    shows a group by its cards' texts, so a group needs no extra state.

    When: a sorter asks for a hand, in a structuring phase.
    Who implements: the structuring strategy's plugin (``crowd_sort`` is built in).
    Blocking / thread: hot path; may be ``async``.

    Args:
        sorter: the participant asking (volunteered as a sorter by this deal if not before).

    Returns:
        A :class:`~essaim.model.types.Deal` (``items``, at most 64; ``stage``),
        or None when nothing is left for this sorter.

    .. versionadded:: 0.1
    """


@strategy_hookspec
def essaim_structuring_aggregate(
    strategy: str, settings: Mapping[str, Any], snapshot: SortingInput
) -> Structure:
    """Aggregate the sorters' placements into the crowd's structure. Must
    be deterministic for a given snapshot (the order of placements must not
    change the result). If it raises at the end of a phase, the campaign
    evaluates the cards themselves instead of stalling.

    When: at the end of a sorting phase (its output becomes the items the
    evaluation works on), and whenever the structure is asked for (the
    facilitator's console, results, exports).
    Who implements: the structuring strategy's plugin.
    Blocking / thread: **worker thread**, plain function only; may take
    seconds; touch nothing but its arguments (and ``snapshot.caches``).

    Args:
        snapshot: an immutable :class:`~essaim.model.types.SortingInput` copy
            of the cards, placements and profiles.

    Returns:
        The :class:`~essaim.model.types.Structure`: themes -> ideas -> cards
        (every visible card in exactly one idea), and what is off-topic.

    .. versionadded:: 0.1
    """


# -- moderation ----------------------------------------------------------------------


@strategy_hookspec
def essaim_moderation_screen(strategy: str, settings: Mapping[str, Any], text: str) -> Screening:
    """Screen a text at submission: mask personal data, catch obvious abuse
    and junk. A good hook to *wrap* (``@hookimpl(wrapper=True)``) to add a
    check of your own around the campaign's screen.

    When: every card at submission, after ``essaim_collection_check_card``.
    Who implements: the moderation strategy's plugin (``jury`` is built in).
    Blocking / thread: hot path; may be ``async`` (unless wrapped).

    Args:
        text: the card's text as the collection strategy kept it.

    Returns:
        A :class:`~essaim.model.types.Screening`: the text to keep, findings
        for the log, and whether to reject it (with a message) or accept it
        hidden for review.

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
    """A participant flagged a card that has no open case: draw a jury
    (flags on a card with an open case only add to it).

    When: a ``flag`` on a card without an open case, in any running phase.
    Who implements: the moderation strategy's plugin.
    Blocking / thread: hot path; may be ``async``.

    Args:
        card: the flagged :class:`~essaim.model.state.Card`.
        flagger: who flagged it.

    Returns:
        A :class:`~essaim.model.types.FlagOutcome`: the jurors' pids (the
        author and the flagger are removed if present; empty: the case waits
        for the facilitator) and whether to hide the card at once.

    .. versionadded:: 0.1
    """


@strategy_hookspec
def essaim_moderation_verdict(
    strategy: str, settings: Mapping[str, Any], state: CampaignState, case: Case
) -> Verdict | None:
    """Decide an open case from its votes so far. The facilitator can always
    override with the ``decide`` command.

    When: after each juror's vote (``judge``), with the case as it is once that vote counts.
    Who implements: the moderation strategy's plugin.
    Blocking / thread: hot path; may be ``async``.

    Args:
        case: the :class:`~essaim.model.state.Case`; ``case.votes`` maps each
            juror who voted to ``"hide"`` or ``"keep"``, this vote included.

    Returns:
        ``"hide"`` or ``"keep"`` to decide, or None to wait for more votes.

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
    """What this participant evaluates next: a pair, an item to rate, a ballot.

    When: a participant asks (the ``next`` query), in an evaluation phase.
    Who implements: the evaluation strategy's plugin (``pairwise`` and others
    are built in; the example plugin adds ``dot_vote``).
    Blocking / thread: hot path; may be ``async``.

    Returns:
        An :class:`~essaim.model.types.EvaluationTask` (``kind`` and what to
        show), or None when this participant is done.

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
    """Validate a judgment. Raise :class:`~essaim.errors.CommandError` to
    refuse it (the participant sees its message; nothing changes).

    When: a participant sends a judgment (the ``evaluate`` command).
    Who implements: the evaluation strategy's plugin.
    Blocking / thread: hot path; may be ``async``.

    Args:
        participant: the judge.
        kind: the task kind the client answers (as ``essaim_evaluation_next`` gave it).
        data: the judgment as sent (an object; its shape is the strategy's).

    Returns:
        The normalised judgment data, recorded in a ``judgment_recorded`` event.

    .. versionadded:: 0.1
    """


@strategy_hookspec
def essaim_evaluation_scores(
    strategy: str, settings: Mapping[str, Any], snapshot: EvaluationInput
) -> Sequence[ItemScore]:
    """Score every item from the judgments, with uncertainty, consensus and
    controversy, and optional per-segment scores.

    When: results are computed (the console's live results, the results phase, exports).
    Who implements: the evaluation strategy's plugin.
    Blocking / thread: **worker thread**, plain function only, on an immutable
    snapshot; may take seconds.

    Args:
        snapshot: an immutable :class:`~essaim.model.types.EvaluationInput`
            copy of the items, judgments and profiles.

    Returns:
        One :class:`~essaim.model.types.ItemScore` per item.

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
    """Turn scores into ranked opportunity sheets. Leave out segment
    breakdowns of fewer than ``min_segment_size`` distinct judges of that
    item (``essaim.plugin.segments.SegmentFilter.for_state(state,
    min_segment_size)`` does it, at no cost here: the engine counted the
    judges per segment in a worker thread on the scores' snapshot). The
    engine filters the sheets again the same way before anyone sees them.

    When: results are computed, after ``essaim_evaluation_scores``.
    Who implements: the results strategy's plugin (``opportunity_sheets`` is built in).
    Blocking / thread: trio thread; may be ``async``; keep it fast (it runs each
    time results are computed; the engine shares one computation among the
    callers within ``max_age``).

    Args:
        scores: what ``essaim_evaluation_scores`` returned.
        min_segment_size: the template's ``campaign.min_segment_size``.

    Returns:
        :class:`~essaim.model.types.OpportunitySheet` objects, ranked (``rank`` 1 first).

    .. versionadded:: 0.1
    """


@strategy_hookspec
def essaim_results_export(
    format: str, state: CampaignState, results: Results
) -> Sequence[ExportFile]:
    """Render results in a format this plugin registered with
    ``registry.add_export_format``. Anonymous campaigns must not reveal
    participant identities beyond their opaque ids; a CSV is written with
    ``essaim.plugin.spreadsheet.csv_bytes``, so no cell runs as a formula.

    When: an export in that format is asked for (``engine.export``,
    ``essaim export``, the facilitator API).
    Who implements: plugins that registered export formats (``json``, ``csv``,
    ``polis`` and ``html`` are built in).
    Blocking / thread: trio thread; may be ``async``; for large exports, do the
    heavy work with ``trio.to_thread.run_sync``.

    Args:
        format: the format's name.
        results: the :class:`~essaim.model.types.Results` as ``engine.results`` gives them now.

    Returns:
        One or more :class:`~essaim.model.types.ExportFile` objects (a format
        may produce several, e.g. the Pol.is CSV set).

    .. versionadded:: 0.1
    """
