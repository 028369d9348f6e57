"""/asyncapi.json and /openapi.json: valid documents, generated from the
declarations the server checks with, and true to what the server sends.

Every frame of every in-process server in the suite is validated against
/asyncapi.json's schemas by tests/conftest.py (tests/frame_contract.py);
the campaign here makes sure every kind of frame and every section of an
update goes through that check at least once, and that the messages a
client sends by the schema are the ones the server accepts.
"""

from __future__ import annotations

import json
from contextlib import AsyncExitStack
from pathlib import Path
from typing import Any

import jsonschema_rs
import orjson
import requests
import trio
from frame_contract import FrameChecker, checking_frames
from openapi_spec_validator import validate as validate_openapi
from server_fixtures import new_campaign, participant_connection

from essaim.errors import CommandError
from essaim.plugin import PluginHost
from essaim.server.http.asyncapi import asyncapi_document, participant_message_schemas
from essaim.server.http.openapi import openapi_document
from essaim.server.ws.messages import QUERIES, SESSION_MESSAGES, check_message

#: The AsyncAPI 3.0.0 JSON Schema, from github.com/asyncapi/spec-json-schemas
#: (schemas/3.0.0-without-$id.json, Apache-2.0), kept here: tests run offline.
ASYNCAPI_META = Path(__file__).parent / "metaschemas" / "asyncapi-3.0.0.json"


def _commands() -> Any:
    return PluginHost.load(entry_points=False).registry.commands


def test_the_asyncapi_document_is_valid_asyncapi_3() -> None:
    meta = jsonschema_rs.validator_for(json.loads(ASYNCAPI_META.read_text()))
    for base in ("", "https://essaim.example.org"):
        doc = asyncapi_document(_commands(), base)
        assert not [e.message for e in meta.iter_errors(doc)]
    # The meta-schema does refuse a broken document (the check can fail).
    broken = asyncapi_document(_commands())
    broken["channels"]["participant"]["address"] = 7
    assert not meta.is_valid(broken)


def test_the_openapi_document_is_valid_openapi_3_1() -> None:
    validate_openapi(openapi_document("http://127.0.0.1:8000"))
    # Every JSON response of every route has a schema, and never a bare "object".
    for path, ops in openapi_document()["paths"].items():
        for method, op in ops.items():
            for status, response in op["responses"].items():
                schema = response.get("content", {}).get("application/json", {}).get("schema")
                assert schema != {"type": "object"}, (method, path, status)


def test_every_participant_message_is_published_from_its_declaration() -> None:
    commands = _commands()
    published = participant_message_schemas(commands)
    assert set(published) == set(commands.participant) | {"join", "resume", "suggest", "next"}
    for spec in commands:
        if spec.sender == "participant":
            assert published[spec.name][0] == spec.message_schema()
    # Facilitator and engine commands are not participant messages.
    assert "advance" not in published and "publish" not in published


def test_the_frame_checker_refuses_what_the_schema_does_not_declare() -> None:
    checker = FrameChecker(_commands())
    good_error = {"type": "error", "code": "bad_json", "message": "frames must be JSON objects"}
    assert checker.problems(good_error) == []
    assert checker.problems({**good_error, "extra": 1})
    update = {"type": "update", "seq": 3, "errors": [{"id": None, "code": "bad_request", "message": "m"}]}
    assert checker.problems(update) == []
    assert checker.problems({**update, "errors": [{"id": 7, "code": "bad_request", "message": "m"}]})
    assert checker.problems({"type": "update", "seq": 3, "acks": [{"id": "a", "seq": 1, "result": {"nope": 1}}]})
    assert checker.problems({"type": "update", "seq": 3, "acks": [{"id": "a", "seq": 1, "result": {"cid": "c1"}}]}) == []


