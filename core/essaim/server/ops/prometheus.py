"""``/metrics`` on ``prometheus_client``: a custom collector over plain counters.

The hot path stays a few integer additions and histogram observations on
plain objects (:mod:`essaim.server.ops.metrics`); this collector reads them
only when Prometheus scrapes. A scrape takes the server's figures on the
trio thread (cheap: a walk over loaded campaigns), then renders them in a
worker thread together with ``prometheus_client``'s process collector,
whose ``/proc/self/fd`` listing takes milliseconds at 10,000 sockets.
"""

from __future__ import annotations

import platform
from collections.abc import Iterable, Iterator
from functools import cache
from importlib.metadata import PackageNotFoundError, version
from typing import TYPE_CHECKING

import trio
from prometheus_client import generate_latest
from prometheus_client.core import (
    CounterMetricFamily,
    GaugeMetricFamily,
    HistogramMetricFamily,
    Metric,
)
from prometheus_client.platform_collector import PlatformCollector
from prometheus_client.process_collector import ProcessCollector

from essaim.engine.metrics import Histogram

if TYPE_CHECKING:
    from essaim.server.context import ServerContext

__all__ = ["collect_essaim", "render_metrics", "CONTENT_TYPE", "build_version"]

#: Prometheus text format 0.0.4, what prometheus_client's generate_latest writes.
CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"

_PROCESS = ProcessCollector(registry=None)
_PLATFORM = PlatformCollector(registry=None)


@cache
def build_version() -> str:
    try:
        return version("essaim")
    except PackageNotFoundError:  # run from a source tree without installing
        return "unknown"


def _buckets(hist: Histogram) -> list[tuple[str, float]]:
    return [("+Inf" if bound == float("inf") else repr(float(bound)), float(n)) for bound, n in hist.cumulative()]


def _histogram(name: str, help_: str, hist: Histogram) -> HistogramMetricFamily:
    return HistogramMetricFamily(name, help_, buckets=_buckets(hist), sum_value=hist.sum)


def _counter(name: str, help_: str, value: float) -> CounterMetricFamily:
    return CounterMetricFamily(name, help_, value=value)


def _gauge(name: str, help_: str, value: float) -> GaugeMetricFamily:
    return GaugeMetricFamily(name, help_, value=value)


def _campaign_phase(status: str, phase_type: str | None) -> str:
    """The ``phase`` label: the phase's type while one runs (or pauses), else the status."""
    return phase_type if phase_type and status in ("running", "paused", "between") else status


def collect_essaim(server: ServerContext) -> list[Metric]:
    """Every ``essaim_*`` family, read now (on the trio thread)."""
    m, engine, hubs = server.metrics, server.engine, server.hubs
    writer = engine.writer
    build = GaugeMetricFamily("essaim_build_info", "Version of the running server (always 1).",
                              labels=["version", "python"])
    build.add_metric([build_version(), platform.python_version()], 1)
    out: list[Metric] = [
        build,
        _gauge("essaim_connections_open", "Open participant WebSocket connections.", m.connections_open),
        _counter("essaim_connections_accepted", "Participant WebSocket connections accepted.", m.connections_total),
        _counter("essaim_frames_in", "WebSocket frames received from participants.", m.frames_in),
        _counter("essaim_bytes_in", "Bytes of WebSocket frames received.", m.bytes_in),
        _counter("essaim_frames_out", "WebSocket frames sent to participants.", m.frames_out),
        _counter("essaim_bytes_out", "Bytes of WebSocket frames sent.", m.bytes_out),
        _counter("essaim_updates_coalesced", "Changes merged into a frame already pending for the client.",
                 m.updates_coalesced),
        _counter("essaim_updates_dropped", "Acks, errors and replies dropped with clients cut off for not reading.",
                 m.updates_dropped),
        _counter("essaim_slow_disconnects", "Clients disconnected (4000) because they did not read their frames.",
                 m.slow_disconnects),
        _counter("essaim_origin_refused", "WebSocket handshakes refused for their Origin.", m.origin_refused),
        _counter("essaim_address_limit_refused", "Sockets closed (1013): their address held max_sockets_per_address.",
                 m.address_limit_refused),
        _histogram("essaim_ack_seconds", "From an action received to its durable ack queued.", m.ack_seconds),
        _histogram("essaim_phase_push_staleness_seconds",
                   "From a phase change made durable to the frame carrying it handed to the kernel, per client.",
                   m.phase_staleness),
        _histogram("essaim_loop_lag_seconds", "How late the trio loop woke a task that slept (scheduling lag).",
                   m.loop_lag),
        _histogram("essaim_store_commit_seconds", "One group commit to the store.", writer.commit_seconds),
        _histogram("essaim_store_batch_events", "Events per group commit.", writer.batch_events),
        _counter("essaim_store_events_written", "Events made durable.", writer.events_written),
        _gauge("essaim_store_writable", "1 while the store takes writes; 0 while campaigns refuse them with "
               "'unavailable' (the writer retries).", 1 if writer.health.writable else 0),
        _counter("essaim_store_outages", "Times the store became unwritable.", writer.health.outages),
        _histogram("essaim_results_seconds", "One computation of a campaign's results (scores, sheets, segments).",
                   engine.results_seconds),
        _histogram("essaim_gc_pause_seconds", "Garbage collection pauses.", server.gc_pauses.seconds),
        _gauge("essaim_draining", "1 while the server drains its sockets to stop.", 1 if server.draining else 0),
        _gauge("essaim_campaigns_rebuilding", "Campaigns being rebuilt from the store (after a restart or an unload).",
               len(engine.rebuilding())),
    ]
    out += [_histogram(name, help_, hist) for name, (help_, hist) in engine.metric_histograms().items()]
    out += [(_gauge if kind == "gauge" else _counter)(name, help_, value)
            for name, (kind, help_, value) in engine.metric_values().items()]
    errors = CounterMetricFamily("essaim_errors", "Errors sent to participants, by code.", labels=["code"])
    for code, n in sorted(m.errors.items()):
        errors.add_metric([code], n)
    http = HistogramMetricFamily("essaim_http_request_duration_seconds",
                                 "HTTP requests (facilitator API, pages, operations) by route, method and status.",
                                 labels=["route", "method", "status"])
    for (route, method, status), hist in sorted(m.http_seconds.items()):
        http.add_metric([route, method, str(status)], _buckets(hist), hist.sum)
    info = GaugeMetricFamily("essaim_campaign_info", "Loaded campaigns and their phase (always 1).",
                             labels=["campaign", "phase"])
    participants = GaugeMetricFamily("essaim_campaign_participants", "Participants who joined, per campaign.",
                                     labels=["campaign"])
    online = GaugeMetricFamily("essaim_campaign_connections", "Open connections, per campaign.", labels=["campaign"])
    for state in engine.loaded_states():
        cid = state.campaign_id
        info.add_metric([cid, _campaign_phase(state.status, state.phase.type if state.phase else None)], 1)
        participants.add_metric([cid], state.counters["participants"])
        online.add_metric([cid], hubs.connection_count(cid))
    out += [errors, http, info, participants, online]
    return out


class _Families:
    """A collector over families already read, plus the process's own."""

    def __init__(self, families: Iterable[Metric]) -> None:
        self.families = families

    def collect(self) -> Iterator[Metric]:
        yield from _PROCESS.collect()
        yield from _PLATFORM.collect()
        yield from self.families


async def render_metrics(server: ServerContext) -> bytes:
    """The exposition text: essaim's figures read here, rendered in a worker thread."""
    families = collect_essaim(server)
    return await trio.to_thread.run_sync(generate_latest, _Families(families))


