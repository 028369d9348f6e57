"""Opportunity sheets and exports, through the real engine."""

from __future__ import annotations

import csv
import io

import orjson
import trio

import essaim
from essaim import FACILITATOR, Command
from essaim.testing import make_template

TEMPLATE = make_template(
    ("collect", {"type": "evaluate", "strategy": "agree_disagree", "settings": {"min_votes": 2}},
     {"type": "results", "auto_advance": False}),
    title="Exports", min_segment_size=4,
)


async def _campaign(engine):
    created = await engine.create_campaign(TEMPLATE)
    cid = created.campaign_id
    # 6 Field people, 2 Office people: the Office segment is below min_segment_size.
    joined = [await engine.join(cid, {"role": "Field" if i < 6 else "Office"}) for i in range(8)]
    actors = [engine.authenticate(cid, j.token) for j in joined]
    await engine.execute(cid, FACILITATOR, Command("start"))
    texts = ["Shorter meetings", "Write to me at jane@example.org about parking", "Better coffee"]
    for actor, text in zip(actors, texts):
        await engine.execute(cid, actor, Command("write_card", {"text": text}))
    await engine.execute(cid, actors[5], Command("support_card", {"cid": "c1"}))
    await engine.execute(cid, FACILITATOR, Command("advance"))
    for n, actor in enumerate(actors):
        while (task := await engine.next_task(cid, actor.pid)) is not None:
            vote = "agree" if task.payload["iid"] == "ic1" or n % 2 else "disagree"
            await engine.execute(cid, actor, Command("evaluate", {"kind": "vote",
                                                                  "data": {"iid": task.payload["iid"], "vote": vote}}))
    ack = await engine.execute(cid, actors[3], Command("flag", {"cid": "c3", "reason": "off-topic"}))
    case = engine.state(cid).cases[ack.result["case_id"]]
    for juror in case.jury[:3]:
        await engine.execute(cid, essaim.Actor.participant(juror), Command("judge", {"case_id": case.case_id,
                                                                                      "verdict": "keep"}))
    await engine.execute(cid, FACILITATOR, Command("advance"))
    return cid


async def test_sheets_rank_ideas_and_hide_small_segments() -> None:
    async with essaim.open_engine(None) as engine:
        cid = await _campaign(engine)
        results = await engine.results(cid)
        sheets = results.sheets
        assert [s.rank for s in sheets] == [1, 2, 3]
        assert sheets[0].iid == "ic1" and sheets[0].supporters == 2  # author + one supporter
        assert sheets[0].low <= sheets[0].score <= sheets[0].high
        for sheet in sheets:
            assert "role=Field" in sheet.segments
            assert "role=Office" not in sheet.segments  # 2 people < min_segment_size 4
        email_sheet = next(s for s in sheets if s.iid == "ic2")
        assert "[email]" in email_sheet.title and "jane@" not in email_sheet.title