async def test_the_served_documents_are_the_generated_ones(server) -> None:
    def get(path: str) -> Any:
        return requests.get(server.base_url + path, timeout=10).json()
    asyncapi = await trio.to_thread.run_sync(get, "/asyncapi.json")
    assert asyncapi == orjson.loads(orjson.dumps(asyncapi_document(server.engine.commands, server.base_url)))
    assert asyncapi["servers"]["essaim"]["host"] == server.base_url.split("//")[1]
    assert "/asyncapi.json" in (await trio.to_thread.run_sync(get, "/openapi.json"))["paths"]


async def test_a_campaign_through_every_phase_sends_only_declared_frames(server) -> None:
    """Every frame type and every update section, checked; and every message
    sent here (valid by the published schema) is accepted by the server."""
    inbound = {name: jsonschema_rs.Draft202012Validator(schema)
               for name, (schema, _) in participant_message_schemas(server.engine.commands).items()}
    problems: list[str] = []
    sections: set[str] = set()
    with checking_frames(problems) as checked:
        campaign_id, code, fac = await new_campaign(server)
        async with AsyncExitStack() as stack:
            ps = [await stack.enter_async_context(participant_connection(server)) for _ in range(6)]

            async def act(p: Any, type_: str, **fields: Any) -> dict[str, Any]:
                msg_id = f"m{len(p.ack_log)}-{len(p.errors)}-{len(p.replies)}-{type_}"
                assert inbound[type_].is_valid({"type": type_, "id": msg_id, **fields}), (type_, fields)
                if type_ in ("suggest", "next"):
                    await p.send({"type": type_, "id": msg_id, **fields})
                    await p.until(lambda p: msg_id in p.replies or any(e.get("id") == msg_id for e in p.errors))
                    return p.replies.get(msg_id) or next(e for e in p.errors if e.get("id") == msg_id)
                await p.send({"type": type_, "id": msg_id, **fields})
                await p.until(lambda p: msg_id in p.acks or any(e.get("id") == msg_id for e in p.errors))
                return p.acks.get(msg_id) or next(e for e in p.errors if e.get("id") == msg_id)

            # Before joining: error frames.
            await ps[0].send({"type": "write_card", "id": "x", "text": "too early"})
            await ps[0].until(lambda p: any(e.get("code") == "not_joined" for e in p.errors))
            for i, p in enumerate(ps):
                join = {"type": "join", "campaign": code, "profile": {"role": "Field", "site": "North"}}
                assert inbound["join"].is_valid(join)
                await p.join(code, join["profile"] if i else None)
            assert ps[0].welcome["phase"]["index"] == -1 and ps[0].welcome["phase"]["type"] is None

            await fac.phase(campaign_id, "start")
            for i, p in enumerate(ps):
                await p.until(lambda p: p.state["phase"]["type"] == "collect")
                assert "cid" in (await act(p, "write_card", text=f"meetings take too long, says {i}",
                                           prompt="slow"))["result"]
            assert "suggestions" in await act(ps[1], "suggest", text="meetings")
            # `next` is for evaluation phases only (docs/protocol.md §3).
            assert (await act(ps[1], "next"))["code"] == "wrong_phase"
            others = ps[1].state["you"]["cards"]
            assert "seq" in await act(ps[2], "support_card", cid=others[0]["cid"])
            # Invalid ids come back as null (docs/protocol.md §5), valid ones as sent.
            await ps[3].send({"type": "write_card", "id": 7, "text": "x"})
            await ps[3].until(lambda p: any(e.get("id") is None and e["code"] == "bad_request" for e in p.errors))

            await fac.phase(campaign_id, "advance", index=0)
            sorter = ps[4]
            await sorter.until(lambda p: p.state["phase"]["type"] == "sort")
            assert (await act(sorter, "volunteer"))["result"] == {"sorter": True}
            hand = (await act(sorter, "deal"))["result"]["hand"]
            await sorter.until(lambda p: p.state["you"]["hand"] is not None)
            items = hand["items"]
            assert "seq" in await act(sorter, "place", hid=hand["hid"], themes=[[items[:2]], [items[2:]]],
                                      offtopic=[])
            flagged = await act(ps[5], "flag", cid=ps[0].state["you"]["cards"][0]["cid"], reason="test")
            assert "case_id" in flagged["result"]
            # Jury of 5 among the 4 who neither wrote nor flagged the card: all of them.
            await ps[1].until(lambda p: bool(p.state["you"]["jury"]))
            for p in ps[1:5]:
                if p.state["you"]["jury"]:
                    case = p.state["you"]["jury"][0]
                    assert "seq" in await act(p, "judge", case_id=case["case_id"], verdict="keep")

            await fac.phase(campaign_id, "advance", index=1)
            p = ps[2]
            await p.until(lambda p: p.state["phase"]["type"] == "evaluate", timeout=30)
            reply = await act(p, "next")
            task = reply.get("task")
            if task and task["kind"] == "pair":
                assert "seq" in await act(p, "evaluate", kind="pair",
                                          data={"a": task["a"]["iid"], "b": task["b"]["iid"], "choice": "a"})

            await fac.phase(campaign_id, "advance", index=2)
            await p.until(lambda p: bool(p.state.get("results")), timeout=30)
            await fac.phase(campaign_id, "advance", index=3)
            await p.until(lambda p: p.state["phase"]["status"] == "finished", timeout=30)
            assert p.state["phase"]["index"] == 4 and p.state["phase"]["type"] is None  # len(phases), null
            # A late visitor: a spectator's welcome.
            async with participant_connection(server) as late:
                await late.send({"type": "join", "campaign": code})
                await late.until(lambda p: p.welcome is not None)
                assert late.welcome["spectator"] is True
            for q in ps:
                for frame in q.frames:
                    sections.add(frame["type"])
                    sections.update(k for k in frame if frame["type"] == "update")
    assert not problems, problems
    assert {"welcome", "update", "error", "acks", "errors", "replies", "phase", "counters", "you",
            "results"} <= sections, sections
    assert checked[0] >= 50


