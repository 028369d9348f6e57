"""Server settings: every limit is a named setting with a default and a reason.

Values come from, in increasing priority: the defaults below, a TOML file
(``--config``), ``ESSAIM_*`` environment variables, and command-line flags.
``docs/operations.md`` lists every setting; a test checks the list matches.
"""

from __future__ import annotations

import dataclasses
import difflib
import os
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any

from essaim.server.proxies import PROXY_HEADER_FAMILIES, ProxyHeaders

__all__ = ["Settings", "SettingsError", "load_settings", "unknown_environment", "split_address", "ENV_PREFIX", "OTHER_TOOLS_ENV"]

ENV_PREFIX = "ESSAIM_"
#: ``ESSAIM_*`` variables that belong to the test suite and the load tools,
#: not to the server (docs/loadtesting.md): never reported as unknown.
OTHER_TOOLS_ENV = ("ESSAIM_LOAD_", "ESSAIM_SLO_", "ESSAIM_SLOW", "ESSAIM_REQUIRE_SERVICES",
                   "ESSAIM_DOC_SCREENSHOTS", "ESSAIM_HYPOTHESIS_EXAMPLES", "ESSAIM_ECHO_SETTINGS",
                   "ESSAIM_BROADCAST_SETTINGS")


class SettingsError(ValueError):
    """A setting has a value of the wrong type or out of range."""


