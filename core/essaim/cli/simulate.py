"""``essaim simulate``: a demo campaign run by a simulated crowd, with results.

In memory unless ``--data`` is given (then the campaign stays in the
SQLite store, and ``essaim campaign show`` / ``essaim export`` work on it).
"""

from __future__ import annotations

import argparse
import sys
import time
from typing import Any

import trio

from essaim.cli.failure import EXIT_USAGE, CLIError
from essaim.cli.options import load_plugins, store_path
from essaim.engine import open_engine
from essaim.model.template import MAX_PHASE_SECONDS
from essaim.simulation import (
    DEFAULT_MAX_ACTIVE,
    DEFAULT_PARTICIPANTS,
    DEFAULT_PHASE_SECONDS,
    SimulationReport,
    simulate,
    simulation_template,
)
from essaim.simulation.progress import ProgressBar

__all__ = ["register", "run"]

#: Largest simulated crowd: beyond this, use the load tests (a simulation
#: keeps every participant's task and state in this one process).
MAX_SIMULATED_PARTICIPANTS = 20_000


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "simulate", help="run the demo campaign with a simulated crowd and print the ranked results",
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--participants", type=int, default=DEFAULT_PARTICIPANTS, metavar="N",
                        help=f"simulated participants (default {DEFAULT_PARTICIPANTS})")
    parser.add_argument("--seed", type=int, default=0, help="seed of the simulated crowd (default 0)")
    parser.add_argument("--phase-seconds", type=float, default=DEFAULT_PHASE_SECONDS, metavar="S",
                        help=f"length of each phase (default {DEFAULT_PHASE_SECONDS:g}); the facilitator "
                        "moves on earlier once everyone is done")
    parser.add_argument("--max-active", type=int, default=DEFAULT_MAX_ACTIVE, metavar="N",
                        help=f"participants with a command in flight at once (default {DEFAULT_MAX_ACTIVE})")
    parser.add_argument("--evaluation", metavar="STRATEGY", default=None,
                        help="evaluation strategy of the demo (default: the template's, pairwise); "
                        "`essaim plugins` lists them")
    parser.add_argument("--top", type=int, default=10, metavar="N", help="opportunity sheets to print (default 10)")
    parser.add_argument("--data", "--data-dir", dest="data", metavar="DIR", default=None,
                        help="keep the campaign in DIR's SQLite store (default: in memory)")
    parser.add_argument("--no-progress", action="store_true", help="no progress bar on stderr")
    parser.set_defaults(func=run)


def _check(args: argparse.Namespace) -> None:
    if not 1 <= args.participants <= MAX_SIMULATED_PARTICIPANTS:
        raise CLIError(f"--participants {args.participants} is out of range",
                       hint=f"use 1 to {MAX_SIMULATED_PARTICIPANTS}", exit_code=EXIT_USAGE)
    if not 0 < args.phase_seconds <= MAX_PHASE_SECONDS:
        raise CLIError(f"--phase-seconds {args.phase_seconds:g} is out of range",
                       hint=f"use more than 0 and at most {MAX_PHASE_SECONDS}", exit_code=EXIT_USAGE)
    if args.max_active < 1:
        raise CLIError("--max-active must be at least 1", hint="use e.g. --max-active 64", exit_code=EXIT_USAGE)


def run(args: argparse.Namespace) -> int:
    _check(args)
    started = time.monotonic()
    report = trio.run(_simulate, args)
    print(report.format(top=args.top))
    print(f"\n(wall time {time.monotonic() - started:.1f} s)", file=sys.stderr)
    return 0


async def _simulate(args: argparse.Namespace) -> SimulationReport:
    host = load_plugins(args)
    available = host.registry.available("evaluation")
    if args.evaluation is not None and args.evaluation not in available:
        raise CLIError(f"unknown evaluation strategy {args.evaluation!r}; available: {available}",
                       hint="pick one of those, or install the plugin that provides it", exit_code=EXIT_USAGE)
    store = store_path(args, create=True) if args.data else None
    bar = None if args.no_progress else ProgressBar(sys.stderr)
    try:
        async with open_engine(store, plugins=host) as engine:
            return await simulate(
                engine, args.participants, args.seed,
                template=simulation_template(args.phase_seconds, args.evaluation),
                max_active=args.max_active, progress=bar,
            )
    finally:
        if bar is not None:
            bar.close()
