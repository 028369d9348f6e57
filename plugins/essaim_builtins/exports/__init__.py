"""Export formats of a campaign's results.

* ``json``: results, structure with provenance, moderation log (juror votes
  as counts only);
* ``csv``: one row per opportunity sheet;
* ``polis``: the Pol.is CSV set (summary, comments, votes, participant-votes,
  comment-groups), the de-facto standard of opinion-mapping tools;
* ``html``: a self-contained report a leader reads (questions, ranking,
  themes with their cards, groups compared, moderation log).

Exports never name anyone: participants appear only as their opaque ids
("p12"), and segment breakdowns smaller than ``min_segment_size`` are left
out everywhere (the raw per-item scores carry them, so they are filtered
here too). Rendering runs in a worker thread on copies of the state.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from typing import Any

import orjson
import trio

from essaim import hookimpl
from essaim.model.state import CampaignState
from essaim.model.types import ExportFile, Results
from essaim.plugin.registry import Registry
from essaim.plugin.spreadsheet import csv_bytes

from essaim_builtins.exports import html as export_html
from essaim_builtins.exports import polis as export_polis
from essaim_builtins.exports.report_doc import report_doc
from essaim_builtins.moderation.log import public_log
from essaim_builtins.results import segment_judges, visible_segments


@hookimpl
def essaim_register_strategies(registry: Registry) -> None:
    registry.add_export_format("json", media_type="application/json",
                               description="Results, structure with provenance, and the moderation log.")
    registry.add_export_format("csv", media_type="text/csv", description="One row per opportunity sheet.")
    registry.add_export_format("polis", media_type="text/csv",
                               description="The Pol.is CSV set: summary, comments, votes, participant-votes, "
                               "comment-groups.")
    registry.add_export_format("html", media_type="text/html",
                               description="A self-contained report with charts (no external assets).")


def safe_results(state: CampaignState, results: Results) -> Results:
    """Results with small segments removed from the raw scores too."""
    template = state.template
    min_size = template.min_segment_size if template else 1
    judges = segment_judges(state)
    scores = tuple(replace(s, segments=visible_segments(s, judges, min_size)) for s in results.scores)
    return replace(results, scores=scores)


def provenance(state: CampaignState) -> list[dict[str, Any]]:
    """Per evaluated item: every card behind it (hidden ones marked), who
    wrote it and who supported it, as opaque participant ids."""
    out = []
    for item in state.items.values():
        cards = []
        for cid in item.cards:
            card = state.cards.get(cid)
            if card is None:
                continue
            cards.append({"cid": cid, "text": card.text, "author": card.author,
                          "supporters": list(card.supporters), "hidden": card.hidden})
        out.append({"iid": item.iid, "title": item.title, "theme": item.theme, "agreement": item.agreement,
                    "cards": cards})
    return out


def phase_reports(state: CampaignState) -> dict[str, dict[str, Any]]:
    """What each plugin phase of the campaign reports (its state's
    ``report()``: ``{"title", "columns", "rows"}``, docs/plugins.md), by phase type."""
    out = {}
    for name, phase_state in state.phase_states.items():
        report = getattr(phase_state, "report", None)
        if report is not None:
            table = report()
            out[name] = {"title": str(table.get("title", name)), "columns": [str(c) for c in table["columns"]],
                         "rows": [list(row) for row in table["rows"]]}
    return out


def _json(state: CampaignState, results: Results) -> list[ExportFile]:
    doc = results.to_dict()
    doc["anonymity"] = state.template.anonymity if state.template else "anonymous"
    doc["provenance"] = provenance(state)
    doc["moderation_log"] = public_log(state.moderation_log)
    doc["phase_reports"] = phase_reports(state)
    return [ExportFile("results.json", "application/json", orjson.dumps(doc, option=orjson.OPT_INDENT_2))]


def _csv(results: Results) -> list[ExportFile]:
    rows: list[list[Any]] = [["rank", "iid", "title", "score", "low", "high", "consensus", "controversy",
                              "supporters", "cards", "segments", "variants", "theme", "theme_rank", "support_rank"]]
    for s in results.sheets:
        rows.append([s.rank, s.iid, s.title, s.score, s.low, s.high, s.consensus, s.controversy,
                     s.supporters, " ".join(s.cards),
                     "; ".join(f"{k}: {v}" for k, v in sorted(s.segments.items())),
                     " ".join(v.iid for v in s.variants), s.theme or "", s.theme_rank, s.support_rank])
    return [ExportFile("results.csv", "text/csv", csv_bytes(rows))]


@hookimpl
async def essaim_results_export(format: str, state: CampaignState, results: Results) -> Sequence[ExportFile]:
    results = safe_results(state, results)
    if format == "json":
        return _json(state, results)
    if format == "csv":
        return _csv(results)
    if format == "polis":
        snapshot = export_polis.snapshot(state)
        return await trio.to_thread.run_sync(export_polis.render, snapshot)
    if format == "html":
        doc = report_doc(state, results)
        doc["phase_reports"] = phase_reports(state)  # plugin phases' own tables
        return await trio.to_thread.run_sync(export_html.render, doc)
    return []
