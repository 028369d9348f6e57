"""What the browser tests share: a real ``essaim serve`` subprocess, a tiny
facilitator API client, headless Debian Chromium, and the axe-core check.

The server runs as its own process (not in the pytest process) so a test can
stop it and start it again on the same port and data directory, exactly as an
operator restarting a server would.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
REPO = HERE.parent.parent
AXE_JS = HERE / "vendor" / "axe.min.js"
#: Screenshots of every phase, kept with the test output (git-ignored).
REPORT_DIR = REPO / "reports" / "screenshots"
#: The campaign the browser tests run: the demo's four phases, small hands and juries
#: so three or four participants can go through every phase.
TEMPLATE = HERE / "campaign.toml"

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]
PHONE = {"width": 360, "height": 740}
#: A phone's browser context: its size, and a touch screen (no mouse hover).
PHONE_CONTEXT = {"viewport": PHONE, "has_touch": True, "is_mobile": True}
DESKTOP = {"width": 1280, "height": 900}
ADMIN_TOKEN = "browser-tests-admin-token"
#: A server starts in well under a second; 20 s covers a loaded 2-core machine.
START_TIMEOUT = 20.0
#: Counters go to everyone every 5 s by default; the tests want them sooner.
SERVER_SETTINGS = ("counters_interval=0.3",)


def chromium_path() -> str | None:
    """The Debian chromium binary, if installed."""
    if os.access(CHROMIUM, os.X_OK):
        return CHROMIUM
    return shutil.which("chromium")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class ServerProcess:
    """``essaim serve`` on 127.0.0.1:<port> with a data directory; restartable."""

    data_dir: Path
    port: int
    process: subprocess.Popen[bytes] | None = None
    #: Extra ``--set NAME=VALUE`` settings for this server.
    settings: tuple[str, ...] = ()
    #: Extra environment (PYTHONPATH to an installed plugin, say).
    env: dict[str, str] | None = None

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        log = open(self.data_dir / "server.log", "ab")  # noqa: SIM115 - lives as long as the process
        env = dict(self.env or os.environ, ESSAIM_ADMIN_TOKEN=ADMIN_TOKEN)
        cmd = [sys.executable, "-m", "essaim", "serve", "--port", str(self.port), "--data", str(self.data_dir),
               "--log-level", "warning"]
        for setting in SERVER_SETTINGS + self.settings:
            cmd += ["--set", setting]
        self.process = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, env=env, cwd=REPO)
        log.close()
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"essaim serve exited with {self.process.returncode}; see {self.data_dir / 'server.log'}")
            try:
                with urllib.request.urlopen(f"{self.base}/healthz", timeout=1) as r:
                    if r.status == 200:
                        return
            except OSError:
                time.sleep(0.1)
        raise RuntimeError(f"essaim serve did not answer on {self.base} within {START_TIMEOUT} s")

    def stop(self) -> None:
        """Stop as an operator would (SIGTERM: clients get 1012 and reconnect)."""
        if self.process is None:
            return
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        self.process = None

    def restart(self) -> None:
        self.stop()
        self.start()


class Api:
    """The facilitator HTTP API (docs/protocol.md §8), just enough for the tests."""

    def __init__(self, base: str, token: str) -> None:
        self.base = base
        self.token = token

    def call(self, path: str, body: Any = None) -> Any:
        data = json.dumps(body).encode() if body is not None else None
        req = urllib.request.Request(self.base + path, data=data, method="POST" if body is not None else "GET",
                                     headers={"Authorization": f"Bearer {self.token}", "Content-Type": "application/json"})
        try:
            with urllib.request.urlopen(req, timeout=10) as r:
                raw = r.read()
        except urllib.error.HTTPError as e:
            raise AssertionError(f"{path}: HTTP {e.code} {e.read()[:300]!r}") from None
        return json.loads(raw) if raw[:1] in (b"{", b"[") else raw


@dataclass
class Campaign:
    campaign_id: str
    code: str
    facilitator_token: str
    join_url: str
    facilitator_url: str
    api: Api

    def phase(self, action: str, **body: Any) -> Any:
        return self.api.call(f"/api/campaigns/{self.campaign_id}/phase/{action}", body)

    def show(self) -> Any:
        return self.api.call(f"/api/campaigns/{self.campaign_id}")


#: Profile questions, added only where a test is about them: a page asks
#: them before joining, which every other test would have to click through.
PROFILE_TOML = """
[[profile]]
key = "role"
label = "Your role"
choices = ["Field", "Office", "Management"]

[translations.fr.profile.role]
label = "Votre rôle"
choices = { Field = "Terrain", Office = "Bureau", Management = "Direction" }
"""


def create_campaign(server: ServerProcess, *, profile: bool = False, hand_size: int | None = None,
                    toml: str | None = None) -> Campaign:
    """A campaign of the test template (or of ``toml``); with the profile
    questions, or another hand size, when a test is about them."""
    admin = Api(server.base, ADMIN_TOKEN)
    toml = (toml or TEMPLATE.read_text(encoding="utf-8")) + (PROFILE_TOML if profile else "")
    if hand_size is not None:
        toml = toml.replace("hand_size = 4", f"hand_size = {hand_size}")
    created = admin.call("/api/campaigns", {"toml": toml})
    return Campaign(api=Api(server.base, created["facilitator_token"]), **created)


def axe_violations(page: Any, context: str) -> list[dict[str, Any]]:
    """Run axe-core in the page; return its serious and critical violations."""
    if not page.evaluate("() => typeof window.axe !== 'undefined'"):
        # Evaluated, not added as a <script>: the pages' Content-Security-Policy
        # refuses inline scripts, and DevTools evaluation is not subject to it.
        page.evaluate(AXE_JS.read_text(encoding="utf-8"))
    result = page.evaluate("async () => (await axe.run(document, {resultTypes: ['violations']})).violations")
    bad = [v for v in result if v.get("impact") in ("serious", "critical")]
    for v in bad:
        v["context"] = context
    return bad


def describe(violations: list[dict[str, Any]]) -> str:
    return "\n".join(
        f"[{v['context']}] {v['id']} ({v['impact']}): {v['help']} -> "
        + "; ".join(n.get("target", [""])[0] if isinstance(n.get("target", [""])[0], str) else str(n.get("target"))
                    for n in v.get("nodes", [])[:3])
        for v in violations)


#: JPEG quality of the committed documentation screenshots: text stays crisp enough, files stay small.
DOC_JPEG_QUALITY = 60


def shoot(page: Any, name: str, *, full_page: bool = True, doc: bool = False) -> Path:
    """Save a screenshot under reports/screenshots; with ``doc`` also in the
    folder ESSAIM_DOC_SCREENSHOTS names (``make screenshots``: the small,
    compressed set committed in docs/screenshots for the guides)."""
    REPORT_DIR.mkdir(parents=True, exist_ok=True)
    path = REPORT_DIR / f"{name}.png"
    if full_page:
        # From the top: a page scrolled down puts its sticky header mid-picture.
        page.evaluate("() => window.scrollTo(0, 0)")
    page.screenshot(path=str(path), full_page=full_page)
    docs = os.environ.get("ESSAIM_DOC_SCREENSHOTS")
    if docs and doc:
        Path(docs).mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(Path(docs) / f"{name}.jpeg"), full_page=full_page, type="jpeg", quality=DOC_JPEG_QUALITY)
    return path
