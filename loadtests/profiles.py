"""The Locust profiles: who connects, how fast, for how long.

A profile is plain data so ``run.py`` (make loadtest), ``locustfile.py`` and
the docs agree. ``compression`` divides the demo campaign's 30 minutes and
every think time (see workload.py): users act ``compression`` times as often,
so 150 users at compression 20 put roughly the action rate of 3,000 real
participants on the server.
"""

from __future__ import annotations

from dataclasses import dataclass

from .workload import CAMPAIGN

__all__ = ["Profile", "PROFILES"]


@dataclass(frozen=True, slots=True)
class Profile:
    name: str
    users: int
    #: Users started per second (Locust ``--spawn-rate``).
    spawn_rate: float
    compression: float
    #: Seconds after the start at which every client drops and resumes (0: never).
    storm_after: float = 0.0
    #: Locust processes ``make loadtest`` starts for it (one process holds ~2,000 WS users).
    workers: int = 1
    description: str = ""

    @property
    def ramp_seconds(self) -> float:
        return self.users / self.spawn_rate

    @property
    def campaign_seconds(self) -> float:
        return CAMPAIGN.campaign_seconds / self.compression

    @property
    def run_seconds(self) -> int:
        """Locust ``--run-time``: ramp, the whole campaign, and a margin; the
        facilitator user normally ends the run sooner."""
        return int(self.ramp_seconds + self.campaign_seconds + 15)


PROFILES = {p.name: p for p in (
    Profile("smoke", users=150, spawn_rate=75, compression=24,
            description="CI: 150 users through every phase of a campaign compressed to 75 s"),
    Profile("campaign", users=10_000, spawn_rate=100, compression=1, workers=5,
            description="10,000 users over the real 30-minute campaign (needs ~5 Locust processes)"),
    Profile("reconnect-storm", users=1_500, spawn_rate=150, compression=6, storm_after=60,
            description="1,500 users; at 60 s every client drops and resumes with its token at once"),
    Profile("soak", users=1_500, spawn_rate=50, compression=0.5,
            description="1,500 users, the working phases stretched to 16 minutes each (~50 min): leaks and drift"),
)}
