"""Sessions from several generator processes, read as one fleet.

One lean asyncio process drives ~10,000 sessions on a core; 50,000+ need
several cores, or several machines. :class:`SpreadFleet` has the interface
``bench.run_level`` uses (grow, wait, reset, sync, tally, close): it runs
a share of the sessions itself and the rest in ``processes - 1`` worker
processes (``python -m loadtests.fleet_processes``), each a
:class:`~loadtests.lean.Fleet` with the URLs in its own round-robin order,
driven over stdin/stdout with one JSON line per command (``welcomed``,
``reset``, ``tally``, ``stop``). :meth:`SpreadFleet.sync` adds the
workers' tallies into the local one, so the SLO check reads every session.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections import Counter
from collections.abc import Sequence
from typing import Any

import orjson

from .lean import Fleet, Tally, raise_open_files_limit

__all__ = ["SpreadFleet", "tally_to_dict", "add_tally"]

#: Seconds a worker gets to answer one command (it answers in milliseconds).
WORKER_ANSWER_SECONDS = 30.0


def _hist(d: dict[Any, int]) -> dict[int, int]:
    return {int(k): v for k, v in d.items()}


def tally_to_dict(t: Tally) -> dict[str, Any]:
    m = t.measured
    return {"requests": m.requests, "failures": m.failures, "connection_errors": m.connection_errors,
            "acks": m.acks, "pushes": m.pushes, "connect": t.connect, "errors": dict(t.errors),
            "by_name": t.by_name, "frames_in": t.frames_in}


def add_tally(into: Tally, d: dict[str, Any]) -> None:
    """Add a worker's tally (``tally_to_dict`` form, through JSON) into ``into``."""
    m = into.measured
    m.requests += d["requests"]
    m.failures += d["failures"]
    m.connection_errors += d["connection_errors"]
    for target, source in ((m.acks, d["acks"]), (m.pushes, d["pushes"]), (into.connect, d["connect"])):
        for ms, n in _hist(source).items():
            target[ms] = target.get(ms, 0) + n
    into.errors.update(Counter(d["errors"]))
    for name, hist in d["by_name"].items():
        mine = into.by_name.setdefault(name, {})
        for ms, n in _hist(hist).items():
            mine[ms] = mine.get(ms, 0) + n
    into.frames_in += d["frames_in"]


class SpreadFleet:
    """A :class:`Fleet` here plus ``processes - 1`` worker processes."""

    def __init__(self, ws_urls: Sequence[str], code: str, processes: int) -> None:
        self.urls, self.code, self.processes = list(ws_urls), code, processes
        self.local = Fleet(self.urls, code)
        self.tally = self.local.tally
        self.stop = self.local.stop
        self.workers: list[asyncio.subprocess.Process] = []
        self._welcomed_elsewhere = 0

    @property
    def welcomed(self) -> int:
        return self.local.welcomed + self._welcomed_elsewhere

    async def _ask(self, worker: asyncio.subprocess.Process, command: str) -> Any:
        assert worker.stdin is not None and worker.stdout is not None
        worker.stdin.write(command.encode() + b"\n")
        await worker.stdin.drain()
        line = await asyncio.wait_for(worker.stdout.readline(), WORKER_ANSWER_SECONDS)
        if not line:
            raise RuntimeError(f"a generator worker exited (asked {command!r})")
        return orjson.loads(line)

    async def grow(self, n: int, per_second: float) -> None:
        share = n // self.processes
        for i in range(1, self.processes):
            rotated = self.urls[i % len(self.urls):] + self.urls[:i % len(self.urls)]
            self.workers.append(await asyncio.create_subprocess_exec(
                sys.executable, "-m", "loadtests.fleet_processes", "--code", self.code, "--sessions", str(share),
                "--rate", str(per_second / self.processes), "--seed", str(i + 1), *rotated,
                stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE))
        await self.local.grow(n - share * (self.processes - 1), per_second / self.processes)

    async def wait_welcomed(self, n: int, timeout: float) -> bool:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            self._welcomed_elsewhere = sum([(await self._ask(w, "welcomed"))["welcomed"] for w in self.workers])
            if self.welcomed >= n or loop.time() >= deadline:
                return self.welcomed >= n
            await asyncio.sleep(0.5)

    async def reset(self) -> None:
        self.tally.reset()
        for w in self.workers:
            await self._ask(w, "reset")

    async def sync(self) -> None:
        """Add every worker's tally into the local one (and zero theirs)."""
        for w in self.workers:
            add_tally(self.tally, await self._ask(w, "tally"))
            await self._ask(w, "reset")

    async def close(self) -> None:
        for w in self.workers:
            try:
                await self._ask(w, "stop")
            except (RuntimeError, TimeoutError, BrokenPipeError, ConnectionResetError):
                w.kill()
            await w.wait()
        await self.local.close()


async def _worker(args: argparse.Namespace) -> None:
    raise_open_files_limit()
    fleet = Fleet(args.urls, args.code, seed=args.seed)
    growing = asyncio.create_task(fleet.grow(args.sessions, args.rate))
    reader = asyncio.StreamReader()
    await asyncio.get_running_loop().connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader), sys.stdin)
    while line := (await reader.readline()).strip():
        command = line.decode()
        if command == "welcomed":
            answer: Any = {"welcomed": fleet.welcomed}
        elif command == "reset":
            fleet.tally.reset()
            answer = {"ok": True}
        elif command == "tally":
            answer = tally_to_dict(fleet.tally)
        else:
            break
        sys.stdout.write(orjson.dumps(answer, option=orjson.OPT_NON_STR_KEYS).decode() + "\n")
        sys.stdout.flush()
    growing.cancel()
    await fleet.close()
    sys.stdout.write('{"ok": true}\n')
    sys.stdout.flush()


def main() -> None:
    parser = argparse.ArgumentParser(description="one worker of a SpreadFleet (started by it)")
    parser.add_argument("urls", nargs="+")
    parser.add_argument("--code", required=True)
    parser.add_argument("--sessions", type=int, required=True)
    parser.add_argument("--rate", type=float, required=True)
    parser.add_argument("--seed", type=int, default=2)
    asyncio.run(_worker(parser.parse_args()))


if __name__ == "__main__":
    main()
