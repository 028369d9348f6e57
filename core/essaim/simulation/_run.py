"""A simulated campaign: hundreds of people through all four phases.

:func:`simulate` drives a real engine the way a live campaign would: a
simulated facilitator starts the demo campaign and ends each phase once
everyone is done (or lets the phase timer end it); simulated participants
join, write cards (or support similar ones), sort hands, flag off-topic
cards, sit on juries and compare ideas. What they write and how they judge
comes from a latent ground truth (:mod:`essaim.simulation._crowd`), so the
run can measure how well the crowd recovered it.

It is a library function on purpose: the CLI (``essaim simulate``), demos
and load generators call it with their own engine, size and seed::

    async with essaim.open_engine() as engine:
        report = await simulate(engine, participants=300, seed=1)
    print(report.format())

Every participant is a trio task; at most ``max_active`` of them have a
command in flight at once. Think times use trio's clock, so a test on a
fake clock runs a whole campaign in a moment.
"""

from __future__ import annotations

import math
import random
from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from importlib.resources import files
from typing import Any

import trio
import trio.testing

from essaim.engine import Engine
from essaim.engine._owner import check_profile
from essaim.engine.watch import CampaignWatcher, phase_over, watch_campaign
from essaim.errors import CommandError, EssaimError
from essaim.model.commands import FACILITATOR, Ack, Actor, Command
from essaim.model.hand_items import group_members
from essaim.model.template import CampaignTemplate, StrategyChoice
from essaim.model.types import Results
from essaim.simulation._crowd import (
    OFFTOPIC,
    PERSONAL,
    ROLES,
    SITES,
    CrowdHabits,
    Person,
    Truth,
    make_crowd,
    make_truth,
    phrase,
    sort_hand,
)
from essaim.simulation._judge import answer
from essaim.simulation.agreement import adjusted_rand_index, kendall_tau
from essaim.simulation.progress import Progress

__all__ = [
    "simulate",
    "simulation_template",
    "SimulationReport",
    "SimulationError",
    "DEFAULT_PARTICIPANTS",
    "DEFAULT_PHASE_SECONDS",
    "DEFAULT_MAX_ACTIVE",
]

#: A crowd big enough to show structure and ranking, small enough for ~15 s.
DEFAULT_PARTICIPANTS = 300
#: Length of each timed phase. Participants pace their work to finish in
#: about two thirds of it; the facilitator moves on when everyone is done.
DEFAULT_PHASE_SECONDS = 6.0
#: Participants with a command in flight at once: like real people, most
#: are thinking at any moment; this bounds the burst on the engine.
DEFAULT_MAX_ACTIVE = 64
#: Judgments one simulated person makes at most, whatever the strategy
#: offers (a guard against a strategy that never says "done").
MAX_JUDGMENTS_PER_PERSON = 200
#: Mean think time per action, as a share of the phase duration.
THINK_SHARE = {"collection": 0.12, "structuring": 0.08, "evaluation": 0.02}
#: Cards a person glances at after writing, looking for off-topic ones.
GLANCED_CARDS = 5
#: Late joiners arrive within this share of the phase they join in.
ARRIVAL_SHARE = 0.3
#: A phase ends by its timer at the latest, or when the facilitator sees
#: everyone done; past this many times its duration (plus the grace below)
#: the simulation gives up and says what it waited for, instead of waiting
#: forever (a stuck strategy, a phase the crowd cannot finish). Not under a
#: test's fake clock (trio.testing.MockClock): it jumps whenever every task
#: waits on a worker thread, so any deadline there would fire at once.
PHASE_TIMEOUT_FACTOR = 3.0
PHASE_TIMEOUT_GRACE = 30.0


class SimulationError(EssaimError):
    """The simulation could not run the campaign; ``hint`` says what to do."""

    def __init__(self, message: str, *, hint: str) -> None:
        super().__init__(message)
        self.hint = hint

ProgressCallback = Callable[[Progress], None]


