"""A self-contained HTML report a leader reads without a manual: the
questions, the date and counts, the ideas ranked with scores out of 100 (ties
share a place), the ideas by theme with their cards, where profile groups
differ, and the moderation log with the cards' text.

No script, no external asset: it opens offline, prints and can be mailed.
Charts are HTML boxes, not SVG text, so labels wrap instead of being cut and
the page reads the same at 5 or 300 participants. Input: :func:`report_doc
<essaim_builtins.exports.report_doc.report_doc>`.
"""

from __future__ import annotations

import html
import time
from collections import Counter
from collections.abc import Mapping, Sequence
from typing import Any

from essaim.model.types import ExportFile

__all__ = ["render", "agreement_words", "supported_lower"]

#: Card texts shown under an idea before the rest fold into "N more cards".
CARDS_SHOWN = 3
#: Ideas drawn in "Do groups see it the same way?": the top of the ranking is
#: what a leader acts on, and 15 rows stay one screen.
GROUP_CHART_IDEAS = 15
#: The top of the ranking a leader acts on; an idea among the most supported
#: that is placed below it is named under the ranking, with why.
TOP_PLACES = 10

#: Consensus (in [0, 1]) from which agreement reads "broad", and below which
#: "low"; controversy (largest gap between groups) from which an idea "divides
#: groups". The console (console-results.js) uses the same thresholds.
BROAD_AGREEMENT = 0.66
LOW_AGREEMENT = 0.33
DIVIDES_GROUPS = 0.25

_STYLE = """
body{font-family:system-ui,sans-serif;max-width:64rem;margin:2rem auto;padding:0 1rem;color:#1b1b1b;line-height:1.4}
h1{font-size:1.7rem;margin-bottom:.3rem}h2{font-size:1.3rem;margin-top:2.2rem;border-bottom:2px solid #3b6fb6}
h3{font-size:1.1rem;margin:1.4rem 0 .3rem}.meta,.hint{color:#444}.counts{display:flex;flex-wrap:wrap;gap:.4rem 1.4rem;
padding:0;list-style:none}.counts strong{font-size:1.3rem;display:block}nav ul{display:flex;flex-wrap:wrap;gap:.3rem 1rem;
padding:0;list-style:none}table{border-collapse:collapse;width:100%}td,th{border-bottom:1px solid #ccc;padding:.4rem;
text-align:left;vertical-align:top}th{background:#f2f2f2}.num{text-align:right;font-variant-numeric:tabular-nums;
white-space:nowrap}.score{white-space:nowrap}.pts{font-weight:700;font-variant-numeric:tabular-nums;display:inline-block;
width:2.2rem}.bar{position:relative;display:inline-block;vertical-align:middle;width:10rem;height:.9rem;background:#e8e8e8}
.fill{position:absolute;left:0;top:0;bottom:0;background:#3b6fb6}.ci{position:absolute;top:-2px;bottom:-2px;
border:solid #111;border-width:0 2px;background:rgba(0,0,0,.3)}.ideas{padding-left:0;list-style:none}.ideas>li{margin:.6rem 0;padding-left:4.8rem;text-indent:-4.8rem}
.ideas .place{display:inline-block;width:2.4rem;text-indent:0}.cards{margin:.2rem 0 0;padding-left:1.2rem;text-indent:0;
color:#333;font-size:.92rem}details{text-indent:0;font-size:.92rem;color:#333}summary{cursor:pointer}
.groups td{vertical-align:middle}.track{position:relative;height:1.4rem;min-width:14rem;
background:#f7f7f7 repeating-linear-gradient(90deg,#ccc 0 1px,transparent 1px 25%);border-right:1px solid #ccc}
.spread{position:absolute;top:40%;height:20%;background:#e3a6a4}.dot{position:absolute;top:30%;width:.5rem;height:.5rem;
margin-left:-.25rem;border-radius:50%;background:#a5302c}.all{position:absolute;top:0;bottom:0;width:3px;margin-left:-1px;
background:#111}.axis{display:flex;justify-content:space-between;font-size:.8rem;color:#444}
.legend{font-size:.9rem;color:#333}.legend span{display:inline-block;vertical-align:middle;margin:0 .3rem 0 1rem}
@media (max-width:40rem){body{margin:1rem auto;padding:0 .5rem}td,th{padding:.3rem .2rem;font-size:.9rem}.ranking td:nth-child(5),.ranking th:nth-child(5){display:none}.bar,.score .hint,
.groups td:last-child,.groups th:last-child{display:none}.track{min-width:7rem}.ideas>li{padding-left:2.8rem;
text-indent:-2.8rem}.ideas .place{width:2.4rem}}
@media print{h2{break-after:avoid}tr,li{break-inside:avoid}}
"""


def _e(text: Any) -> str:
    return html.escape(str(text), quote=True)


