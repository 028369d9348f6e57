"""Bad input gets its error code; the connection and the campaign are unharmed."""

from __future__ import annotations

import pytest
import trio
from server_fixtures import new_campaign, participant_connection, running_server, ws_url
from trio_websocket import ConnectionClosed, ConnectionRejected, open_websocket_url

from essaim import PluginError


async def test_frames_before_join(server):
    _, code, _ = await new_campaign(server)
    async with participant_connection(server) as p:
        await p.ws.send_message("{not json")
        assert (await p.recv())["code"] == "bad_json"
        await p.ws.send_message("[1, 2]")
        assert (await p.recv())["code"] == "bad_json"
        await p.send({"type": "write_card", "id": "x", "text": "hello"})
        assert (await p.recv())["code"] == "not_joined"
        await p.send({"type": "dance"})
        assert (await p.recv())["code"] == "unknown_type"
        await p.send({"type": "join", "campaign": "NOPE99"})
        assert (await p.recv())["code"] == "not_found"
    async with participant_connection(server) as p:
        await p.send({"type": "join", "campaign": code, "profile": {"role": "Astronaut"}})
        assert (await p.recv())["code"] == "bad_profile"
        await p.join(code.lower())  # codes are case-insensitive; the connection still works


async def test_bad_token_is_refused_and_closed_4003(server):
    _, code, _ = await new_campaign(server)
    async with participant_connection(server) as p:
        await p.send({"type": "resume", "campaign": code, "token": "not-a-token", "seq": 0})
        assert (await p.recv())["code"] == "unauthorized"
        with pytest.raises(ConnectionClosed) as closed:
            await p.recv()
        assert closed.value.reason.code == 4003


async def test_facilitator_token_cannot_act_as_participant(server):
    _, code, fac = await new_campaign(server)
    async with participant_connection(server) as p:
        await p.send({"type": "resume", "campaign": code, "token": fac.token, "seq": 0})
        assert (await p.recv())["code"] == "unauthorized"


async def test_errors_after_join_carry_the_action_id(server):
    campaign_id, code, fac = await new_campaign(server)
    async with participant_connection(server) as p, participant_connection(server) as other:
        await p.join(code)
        await other.join(code)
        wrong = await p.act_and_wait("write_card", text="too early")
        assert wrong["code"] == "wrong_phase"
        await fac.phase(campaign_id, "start")
        await p.ws.send_message("{oops")
        await p.until(lambda p: any(e["code"] == "bad_json" for e in p.errors))
        assert (await p.act_and_wait("teleport"))["code"] == "unknown_type"
        assert (await p.act_and_wait("start"))["code"] == "unknown_type"  # facilitator commands are not for participants
        assert (await p.act_and_wait("place", hid="h1", themes=[]))["code"] == "wrong_phase"
        assert (await p.act_and_wait("support_card", cid="c999"))["code"] == "not_found"
        assert (await p.act_and_wait("write_card", text=123))["code"] == "bad_request"
        assert (await p.act_and_wait("write_card", text="x" * 3000))["code"] == "too_long"
        await p.send({"type": "write_card", "text": "no id"})
        await p.until(lambda p: any(e["code"] == "bad_request" and e["id"] is None for e in p.errors))
        mine = await p.act_and_wait("write_card", text="a fine idea about meetings")
        assert mine["result"]["cid"]
        assert (await p.act_and_wait("support_card", cid=mine["result"]["cid"]))["code"] == "own_card"
        # The other participant saw none of it and still works.
        assert not other.errors
        assert "seq" in await other.act_and_wait("write_card", text="another idea about tools")


async def test_an_invalid_id_is_never_echoed_back(server):
    """docs/protocol.md §5: an error with no valid id says "id": null. A
    client that matches errors to its outbox by id must never get back an id
    it could not have sent (issue 15: "", 65 characters and 7 were echoed)."""
    campaign_id, code, fac = await new_campaign(server)
    await fac.phase(campaign_id, "start")
    async with participant_connection(server) as p:
        await p.join(code)
        for bad in ("", "x" * 65, 7, ["a"], {"a": 1}):
            for frame in ({"type": "write_card", "id": bad, "text": "an idea"},  # an action
                          {"type": "suggest", "id": bad, "text": "idea"},  # a query
                          {"type": "teleport", "id": bad},  # an unknown type
                          {"type": 5, "id": bad}):  # a type that is not a string
                p.errors.clear()
                await p.send(frame)
                await p.until(lambda p: bool(p.errors))
                assert p.errors[0]["id"] is None, (frame, p.errors)
                assert p.errors[0]["code"] in ("bad_request", "unknown_type"), p.errors
        # A valid id is echoed as sent, up to 64 characters.
        longest = "y" * 64
        await p.send({"type": "teleport", "id": longest})
        await p.until(lambda p: any(e["id"] == longest for e in p.errors))
        assert not server.engine.state(campaign_id).cards  # nothing was written


