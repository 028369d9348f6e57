"""``essaim serve``: the real-time server.

Flags for the common settings; ``--set NAME=VALUE`` for any other (see
docs/operations.md); ``ESSAIM_*`` environment variables and ``--config
FILE`` (TOML) too. ``--demo`` creates (or reuses) a demo campaign and
prints its join link, a QR code and the facilitator link. The admin token
is printed at start-up unless ``ESSAIM_ADMIN_TOKEN`` sets it.
"""

from __future__ import annotations

import argparse
import logging
import sys
from functools import partial
from typing import Any

import trio

from essaim.cli.options import add_data_option, load_plugins

__all__ = ["register", "run"]


def register(subparsers: Any) -> None:
    p = subparsers.add_parser(
        "serve", help="run the real-time server (participant WebSocket, facilitator API)",
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("--host", help="interface to listen on (default 127.0.0.1)")
    p.add_argument("--port", type=int, help="TCP port (default 8000; 0 picks a free one)")
    add_data_option(p)
    p.add_argument("--config", help="TOML settings file ([server] table or top-level keys)")
    p.add_argument("--public-url", dest="public_url", help="base URL printed in links (behind a proxy)")
    p.add_argument("--allowed-origins", dest="allowed_origins",
                   help="comma-separated extra WebSocket origins allowed besides the server's own")
    p.add_argument("--log-level", dest="log_level", help="debug, info, warning, error (default info)")
    p.add_argument("--cluster", metavar="URL",
                   help="cluster mode: the Valkey URL (redis://host:port) shared by every server of the campaigns")
    p.add_argument("--set", dest="overrides", action="append", default=[], metavar="NAME=VALUE",
                   help="any setting, e.g. --set rate_per_second=10 (repeatable)")
    p.add_argument("--demo", action="store_true", help="create or reuse a demo campaign and print its links")
    p.set_defaults(func=run)


def _overrides(args: argparse.Namespace) -> dict[str, Any]:
    values: dict[str, Any] = {k: getattr(args, k) for k in
                              ("host", "port", "public_url", "allowed_origins", "log_level", "cluster", "store")}
    values["data_dir"] = args.data
    for item in args.overrides:
        name, sep, value = item.partition("=")
        if not sep:
            raise SystemExit(f"essaim serve: --set expects NAME=VALUE, got {item!r}")
        values[name.strip()] = value
    return values


def run(args: argparse.Namespace) -> int:
    from essaim.server.ops.logs import configure_logging
    from essaim.server.settings import SettingsError, load_settings, unknown_environment

    try:
        settings = load_settings(config_file=args.config, overrides=_overrides(args))
    except SettingsError as exc:
        print(f"essaim serve: {exc}", file=sys.stderr)
        return 2
    configure_logging(settings.log_level)
    for message in unknown_environment():
        logging.getLogger("essaim.server").warning(message, extra={"event": "unknown_setting"})
    trio.run(_main, settings, args.demo, load_plugins(args))
    return 0


async def _main(settings: Any, demo: bool, plugins: Any) -> None:
    from essaim.server.demo import ensure_demo_campaign, terminal_qr
    from essaim.server.ops.shutdown import stop_on_signals
    from essaim.server.run import serve

    async with trio.open_nursery() as nursery:
        server = await nursery.start(partial(serve, settings, plugins=plugins))
        await nursery.start(stop_on_signals, server)
        base = server.base_url
        lines = [f"Essaim is listening on {base}"]
        if demo:
            campaign = await ensure_demo_campaign(server.engine, settings.data_dir)
            lines += ["", f"Participants join at {campaign.join_url(base)}  (code {campaign.code})", "",
                      terminal_qr(campaign.join_url(base)),
                      f"Facilitator: {campaign.facilitator_url(base)}"]
        if not server.advertised.reachable:
            lines += ["", f"Only a browser on this computer can open these links: {server.advertised.hint}."]
        if not settings.admin_token:
            lines.append(f"Admin token (create campaigns; set ESSAIM_ADMIN_TOKEN to choose it): {server.admin_token}")
        lines.append("Stop with Ctrl+C (clients are told to reconnect).")
        print("\n".join(lines), flush=True)
