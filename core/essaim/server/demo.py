"""The demo campaign ``essaim serve --demo`` (``make run``) starts with.

Its credentials are kept in the data folder (mode 0600), next to the store,
so a restart shows the same links instead of creating a new campaign each
time (the facilitator token is stored hashed in the campaign itself and
cannot be printed again otherwise).
"""

from __future__ import annotations

import io
import json
import os
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import segno

from essaim.model.template import CampaignTemplate
from essaim.server.http.facilitator import builtin_templates

if TYPE_CHECKING:
    from essaim.engine import Engine

__all__ = ["DemoCampaign", "ensure_demo_campaign", "terminal_qr", "DEMO_FILE"]

DEMO_FILE = "demo-campaign.json"


@dataclass(frozen=True)
class DemoCampaign:
    campaign_id: str
    code: str
    facilitator_token: str

    def join_url(self, base: str) -> str:
        return f"{base}/join/{self.code}"

    def facilitator_url(self, base: str) -> str:
        return f"{base}/facilitator#campaign={self.campaign_id}&token={self.facilitator_token}"


async def ensure_demo_campaign(engine: Engine, data_dir: str | Path) -> DemoCampaign:
    path = Path(data_dir) / DEMO_FILE
    try:
        known = DemoCampaign(**json.loads(path.read_text(encoding="utf-8")))
        if known.campaign_id not in engine.campaign_ids():
            await engine.loaded.wait()  # a finished demo campaign loads after the live ones
        if known.campaign_id in engine.campaign_ids():
            return known
    except (OSError, ValueError, TypeError):
        pass
    template = CampaignTemplate.parse(builtin_templates()["demo"], source="demo.toml")
    created = await engine.create_campaign(template, source="demo.toml")
    demo = DemoCampaign(created.campaign_id, created.code, created.facilitator_token)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        json.dump(asdict(demo), f)
    return demo


def terminal_qr(url: str) -> str:
    """The URL as a QR code drawn with half blocks, for a phone to scan off the terminal."""
    out = io.StringIO()
    segno.make(url, error="m").terminal(out=out, compact=True, border=2)
    return out.getvalue()
