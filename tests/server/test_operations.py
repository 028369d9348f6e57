"""/healthz, /metrics, static files, JSON logs without tokens, GC tuning."""

from __future__ import annotations

import gc
import io
import logging

import orjson
import requests
import trio
from server_fixtures import new_campaign, participant_connection

from essaim.server.ops.logs import JsonFormatter, configure_logging


async def _get(url: str, **kw) -> requests.Response:
    return await trio.to_thread.run_sync(lambda: requests.get(url, timeout=10, **kw))


async def test_metrics_count_what_happens(server):
    campaign_id, code, fac = await new_campaign(server)
    await fac.phase(campaign_id, "start")
    async with participant_connection(server) as p:
        await p.join(code)
        await p.act_and_wait("write_card", text="a card for the metrics")
        await p.act_and_wait("support_card", cid="c404")
        text = (await _get(server.base_url + "/metrics", headers={"Authorization": f"Bearer {server.admin_token}"})).text
    values = {line.split(" ")[0]: float(line.split(" ")[1]) for line in text.splitlines()
              if line and not line.startswith("#")}
    assert values["essaim_connections_open"] == 1 and values["essaim_connections_accepted_total"] == 1
    assert values["essaim_frames_in_total"] >= 3
    assert values["essaim_frames_out_total"] >= 3
    assert values["essaim_ack_seconds_count"] == 2
    assert values['essaim_errors_total{code="not_found"}'] == 1
    assert values["essaim_store_commit_seconds_count"] >= 1
    assert values[f'essaim_campaign_participants{{campaign="{campaign_id}"}}'] == 1
    assert values[f'essaim_campaign_connections{{campaign="{campaign_id}"}}'] == 1
    assert "essaim_gc_pause_seconds_bucket" in text
    assert gc.get_threshold()[0] == server.settings.gc_threshold0


async def test_healthz_and_pages(server):
    r = await _get(server.base_url + "/healthz")
    assert r.status_code == 200 and r.json()["status"] == "ok"
    r = await _get(server.base_url + "/readyz")
    assert r.status_code == 200 and r.json()["status"] == "ready", r.text
    for path in ("/", "/join/ABC123", "/facilitator"):
        r = await _get(server.base_url + path)
        assert r.status_code in (200, 404)  # 404 only while the web app is not installed
        if r.status_code == 200:
            assert "text/html" in r.headers["Content-Type"]
    r = await _get(server.base_url + "/static/../../settings.py")
    assert r.status_code == 404


def test_json_logs_redact_secrets():
    out = io.StringIO()
    handler = configure_logging("info", stream=out)
    try:
        logging.getLogger("essaim.test").info("created", extra={"event": "x", "token": "SECRET", "code": "K7"})
    finally:
        logging.getLogger().removeHandler(handler)
    line = orjson.loads(out.getvalue().splitlines()[-1])
    assert line["msg"] == "created" and line["event"] == "x" and line["code"] == "K7"
    assert line["token"] == "[redacted]"
    assert isinstance(JsonFormatter().format(logging.makeLogRecord({"msg": "m"})), str)


async def test_no_token_reaches_the_logs(server, caplog):
    caplog.set_level(logging.DEBUG)
    campaign_id, code, fac = await new_campaign(server)
    await fac.phase(campaign_id, "start")
    async with participant_connection(server) as p:
        welcome = await p.join(code)
        await p.act_and_wait("write_card", text="log me not")
    r = await fac.call("GET", f"/api/campaigns/{campaign_id}/stats")
    assert r.status_code == 200
    server.stop_requested.set()
    text = "\n".join(JsonFormatter().format(rec) for rec in caplog.records)
    assert welcome["token"] not in text and fac.token not in text and server.admin_token not in text
