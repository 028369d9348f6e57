"""Options shared by subcommands: where the data lives, and opening an engine on it."""

from __future__ import annotations

import argparse
import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from essaim.cli.failure import CLIError
from essaim.engine import Engine, open_engine
from essaim.plugin import PluginHost

__all__ = ["DATA_ENV", "STORE_ENV", "DEFAULT_DATA_DIR", "STORE_FILE", "add_data_option", "store_path",
           "open_cli_engine", "load_plugins", "find_campaign"]

#: Environment variable naming the data directory (the server reads it too).
DATA_ENV = "ESSAIM_DATA_DIR"
#: Environment variable with a PostgreSQL store URL (the server reads it too).
STORE_ENV = "ESSAIM_STORE"
DEFAULT_DATA_DIR = "data"
#: The SQLite file inside the data directory.
STORE_FILE = "essaim.sqlite3"


def add_data_option(parser: argparse.ArgumentParser, *, help_extra: str = "") -> None:
    parser.add_argument(
        "--data",
        "--data-dir",
        dest="data",
        metavar="DIR",
        default=None,
        help=f"data directory holding {STORE_FILE} (default: ${DATA_ENV} or ./{DEFAULT_DATA_DIR}){help_extra}",
    )
    parser.add_argument(
        "--store",
        metavar="URL",
        default=None,
        help=f"keep events in PostgreSQL at postgresql://user@host:port/database instead of {STORE_FILE} "
             f"(default: ${STORE_ENV}; put a password there or in PGPASSWORD, not in a flag)",
    )


def data_dir(args: argparse.Namespace) -> Path:
    return Path(args.data or os.environ.get(DATA_ENV) or DEFAULT_DATA_DIR)


def store_path(args: argparse.Namespace, *, create: bool) -> Path:
    """The SQLite file for ``--data``; with ``create=False`` it must exist."""
    directory = data_dir(args)
    path = directory / STORE_FILE
    if create:
        try:
            directory.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise CLIError(
                f"cannot create the data directory {str(directory)!r}: {exc.strerror}",
                hint="pass --data DIR with a directory you can write to",
            ) from exc
    elif not path.exists():
        raise CLIError(
            f"no Essaim data in {str(directory)!r} (no {STORE_FILE})",
            hint=f"create a campaign first with `essaim campaign new demo --data {directory}`",
        )
    return path


def load_plugins(args: argparse.Namespace) -> PluginHost:
    """Built-ins and installed plugins, less those disabled on the command line."""
    return PluginHost.load(disable=getattr(args, "disable_plugins", None) or ())


@asynccontextmanager
async def open_cli_engine(args: argparse.Namespace, *, create: bool = False) -> AsyncIterator[Engine]:
    """An engine on the ``--store`` URL, else the ``--data`` SQLite file, with
    the command line's plugins."""
    url = getattr(args, "store", None) or os.environ.get(STORE_ENV)
    async with open_engine(url or store_path(args, create=create), plugins=load_plugins(args)) as engine:
        yield engine


def find_campaign(engine: Engine, ref: str) -> str:
    """A campaign id from an id or a join code."""
    if ref in engine.campaign_ids():
        return ref
    return engine.by_code(ref)