@dataclass(frozen=True, slots=True)
class Settings:
    # -- where -------------------------------------------------------------------------------
    #: Interface to listen on. 127.0.0.1 keeps a demo private; 0.0.0.0 lets phones on the network
    #: join (links then use this machine's network address) and suits a proxy.
    host: str = "127.0.0.1"
    #: TCP port; 0 picks a free one (tests).
    port: int = 8000
    #: Folder of the embedded SQLite store (essaim.sqlite3) and of demo credentials.
    data_dir: str = "data"
    #: Where events are kept: empty for essaim.sqlite3 in data_dir, or a
    #: postgresql://user@host:port/database URL (pip install 'essaim[postgres]').
    store: str = ""
    #: Public base URL printed in links (join, QR code, facilitator); empty: http://host:port,
    #: with this machine's network address when host is 0.0.0.0 (see essaim.server.advertise).
    public_url: str = ""
    #: Server admin token (create and list campaigns); empty: generated and printed at start-up.
    admin_token: str = ""
    #: Extra WebSocket origins allowed besides the server's own (comma-separated in env/flags).
    allowed_origins: tuple[str, ...] = ()
    #: Log level of the JSON logs.
    log_level: str = "info"
    #: Cluster mode: the Valkey (or Redis 7) URL, redis://host:port, shared by
    #: every process serving the same campaigns (docs/scaling.md); empty: one
    #: process on its own, no server needed.
    cluster: str = ""
    #: Reverse proxies (addresses or CIDR blocks, comma-separated in env/flags)
    #: whose forwarded headers say who the client is; from any other peer
    #: they are ignored, so nobody can pick the address their limits count on.
    trusted_proxies: tuple[str, ...] = ()
    #: Which headers those proxies write: x-forwarded (X-Forwarded-For/-Proto/-Host)
    #: or forwarded (RFC 7239). Only that family is read: the other passes
    #: through from the client and could be forged.
    proxy_headers: str = "x-forwarded"

    # -- monitoring -------------------------------------------------------------------------------
    #: Bearer token Prometheus sends for /metrics (a read-only secret: /metrics
    #: names campaigns); empty: /metrics takes the admin token. Not needed on metrics_address.
    metrics_token: str = ""
    #: host:port of a second listener serving only /metrics, /healthz and /readyz,
    #: without a token: bind it where only the monitoring network reaches (empty: none).
    metrics_address: str = ""

    # -- hypercorn -----------------------------------------------------------------------------
    #: Pending connections the kernel keeps: a restart brings a reconnect storm.
    backlog: int = 4096
    #: Largest inbound WebSocket message; cards and votes are small; above it: close 1009.
    max_message_bytes: int = 64 * 1024
    #: Server pings keep NAT and load-balancer mappings alive.
    ping_interval: float = 20.0
    #: No byte from a client for this long: the connection is dead (hypercorn never checks pongs).
    read_timeout: float = 60.0
    #: Time hypercorn gives open connections at shutdown, after our own 1012 drain.
    graceful_timeout: float = 5.0

    # -- frame economy -------------------------------------------------------------------------
    #: Shortest gap between two frames to one client: acks of a burst share one frame.
    update_interval: float = 0.1
    #: Shortest gap between two counter refreshes sent to everyone.
    counters_interval: float = 5.0
    #: Frames per second the counter refreshes may cost in total; with more
    #: connections the refresh interval grows (connections / budget).
    counters_frame_budget: float = 1000.0
    #: Writers woken per second to deliver a phase change until the cost of a frame
    #: is measured (then phase_push_cpu_share decides). Everyone's state is marked
    #: stale at once (a frame sent anyway carries it), but waking 10,000 writers in
    #: one batch makes every action arriving meanwhile wait ~2 s for a writer slot.
    phase_frame_budget: float = 8000.0
    #: Share of the core a phase push may take: writers are woken in 50 ms slices of
    #: share x 50 ms / (measured CPU per frame), so actions wait at most ~40 ms for a
    #: slice and N clients have the change within N x cost / share seconds.
    phase_push_cpu_share: float = 0.8
    #: Acks, errors and replies waiting for one client; more means it does not read: close 4000.
    outbox_max_items: int = 256
    #: A frame that takes longer than this to hand to the kernel marks the client as not reading.
    slow_client_timeout: float = 10.0
    #: Time a not-reading client gets to take its 4000 close frame before the socket is cut.
    slow_client_close_grace: float = 2.0
    #: Kernel send buffer per socket in bytes (0: the OS default); bounds what a slow reader pins.
    socket_send_buffer: int = 0

    # -- facilitator ---------------------------------------------------------------------------
    #: Age in seconds of the results and structure a facilitator console may
    #: get (it polls them every 6 s; longer for long computations, see
    #: essaim.engine._shared_reads.BUSY_SHARE): every console asking within it shares
    #: one computation. Exports and the results phase are always exact.
    results_max_age: float = 5.0
    #: Open connections per second of that age: with more connections it
    #: grows to connections / this (30 s at 10,000). Recomputing competes with
    #: the phones for the GIL and the core: at 10,000 sessions ack p99 was
    #: 360-450 ms recomputing every 5 s, 220 ms every 30 s.
    results_age_connections: float = 333.0

    # -- per participant -----------------------------------------------------------------------
    #: Sustained actions and queries per second one participant may send.
    rate_per_second: float = 5.0
    #: Burst of actions above the sustained rate (a hand placed after a pause, a retry storm).
    rate_burst: int = 30
    #: Frames a connection may send before join/resume succeeds.
    max_frames_before_join: int = 5
    #: Seconds a socket may stay open without joining.
    join_timeout: float = 30.0
    #: Sockets one participant may hold open at once (a phone, a laptop, a tab
    #: or two whose dead sockets read_timeout has not reaped yet); more: limit_exceeded.
    max_connections_per_participant: int = 4

    # -- per client address ----------------------------------------------------------------------
    #: Sustained join/resume attempts (and join-code lookups, GET
    #: /api/join/{code}) per second from one IP address. The join
    #: code is public: without this, one script fills a campaign with fake
    #: participants (each a durable event) and real people get campaign_full.
    #: 10/s lets a whole office behind one NAT trickle in; a flood from one
    #: address makes at most 18,000 joins in a 30-minute campaign.
    join_rate_per_second: float = 10.0
    #: Burst of join/resume attempts from one address: an office of ~300 behind
    #: one NAT joining at the same moment, or reconnecting after a restart. A
    #: browser's first join costs two attempts (the page's GET /api/join/{code},
    #: then the WebSocket join), hence 600.
    #: Behind a reverse proxy every client has the proxy's address: raise both.
    join_burst: int = 600

    #: Open participant sockets from one client address, joined or not. Each is
    #: a file descriptor and two tasks: without a cap one script held 1,500
    #: idle sockets and could starve the process of descriptors for everyone.
    #: 1,000 fits a venue of ~500 people behind one NAT with a phone and a
    #: stale tab each (an office of 300 is the join_burst's case); more from
    #: one address: close 1013, the page retries. Behind a reverse proxy,
    #: list it in trusted_proxies, or this caps the whole audience.
    max_sockets_per_address: int = 1000

    # -- shutdown --------------------------------------------------------------------------------
    #: Time the 1012 close frames get to reach clients before hypercorn takes over.
    drain_timeout: float = 3.0

    # -- GC ------------------------------------------------------------------------------------
    #: gc.set_threshold for generation 0; the default 700 pauses a 10,000-session process for up to 0.9 s.
    gc_threshold0: int = 50_000
    #: Objects that may survive unfrozen before the survivors are frozen (one collection of
    #: about this many, a few tens of ms); a full collection then never walks the sessions.
    gc_freeze_survivors: int = 20_000

    def with_changes(self, **changes: Any) -> Settings:
        return dataclasses.replace(self, **changes)


