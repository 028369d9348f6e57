"""deploy/nginx.conf, run by Debian's nginx in front of a real ``essaim serve``:
joins get per-phone limits through the proxy, a campaign runs end to end
through it with no token in any log, and a SIGTERM drain reaches the phones."""

from __future__ import annotations

import signal
from collections.abc import Iterator

import orjson
import pytest
import requests
import trio
from realservers.essaim_serve import ADMIN_TOKEN, ServeProcess, running_serve
from realservers.nginx import NginxProxy, running_nginx
from trio_websocket import ConnectionClosed, wrap_client_stream

#: Phones, each from its own loopback address (127.0.1.x, 127.0.2.x: all of 127/8 is local).
PHONES = 400
#: Concurrent handshakes while they join.
JOIN_CONCURRENCY = 25
#: One join per address, and nothing refills during the test: without trusted
#: proxies, every phone would share nginx's address and all but these would be refused.
JOIN_BURST = 3
SERVE_ENV = {"ESSAIM_TRUSTED_PROXIES": "127.0.0.1", "ESSAIM_JOIN_RATE_PER_SECOND": "0.001",
             "ESSAIM_JOIN_BURST": str(JOIN_BURST), "ESSAIM_RATE_PER_SECOND": "200", "ESSAIM_RATE_BURST": "400",
             "ESSAIM_UPDATE_INTERVAL": "0.02", "ESSAIM_LOG_LEVEL": "debug"}


def phone_address(i: int) -> str:
    return f"127.0.{1 + i // 250}.{1 + i % 250}"


class Phone:
    """A participant on a WebSocket through nginx, from a chosen loopback address."""

    def __init__(self, ws) -> None:
        self.ws = ws
        self.frames: list[dict] = []

    async def send(self, obj: dict) -> None:
        await self.ws.send_message(orjson.dumps(obj).decode())

    async def recv(self) -> dict:
        msg = orjson.loads(await self.ws.get_message())
        self.frames.append(msg)
        return msg

    async def until(self, predicate, timeout: float = 20) -> dict:
        with trio.fail_after(timeout):
            while True:
                msg = await self.recv()
                if predicate(msg):
                    return msg


async def open_phone(nursery: trio.Nursery, proxy: NginxProxy, address: str,
                     headers: list[tuple[bytes, bytes]] = ()) -> Phone:
    stream = await trio.open_tcp_stream("127.0.0.1", proxy.port, local_address=address)
    ws = await wrap_client_stream(nursery, stream, f"127.0.0.1:{proxy.port}", "/ws", extra_headers=[
        (b"Origin", f"http://127.0.0.1:{proxy.port}".encode()), *headers])
    return Phone(ws)


def api(proxy: NginxProxy, method: str, path: str, token: str = ADMIN_TOKEN, body=None) -> requests.Response:
    return requests.request(method, proxy.base_url + path, json=body, timeout=20,
                            headers={"Authorization": f"Bearer {token}"})


async def call(proxy: NginxProxy, method: str, path: str, token: str = ADMIN_TOKEN, body=None) -> dict:
    r = await trio.to_thread.run_sync(lambda: api(proxy, method, path, token, body))
    assert r.status_code < 300, r.text
    return r.json()


@pytest.fixture(scope="module")
def deployment(tmp_path_factory) -> Iterator[tuple[ServeProcess, NginxProxy]]:
    folder = tmp_path_factory.mktemp("deploy")
    with running_serve(folder / "data", SERVE_ENV) as serve, running_nginx(serve.port, folder / "nginx") as proxy:
        yield serve, proxy