def _pct(value: float) -> str:
    return f"{min(100.0, max(0.0, 100 * value)):.1f}%"


def agreement_words(sheet: Mapping[str, Any]) -> str:
    """Consensus and controversy in words a reader does not need explained twice."""
    c = sheet.get("consensus") or 0.0
    word = "broad" if c >= BROAD_AGREEMENT else "mixed" if c >= LOW_AGREEMENT else "low"
    return f"{word} · divides groups" if (sheet.get("controversy") or 0.0) >= DIVIDES_GROUPS else word


def _place(sheet: Mapping[str, Any]) -> str:
    """'4', or '=4' when another idea has the same score out of 100 (see _with_place_labels)."""
    return str(sheet["place_label"])


def _with_place_labels(sheets: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """Copies of ``sheets`` with their ``place_label``, ties counted once for
    all (a campaign can have thousands of ideas)."""
    shared = Counter(s["place"] for s in sheets)
    return [{**s, "place_label": f"={s['place']}" if shared[s["place"]] > 1 else str(s["place"])} for s in sheets]


_MONTHS = ("January", "February", "March", "April", "May", "June", "July", "August", "September", "October",
           "November", "December")


def _date(ts: float, with_time: bool = False) -> str:
    """'3 December 2026' (and ', 17:05 UTC'): English whatever the server's locale."""
    t = time.gmtime(ts)
    day = f"{t.tm_mday} {_MONTHS[t.tm_mon - 1]} {t.tm_year}"
    return f"{day}, {t.tm_hour:02d}:{t.tm_min:02d} UTC" if with_time else day


def _counts(doc: Mapping[str, Any]) -> str:
    c = doc["counters"]
    hidden = c.get("hidden", 0)
    items = [
        (c.get("participants", 0), "participants"),
        (c.get("cards", 0), "cards written" + (f" ({hidden:,} hidden by moderation)" if hidden else "")),
        (len(doc["sheets"]), "ideas ranked"),
        (len(doc["themes"]), "themes"),
        (c.get("supports", 0), "supports"),
        (c.get("judgments", 0), "judgments"),
    ]
    return '<ul class="counts">' + "".join(f"<li><strong>{n:,}</strong>{_e(label)}</li>" for n, label in items) + "</ul>"


def _score_cell(s: Mapping[str, Any]) -> str:
    lo, hi = min(s["low"], s["high"]), max(s["low"], s["high"])
    return (f'<td class="score"><span class="pts">{s["points"]}</span>'
            f'<span class="bar" aria-hidden="true"><span class="fill" style="width:{_pct(s["score"])}"></span>'
            f'<span class="ci" style="left:{_pct(lo)};width:{_pct(hi - lo)}"></span></span>'
            f'<span class="hint"> ({s["low_points"]}–{s["high_points"]})</span></td>')


def _variants(sheet: Mapping[str, Any]) -> str:
    """The items grouped under a sheet (the same idea in other words), so a
    near-duplicate is seen where it went instead of missing from the ranking."""
    variants = sheet.get("variants") or ()
    if not variants:
        return ""
    said = "; ".join(f"“{_e(v['title'])}” ({v['supporters']:,} people)" for v in variants)
    return f'<div class="hint">Also said as: {said}</div>'


def _ranking(doc: Mapping[str, Any]) -> str:
    sheets = doc["sheets"]
    if not sheets:
        return "<p>No idea was evaluated.</p>"
    rows = "".join(
        f'<tr><td class="num">{_place(s)}</td><td>{_e(s["title"])}{_variants(s)}</td>{_score_cell(s)}'
        f'<td class="num">{s["supporters"]:,}</td><td>{_e(agreement_words(s))}</td></tr>'
        for s in sheets)
    return ('<table class="ranking"><caption class="hint">Every idea, best first (score out of 100, its 95% interval in '
            'brackets)</caption><thead><tr><th scope="col">Place</th><th scope="col">Idea</th>'
            '<th scope="col">Score /100</th><th scope="col" class="num">People</th><th scope="col">Agreement</th>'
            f"</tr></thead><tbody>{rows}</tbody></table>")


def supported_lower(sheets: Sequence[Mapping[str, Any]]) -> list[Mapping[str, Any]]:
    """Ideas among the TOP_PLACES most supported, placed below the top
    TOP_PLACES and supported by more people than an idea in it: named, so that
    a popular idea never vanishes down the ranking without a word (the
    console's console-results.js applies the same rule)."""
    if len(sheets) <= TOP_PLACES:
        return []
    most = sorted((s["supporters"] for s in sheets), reverse=True)[TOP_PLACES - 1]
    least_on_top = min(s["supporters"] for s in sheets if s["place"] <= TOP_PLACES)
    return [s for s in sheets
            if s["place"] > TOP_PLACES and s["supporters"] >= most and s["supporters"] > least_on_top]


def _supported_lower(doc: Mapping[str, Any]) -> str:
    sheets = doc["sheets"]
    lower = supported_lower(sheets)
    if not lower:
        return ""
    items = "".join(f'<li>“{_e(s["title"])}”: {s["supporters"]:,} people, place {_place(s)} '
                    f'({s["points"]}/100)</li>' for s in lower)
    return (f'<h3 id="supported-lower">Widely supported, lower in the ranking</h3><p>These ideas are among the '
            f"{TOP_PLACES} that the most people wrote or supported, but they are placed below the top {TOP_PLACES}: "
            "when people compared ideas, they chose them less often than those above. Supporting an idea is not the "
            f"same as putting it first.</p><ul>{items}</ul>")


def _idea(s: Mapping[str, Any]) -> str:
    texts = s["card_texts"]
    shown = [t for t in texts[:CARDS_SHOWN] if t != s["title"]] if len(texts) > 1 else []
    more = texts[CARDS_SHOWN:]
    out = (f'<li><span class="place">{_place(s)}</span> <strong>{_e(s["title"])}</strong> '
           f'<span class="hint">— {s["points"]}/100, {s["supporters"]:,} '
           f'{"person" if s["supporters"] == 1 else "people"}, {len(texts):,} card{"" if len(texts) == 1 else "s"}'
           "</span>")
    if shown:
        out += '<ul class="cards">' + "".join(f"<li>{_e(t)}</li>" for t in shown) + "</ul>"
    if more:
        out += (f"<details><summary>{len(more):,} more card{'' if len(more) == 1 else 's'}</summary>"
                '<ul class="cards">' + "".join(f"<li>{_e(t)}</li>" for t in more) + "</ul></details>")
    return out + "</li>"


def _themes(doc: Mapping[str, Any]) -> str:
    sheets = doc["sheets"]
    by_iid = {s["iid"]: s for s in sheets}
    groups: list[tuple[str, list[Mapping[str, Any]]]] = []
    seen: set[str] = set()
    for theme in doc["themes"]:
        # A sheet belongs to a theme by its items, or by the theme the results
        # gave it (the idea its variants were grouped under).
        tid = theme.get("tid")
        iids = set(theme["iids"]) | {s["iid"] for s in sheets if tid is not None and s.get("theme") == tid}
        members = sorted((by_iid[i] for i in iids if i in by_iid and i not in seen), key=lambda s: s["rank"])
        seen.update(s["iid"] for s in members)
        if members:
            groups.append((theme["title"], members))
    loose = [s for s in sheets if s["iid"] not in seen]
    if loose:
        groups.append(("Ideas in no theme" if groups else "All ideas", loose))
    if not groups:
        return "<p>No idea was evaluated.</p>"
    groups.sort(key=lambda g: g[1][0]["rank"])
    out = []
    for title, members in groups:
        cards = sum(len(s["card_texts"]) for s in members)
        out.append(f'<h3>{_e(title)}</h3><p class="hint">{len(members):,} idea{"" if len(members) == 1 else "s"}, '
                   f'{cards:,} card{"" if cards == 1 else "s"}, best place {_place(members[0])}</p>'
                   '<ul class="ideas">' + "".join(_idea(s) for s in members) + "</ul>")
    return "".join(out)


def _segment_label(key: str) -> str:
    """'role=Field' -> 'Field (role)'."""
    attr, _, value = key.partition("=")
    return f"{value} ({attr})" if value else key


def _groups(doc: Mapping[str, Any]) -> str:
    rows = [s for s in doc["sheets"][:GROUP_CHART_IDEAS] if len(s["segments"]) > 1]
    if not rows:
        return ("<p>No profile group had enough people to be compared (at least "
                f"{doc['min_segment_size']:,} per group, so that nobody's answer can be traced back).</p>")
    body = []
    for s in rows:
        segs = sorted(s["segments"].items(), key=lambda kv: kv[1])
        lo, hi = segs[0], segs[-1]
        dots = "".join(f'<span class="dot" style="left:{_pct(v)}" title="{_e(_segment_label(k))}: '
                       f'{round(100 * v)}"></span>' for k, v in segs)
        body.append(
            f'<tr><td class="num">{_place(s)}</td><td>{_e(s["title"])}</td>'
            f'<td><div class="track" aria-hidden="true"><span class="spread" style="left:{_pct(lo[1])};'
            f'width:{_pct(hi[1] - lo[1])}"></span>{dots}<span class="all" style="left:{_pct(s["score"])}"></span>'
            f'</div></td><td>{round(100 * lo[1])} for {_e(_segment_label(lo[0]))} to {round(100 * hi[1])} '
            f'for {_e(_segment_label(hi[0]))}</td></tr>')
    return ('<p class="legend">Each row is an idea; each red dot is the score a profile group gave it, the '
            'black line the score of everyone. A long red band means groups disagree about the idea; dots close '
            'together mean they see it the same way. Groups smaller than '
            f"{doc['min_segment_size']:,} people are left out.</p>"
            '<table class="groups"><thead><tr><th scope="col">Place</th><th scope="col">Idea</th>'
            '<th scope="col"><div class="axis" aria-hidden="true"><span>0</span><span>25</span><span>50</span>'
            '<span>75</span><span>100</span></div><span class="hint">Score by group</span></th>'
            f'<th scope="col">Lowest and highest group</th></tr></thead><tbody>{"".join(body)}</tbody></table>')


def _log(doc: Mapping[str, Any]) -> str:
    if not doc["log"]:
        return "<p>No moderation decision.</p>"
    rows = []
    for entry in doc["log"]:
        votes = entry.get("votes") or {}
        by = entry.get("by", "")
        if votes:
            by += f" ({votes.get('hide', 0)} hide, {votes.get('keep', 0)} keep)"
        when = time.strftime("%H:%M:%S", time.gmtime(entry["ts"])) if entry.get("ts") else ""
        rows.append(f'<tr><td class="num">{when}</td><td>{_e(entry.get("text") or entry.get("cid"))}</td>'
                    f'<td>{_e(entry.get("action", ""))}</td><td>{_e(by)}</td></tr>')
    return ('<table><thead><tr><th scope="col">Time (UTC)</th><th scope="col">Card</th><th scope="col">Decision'
            f'</th><th scope="col">By</th></tr></thead><tbody>{"".join(rows)}</tbody></table>')


def _phase_table(table: Mapping[str, Any]) -> str:
    head = "".join(f'<th scope="col">{_e(c)}</th>' for c in table["columns"])
    rows = "".join("<tr>" + "".join(f"<td>{_e(v)}</td>" for v in row) + "</tr>" for row in table["rows"])
    return f"<table><thead><tr>{head}</tr></thead><tbody>{rows}</tbody></table>"


def _questions(doc: Mapping[str, Any]) -> str:
    if not doc["questions"]:
        return "<p>The campaign asked no open question.</p>"
    return "<ol>" + "".join(
        f"<li>{_e(q['text'])}" + (f' <span class="hint">(asked to {_e(q["for"])} only)</span>' if q["for"] else "")
        + "</li>" for q in doc["questions"]) + "</ol>"


_SECTIONS = (("questions", "The questions"), ("reading", "How to read the scores"), ("ranking", "Priorities"),
             ("themes", "Ideas by theme"), ("groups", "Do groups see it the same way?"),
             ("moderation", "Moderation log"))


def render(doc: Mapping[str, Any], *, now: float | None = None) -> list[ExportFile]:
    doc = {**doc, "sheets": _with_place_labels(doc["sheets"])}
    made = time.time() if now is None else now
    body = {
        "questions": _questions(doc),
        "reading": (f"<p>{_e(doc['scale'])} The numbers in brackets are the 95% interval: two ideas whose "
                    "intervals overlap were not told apart by the crowd. Ideas with the same score share their place "
                    "(“=4”). <strong>Agreement</strong> says how much people answered the same way about an idea "
                    "(broad: most went the same way; low: opinions split); “divides groups” means profile groups "
                    "scored it far apart (see “Do groups see it the same way?”).</p>"),
        "ranking": _ranking(doc) + _supported_lower(doc),
        "themes": _themes(doc),
        "groups": _groups(doc),
        "moderation": _log(doc),
    }
    # Plugin phases' own tables (their state's report(), docs/plugins.md), before the moderation log.
    sections = list(_SECTIONS[:-1])
    for n, table in enumerate(doc.get("phase_reports", {}).values()):
        sections.append((f"phase-report-{n}", str(table["title"])))
        body[f"phase-report-{n}"] = _phase_table(table)
    sections.append(_SECTIONS[-1])
    parts = ['<!doctype html><html lang="en"><head><meta charset="utf-8">',
             '<meta name="viewport" content="width=device-width,initial-scale=1">',
             f"<title>{_e(doc['title'])}</title><style>{_STYLE}</style></head><body><header>",
             f"<h1>{_e(doc['title'])}</h1>",
             f'<p class="meta">Campaign of {_date(doc["created_at"])} · report made {_date(made, True)}</p>',
             _counts(doc), "</header>",
             '<nav aria-label="Contents"><ul>' + "".join(f'<li><a href="#{k}">{_e(t)}</a></li>' for k, t in sections)
             + "</ul></nav><main>"]
    for key, title in sections:
        parts.append(f'<section aria-labelledby="{key}"><h2 id="{key}">{_e(title)}</h2>{body[key]}</section>')
    parts.append("</main></body></html>")
    return [ExportFile("report.html", "text/html", "".join(parts).encode())]
