"""The ``essaim`` command: one subcommand per module of this package.

Each module named in :data:`SUBCOMMANDS` exposes ``register(subparsers)``,
which adds its subparser with ``set_defaults(func=run)``, and
``run(args) -> int``.

Errors the user can fix (a bad template, an unknown campaign, a broken
plugin) print one line saying what went wrong and one saying what to do,
with exit code 2 for bad input and 1 for other failures; never a traceback.
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys
from collections.abc import Sequence

from essaim.cli.failure import EXIT_FAILURE, describe, sole_error

__all__ = ["main", "SUBCOMMANDS"]

SUBCOMMANDS: tuple[str, ...] = ("serve", "campaign", "simulate", "export", "plugins", "backup")

#: Exit code after Ctrl-C, as shells report SIGINT (128 + 2).
EXIT_INTERRUPTED = 130


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="essaim", description="Massive synchronous collaboration.")
    parser.add_argument(
        "--disable-plugin",
        dest="disable_plugins",
        action="append",
        default=[],
        metavar="NAME",
        help="skip a built-in plugin module or an installed plugin's entry-point name (repeatable)",
    )
    subparsers = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for name in SUBCOMMANDS:
        importlib.import_module(f"{__name__}.{name}").register(subparsers)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return int(args.func(args) or 0)
    except BaseException as error:
        leaf = sole_error(error)
        if isinstance(leaf, KeyboardInterrupt):
            return EXIT_INTERRUPTED
        if isinstance(leaf, BrokenPipeError):
            # The reader went away (`essaim plugins | head`): not an error
            # worth a traceback. Silence the final flush of stdout too.
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
            return EXIT_FAILURE
        failure = describe(leaf)
        if failure is None:
            raise
        print(failure.render(), file=sys.stderr)
        return failure.exit_code
