"""``essaim export CAMPAIGN --format json --out DIR``: a campaign's results as files."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

import trio

from essaim.cli.failure import CLIError
from essaim.cli.options import add_data_option, find_campaign, open_cli_engine

__all__ = ["register", "run"]


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser("export", help="write a campaign's results in an export format")
    parser.add_argument("campaign", metavar="CAMPAIGN", help="campaign id or join code")
    parser.add_argument("--format", default="json",
                        help="export format (default json; `essaim plugins` lists the installed ones)")
    parser.add_argument("--out", default=".", metavar="DIR", help="directory to write the files to (default .)")
    add_data_option(parser)
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    for path in trio.run(_export, args):
        print(path)
    return 0


async def _export(args: argparse.Namespace) -> list[Path]:
    out = Path(args.out)
    async with open_cli_engine(args) as engine:
        campaign_id = find_campaign(engine, args.campaign)
        exported = await engine.export(campaign_id, args.format)
    written = []
    try:
        out.mkdir(parents=True, exist_ok=True)
        for file in exported:
            # A plugin names its files; keep them inside the output directory.
            target = out / Path(file.name).name
            target.write_bytes(file.content)
            written.append(target)
    except OSError as exc:
        raise CLIError(f"cannot write to {str(out)!r}: {exc.strerror}",
                       hint="pass --out DIR with a directory you can write to") from exc
    return written