def test_the_published_session_and_query_schemas_agree_with_the_socket_checks() -> None:
    """join, resume, suggest and next are checked by the socket with the
    declarations /asyncapi.json publishes: both accept and refuse alike."""
    schemas = {name: jsonschema_rs.Draft202012Validator(schema)
               for name, (schema, _) in participant_message_schemas(_commands()).items()}
    declared = {**SESSION_MESSAGES, **QUERIES}
    cases = [
        ("join", {"campaign": "K7QP2M"}, True), ("join", {"campaign": "K7QP2M", "profile": None}, True),
        ("join", {"campaign": "K7QP2M", "profile": {"role": "Field"}, "lang": "fr"}, True),
        ("join", {"campaign": ""}, False), ("join", {"campaign": "x" * 65}, False), ("join", {}, False),
        ("join", {"campaign": 7}, False), ("join", {"campaign": "K7", "profile": []}, False),
        ("join", {"campaign": "K7", "lang": 5}, False), ("join", {"campaign": "K7", "extra": [1]}, True),
        ("resume", {"campaign": "K7", "token": "t", "seq": 3}, True), ("resume", {"campaign": "K7", "token": "t"}, True),
        ("resume", {"campaign": "K7", "token": ""}, False), ("resume", {"campaign": "K7", "token": "t" * 201}, False),
        ("resume", {"campaign": "K7", "token": "t", "seq": -1}, False), ("resume", {"campaign": "K7"}, False),
        ("resume", {"campaign": "K7", "token": "t", "seq": None}, True),
        ("suggest", {"text": ""}, True), ("suggest", {"text": "x" * 2000}, True),
        ("suggest", {"text": "x" * 2001}, False), ("suggest", {}, False), ("suggest", {"text": 3}, False),
        ("next", {}, True), ("next", {"anything": 1}, True),
    ]
    for name, payload, ok in cases:
        try:
            check_message(declared[name][0], payload)
            accepted = True
        except CommandError:
            accepted = False
        assert accepted == ok, (name, payload)
        message = {"type": name, **({} if name in SESSION_MESSAGES else {"id": "q1"}), **payload}
        assert schemas[name].is_valid(message) == ok, (name, message)
