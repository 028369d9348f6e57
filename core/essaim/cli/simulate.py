"""``essaim simulate``: a campaign run by a simulated crowd, with results.

The demo campaign, or ``--template FILE``, with each phase lasting
``--phase-seconds`` (a rehearsal of a 30-minute campaign takes seconds) and
any strategy chosen with ``--strategy FAMILY=NAME``. In memory unless
``--data`` is given (then the campaign stays in the SQLite store, and
``essaim campaign show`` / ``essaim export`` work on it). It fails, saying
why, when no simulated person can join (the template's profile asks for
something else) or when a phase does not end in time.
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
from essaim.model.template import MAX_PHASE_SECONDS, CampaignTemplate
from essaim.plugin.registry import FAMILIES, Registry
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
    parser.add_argument("--template", metavar="FILE", default=None,
                        help="a campaign template (TOML) instead of the demo; its profile must ask for "
                        "role and site or nothing required, as the simulated crowd has those")
    parser.add_argument("--strategy", dest="strategies", action="append", default=[], metavar="FAMILY=NAME",
                        help="use strategy NAME for FAMILY (collection, structuring, moderation, evaluation, "
                        "results) instead of the template's, with its default settings (repeatable); "
                        "`essaim plugins` lists them")
    parser.add_argument("--evaluation", metavar="STRATEGY", default=None,
                        help="short for --strategy evaluation=STRATEGY")
    parser.add_argument("--phase-timeout", type=float, default=None, metavar="S",
                        help="fail if a phase has not ended after S seconds (default: 3 x --phase-seconds + 30)")
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
    if args.phase_timeout is not None and args.phase_timeout <= 0:
        raise CLIError("--phase-timeout must be more than 0", hint="use e.g. --phase-timeout 60",
                       exit_code=EXIT_USAGE)


def _strategies(args: argparse.Namespace, registry: Registry) -> dict[str, str]:
    """``--strategy FAMILY=NAME`` options (and ``--evaluation``), checked against the plugins."""
    chosen: dict[str, str] = {}
    for option in [*args.strategies, *([f"evaluation={args.evaluation}"] if args.evaluation else [])]:
        family, _, name = option.partition("=")
        if family not in FAMILIES or family == "export" or not name:
            raise CLIError(f"--strategy {option!r} is not FAMILY=NAME",
                           hint=f"FAMILY is one of {[f for f in FAMILIES if f != 'export']}, e.g. "
                           "--strategy evaluation=ratings", exit_code=EXIT_USAGE)
        if name not in registry.available(family):
            raise CLIError(f"unknown {family} strategy {name!r}; available: {registry.available(family)}",
                           hint="pick one of those, or install the plugin that provides it", exit_code=EXIT_USAGE)
        chosen[family] = name
    return chosen


def run(args: argparse.Namespace) -> int:
    _check(args)
    started = time.monotonic()
    report = trio.run(_simulate, args)
    print(report.format(top=args.top))
    print(f"\n(wall time {time.monotonic() - started:.1f} s)", file=sys.stderr)
    return 0


async def _simulate(args: argparse.Namespace) -> SimulationReport:
    host = load_plugins(args)
    registry = host.registry
    strategies = _strategies(args, registry)
    template = simulation_template(
        args.phase_seconds, template=CampaignTemplate.load(args.template) if args.template else None,
        strategies=strategies, families={name: ptype.family for name, ptype in registry.phase_types.items()},
    )
    # Names and settings checked before anything is opened, naming the file.
    template.check(registry, source=args.template or "the demo template")
    store = store_path(args, create=True) if args.data else None
    bar = None if args.no_progress else ProgressBar(sys.stderr)
    try:
        async with open_engine(store, plugins=host) as engine:
            return await simulate(
                engine, args.participants, args.seed, template=template,
                max_active=args.max_active, progress=bar, phase_timeout=args.phase_timeout,
            )
    finally:
        if bar is not None:
            bar.close()
