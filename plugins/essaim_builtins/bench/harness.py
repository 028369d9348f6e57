"""A campaign driven by events, for the quality benchmark.

The benchmark runs hundreds of thousands of simulated actions; going through
the engine's owner and writer would measure the engine, not the crowd. This
harness keeps the parts that matter for quality real: the state is the real
:class:`~essaim.model.state.CampaignState` reducer fed with the real event types,
and every decision (deal, aggregate, jury, verdict, next pair, check, scores)
is taken by the built-in strategies through the plugin host's hook calls,
exactly as the campaign owner calls them.
"""

from __future__ import annotations

import random
from collections.abc import Mapping
from functools import partial
from typing import Any

import trio

from essaim.model.events import Event
from essaim.model.state import CampaignState
from essaim.model.template import CampaignTemplate, PhaseSpec
from essaim.model.types import (
    CardInfo,
    Deal,
    EvaluationInput,
    EvaluationTask,
    FlagOutcome,
    ItemScore,
    OpportunitySheet,
    SortingInput,
    Structure,
    Suggestion,
)
from essaim.plugin import PluginHost

__all__ = ["Harness"]


class Harness:
    """One campaign: apply events, call strategies through their hooks."""

    def __init__(self, template: CampaignTemplate, campaign_id: str, host: PluginHost | None = None) -> None:
        self.host = host or PluginHost.load(entry_points=False)
        template = template.check(self.host.registry)
        self.state = CampaignState(campaign_id)
        self.clock = 0.0
        self.emit("campaign_created", code="BENCH1", template=template.to_dict(), facilitator_token_hash="")

    # -- events ---------------------------------------------------------------------

    def emit(self, etype: str, **data: Any) -> None:
        self.clock += 0.01
        self.state.apply(Event(self.state.seq + 1, etype, self.clock, data))

    def join(self, profile: Mapping[str, str]) -> str:
        pid = f"p{len(self.state.participants) + 1}"
        self.emit("participant_joined", pid=pid, token_hash=pid, profile=dict(profile))
        return pid

    def start_phase(self, index: int) -> None:
        self.emit("phase_started", index=index, deadline=self.clock + 3600)

    def write(self, pid: str, text: str, prompt: str | None = None) -> str:
        cid = f"c{len(self.state.cards) + 1}"
        self.emit("card_written", cid=cid, pid=pid, text=text, prompt=prompt, findings=[], hidden=False)
        return cid

    def publish(self, structure: Structure | None = None) -> None:
        items: list[dict[str, Any]]
        if structure is None:
            items = [{"iid": f"i{c.cid}", "title": c.text, "cards": [c.cid], "theme": None, "agreement": None}
                     for c in self.state.visible_cards()]
        else:
            items = [{"iid": i.iid, "title": i.title, "cards": list(i.cards), "theme": t.tid,
                      "agreement": i.agreement} for t in structure.themes for i in t.ideas]
        self.emit("items_published", items=items)

    # -- strategies -----------------------------------------------------------------

    def _phase(self, family: str) -> PhaseSpec:
        template = self.state.template
        assert template is not None
        for ph in template.phases:
            if self.host.registry.phase_types[ph.type].family == family:
                return ph
        raise LookupError(f"the benchmark template has no {family} phase")

    def _call(self, family: str, hook: str, **kwargs: Any) -> Any:
        if family in ("moderation", "results"):
            choice = getattr(self.state.template, family)
            name, settings = choice.name, choice.settings
        else:
            ph = self._phase(family)
            name, settings = ph.strategy, ph.settings
        return self.host.call_strategy(family, name, hook, settings=settings, **kwargs)

    def rng(self) -> random.Random:
        return random.Random(f"{self.state.campaign_id}:{self.state.seq}")

    def deal(self, pid: str) -> Deal | None:
        sorter = self.state.participants[pid]
        deal: Deal | None = self._call(
            "structuring", "essaim_structuring_deal", state=self.state, sorter=sorter, rng=self.rng()
        )
        if deal is None or not deal.items:
            return None
        if not sorter.sorter:
            self.emit("sorter_volunteered", pid=pid)
        self.emit("hand_dealt", hid=f"h{len(self.state.hands) + 1}", pid=pid, items=list(deal.items),
                  stage=deal.stage)
        return deal

    def place(self, pid: str, themes: list[list[list[str]]], offtopic: list[str]) -> None:
        hid = self.state.open_hands[pid]
        self.emit("hand_placed", hid=hid, pid=pid, themes=themes, offtopic=offtopic)

    def sorting_snapshot(self) -> SortingInput:
        s = self.state
        return SortingInput(
            campaign_id=s.campaign_id, seq=s.seq,
            cards={c.cid: CardInfo(c.cid, c.author, c.text, tuple(c.supporters), c.hidden) for c in s.cards.values()},
            placements=tuple(s.placements),
            profiles={pid: dict(p.profile) for pid, p in s.participants.items()},
        )

    def aggregate(self) -> Structure:
        structure: Structure = self._call(
            "structuring", "essaim_structuring_aggregate", snapshot=self.sorting_snapshot()
        )
        return structure

    def next_task(self, pid: str) -> EvaluationTask | None:
        task: EvaluationTask | None = self._call(
            "evaluation", "essaim_evaluation_next", state=self.state,
            participant=self.state.participants[pid], rng=random.Random(f"{pid}:{self.state.seq}"),
        )
        return task

    def judge(self, pid: str, kind: str, data: Mapping[str, Any]) -> None:
        clean = self._call("evaluation", "essaim_evaluation_check", state=self.state,
                           participant=self.state.participants[pid], kind=kind, data=data)
        self.emit("judgment_recorded", pid=pid, kind=kind, data=dict(clean))

    def scores(self) -> list[ItemScore]:
        s = self.state
        snapshot = EvaluationInput(
            campaign_id=s.campaign_id, seq=s.seq, items={iid: it.title for iid, it in s.items.items()},
            judgments=tuple(s.judgments), profiles={pid: dict(p.profile) for pid, p in s.participants.items()},
        )
        return list(self._call("evaluation", "essaim_evaluation_scores", snapshot=snapshot))

    def similar(self, text: str, limit: int) -> list[Suggestion]:
        return list(self._call("collection", "essaim_collection_similar", state=self.state, text=text, limit=limit))

    def sheets(self, settings: Mapping[str, Any] | None = None, scores: list[ItemScore] | None = None,
               ) -> list[OpportunitySheet]:
        """The ranked sheets a leader reads (segments are not the point here);
        ``settings`` on top of the template's results settings."""
        template = self.state.template
        assert template is not None
        choice = template.results
        return list(trio.run(partial(
            self.host.acall_strategy, "results", choice.name, "essaim_results_sheets",
            settings={**choice.settings, **(settings or {})}, state=self.state,
            scores=self.scores() if scores is None else scores, min_segment_size=template.min_segment_size)))

    def flag(self, pid: str, cid: str) -> str | None:
        """A flag, as the campaign owner handles it; returns the new case id, if any."""
        s = self.state
        card = s.cards[cid]
        if card.author == pid:
            return None
        case_id = s.open_case_by_card.get(cid)
        if case_id is not None:
            if pid not in s.cases[case_id].flaggers:
                self.emit("card_flagged", case_id=case_id, cid=cid, pid=pid, reason="")
            return None
        if card.hidden:
            return None
        outcome: FlagOutcome = self._call("moderation", "essaim_moderation_flag", state=s, card=card,
                                          flagger=s.participants[pid], rng=self.rng())
        jury = [j for j in outcome.jury if j in s.participants and j not in (card.author, pid)]
        case_id = f"m{len(s.cases) + 1}"
        self.emit("card_flagged", case_id=case_id, cid=cid, pid=pid, reason="", jury=jury,
                  hide_now=outcome.hide_now)
        return case_id

    def vote(self, case_id: str, juror: str, verdict: str) -> str | None:
        s = self.state
        case = s.cases[case_id]
        if case.status != "open" or juror in case.votes:
            return None
        self.emit("jury_voted", case_id=case_id, pid=juror, verdict=verdict)
        decision: str | None = self._call("moderation", "essaim_moderation_verdict", state=s, case=case)
        if decision is not None:
            self.emit("case_decided", case_id=case_id, cid=case.cid, outcome=decision, by="jury",
                      votes=dict(case.votes))
        return decision
