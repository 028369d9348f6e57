"""Export formats ``json`` and ``csv`` of a campaign's results."""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence

import orjson

from essaim import hookimpl
from essaim.registry import Registry
from essaim.state import CampaignState
from essaim.types import ExportFile, Results


@hookimpl
def essaim_register_strategies(registry: Registry) -> None:
    registry.add_export_format("json", media_type="application/json", description="Results, structure and moderation log.")
    registry.add_export_format("csv", media_type="text/csv", description="One row per opportunity sheet.")


@hookimpl
def essaim_results_export(format: str, state: CampaignState, results: Results) -> Sequence[ExportFile]:
    if format == "json":
        doc = results.to_dict()
        doc["moderation_log"] = state.moderation_log
        return [ExportFile("results.json", "application/json", orjson.dumps(doc, option=orjson.OPT_INDENT_2))]
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["rank", "iid", "title", "score", "low", "high", "consensus", "controversy", "supporters", "cards"])
    for s in results.sheets:
        writer.writerow([s.rank, s.iid, s.title, s.score, s.low, s.high, s.consensus, s.controversy,
                         s.supporters, " ".join(s.cards)])
    return [ExportFile("results.csv", "text/csv", out.getvalue().encode())]
