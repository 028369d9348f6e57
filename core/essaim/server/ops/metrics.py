"""The server's counters and their Prometheus text rendering (``/metrics``).

Counting is a few integer additions on the hot path; rendering walks the
engine's histograms and the hubs only when scraped.
"""

from __future__ import annotations

import gc
import time
from collections import Counter
from typing import TYPE_CHECKING

from essaim.engine.metrics import LATENCY_BUCKETS, Histogram

if TYPE_CHECKING:
    from essaim.engine import Engine
    from essaim.server.ws.fanout import Hubs

__all__ = ["ServerMetrics", "GcPauses", "render_prometheus"]

#: Seconds: GC pauses from sub-millisecond to the ~1 s full collections seen untuned.
GC_BUCKETS: tuple[float, ...] = (0.0005, 0.001, 0.005, 0.01, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5)


class ServerMetrics:
    """Plain counters kept by the connections and the fan-out."""

    def __init__(self) -> None:
        self.connections_total = 0
        self.connections_open = 0
        self.frames_in = 0
        self.bytes_in = 0
        self.frames_out = 0
        self.bytes_out = 0
        #: A change that found the client's slot already pending: one frame carries both.
        self.updates_coalesced = 0
        #: Acks, errors and replies dropped with a client cut off for not reading.
        self.updates_dropped = 0
        self.slow_disconnects = 0
        self.origin_refused = 0
        self.errors = Counter[str]()
        self.ack_seconds = Histogram(LATENCY_BUCKETS)


class GcPauses:
    """Times every garbage collection through ``gc.callbacks``."""

    def __init__(self) -> None:
        self.seconds = Histogram(GC_BUCKETS)
        self._started = 0.0

    def _callback(self, phase: str, info: dict[str, int]) -> None:
        if phase == "start":
            self._started = time.perf_counter()
        else:
            self.seconds.observe(time.perf_counter() - self._started)

    def install(self) -> None:
        if self._callback not in gc.callbacks:
            gc.callbacks.append(self._callback)

    def uninstall(self) -> None:
        if self._callback in gc.callbacks:
            gc.callbacks.remove(self._callback)


def _histogram(lines: list[str], name: str, help_: str, hist: Histogram) -> None:
    lines.append(f"# HELP {name} {help_}")
    lines.append(f"# TYPE {name} histogram")
    for bound, count in hist.cumulative():
        le = "+Inf" if bound == float("inf") else repr(float(bound))
        lines.append(f'{name}_bucket{{le="{le}"}} {count}')
    lines.append(f"{name}_sum {hist.sum}")
    lines.append(f"{name}_count {hist.count}")


def _scalar(lines: list[str], name: str, kind: str, help_: str, value: float) -> None:
    lines.append(f"# HELP {name} {help_}")
    lines.append(f"# TYPE {name} {kind}")
    lines.append(f"{name} {value}")


def render_prometheus(metrics: ServerMetrics, gc_pauses: GcPauses, engine: "Engine", hubs: "Hubs") -> str:
    """Prometheus text exposition format 0.0.4."""
    m = metrics
    lines: list[str] = []
    _scalar(lines, "essaim_connections", "gauge", "Open participant WebSocket connections.", m.connections_open)
    _scalar(lines, "essaim_connections_total", "counter", "Participant WebSocket connections accepted.", m.connections_total)
    _scalar(lines, "essaim_frames_in_total", "counter", "WebSocket frames received from participants.", m.frames_in)
    _scalar(lines, "essaim_bytes_in_total", "counter", "Bytes of WebSocket frames received.", m.bytes_in)
    _scalar(lines, "essaim_frames_out_total", "counter", "WebSocket frames sent to participants.", m.frames_out)
    _scalar(lines, "essaim_bytes_out_total", "counter", "Bytes of WebSocket frames sent.", m.bytes_out)
    _scalar(lines, "essaim_updates_coalesced_total", "counter",
            "Changes merged into a frame already pending for the client.", m.updates_coalesced)
    _scalar(lines, "essaim_updates_dropped_total", "counter",
            "Acks, errors and replies dropped with clients cut off for not reading.", m.updates_dropped)
    _scalar(lines, "essaim_slow_disconnects_total", "counter",
            "Clients disconnected (4000) because they did not read their frames.", m.slow_disconnects)
    _scalar(lines, "essaim_origin_refused_total", "counter", "WebSocket handshakes refused for their Origin.",
            m.origin_refused)
    lines.append("# HELP essaim_errors_total Errors sent to participants, by code.")
    lines.append("# TYPE essaim_errors_total counter")
    for code, n in sorted(m.errors.items()):
        lines.append(f'essaim_errors_total{{code="{code}"}} {n}')
    _histogram(lines, "essaim_ack_seconds", "From an action received to its durable ack queued.", m.ack_seconds)
    _histogram(lines, "essaim_store_commit_seconds", "One group commit to the store.", engine.writer.commit_seconds)
    _histogram(lines, "essaim_store_batch_events", "Events per group commit.", engine.writer.batch_events)
    _scalar(lines, "essaim_store_events_written_total", "counter", "Events made durable.", engine.writer.events_written)
    _histogram(lines, "essaim_gc_pause_seconds", "Garbage collection pauses.", gc_pauses.seconds)
    lines.append("# HELP essaim_campaign_participants Participants who joined, per campaign.")
    lines.append("# TYPE essaim_campaign_participants gauge")
    online = ["# HELP essaim_campaign_connections Open connections, per campaign.",
              "# TYPE essaim_campaign_connections gauge"]
    for state in engine.loaded_states():
        campaign_id = state.campaign_id
        lines.append(f'essaim_campaign_participants{{campaign="{campaign_id}"}} {state.counters["participants"]}')
        online.append(f'essaim_campaign_connections{{campaign="{campaign_id}"}} {hubs.connection_count(campaign_id)}')
    lines.extend(online)
    return "\n".join(lines) + "\n"