def simulation_template(
    phase_seconds: float = DEFAULT_PHASE_SECONDS,
    evaluation: str | None = None,
    *,
    template: CampaignTemplate | None = None,
    strategies: Mapping[str, str] | None = None,
    families: Mapping[str, str | None] | None = None,
) -> CampaignTemplate:
    """``template`` (default: the demo campaign) as a simulation runs it:
    each phase lasting ``phase_seconds`` (a rehearsal of a 30-minute
    campaign takes seconds), and the strategies of ``strategies``
    (``{family: name}``; ``evaluation`` is short for ``{"evaluation": name}``)
    instead of the template's, with their default settings. ``families``
    maps each phase type to its family (``registry.phase_types``); without
    it only the built-in ``evaluate`` phase type is known."""
    if template is None:
        text = files("essaim").joinpath("templates/demo.toml").read_text(encoding="utf-8")
        template = CampaignTemplate.parse(text, source="essaim/templates/demo.toml")
    chosen = dict(strategies or {})
    if evaluation is not None:
        chosen["evaluation"] = evaluation
    family_of = dict(families) if families is not None else {"evaluate": "evaluation"}
    phases = []
    for phase in template.phases:
        phase = replace(phase, duration=phase_seconds)
        family = family_of.get(phase.type)
        if family in chosen and chosen[family] != phase.strategy:
            phase = replace(phase, strategy=chosen[family], settings={})
        phases.append(phase)
    out = replace(template, phases=tuple(phases))
    if "moderation" in chosen and chosen["moderation"] != out.moderation.name:
        out = replace(out, moderation=StrategyChoice(chosen["moderation"]))
    if "results" in chosen and chosen["results"] != out.results.name:
        out = replace(out, results=StrategyChoice(chosen["results"]))
    return out


@dataclass(slots=True)
class SimulationReport:
    """What happened: the campaign, its results, and how close they are to the truth."""

    campaign_id: str
    code: str
    facilitator_token: str
    participants: int
    seed: int
    results: Results
    #: Refused commands by error code (wrong_phase at phase ends is normal).
    refusals: dict[str, int]
    #: Adjusted Rand index of the crowd's ideas vs the true ideas (None without items).
    structure_ari: float | None
    #: Kendall tau of the crowd's ranking vs the true values (None with < 2 items).
    ranking_tau: float | None
    #: Seconds on the engine's clock from start to finish.
    duration: float

    def format(self, top: int = 10) -> str:
        """The ranked results as a person reads them."""
        c = self.results.counters
        lines = [
            f"Simulated campaign {self.campaign_id} (code {self.code}): {self.results.title}",
            f"  {self.participants} participants (seed {self.seed}), {self.duration:.1f} s on the engine's clock",
            f"  {c.get('cards', 0)} cards ({c.get('hidden', 0)} hidden), {c.get('supports', 0)} supports, "
            f"{c.get('sorters', 0)} sorters placed {c.get('placements', 0)} hands, "
            f"{c.get('flags', 0)} flags, {c.get('judgments', 0)} judgments",
        ]
        quality = []
        if self.structure_ari is not None:
            quality.append(f"structure recovered: adjusted Rand index {self.structure_ari:.2f}")
        if self.ranking_tau is not None:
            quality.append(f"ranking recovered: Kendall tau {self.ranking_tau:.2f}")
        if quality:
            lines.append("  " + "; ".join(quality) + " (1 = perfect)")
        if self.refusals:
            lines.append("  refused: " + ", ".join(f"{code} x{n}" for code, n in sorted(self.refusals.items())))
        lines.append("")
        lines.append(f"Top opportunity sheets (score ± uncertainty, of {len(self.results.sheets)}):")
        for sheet in self.results.sheets[:top]:
            half = (sheet.high - sheet.low) / 2
            title = sheet.title if len(sheet.title) <= 64 else sheet.title[:61] + "..."
            lines.append(
                f"  {sheet.rank:>2}. {sheet.score:.2f} ± {half:.2f}  {title}  "
                f"({_count(len(sheet.cards), 'card')}, {_count(sheet.supporters, 'person', 'people')}, "
                f"consensus {sheet.consensus:.2f})"
            )
        return "\n".join(lines)


def answers(template: CampaignTemplate, profile: Mapping[str, str]) -> dict[str, str]:
    """What a simulated person answers at join: the questions the template
    asks, from their profile (the crowd has a role and a site)."""
    asked = {a.key for a in template.profile}
    return {key: value for key, value in profile.items() if key in asked}


def _fake_clock() -> bool:
    return isinstance(trio.lowlevel.current_clock(), trio.testing.MockClock)


