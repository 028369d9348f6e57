"""A self-contained HTML report: ranked opportunity sheets with inline SVG
charts (scores with their intervals; consensus against controversy) and the
moderation log. No script, no external asset: it opens offline, prints, and
can be mailed."""

from __future__ import annotations

import html
from collections.abc import Mapping
from typing import Any

from essaim.model.types import ExportFile

__all__ = ["render"]

#: Sheets drawn in the charts; the table lists them all.
CHART_ITEMS = 25
#: Card texts shown per sheet: the representative ones come first.
CARDS_SHOWN = 3

_STYLE = """
body{font-family:system-ui,sans-serif;max-width:60rem;margin:2rem auto;padding:0 1rem;color:#1b1b1b}
h1{font-size:1.6rem}h2{font-size:1.2rem;margin-top:2rem}
table{border-collapse:collapse;width:100%}td,th{border-bottom:1px solid #ccc;padding:.35rem;text-align:left;
vertical-align:top}th{background:#f2f2f2}.num{text-align:right;font-variant-numeric:tabular-nums}
.cards{font-size:.9rem;color:#333}.seg{font-size:.8rem;color:#444}svg text{font-size:11px;fill:#1b1b1b}
"""


def _e(text: Any) -> str:
    return html.escape(str(text), quote=True)


def score_chart(sheets: list[Mapping[str, Any]]) -> str:
    """Horizontal bars: score, with the 95% interval as a whisker."""
    rows = sheets[:CHART_ITEMS]
    width, left, bar_h = 640, 230, 18
    height = 24 + bar_h * len(rows)
    scale = width - left - 20
    out = [f'<svg role="img" aria-label="Scores with 95% intervals" width="{width}" height="{height}" '
           f'viewBox="0 0 {width} {height}" xmlns="http://www.w3.org/2000/svg">']
    for tick in (0, 0.25, 0.5, 0.75, 1):
        x = left + tick * scale
        out.append(f'<line x1="{x:.1f}" y1="14" x2="{x:.1f}" y2="{height}" stroke="#ddd"/>'
                   f'<text x="{x:.1f}" y="10" text-anchor="middle">{tick:g}</text>')
    for i, s in enumerate(rows):
        y = 18 + i * bar_h
        title = s["title"] if len(s["title"]) <= 34 else s["title"][:33] + "…"
        out.append(f'<text x="{left - 6}" y="{y + 12}" text-anchor="end">{_e(s["rank"])}. {_e(title)}</text>')
        out.append(f'<rect x="{left}" y="{y + 3}" width="{max(0.0, s["score"]) * scale:.1f}" height="{bar_h - 6}" '
                   f'fill="#3b6fb6"><title>{_e(s["score"])}</title></rect>')
        lo, hi = left + s["low"] * scale, left + s["high"] * scale
        mid = y + bar_h / 2
        out.append(f'<line x1="{lo:.1f}" y1="{mid}" x2="{hi:.1f}" y2="{mid}" stroke="#111" stroke-width="1.5"/>')
    out.append("</svg>")
    return "".join(out)


def consensus_chart(sheets: list[Mapping[str, Any]]) -> str:
    """Each idea as a dot: consensus (x) against controversy (y)."""
    size, pad = 320, 34
    inner = size - 2 * pad
    out = [f'<svg role="img" aria-label="Consensus against controversy" width="{size}" height="{size}" '
           f'viewBox="0 0 {size} {size}" xmlns="http://www.w3.org/2000/svg">',
           f'<rect x="{pad}" y="{pad}" width="{inner}" height="{inner}" fill="none" stroke="#999"/>',
           f'<text x="{size / 2}" y="{size - 8}" text-anchor="middle">consensus →</text>',
           f'<text x="12" y="{size / 2}" transform="rotate(-90 12 {size / 2})" text-anchor="middle">'
           'controversy →</text>']
    for s in sheets[:CHART_ITEMS]:
        x = pad + s["consensus"] * inner
        y = pad + (1 - s["controversy"]) * inner
        out.append(f'<circle cx="{x:.1f}" cy="{y:.1f}" r="5" fill="#c0504d" fill-opacity=".75">'
                   f'<title>{_e(s["rank"])}. {_e(s["title"])}</title></circle>'
                   f'<text x="{x + 7:.1f}" y="{y + 4:.1f}">{_e(s["rank"])}</text>')
    out.append("</svg>")
    return "".join(out)


def render(doc: Mapping[str, Any]) -> list[ExportFile]:
    results, sheets = doc["results"], doc["sheets"]
    counters = results.get("counters", {})
    parts = ['<!doctype html><html lang="en"><head><meta charset="utf-8">',
             '<meta name="viewport" content="width=device-width,initial-scale=1">',
             f"<title>{_e(results['title'])}</title><style>{_STYLE}</style></head><body>",
             f"<h1>{_e(results['title'])}</h1>",
             "<p>" + ", ".join(f"{_e(v)} {_e(k)}" for k, v in counters.items()) + "</p>",
             "<h2>Priorities</h2>", score_chart(sheets),
             "<h2>Consensus and controversy</h2>", consensus_chart(sheets),
             "<h2>Opportunity sheets</h2><table><thead><tr><th>#</th><th>Idea</th>"
             '<th class="num">Score (95% interval)</th><th class="num">Consensus</th>'
             '<th class="num">Controversy</th><th class="num">People</th></tr></thead><tbody>']
    for s in sheets:
        cards = "".join(f"<li>{_e(t)}</li>" for t in s["card_texts"][:CARDS_SHOWN])
        more = len(s["card_texts"]) - CARDS_SHOWN
        if more > 0:
            cards += f"<li>… and {more} more</li>"
        segs = ", ".join(f"{_e(k)}: {v:.2f}" for k, v in sorted(s["segments"].items()))
        parts.append(
            f'<tr><td>{_e(s["rank"])}</td><td><strong>{_e(s["title"])}</strong>'
            f'<ul class="cards">{cards}</ul>'
            + (f'<div class="seg">By segment (≥ {_e(doc["min_segment_size"])} people): {segs}</div>' if segs else "")
            + f'</td><td class="num">{s["score"]:.2f} ({s["low"]:.2f}–{s["high"]:.2f})</td>'
            f'<td class="num">{s["consensus"]:.2f}</td><td class="num">{s["controversy"]:.2f}</td>'
            f'<td class="num">{_e(s["supporters"])}</td></tr>'
        )
    parts.append("</tbody></table>")
    for table in doc.get("phase_reports", {}).values():  # plugin phases' own reports
        parts.append(f"<h2>{_e(table['title'])}</h2><table><thead><tr>"
                     + "".join(f"<th>{_e(c)}</th>" for c in table["columns"]) + "</tr></thead><tbody>")
        parts.extend("<tr>" + "".join(f"<td>{_e(v)}</td>" for v in row) + "</tr>" for row in table["rows"])
        parts.append("</tbody></table>")
    parts.append("<h2>Moderation log</h2>")
    if doc["log"]:
        parts.append("<table><thead><tr><th>Card</th><th>Decision</th><th>By</th></tr></thead><tbody>")
        for entry in doc["log"]:
            parts.append(f"<tr><td>{_e(entry.get('cid'))}</td><td>{_e(entry.get('action'))}</td>"
                         f"<td>{_e(entry.get('by'))}</td></tr>")
        parts.append("</tbody></table>")
    else:
        parts.append("<p>No moderation decision.</p>")
    parts.append("</body></html>")
    return [ExportFile("report.html", "text/html", "".join(parts).encode())]
