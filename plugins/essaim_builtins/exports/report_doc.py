"""What the HTML report shows, gathered from a campaign's state on the trio
thread as plain data (strings, numbers, lists), so the rendering can run in a
worker thread on a copy that nothing else changes."""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from essaim.model.standing import places, points, scale_meaning
from essaim.model.state import CampaignState
from essaim.model.types import Results

from essaim_builtins.moderation.log import public_log

__all__ = ["report_doc"]


def _questions(state: CampaignState) -> list[dict[str, Any]]:
    """The collection prompts, each with the profile segment it was limited to."""
    template = state.template
    out = []
    for phase in template.phases if template else ():
        for prompt in phase.settings.get("prompts", ()) if phase.type == "collect" else ():
            segment = prompt.get("segment") or {}
            out.append({"text": prompt.get("text", ""),
                        "for": ", ".join(f"{value}" for value in segment.values())})
    return out


def report_doc(state: CampaignState, results: Results) -> dict[str, Any]:
    """Everything :func:`essaim_builtins.exports.html.render` draws."""
    sheets = [asdict(s) for s in results.sheets]
    for sheet, place in zip(sheets, places([s["score"] for s in sheets])):
        sheet["points"], sheet["place"] = points(sheet["score"]), place
        sheet["low_points"], sheet["high_points"] = points(sheet["low"]), points(sheet["high"])
    template = state.template
    strategies = [p.strategy for p in template.phases if p.type == "evaluate"] if template else []
    themes = [{"tid": t.tid, "title": t.title, "iids": [i.iid for i in t.ideas]}
              for t in (results.structure.themes if results.structure else ())]
    log = public_log(state.moderation_log)
    for entry in log:
        card = state.cards.get(entry.get("cid", ""))
        entry["text"] = card.text if card else ""
    return {
        "title": results.title,
        "created_at": state.created_at,
        "counters": dict(results.counters),
        "questions": _questions(state),
        "scale": scale_meaning(strategies[-1] if strategies else None),
        "sheets": sheets,
        "themes": themes,
        "log": log,
        "min_segment_size": template.min_segment_size if template else 1,
    }