async def test_binary_frames_are_read_as_text(server):
    """docs/protocol.md §1: a binary frame holding UTF-8 JSON is read like
    a text frame; one that is not JSON is bad_json, and the socket stays."""
    campaign_id, code, fac = await new_campaign(server)
    await fac.phase(campaign_id, "start")
    async with participant_connection(server) as p:
        await p.ws.send_message(b'{"type": "join", "campaign": "%s"}' % code.encode())
        await p.until(lambda p: p.welcome is not None)
        await p.ws.send_message(b"\xff\xfe not json")
        await p.until(lambda p: any(e["code"] == "bad_json" for e in p.errors))
        await p.ws.send_message(b'{"type": "write_card", "id": "b1", "text": "a binary idea"}')
        await p.until(lambda p: "b1" in p.acks)


async def test_oversize_frame_closes_1009_and_harms_nobody(server):
    campaign_id, code, fac = await new_campaign(server)
    await fac.phase(campaign_id, "start")
    async with participant_connection(server) as big, participant_connection(server) as other:
        await big.join(code)
        await other.join(code)
        await big.ws.send_message('{"type":"write_card","id":"x","text":"' + "y" * (65 * 1024) + '"}')
        with pytest.raises(ConnectionClosed) as closed:
            while True:
                await big.recv()
        assert closed.value.reason.code == 1009
        assert "seq" in await other.act_and_wait("write_card", text="still fine")
    assert server.engine.state(campaign_id).counters["cards"] == 1


async def test_rate_limit_answers_rate_limited(tmp_path):
    async with running_server(tmp_path, rate_per_second=1.0, rate_burst=3) as server:
        campaign_id, code, fac = await new_campaign(server)
        await fac.phase(campaign_id, "start")
        async with participant_connection(server) as p:
            await p.join(code)
            ids = [await p.act("write_card", text=f"idea number {i} about meetings") for i in range(8)]
            await p.until(lambda p: all(i in p.acks or any(e["id"] == i for e in p.errors) for i in ids))
            limited = [e for e in p.errors if e["code"] == "rate_limited"]
            assert len(p.acks) >= 3 and limited
            assert len(p.acks) + len(limited) == 8


async def test_foreign_origin_is_refused(server):
    with pytest.raises(ConnectionRejected) as rejected:
        async with open_websocket_url(ws_url(server), extra_headers=[(b"Origin", b"https://evil.example")]):
            pass
    assert rejected.value.status_code == 403
    host = server.base_url.removeprefix("http://").encode()
    async with open_websocket_url(ws_url(server), extra_headers=[(b"Origin", b"http://" + host)]) as ws:
        await ws.send_message('{"type":"hello"}')
        assert b"unknown_type" in (await ws.get_message()).encode()


async def test_allowed_origins_setting(tmp_path):
    async with (
        running_server(tmp_path, allowed_origins=("https://app.example",)) as server,
        open_websocket_url(ws_url(server), extra_headers=[(b"Origin", b"https://app.example")]) as ws,
    ):
        await ws.send_message("{}")
        assert "unknown_type" in await ws.get_message()


async def test_a_non_string_type_is_a_bad_request_before_and_after_join(server):
    _, code, _ = await new_campaign(server)
    async with participant_connection(server) as p:
        await p.send({"type": []})
        assert (await p.recv())["code"] == "bad_request"
        await p.send({"type": {"join": 1}, "campaign": code})
        assert (await p.recv())["code"] == "bad_request"
        await p.join(code)  # the same connection still works
        await p.send({"type": [], "id": "t1"})
        await p.until(lambda p: any(e["code"] == "bad_request" and e["id"] == "t1" for e in p.errors))
        await p.send({"type": ["write_card"], "id": ["not", "an", "id"]})
        await p.until(lambda p: any(e["code"] == "bad_request" and e["id"] is None for e in p.errors))
        qid = await p.act("suggest", text="still here")
        await p.until(lambda p: qid in p.replies)


def _broken(*args, **kwargs):
    raise PluginError("plugin 'broken' raised in essaim_collection_similar: RuntimeError()")


async def test_a_failing_plugin_answers_plugin_error_and_logs_once(server, monkeypatch, caplog):
    campaign_id, code, fac = await new_campaign(server)
    await fac.phase(campaign_id, "start")
    monkeypatch.setattr(server.engine, "suggest", _broken_async)
    monkeypatch.setattr(server.engine, "next_task", _broken_async)
    async with participant_connection(server) as p:
        await p.join(code)
        for _ in range(3):
            assert (await p.act_and_wait("suggest", text="meetings"))["code"] == "plugin_error"
            assert (await p.act_and_wait("next"))["code"] == "plugin_error"
        assert "seq" in await p.act_and_wait("write_card", text="the connection still works")
    failures = [r for r in caplog.records if "plugin failed" in r.getMessage()]
    assert [r.getMessage().split(" at ")[1].split(" ")[0] for r in failures] == ["suggest", "next"]