async def test_joins_through_the_proxy_are_limited_per_phone(deployment):
    serve, proxy = deployment
    created = await call(proxy, "POST", "/api/campaigns", body={"template": "demo"})
    code = created["code"]
    welcomed: list[str] = []
    limiter = trio.CapacityLimiter(JOIN_CONCURRENCY)

    async def join(i: int) -> None:
        async with limiter, trio.open_nursery() as nursery:
            phone = await open_phone(nursery, proxy, phone_address(i))
            await phone.send({"type": "join", "campaign": code})
            msg = await phone.until(lambda m: m["type"] in ("welcome", "error"))
            welcomed.append(msg["type"])
            nursery.cancel_scope.cancel()  # hang up (aclose can race a server ping in trio-websocket)

    async with trio.open_nursery() as nursery:
        for i in range(PHONES):
            nursery.start_soon(join, i)
    assert welcomed.count("welcome") == PHONES  # through one proxy, each phone its own budget

    # One phone's address spends its own budget only, whatever header it forges:
    # nginx appends the real address and essaim reads the chain from the right.
    results = []
    async with trio.open_nursery() as nursery:
        nursery.cancel_scope.deadline = trio.current_time() + 60  # hang up all of them at the end
        for n in range(JOIN_BURST + 1):
            forged = [(b"X-Forwarded-For", f"203.0.113.{n}".encode())]
            phone = await open_phone(nursery, proxy, "127.0.9.9", forged)
            await phone.send({"type": "join", "campaign": code})
            results.append((await phone.until(lambda m: m["type"] in ("welcome", "error"))).get("code", "welcome"))
        nursery.cancel_scope.cancel()
    assert results == ["welcome"] * JOIN_BURST + ["rate_limited"]
    logged = serve.log_text()
    assert '"client":"127.0.9.9"' in logged and "203.0.113." not in logged


async def test_a_campaign_runs_end_to_end_through_the_proxy_and_no_token_is_logged(deployment):
    serve, proxy = deployment
    created = await call(proxy, "POST", "/api/campaigns", body={"template": "demo"})
    cid, code, fac = created["campaign_id"], created["code"], created["facilitator_token"]
    base = f"/api/campaigns/{cid}"
    tokens = [ADMIN_TOKEN, fac]
    async with trio.open_nursery() as nursery:
        phones = [await open_phone(nursery, proxy, phone_address(1000 + i)) for i in range(4)]
        for phone in phones:
            await phone.send({"type": "join", "campaign": code})
            tokens.append((await phone.until(lambda m: m["type"] == "welcome"))["token"])
        await call(proxy, "POST", f"{base}/phase/start", fac)
        for i, phone in enumerate(phones):
            await phone.send({"type": "write_card", "id": f"w{i}", "text": f"idea number {i} through nginx"})
            msg_id = f"w{i}"
            await phone.until(lambda m, msg_id=msg_id: any(a["id"] == msg_id for a in m.get("acks", ())))
        for index in range(3):  # collect -> sort -> evaluate -> results
            await call(proxy, "POST", f"{base}/phase/advance", fac, {"index": index})
        for phone in phones:
            await phone.until(lambda m: bool(m.get("results")))  # the results phase reached every phone
        results = await call(proxy, "GET", f"{base}/results", fac)
        assert results["sheets"]
        exported = await trio.to_thread.run_sync(lambda: api(proxy, "GET", f"{base}/export/csv", fac))
        assert exported.status_code == 200 and "idea number" in exported.text
        nursery.cancel_scope.cancel()
    logs = serve.log_text() + proxy.error_log()
    assert '"event":"phase_changed"' in logs
    for token in tokens:
        assert token not in logs


async def test_sigterm_drain_reaches_phones_through_the_proxy(tmp_path):
    with running_serve(tmp_path / "data", SERVE_ENV) as serve, running_nginx(serve.port, tmp_path / "nginx") as proxy:
        created = await call(proxy, "POST", "/api/campaigns", body={"template": "demo"})
        async with trio.open_nursery() as nursery:
            phones = [await open_phone(nursery, proxy, phone_address(2000 + i)) for i in range(5)]
            for phone in phones:
                await phone.send({"type": "join", "campaign": created["code"]})
                await phone.until(lambda m: m["type"] == "welcome")
            serve.proc.send_signal(signal.SIGTERM)
            for phone in phones:
                with pytest.raises(ConnectionClosed) as closed, trio.fail_after(20):
                    while True:
                        await phone.recv()
                assert closed.value.reason.code == 1012  # "restarting": the phone resumes in 1-5 s
        assert await trio.to_thread.run_sync(serve.wait) == 0  # a clean exit after the drain
