"""Cluster benchmark (``make bench-cluster``): sessions one gateway holds within
the SLOs in cluster mode, next to one plain process, side by side in one run.

At each level (2,500, 5,000, 7,500, 10,000, … sessions) two configurations
run the campaign workload of ``make bench`` (joins, collect → sort →
evaluate → results, a facilitator console polling), one after the other:

- ``essaim``: one plain ``essaim serve`` (SQLite, no bus) pinned to core 0;
- ``cluster``: a real redis-server, one owner (``essaim serve --cluster``,
  creates the campaign, serves no phone) on core 1, and ``--gateways``
  gateways (the first on core 0): the sessions go to the gateways
  round-robin and the row reports the first gateway, so with one gateway its
  sessions held compare with the plain process on the same core.

The generator runs on core 1 (``make`` pins it), beside the owner and
Valkey. Printed: the rows of ``make bench`` (``rlag95``: the gateway's
replication lag p95 from its ``/metrics``), then the ratio of sessions held
cluster / plain (target ≥ 0.85).
"""

from __future__ import annotations

import argparse
import asyncio
import sys

from . import slo
from .bench import HEADER, LevelResult, most_held, run_level
from .deployments import ClusterDeployment
from .lean import raise_open_files_limit

__all__ = ["main"]

DEFAULT_LEVELS = (2500, 5000, 7500, 10000, 12500)
#: Sessions held per gateway in cluster mode / by one plain process (issue 12).
TARGET_RATIO = 0.85


async def amain(args: argparse.Namespace) -> int:
    raise_open_files_limit()
    objectives = slo.Objectives.from_env()
    levels = sorted(int(x) for x in args.levels.split(","))
    print(f"cluster benchmark: levels {levels}, {args.window:g} s per phase; plain server and first gateway on "
          f"cpu 0, owner on cpu 1, {args.gateways} gateway(s); side by side per level")
    print(HEADER)
    plain: list[LevelResult] = []
    cluster: list[LevelResult] = []
    for n in levels:
        if not plain or plain[-1].held:
            plain.append(await run_level("essaim", n, args.window, "0", objectives))
            print(plain[-1].row(), flush=True)
        if not cluster or cluster[-1].held:
            deployment = ClusterDeployment(gateways=args.gateways, gateway_cpus=("0",), owner_cpu="1")
            cluster.append(await run_level("cluster", n, args.window, None, objectives, deploy=deployment.start))
            print(cluster[-1].row(), flush=True)
        if not plain[-1].held and not cluster[-1].held:
            break
    held_plain, held_cluster = most_held(plain), most_held(cluster)
    print()
    print(f"most sessions held within SLO: plain {held_plain}, cluster (per gateway) {held_cluster}")
    if held_plain:
        ratio = held_cluster / held_plain
        print(f"cluster/plain ratio: {ratio:.2f} (target >= {TARGET_RATIO}){'' if ratio >= TARGET_RATIO else '  BELOW TARGET'}")
        return 0 if ratio >= TARGET_RATIO else 1
    return 1


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--levels", default=",".join(map(str, DEFAULT_LEVELS)))
    parser.add_argument("--window", type=float, default=30.0, help="seconds of each phase at each level")
    parser.add_argument("--gateways", type=int, default=1, help="gateways in cluster mode (the row reports the first)")
    sys.exit(asyncio.run(amain(parser.parse_args())))


if __name__ == "__main__":
    main()