async def test_failing_prompts_give_no_prompts_not_a_dead_connection(server, monkeypatch):
    campaign_id, code, fac = await new_campaign(server)
    await fac.phase(campaign_id, "start")
    monkeypatch.setattr(server.engine, "prompts", _broken_async)
    async with participant_connection(server) as p:
        welcome = await p.join(code)
        assert welcome["you"]["prompts"] == []
        assert "seq" in await p.act_and_wait("write_card", text="the connection still works")


async def _broken_async(*args, **kwargs):
    _broken()


async def test_a_socket_that_never_joins_is_closed_1008_after_join_timeout(tmp_path):
    async with running_server(tmp_path, join_timeout=0.3) as server, participant_connection(server) as p:
        with pytest.raises(ConnectionClosed) as closed:
            with trio.fail_after(5):
                await p.recv()
        assert closed.value.reason.code == 1008


async def test_a_join_outlasting_join_timeout_still_delivers_its_token(tmp_path):
    async with running_server(tmp_path, join_timeout=0.3) as server:
        campaign_id, code, _ = await new_campaign(server)
        real_join = server.engine.join

        async def slow_join(*args, **kwargs):
            joined = await real_join(*args, **kwargs)  # durable: the participant exists
            await trio.sleep(0.6)  # ... and the reply comes after join_timeout
            return joined

        server.engine.join = slow_join
        async with participant_connection(server) as p:
            await p.send({"type": "join", "campaign": code})
            welcome = await p.recv()
            assert welcome["type"] == "welcome", welcome
            qid = await p.act("suggest", text="the connection is usable")
            await p.until(lambda p: qid in p.replies)
        assert server.engine.state(campaign_id).counters["participants"] == 1
        assert server.engine.authenticate(campaign_id, welcome["token"]).pid == welcome["pid"]


async def test_a_join_caught_by_the_drain_gets_its_welcome_then_1012(tmp_path):
    async with running_server(tmp_path) as server:
        _, code, _ = await new_campaign(server)
        real_join = server.engine.join
        started = trio.Event()

        async def slow_join(*args, **kwargs):
            joined = await real_join(*args, **kwargs)
            started.set()
            await trio.sleep(0.5)
            return joined

        server.engine.join = slow_join
        async with participant_connection(server) as p:
            await p.send({"type": "join", "campaign": code})
            await started.wait()
            server.stop_requested.set()
            assert (await p.recv())["type"] == "welcome"
            with pytest.raises(ConnectionClosed) as closed:
                while True:
                    await p.recv()
            assert closed.value.reason.code == 1012


async def test_a_phone_of_a_campaign_still_loading_after_a_restart_is_told_to_retry_1012(tmp_path, monkeypatch):
    """Finished campaigns are rebuilt after the server starts serving; a
    phone that resumes (or joins) one meanwhile gets 'unavailable' and close
    1012, on which the client retries after 1-5 s, instead of a join form."""
    import threading

    from server_fixtures import demo_template

    import essaim
    from essaim import FACILITATOR, Command
    from essaim.engine import Engine
    from essaim.server.run import STORE_FILE

    (tmp_path / "data").mkdir()
    async with essaim.open_engine(tmp_path / "data" / STORE_FILE) as engine:
        created = await engine.create_campaign(demo_template())
        joined = await engine.join(created.campaign_id, {"role": "Field", "site": "North"})
        await engine.execute(created.campaign_id, FACILITATOR, Command("start"))
        for _ in range(4):
            await engine.execute(created.campaign_id, FACILITATOR, Command("advance"))
        assert engine.state(created.campaign_id).status == "finished"
    release, rebuild = threading.Event(), Engine._rebuild
    monkeypatch.setattr(Engine, "_rebuild", lambda self, cid: release.wait(30) and rebuild(self, cid))
    try:
        async with running_server(tmp_path) as server:
            async with participant_connection(server) as p:
                await p.send({"type": "resume", "campaign": created.code, "token": joined.token, "seq": 0})
                assert (await p.recv())["code"] == "unavailable"
                with pytest.raises(ConnectionClosed) as closed:
                    await p.recv()
                assert closed.value.reason.code == 1012
            release.set()
            await server.engine.loaded.wait()
            async with participant_connection(server) as p:
                await p.send({"type": "resume", "campaign": created.code, "token": joined.token, "seq": 0})
                welcome = await p.recv()
                assert welcome["type"] == "welcome", welcome
    finally:
        release.set()
