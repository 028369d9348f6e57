"""Export, from scratch: ``markdown``, the ranked results as a Markdown
page a leader can paste into a wiki.

An export format is registered with ``registry.add_export_format`` and
rendered by ``essaim_results_export``, called only for the formats this
plugin registered. It never names anyone: participants appear, if at all,
as their opaque ids.

Run by tests/plugins/test_strategy_examples.py.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from essaim import hookimpl
from essaim.model.state import CampaignState
from essaim.model.types import ExportFile, Results


@hookimpl
def essaim_register_strategies(registry: Any) -> None:
    registry.add_export_format("markdown", media_type="text/markdown", description="Ranked results as Markdown.")


@hookimpl
def essaim_results_export(format: str, state: CampaignState, results: Results) -> Sequence[ExportFile]:
    lines = [f"# {results.title}", "", f"{results.counters.get('participants', 0)} participants, "
             f"{results.counters.get('cards', 0)} cards.", ""]
    for sheet in results.sheets:
        title = sheet.title.replace("\n", " ")
        lines.append(f"{sheet.rank}. **{title}** — score {sheet.score:.2f} "
                     f"({sheet.low:.2f}–{sheet.high:.2f}), consensus {sheet.consensus:.2f}, "
                     f"{sheet.supporters} people")
    return [ExportFile("results.md", "text/markdown", ("\n".join(lines) + "\n").encode())]
