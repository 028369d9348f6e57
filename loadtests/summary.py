"""The one-screen summary printed at the end of every Locust run.

Reads Locust's stats objects by attribute only (no Locust import), so it
can be unit-tested with plain stand-ins.
"""

from __future__ import annotations

from typing import Any

from . import slo

__all__ = ["summarize"]

#: Rows shown before "... and N more": one screen.
MAX_ROWS = 22


def summarize(environment: Any, m: slo.Measured, breaches: list[slo.Breach]) -> str:
    stats = environment.stats
    lines = ["", "=" * 88, f"{'type':6} {'name':36} {'count':>8} {'fail':>6} {'p50':>6} {'p95':>6} {'p99':>6}  (ms)"]
    entries = sorted(stats.entries.values(), key=lambda e: (e.method, -e.num_requests))
    for e in entries[:MAX_ROWS]:
        lines.append(f"{e.method:6} {e.name[:36]:36} {e.num_requests:8d} {e.num_failures:6d} "
                     f"{e.get_response_time_percentile(0.5):6.0f} {e.get_response_time_percentile(0.95):6.0f} "
                     f"{e.get_response_time_percentile(0.99):6.0f}")
    if len(entries) > MAX_ROWS:
        lines.append(f"... and {len(entries) - MAX_ROWS} more rows in the CSV report")
    errors = sorted(stats.errors.values(), key=lambda e: -e.occurrences)[:5]
    for err in errors:
        lines.append(f"error x{err.occurrences}: {err.method} {err.name}: {str(err.error)[:60]}")
    o = slo.Objectives.from_env()
    lines.append("-" * 88)
    lines.append(f"requests {m.requests}, failures {m.failures} (ratio {m.failure_ratio:.5f}, limit "
                 f"{o.max_failure_ratio:g}); connection errors {m.connection_errors} (limit {o.max_connection_errors})")
    lines.append(f"ack p95 {slo.percentile(m.acks, 0.95):.0f} ms (limit {o.ack_p95_ms:g}), p99 "
                 f"{slo.percentile(m.acks, 0.99):.0f} ms (limit {o.ack_p99_ms:g}); update staleness p95 "
                 f"{slo.percentile(m.pushes, 0.95):.0f} ms (limit {o.staleness_p95_ms:g}) over "
                 f"{sum(m.pushes.values())} pushes")
    lines += [str(b) for b in breaches] or ["SLOs met"]
    lines.append("=" * 88)
    return "\n".join(lines)
