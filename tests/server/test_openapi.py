"""/openapi.json matches the routes, and the API survives fuzzing from it."""

from __future__ import annotations

import re
from typing import Any

import hypothesis
import jsonschema_rs
import pytest
import requests
import schemathesis
import trio
from server_fixtures import demo_template, threaded_server

from essaim.model.commands import Command
from essaim.server.http.openapi import openapi_document
from essaim.testing import joined, run_campaign_to

#: A schema-valid body can still be refused on meaning (TOML that is not a
#: campaign template, "advance" with no phase left): that 400/409 is right.
SEMANTIC_REJECTIONS = schemathesis.checks.positive_data_acceptance
#: Examples per operation: enough to hit every branch of small handlers, and
#: the whole run stays well under a minute on a shared 2-core machine.
FUZZ_EXAMPLES = 25


def _quart_routes(server) -> set[tuple[str, str]]:
    routes = set()
    for rule in server.quart.url_map.iter_rules():
        path = re.sub(r"<(?:[a-z]+:)?([a-z_]+)>", r"{\1}", rule.rule)
        for method in rule.methods - {"HEAD", "OPTIONS"}:
            routes.add((method.lower(), path))
    return routes


async def test_every_route_is_documented_and_every_documented_route_exists(server):
    documented = {(method, path) for path, ops in openapi_document()["paths"].items() for method in ops}
    assert _quart_routes(server) == documented
    r = await trio.to_thread.run_sync(lambda: requests.get(server.base_url + "/openapi.json", timeout=10))
    assert r.json()["paths"].keys() == openapi_document()["paths"].keys()
    assert r.json()["servers"] == [{"url": server.base_url}]


async def _campaign_with_results(engine: Any) -> str:
    """A campaign that went through every phase with cards, supports, a flag,
    placements and judgments: its structure, results and moderation have
    content for the response schemas to check (a draft campaign's are empty)."""
    campaign_id = (await engine.create_campaign(demo_template())).campaign_id
    people = await joined(engine, campaign_id, 8, {"role": "Field", "site": "North"})
    await run_campaign_to(engine, campaign_id, 0)
    topics = ["meetings", "tools", "travel", "training"]
    for i, actor in enumerate(people):
        await engine.execute(campaign_id, actor, Command("write_card", {"text": f"{topics[i % 4]} take too long {i}"}))
    cards = list(engine.state(campaign_id).cards)
    await engine.execute(campaign_id, people[1], Command("support_card", {"cid": cards[0]}))
    await engine.execute(campaign_id, people[2], Command("flag", {"cid": cards[0], "reason": "test"}))
    await run_campaign_to(engine, campaign_id, 1)
    for actor in people[:4]:
        hand = (await engine.execute(campaign_id, actor, Command("deal"))).result["hand"]
        if hand:
            items = hand["items"]
            await engine.execute(campaign_id, actor, Command("place", {"hid": hand["hid"],
                                                                       "themes": [[items[:2]], [items[2:]]]}))
    await run_campaign_to(engine, campaign_id, 2)
    for actor in people:
        task = await engine.next_task(campaign_id, actor.pid)
        if task is not None and task.kind == "pair":
            await engine.execute(campaign_id, actor, Command("evaluate", {"kind": "pair", "data": {
                "a": task.payload["a"]["iid"], "b": task.payload["b"]["iid"], "choice": "a"}}))
    await run_campaign_to(engine, campaign_id, 3)
    return campaign_id


@pytest.fixture(scope="module")
def live_api(tmp_path_factory) -> Any:
    """A server on its own trio thread, so schemathesis (blocking) can call it."""
    async def prepare(srv: Any) -> dict[str, Any]:
        created = await srv.engine.create_campaign(demo_template())
        return {"campaign_id": created.campaign_id, "lived_id": await _campaign_with_results(srv.engine)}

    with threaded_server(tmp_path_factory.mktemp("fuzz"), prepare) as threaded:
        yield {"base": threaded.base_url, "admin": threaded.admin_token, **threaded.extra}


@pytest.fixture(scope="module")
def api_schema(live_api: Any) -> Any:
    doc = openapi_document(live_api["base"])
    # Aim the campaign routes at a real campaign half of the time (else 404s only).
    for ops in doc["paths"].values():
        for op in ops.values():
            for param in op.get("parameters", ()):
                if param["name"] == "campaign_id":
                    param["schema"] = {"type": "string", "enum": [live_api["campaign_id"], live_api["lived_id"],
                                                                  "nosuchcampaign"]}
    doc["paths"] = {p: ops for p, ops in doc["paths"].items()
                   if p.startswith("/api/") or p in ("/healthz", "/readyz", "/openapi.json", "/asyncapi.json")}
    return schemathesis.openapi.from_dict(doc)


def test_api_fuzz(api_schema: Any, live_api: Any) -> None:
    """Every operation, fuzzed from its schema: no 5xx, responses as documented.

    Driven by hand (one hypothesis run per operation): schemathesis's pytest
    plugin does not run under pytest 9."""
    headers = {"Authorization": f"Bearer {live_api['admin']}"}
    operations = [result.ok() for result in api_schema.get_all_operations()]
    assert len(operations) >= 12

    for operation in operations:
        @hypothesis.given(case=operation.as_strategy())
        @hypothesis.settings(max_examples=FUZZ_EXAMPLES, deadline=None, database=None,
                             suppress_health_check=list(hypothesis.HealthCheck), derandomize=True)
        def fuzz(case: Any) -> None:
            case.call_and_validate(base_url=live_api["base"], headers=headers, timeout=10,
                                   excluded_checks=[SEMANTIC_REJECTIONS])

        fuzz()


def test_fuzzing_left_the_server_healthy(live_api: Any) -> None:
    r = requests.get(live_api["base"] + "/healthz", timeout=10)
    assert r.status_code == 200
    r = requests.get(f"{live_api['base']}/api/campaigns/{live_api['campaign_id']}",
                     headers={"Authorization": f"Bearer {live_api['admin']}"}, timeout=10)
    assert r.status_code == 200 and r.json()["campaign"]["title"]


def test_every_campaign_read_fits_its_response_schema(live_api: Any) -> None:
    """Not left to the fuzzer's draw: each GET of a campaign that has
    content (structure, results, a moderation log) fits its schema."""
    doc = openapi_document(live_api["base"])
    headers = {"Authorization": f"Bearer {live_api['admin']}"}
    checked = 0
    for path, ops in doc["paths"].items():
        if not path.startswith("/api/campaigns") or "get" not in ops or "{format}" in path:
            continue
        url = live_api["base"] + path.replace("{campaign_id}", live_api["lived_id"])
        r = requests.get(url, headers=headers, timeout=10)
        schema = ops["get"]["responses"][str(r.status_code)]["content"]["application/json"]["schema"]
        validator = jsonschema_rs.Draft202012Validator({"components": doc["components"], **schema})
        assert validator.is_valid(r.json()), (path, [e.message for e in validator.iter_errors(r.json())][:3])
        checked += 1
    assert checked >= 6
    body = requests.get(f"{live_api['base']}/api/campaigns/{live_api['lived_id']}/results", headers=headers,
                        timeout=10).json()
    assert body["sheets"] and body["structure"]["themes"], "the campaign has results to check"