async def test_exports_json_csv_polis_html() -> None:
    async with essaim.open_engine(None) as engine:
        cid = await _campaign(engine)
        state = engine.state(cid)
        secrets = [j for j in state.tokens] + [state.facilitator_token_hash]

        (doc_file,) = await engine.export(cid, "json")
        doc = orjson.loads(doc_file.content)
        assert doc["moderation_log"] and doc["moderation_log"][0]["by"] == "jury"
        assert {c["cid"] for item in doc["provenance"] for c in item["cards"]} == {"c1", "c2", "c3"}
        assert all("role=Office" not in s["segments"] for s in doc["scores"])
        assert not any(secret in doc_file.content.decode() for secret in secrets)
        # Juror votes appear as counts only, as in the facilitator API: who voted what stays private.
        jury_entry = next(e for e in doc["moderation_log"] if e["by"] == "jury")
        assert jury_entry["votes"] == {"hide": 0, "keep": 3}
        jurors = set(state.cases[jury_entry["case_id"]].jury)
        assert not any(f'"{pid}"' in doc_file.content.decode() for pid in jurors - _named_in_provenance(doc))

        (csv_file,) = await engine.export(cid, "csv")
        rows = list(csv.DictReader(io.StringIO(csv_file.content.decode())))
        assert rows[0]["iid"] == "ic1" and len(rows) == 3

        polis = {f.name: f.content.decode() for f in await engine.export(cid, "polis")}
        assert set(polis) == {"summary.csv", "comments.csv", "votes.csv", "participant-votes.csv",
                              "comment-groups.csv"}
        votes = list(csv.DictReader(io.StringIO(polis["votes.csv"])))
        assert len(votes) == len(state.judgments) and {v["vote"] for v in votes} <= {"1", "-1", "0"}
        header = next(csv.reader(io.StringIO(polis["comment-groups.csv"])))
        assert header[:6] == ["comment-id", "comment", "total-votes", "total-agrees", "total-disagrees",
                              "total-passes"]
        assert next(csv.reader(io.StringIO(polis["participant-votes.csv"])))[:3] == ["participant", "group-id",
                                                                                     "n-comments"]

        (report,) = await engine.export(cid, "html")
        page = report.content.decode()
        assert page.startswith("<!doctype html>")
        # Self-contained: no script, nothing fetched, links only within the page.
        assert "<script" not in page and 'src="' not in page and 'href="' not in page.replace('href="#', "")
        assert "Shorter meetings" in page
        # The moderation log names the card by its text, not by its id.
        assert "<td>Better coffee</td><td>keep</td><td>jury (0 hide, 3 keep)</td>" in page
        assert "Office" not in page, "a segment below min_segment_size never shows"
        assert not any(secret in page for secret in secrets)


def _named_in_provenance(doc: dict) -> set[str]:
    """Participant ids the provenance section names on purpose (authors, supporters)."""
    return {pid for item in doc["provenance"] for c in item["cards"] for pid in [c["author"], *c["supporters"]]}


async def test_exports_render_concurrently_with_queries() -> None:
    async with essaim.open_engine(None) as engine:
        cid = await _campaign(engine)
        async with trio.open_nursery() as nursery:
            nursery.start_soon(engine.export, cid, "polis")
            nursery.start_soon(engine.export, cid, "html")
            # A query still answers while exports render in worker threads.
            assert (await engine.results(cid)).sheets


async def test_results_within_max_age_are_shared_and_without_it_are_of_the_current_seq() -> None:
    async with essaim.open_engine(None) as engine:
        created = await engine.create_campaign(TEMPLATE)
        cid = created.campaign_id
        actors = [engine.authenticate(cid, (await engine.join(cid, {"role": "Field"})).token) for _ in range(5)]
        await engine.execute(cid, FACILITATOR, Command("start"))
        for n, actor in enumerate(actors[:3]):
            await engine.execute(cid, actor, Command("write_card", {"text": f"idea number {n}"}))
        await engine.execute(cid, FACILITATOR, Command("advance"))
        first = await engine.results(cid, max_age=60.0)

        async def vote(actor: essaim.Actor) -> None:
            task = await engine.next_task(cid, actor.pid)
            assert task is not None
            await engine.execute(cid, actor, Command("evaluate", {"kind": "vote", "data": {
                "iid": task.payload["iid"], "vote": "agree"}}))

        await vote(actors[4])
        # A console polling within max_age gets the results already computed...
        assert (await engine.results(cid, max_age=60.0)).seq == first.seq
        # ...an export or a caller without max_age gets the state as it is now.
        now = await engine.results(cid)
        assert now.seq == engine.state(cid).seq > first.seq
        assert sum(s.n for s in now.scores) == sum(s.n for s in first.scores) + 1


async def test_results_and_exports_count_segment_judges_off_the_trio_thread(monkeypatch) -> None:
    """The engine counts judges per segment once, in a worker thread, on the
    snapshot the scores came from; the sheets and export hooks get those
    counts instead of making a second pass over every judgment."""
    async with essaim.open_engine(None) as engine:
        cid = await _campaign(engine)

        def counted_on_the_trio_thread(*args: object) -> None:
            raise AssertionError("a hook counted every judgment again")

        monkeypatch.setattr("essaim.plugin.segments.count_segment_judges", counted_on_the_trio_thread)
        results = await engine.results(cid)
        assert all("role=Office" not in s.segments for s in results.sheets + results.scores)
        for fmt in ("json", "csv", "polis", "html"):
            assert await engine.export(cid, fmt)
