"""``essaim backup``: a consistent copy of the SQLite store, while the server runs.

SQLite's online backup API copies the database inside one read transaction
(``pages=-1``: all at once). In WAL mode readers never block the writer, so
the server keeps acknowledging actions meanwhile; the copy holds every
event committed before the backup began and none half-written. Copying the
file with ``cp`` instead would miss what is still in the ``-wal`` file, and
copying both while the server writes can give a torn pair.

The copy is then checked (``PRAGMA integrity_check``) and its campaigns and
events counted, so a backup that could not be restored is known at once.
"""

from __future__ import annotations

import argparse
import sqlite3
from pathlib import Path
from typing import Any

from essaim.cli.failure import CLIError
from essaim.cli.options import add_data_option, store_path

__all__ = ["register", "run", "backup_store"]


def register(subparsers: Any) -> None:
    p = subparsers.add_parser(
        "backup", help="copy the store to a file, safely while the server runs",
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    add_data_option(p)
    p.add_argument("out", help="the backup file to write (must not exist)")
    p.set_defaults(func=run)


def backup_store(source: Path, out: Path) -> dict[str, int]:
    """Copy ``source`` to ``out`` and check the copy; its campaigns and events."""
    try:
        return _backup(source, out)
    except sqlite3.DatabaseError as exc:
        raise CLIError(f"the backup of {source} to {out} failed: {exc}",
                       hint="check that the data folder holds an Essaim store and its disk is healthy") from exc


def _backup(source: Path, out: Path) -> dict[str, int]:
    src = sqlite3.connect(f"file:{source}?mode=ro", uri=True)
    try:
        dst = sqlite3.connect(out)
        try:
            src.backup(dst)  # pages=-1: one step, one read transaction, never restarted by the writer
            dst.execute("PRAGMA journal_mode=DELETE")  # one self-contained file, no -wal beside it
            problems = [row[0] for row in dst.execute("PRAGMA integrity_check")]
            if problems != ["ok"]:
                raise CLIError(f"the backup {out} failed its integrity check: {problems[:3]}",
                               hint="take it again; if it fails again, check the disk of the data folder")
            campaigns = dst.execute("SELECT count(DISTINCT campaign) FROM events").fetchone()[0]
            events = dst.execute("SELECT count(*) FROM events").fetchone()[0]
        finally:
            dst.close()
    finally:
        src.close()
    return {"campaigns": int(campaigns), "events": int(events)}


def run(args: argparse.Namespace) -> int:
    source = store_path(args, create=False)
    out = Path(args.out)
    if out.exists():
        raise CLIError(f"{out} exists already", hint="name a new file: a backup never overwrites one")
    figures = backup_store(source, out)
    print(f"backed up {figures['campaigns']} campaign(s), {figures['events']} events to {out}")
    return 0
