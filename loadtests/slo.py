"""The service-level objectives every load run is gated on.

Pure functions over latency histograms (milliseconds → count, the shape
Locust keeps in ``StatsEntry.response_times``), so the Locust gate and the
lean capacity benchmark judge a run the same way. Thresholds can be
overridden from the environment (``ESSAIM_SLO_ACK_P95_MS=1`` makes any run
fail, which is how the gate itself is checked).
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

__all__ = ["Objectives", "Measured", "Breach", "percentile", "merge", "check", "record", "verdict"]


@dataclass(frozen=True, slots=True)
class Objectives:
    """The targets of brief §3; each can be overridden by its env variable."""

    #: Failed requests / all requests (acks, pushes, connects).
    max_failure_ratio: float = 0.001
    #: Action acknowledged once durable: 95th and 99th percentiles.
    ack_p95_ms: float = 250.0
    ack_p99_ms: float = 500.0
    #: Live update staleness (receive time - the server's event time).
    staleness_p95_ms: float = 2000.0
    #: WebSocket connections refused or dropped unexpectedly.
    max_connection_errors: int = 0

    @classmethod
    def from_env(cls, env: Mapping[str, str] = os.environ) -> Objectives:
        names = {
            "max_failure_ratio": "ESSAIM_SLO_FAILURE_RATIO",
            "ack_p95_ms": "ESSAIM_SLO_ACK_P95_MS",
            "ack_p99_ms": "ESSAIM_SLO_ACK_P99_MS",
            "staleness_p95_ms": "ESSAIM_SLO_STALENESS_P95_MS",
            "max_connection_errors": "ESSAIM_SLO_CONNECTION_ERRORS",
        }
        defaults, values = cls(), {}
        for attr, var in names.items():
            if var in env:
                try:
                    values[attr] = type(getattr(defaults, attr))(float(env[var]))
                except ValueError:
                    raise SystemExit(f"{var}={env[var]!r} is not a number; unset it or give a number") from None
        return cls(**values)


@dataclass(slots=True)
class Measured:
    """What a run measured, in the units of :class:`Objectives`."""

    requests: int = 0
    failures: int = 0
    connection_errors: int = 0
    acks: dict[int, int] = field(default_factory=dict)
    pushes: dict[int, int] = field(default_factory=dict)

    @property
    def failure_ratio(self) -> float:
        return self.failures / self.requests if self.requests else 0.0


@dataclass(frozen=True, slots=True)
class Breach:
    slo: str
    measured: float
    limit: float

    def __str__(self) -> str:
        return f"SLO BREACHED: {self.slo} = {self.measured:g} (limit {self.limit:g})"


def bucket_ms(seconds: float) -> int:
    """Locust's rounding of a response time, so histograms merge cleanly."""
    ms = seconds * 1000.0
    if ms < 100:
        return round(ms)
    if ms < 1000:
        return round(ms, -1)
    if ms < 10000:
        return round(ms, -2)
    return round(ms, -3)


def record(hist: dict[int, int], seconds: float) -> None:
    key = int(bucket_ms(seconds))
    hist[key] = hist.get(key, 0) + 1


def merge(hists: Iterable[Mapping[int, int]]) -> dict[int, int]:
    out: dict[int, int] = {}
    for h in hists:
        for k, n in h.items():
            out[k] = out.get(k, 0) + n
    return out


def percentile(hist: Mapping[int, int], q: float) -> float:
    """The smallest value at or above which a share ``1 - q`` lies (0 if empty)."""
    total = sum(hist.values())
    if not total:
        return 0.0
    target, seen = q * total, 0
    for value in sorted(hist):
        seen += hist[value]
        if seen >= target:
            return float(value)
    return float(max(hist))


def check(m: Measured, o: Objectives) -> list[Breach]:
    """Every objective the run missed, empty when it met them all."""
    breaches = []
    if m.failure_ratio >= o.max_failure_ratio and m.failures:
        breaches.append(Breach("failure ratio", round(m.failure_ratio, 5), o.max_failure_ratio))
    for name, hist, q, limit in (
        ("ack p95 ms", m.acks, 0.95, o.ack_p95_ms),
        ("ack p99 ms", m.acks, 0.99, o.ack_p99_ms),
        ("update staleness p95 ms", m.pushes, 0.95, o.staleness_p95_ms),
    ):
        value = percentile(hist, q)
        if value >= limit:
            breaches.append(Breach(name, value, limit))
    if m.connection_errors > o.max_connection_errors:
        breaches.append(Breach("connection errors", m.connection_errors, o.max_connection_errors))
    return breaches


def verdict(m: Measured, o: Objectives, breaches: list[Breach], **context: object) -> dict[str, object]:
    """The run's judgement as JSON for a pipeline (written beside Locust's
    CSV files as ``<prefix>_verdict.json``); the exit code says the same:
    ``exit_code`` 1 when an SLO broke."""
    return {
        "passed": not breaches,
        "exit_code": 1 if breaches else 0,
        **context,
        "measured": {
            "requests": m.requests, "failures": m.failures, "failure_ratio": round(m.failure_ratio, 6),
            "connection_errors": m.connection_errors,
            "acks": sum(m.acks.values()), "ack_p95_ms": percentile(m.acks, 0.95),
            "ack_p99_ms": percentile(m.acks, 0.99),
            "pushes": sum(m.pushes.values()), "staleness_p95_ms": percentile(m.pushes, 0.95),
        },
        "objectives": {"max_failure_ratio": o.max_failure_ratio, "ack_p95_ms": o.ack_p95_ms,
                       "ack_p99_ms": o.ack_p99_ms, "staleness_p95_ms": o.staleness_p95_ms,
                       "max_connection_errors": o.max_connection_errors},
        "breaches": [{"slo": b.slo, "measured": b.measured, "limit": b.limit} for b in breaches],
    }