def _check_profiles(template: CampaignTemplate, crowd: list[Person]) -> None:
    """Fail before creating anything if no simulated person could join."""
    first_error: CommandError | None = None
    for person in crowd:
        try:
            check_profile(template, answers(template, person.profile))
        except CommandError as error:
            first_error = first_error or error
            continue
        return
    asked = [f"{a.key}{' (required)' if a.required else ''}{': ' + '/'.join(a.choices) if a.choices else ''}"
             for a in template.profile]
    raise SimulationError(
        f"no simulated person can join this campaign: {first_error.message if first_error else 'refused'}; "
        f"the template asks for {asked}, the simulated crowd has role "
        f"({'/'.join(ROLES)}) and site ({'/'.join(SITES)})",
        hint="simulate a template whose [[profile]] asks for role and site with those choices, "
        "or nothing required",
    )


def _count(n: int, one: str, many: str | None = None) -> str:
    return f"{n} {one if n == 1 else (many or one + 's')}"


async def simulate(
    engine: Engine,
    participants: int = DEFAULT_PARTICIPANTS,
    seed: int = 0,
    *,
    template: CampaignTemplate | None = None,
    phase_seconds: float = DEFAULT_PHASE_SECONDS,
    max_active: int = DEFAULT_MAX_ACTIVE,
    habits: CrowdHabits | None = None,
    progress: ProgressCallback | None = None,
    phase_timeout: float | None = None,
) -> SimulationReport:
    """Create a campaign on ``engine`` and run a simulated crowd through it.

    The crowd (profiles, intents, habits, judgments) follows from ``seed``
    alone. The engine's ids and the interleaving of tasks do not, so two
    runs with one seed give close, not identical, event logs.
    ``template`` defaults to :func:`simulation_template` (the demo campaign);
    the simulated people answer the profile questions ``role`` and ``site``
    (a custom template may ask for both, one, or neither; nothing else required).

    Raises :class:`SimulationError` when no simulated person can join (the
    template's profile asks for something else), when nobody joined by the
    end, or when a phase does not end within ``phase_timeout`` seconds
    (default ``PHASE_TIMEOUT_FACTOR`` times its duration plus
    ``PHASE_TIMEOUT_GRACE``; never under a fake clock), naming the phase
    and what the simulation waited for.
    """
    if participants < 1:
        raise ValueError("a simulation needs at least one participant")
    if template is None:
        template = simulation_template(phase_seconds)
    truth = make_truth(seed)
    crowd = make_crowd(truth, participants, seed, habits or CrowdHabits())
    _check_profiles(template, crowd)
    created = await engine.create_campaign(template)
    run = _Run(
        engine, created.campaign_id, seed, habits or CrowdHabits(), max_active, progress,
    )
    run.phase_timeout = phase_timeout
    started = engine.clock()
    results = await run.facilitate(crowd)
    if not run.members:
        raise SimulationError(
            f"none of the {participants} simulated people could join the campaign "
            f"(refused: {dict(run.refusals) or 'nothing'})",
            hint="check the template's [[profile]] and the server's limits",
        )
    return SimulationReport(
        campaign_id=created.campaign_id,
        code=created.code,
        facilitator_token=created.facilitator_token,
        participants=participants,
        seed=seed,
        results=results,
        refusals=dict(run.refusals),
        structure_ari=run.structure_quality(),
        ranking_tau=run.ranking_quality(results),
        duration=engine.clock() - started,
    )


@dataclass(slots=True)
class _Member:
    """A simulated person once joined: who they are to the engine."""

    person: Person
    actor: Actor
    sent: int = 0
    supported: set[str] = field(default_factory=set)

    def msg_id(self) -> str:
        self.sent += 1
        return f"sim{self.person.index}-{self.sent}"


