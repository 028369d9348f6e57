"""The pledges phase on a real engine: between the built-in phases, its
commands checked, its state replayed, its report in the exports."""

from __future__ import annotations

from importlib.metadata import entry_points
from pathlib import Path

import essaim_pledges
import orjson
import pytest

import essaim
from essaim import FACILITATOR, Command, CommandError
from essaim.testing import joined, make_template, open_test_engine, run_campaign_to

PHASES = ["collect", "evaluate", {"type": "pledges", "settings": {"max_pledges": 1}}, "results"]


def test_essaim_finds_the_plugin_through_its_entry_point() -> None:
    [ep] = [ep for ep in entry_points(group="essaim") if ep.name == "pledges"]
    assert ep.load() is essaim_pledges
    host = essaim.PluginHost.load()
    ptype = host.registry.phase_types["pledges"]
    assert ptype.plugin == "pledges" and ptype.state is essaim_pledges.PledgeBoard
    assert ptype.web is not None and ptype.web.file("screen.js") is not None


def test_a_template_with_a_wrong_setting_is_refused() -> None:
    host = essaim.PluginHost.load(extra=[essaim_pledges], entry_points=False)
    template = make_template(phases=["collect", {"type": "pledges", "settings": {"max_pledges": 0}}])
    with pytest.raises(essaim.TemplateError, match="max_pledges"):
        template.check(host.registry)


async def test_people_pledge_on_ranked_ideas_and_the_exports_say_so(tmp_path: Path) -> None:
    db = tmp_path / "essaim.sqlite3"
    async with open_test_engine(plugins=[essaim_pledges], store=db) as engine:
        cid = (await engine.create_campaign(make_template(phases=PHASES))).campaign_id
        ann, bob, cat = await joined(engine, cid, 3)
        await run_campaign_to(engine, cid, 0)
        for who, text in ((ann, "Fewer meetings"), (bob, "Faster laptops")):
            await engine.execute(cid, who, Command("write_card", {"text": text}))
        await run_campaign_to(engine, cid, 1)
        with pytest.raises(CommandError) as early:  # not in the evaluation phase
            await engine.execute(cid, ann, Command("pledge", {"iid": "x", "text": "I will"}))
        assert early.value.code == "wrong_phase"
        state = await run_campaign_to(engine, cid, 2)
        meetings = next(iid for iid, item in state.items.items() if item.title == "Fewer meetings")

        await engine.execute(cid, ann, Command("pledge", {"iid": meetings, "text": "I'll cancel my Monday meeting"}))
        await engine.execute(cid, bob, Command("pledge", {"iid": meetings, "text": "I'll try no-meeting Fridays"}))
        for args, code in (({"iid": meetings, "text": "x" * 201}, "too_long"), ({"iid": meetings}, "bad_request"),
                           ({"iid": meetings, "text": "ok", "extra": 1}, "bad_request"),
                           ({"iid": "nope", "text": "I will"}, "not_found")):
            with pytest.raises(CommandError) as refused:
                await engine.execute(cid, cat, Command("pledge", args))
            assert refused.value.code == code, args
        other = next(iid for iid in state.items if iid != meetings)
        with pytest.raises(CommandError) as limited:  # max_pledges = 1
            await engine.execute(cid, ann, Command("pledge", {"iid": other, "text": "also this"}))
        assert limited.value.code == "limit_exceeded"
        await engine.execute(cid, FACILITATOR, Command("spotlight", {"iid": meetings}))

        board = engine.state(cid).phase_state("pledges")
        assert board.view()["ideas"][0] == {"iid": meetings, "title": "Fewer meetings", "count": 2, "recent": [
            "I'll cancel my Monday meeting", "I'll try no-meeting Fridays"]}
        assert board.view()["spotlight"] == {"iid": meetings, "title": "Fewer meetings"}
        assert board.view_for(ann.pid) == {"mine": {meetings: "I'll cancel my Monday meeting"}}
        live = engine.state(cid).to_dict()
        await run_campaign_to(engine, cid, 3)
        [json_file] = await engine.export(cid, "json")
        [html_file] = await engine.export(cid, "html")
    report = orjson.loads(json_file.content)["phase_reports"]["pledges"]
    assert report["rows"] == [["Fewer meetings", 2, "I'll cancel my Monday meeting / I'll try no-meeting Fridays"]]
    assert b"Action pledges" in html_file.content and b"no-meeting Fridays" in html_file.content
    # A restart replays the board from the log.
    async with open_test_engine(plugins=[essaim_pledges], store=db) as engine:
        assert engine.state(cid).phase_states["pledges"].to_dict() == live["phase_states"]["pledges"]


def test_the_board_round_trips_through_its_snapshot_form() -> None:
    board = essaim_pledges.PledgeBoard()
    for seq, (etype, data) in enumerate([
        ("pledges:pledged", {"pid": "p1", "iid": "i1", "title": "A", "text": "x"}),
        ("pledges:pledged", {"pid": "p2", "iid": "i1", "title": "A", "text": "y"}),
        ("pledges:withdrawn", {"pid": "p1", "iid": "i1"}),
        ("pledges:spotlit", {"iid": "i1", "title": "A"}),
    ], start=1):
        board.apply(essaim.Event(seq, etype, 0.0, data))
    again = essaim_pledges.PledgeBoard.from_dict(orjson.loads(orjson.dumps(board.to_dict())))
    assert again.to_dict() == board.to_dict() and again.view()["ideas"][0]["count"] == 1