def split_address(address: str) -> tuple[str, int]:
    """``host:port`` (``[::1]:9464`` for IPv6) as (host, port); SettingsError if it is not one."""
    host, sep, port = address.rpartition(":")
    host = host[1:-1] if host.startswith("[") and host.endswith("]") else host
    if not sep or not host or not port.isdigit() or not 0 <= int(port) <= 65535:
        raise SettingsError(f"setting 'metrics_address': {address!r} is not host:port, e.g. 10.0.0.5:9464")
    return host, int(port)


def _coerce(name: str, kind: Any, value: Any) -> Any:
    """Turn a value from TOML, env or flags into the field's type, or explain."""
    try:
        if kind == "tuple[str, ...]":
            if isinstance(value, str):
                return tuple(v.strip() for v in value.split(",") if v.strip())
            if isinstance(value, (list, tuple)) and all(isinstance(v, str) for v in value):
                return tuple(value)
            raise TypeError
        if kind == "int":
            if isinstance(value, bool):
                raise TypeError
            return int(value)
        if kind == "float":
            if isinstance(value, bool):
                raise TypeError
            return float(value)
        if kind == "str":
            if not isinstance(value, str):
                raise TypeError
            return value
    except (TypeError, ValueError):
        pass
    raise SettingsError(f"setting {name!r}: {value!r} is not a valid {kind}")


def _check(s: Settings) -> Settings:
    positive = [f.name for f in fields(s) if f.type in ("float", "int") and f.name not in ("port", "socket_send_buffer")]
    for name in positive:
        if getattr(s, name) <= 0:
            raise SettingsError(f"setting {name!r} must be more than 0, not {getattr(s, name)!r}")
    if not 0 <= s.port <= 65535:
        raise SettingsError(f"setting 'port' must be between 0 and 65535, not {s.port}")
    try:
        ProxyHeaders(s.trusted_proxies, s.proxy_headers)
    except ValueError as exc:
        name = "proxy_headers" if s.proxy_headers not in PROXY_HEADER_FAMILIES else "trusted_proxies"
        raise SettingsError(f"setting {name!r}: {exc}") from None
    if s.metrics_address:
        _, port = split_address(s.metrics_address)
        if port == s.port and port != 0:
            raise SettingsError(f"setting 'metrics_address': port {port} is the main port; pick another one")
    if s.phase_push_cpu_share > 1:
        raise SettingsError("setting 'phase_push_cpu_share' is a share of one core: more than 0, at most 1")
    if s.read_timeout <= s.ping_interval:
        raise SettingsError("setting 'read_timeout' must be longer than 'ping_interval' (2-3 times is right)")
    return s


def load_settings(
    *,
    config_file: str | Path | None = None,
    environ: Mapping[str, str] | None = None,
    overrides: Mapping[str, Any] | None = None,
) -> Settings:
    """Defaults < TOML file < ``ESSAIM_*`` environment < ``overrides`` (flags)."""
    environ = os.environ if environ is None else environ
    known = {f.name: f.type for f in fields(Settings)}
    values: dict[str, Any] = {}
    if config_file:
        try:
            data = tomllib.loads(Path(config_file).read_text(encoding="utf-8"))
        except OSError as exc:
            raise SettingsError(f"cannot read settings file {config_file}: {exc.strerror}") from exc
        except tomllib.TOMLDecodeError as exc:
            raise SettingsError(f"settings file {config_file}: invalid TOML: {exc}") from exc
        table = data.get("server", data)
        unknown = set(table) - set(known)
        if unknown:
            raise SettingsError(f"settings file {config_file}: unknown settings {sorted(unknown)}; known: {sorted(known)}")
        values.update({k: _coerce(k, known[k], v) for k, v in table.items()})
    for name, kind in known.items():
        raw = environ.get(ENV_PREFIX + name.upper())
        if raw is not None and raw != "":
            values[name] = _coerce(name, kind, raw)
    for name, value in (overrides or {}).items():
        if value is None:
            continue
        if name not in known:
            raise SettingsError(f"unknown setting {name!r}")
        values[name] = _coerce(name, known[name], value)
    return _check(Settings(**values))


def unknown_environment(environ: Mapping[str, str] | None = None) -> list[str]:
    """One message per ``ESSAIM_*`` variable that names no setting (a typo
    such as ``ESSAIM_RATE_PER_SECONDS`` would otherwise be silently ignored),
    with the closest setting's variable when one is close."""
    environ = os.environ if environ is None else environ
    known = {ENV_PREFIX + f.name.upper() for f in fields(Settings)}
    messages = []
    for name in sorted(environ):
        if not name.startswith(ENV_PREFIX) or name in known or name.startswith(OTHER_TOOLS_ENV):
            continue
        close = difflib.get_close_matches(name, sorted(known), n=1)
        hint = f"; did you mean {close[0]}?" if close else "; see docs/operations.md for the settings"
        messages.append(f"environment variable {name} is not a setting and is ignored{hint}")
    return messages