class _Run:
    """One simulation: the facilitator loop and every participant's behaviour."""

    def __init__(
        self,
        engine: Engine,
        campaign_id: str,
        seed: int,
        habits: CrowdHabits,
        max_active: int,
        progress: ProgressCallback | None,
    ) -> None:
        self.engine = engine
        self.campaign_id = campaign_id
        self.seed = seed
        self.habits = habits
        self.truth: Truth = make_truth(seed)
        self.state = engine.state(campaign_id)
        self.limiter = trio.CapacityLimiter(max_active)
        self.progress = progress
        self.members: dict[int, _Member] = {}
        #: What each card really says: an idea key, or "offtopic".
        self.card_truth: dict[str, str] = {}
        self.written: list[str] = []
        self.refusals: Counter[str] = Counter()
        self._item_truth: dict[str, str | None] = {}
        self._done = 0
        self._total = 0
        #: What the facilitator loop waits for now (said when a phase times out).
        self.waiting_for = ""
        #: Seconds a phase may take (None: from its duration); see PHASE_TIMEOUT_FACTOR.
        self.phase_timeout: float | None = None

    # -- the facilitator ----------------------------------------------------------------

    async def facilitate(self, crowd: list[Person]) -> Results:
        engine, cid = self.engine, self.campaign_id
        template = self.state.template
        assert template is not None
        registry = engine.host.registry
        results: Results | None = None
        with watch_campaign(engine, cid) as watcher:
            await engine.execute(cid, FACILITATOR, Command("start"))
            while True:
                state = await watcher.wait_until(lambda s: s.status in ("running", "paused", "finished"))
                if state.status == "finished":
                    break
                index = state.phase_index
                phase = template.phases[index]
                family = registry.phase_types[phase.type].family
                # The ordinal among phases where participants act decides who
                # has arrived: late joiners skip the first one.
                ordinal = sum(1 for p in template.phases[:index] if registry.phase_types[p.type].family)
                self.waiting_for = "the simulated participants to finish their work"
                limit = self.phase_timeout if self.phase_timeout is not None else (
                    phase.duration * PHASE_TIMEOUT_FACTOR + PHASE_TIMEOUT_GRACE)
                # The same deadline for the participants' work and the phase's end.
                deadline = math.inf if _fake_clock() else trio.current_time() + limit
                # Only what depends on participants and timers is timed: the
                # engine's own work (results, aggregation) runs in worker
                # threads, during which a test's fake clock may jump.
                try:
                    with trio.fail_at(deadline):
                        await self._run_phase(watcher, index, ordinal, family, phase.duration, crowd)
                    if family is None:
                        results = await engine.results(cid)
                    with trio.fail_at(deadline):
                        if not phase_over(index)(state):
                            try:
                                # Naming the phase makes a race with its timer harmless.
                                await engine.execute(cid, FACILITATOR, Command("advance", {"index": index}))
                            except CommandError as error:
                                # The phase timer ended it first: nothing to do.
                                self.refusals["facilitator_" + error.code] += 1
                        self.waiting_for = "the phase to end"
                        await watcher.wait_until(phase_over(index))
                except trio.TooSlowError:
                    raise SimulationError(
                        f"phase {index} ({phase.title!r}, {phase.type}) did not end within {limit:g} s "
                        f"(its duration is {phase.duration:g} s): waited for {self.waiting_for}; {self._done} of {self._total} simulated people had "
                        f"finished, status {state.status!r}",
                        hint="a strategy that never says a participant is done, or a phase type the simulated "
                        "crowd does not know; shorten --phase-seconds or check the template",
                    ) from None
        return results if results is not None else await engine.results(cid)

    async def _run_phase(
        self,
        watcher: CampaignWatcher,
        index: int,
        ordinal: int,
        family: str | None,
        duration: float,
        crowd: list[Person],
    ) -> None:
        """Everyone acts in this phase until done or until the phase ends."""
        self._done, self._total = 0, len(crowd)
        self._report(index)
        async with trio.open_nursery() as nursery:

            async def end_with_phase() -> None:
                await watcher.wait_until(phase_over(index))
                nursery.cancel_scope.cancel()

            nursery.start_soon(end_with_phase)
            async with trio.open_nursery() as people:
                for person in crowd:
                    people.start_soon(self._participate, person, index, ordinal, family, duration)
            nursery.cancel_scope.cancel()

    def _report(self, index: int) -> None:
        if self.progress is None:
            return
        template = self.state.template
        assert template is not None
        title = template.phases[index].title if 0 <= index < len(template.phases) else "Finished"
        self.progress(Progress(index, len(template.phases), title, self._done, self._total, self.state.counters))

    # -- a participant ------------------------------------------------------------------

    async def _participate(
        self, person: Person, index: int, ordinal: int, family: str | None, duration: float
    ) -> None:
        try:
            if person.arrives > ordinal:
                return
            rng = person.rng(self.seed, f"phase{index}")
            member = self.members.get(person.index)
            if member is None:
                if person.arrives == ordinal:
                    await trio.sleep(rng.uniform(0, ARRIVAL_SHARE * duration))
                member = await self._join(person)
                if member is None:
                    return
            await self._serve_jury(member, rng)
            think = THINK_SHARE.get(family or "", 0.0) * duration
            if family == "collection":
                await self._collect(member, rng, think)
            elif family == "structuring" and person.sorter:
                await self._sort(member, rng, think)
            elif family == "evaluation":
                await self._evaluate(member, rng, think)
            await self._serve_jury(member, rng)
        finally:
            self._done += 1
            self._report(index)

    async def _join(self, person: Person) -> _Member | None:
        async with self.limiter:
            try:
                assert self.state.template is not None
                # Shielded: a join the phase's end cancelled half way would
                # still add the participant, who would then join again.
                with trio.CancelScope(shield=True):
                    joined = await self.engine.join(self.campaign_id, answers(self.state.template, person.profile))
            except CommandError as error:
                self.refusals[error.code] += 1
                return None
        actor = self.engine.authenticate(self.campaign_id, joined.token)
        member = self.members[person.index] = _Member(person, actor)
        return member

    async def _do(self, member: _Member, ctype: str, args: Mapping[str, Any] | None = None) -> Ack | None:
        """Send one command; a refusal is counted and returns None."""
        async with self.limiter:
            try:
                return await self.engine.execute(
                    self.campaign_id, member.actor, Command(ctype, dict(args or {}), member.msg_id())
                )
            except CommandError as error:
                self.refusals[error.code] += 1
                return None

    @staticmethod
    async def _think(rng: random.Random, mean: float, pace: float) -> None:
        if mean > 0:
            await trio.sleep(rng.expovariate(1.0 / mean) * pace)

    async def _collect(self, member: _Member, rng: random.Random, think: float) -> None:
        prompts = await self.engine.prompts(self.campaign_id, member.actor.pid or "")
        for intent in member.person.intents:
            await self._think(rng, think, member.person.pace)
            if intent == "offtopic":
                text, truth = rng.choice(OFFTOPIC), "offtopic"
            elif intent == "personal":
                text, truth = rng.choice(PERSONAL)
            else:
                text, truth = phrase(self.truth.idea(intent), rng), intent
            if truth != "offtopic" and await self._support_instead(member, text, truth, rng):
                continue
            args: dict[str, Any] = {"text": text}
            if prompts:
                args["prompt"] = rng.choice(prompts).id
            ack = await self._do(member, "write_card", args)
            if ack is not None:
                self.card_truth[ack.result["cid"]] = truth
                self.written.append(ack.result["cid"])
        await self._maybe_flag(member, rng)

    async def _support_instead(self, member: _Member, text: str, truth: str, rng: random.Random) -> bool:
        """Like a person typing: if a suggestion says the same, support it."""
        for suggestion in await self.engine.suggest(self.campaign_id, text):
            card = self.state.cards.get(suggestion.cid)
            if (
                card is None
                or self.card_truth.get(suggestion.cid) != truth
                or card.author == member.actor.pid
                or suggestion.cid in member.supported
            ):
                continue
            # The first suggestion that says the same idea is the one they consider.
            if rng.random() >= self.habits.support_share:
                return False
            member.supported.add(suggestion.cid)
            return await self._do(member, "support_card", {"cid": suggestion.cid}) is not None
        return False

    async def _maybe_flag(self, member: _Member, rng: random.Random) -> None:
        """Glance at a few cards; flag an off-topic one with some probability."""
        # Sample from the cards written so far (O(1) per glance, not O(cards)).
        glance = rng.sample(self.written, min(GLANCED_CARDS, len(self.written)))
        for cid in glance:
            card = self.state.cards.get(cid)
            if card is None or card.hidden or card.author == member.actor.pid:
                continue
            if self.card_truth.get(cid) == "offtopic" and rng.random() < self.habits.flag_share:
                await self._do(member, "flag", {"cid": cid, "reason": "off-topic"})
                return

    async def _serve_jury(self, member: _Member, rng: random.Random) -> None:
        pid = member.actor.pid or ""
        for case_id in list(self.state.jury_duty.get(pid, ())):
            case = self.state.cases.get(case_id)
            if case is None or case.status != "open" or pid in case.votes:
                continue
            right = "hide" if self.card_truth.get(case.cid) == "offtopic" else "keep"
            wrong = "keep" if right == "hide" else "hide"
            verdict = wrong if rng.random() < self.habits.jury_error else right
            await self._do(member, "judge", {"case_id": case_id, "verdict": verdict})

    async def _sort(self, member: _Member, rng: random.Random, think: float) -> None:
        for _ in range(self.habits.max_hands):
            await self._think(rng, think, member.person.pace)
            ack = await self._do(member, "deal")
            hand = ack.result.get("hand") if ack is not None else None
            if not hand:
                return
            themes, offtopic = self._sort_hand(list(hand["items"]), rng)
            if await self._do(member, "place", {"hid": hand["hid"], "themes": themes, "offtopic": offtopic}) is None:
                return

    def _sort_hand(self, items: list[str], rng: random.Random) -> tuple[list[list[list[str]]], list[str]]:
        """Group a hand as a person who knows the truth, with some mistakes."""
        return sort_hand(items, self._truth_of, self._theme_of, rng, self.habits.sort_error)

    def _truth_of(self, item: str) -> str:
        """What a hand item is about: a card's truth, or for a group (later
        boards) the truth most of its cards share, as a reader would see it."""
        votes = Counter(self.card_truth[c] for c in group_members(item) if c in self.card_truth)
        return votes.most_common(1)[0][0] if votes else f"unknown:{item}"

    def _theme_of(self, label: str) -> str:
        for theme in self.truth.themes:
            if any(idea.key == label for idea in theme.ideas):
                return theme.key
        return label

    async def _evaluate(self, member: _Member, rng: random.Random, think: float) -> None:
        pid = member.actor.pid or ""
        for _ in range(MAX_JUDGMENTS_PER_PERSON):
            try:
                task = await self.engine.next_task(self.campaign_id, pid)
            except CommandError as error:
                self.refusals[error.code] += 1
                return
            if task is None:
                return
            data = answer(task, lambda iid: self._value(iid, member.person), rng, self.habits)
            if data is None:
                self.refusals["unsupported_task_" + task.kind] += 1
                return
            if await self._do(member, "evaluate", {"kind": task.kind, "data": data}) is None:
                return
            await self._think(rng, think, member.person.pace)

    # -- the truth behind items -----------------------------------------------------------

    def _idea_of_item(self, iid: str) -> str | None:
        """The true idea most of an item's cards say (None if off-topic or unknown)."""
        if iid not in self._item_truth:
            item = self.state.items.get(iid)
            votes = Counter(self.card_truth.get(cid) for cid in (item.cards if item else ()))
            votes.pop(None, None)
            votes.pop("offtopic", None)
            self._item_truth[iid] = votes.most_common(1)[0][0] if votes else None
        return self._item_truth[iid]

    def _value(self, iid: str, person: Person) -> float:
        key = self._idea_of_item(iid)
        if key is None:
            return -2.0  # off-topic or unknown: nobody's priority
        idea = self.truth.idea(key)
        return idea.value + self.truth.role_bias.get((person.profile["role"], idea.theme), 0.0)

    def structure_quality(self) -> float | None:
        truth = {cid: t for cid, t in self.card_truth.items() if t != "offtopic"}
        found: dict[str, str] = {}
        for item in self.state.items.values():
            for cid in item.cards:
                found[cid] = item.iid
        if not found:
            return None
        cids = list(truth)
        return round(adjusted_rand_index([truth[c] for c in cids], [found.get(c, f"missing:{c}") for c in cids]), 3)

    def ranking_quality(self, results: Results) -> float | None:
        pairs = []
        for sheet in results.sheets:
            key = self._idea_of_item(sheet.iid)
            if key is not None:
                pairs.append((sheet.score, self.truth.idea(key).value))
        if len(pairs) < 2:
            return None
        return round(kendall_tau([p[0] for p in pairs], [p[1] for p in pairs]), 3)
