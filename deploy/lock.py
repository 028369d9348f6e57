"""Write deploy/requirements.lock: essaim's runtime dependencies, pinned.

The pins are the versions installed in the environment this runs in, taken
over the whole runtime closure of the ``essaim`` distribution (its
``dependencies`` and the ``cluster`` and ``postgres`` extras a deployment may need, theirs,
and so on, markers evaluated for this Python; no test or load tools). Run it in the test virtualenv (``make lock``): the lock then holds
exactly the versions the suite passed against, ``make venv`` installs with
it as constraints, and ``tests/deploy/test_lock.py`` fails when the two
drift apart or a pin leaves pyproject.toml's ranges.

Deploy with ``pip install -c deploy/requirements.lock <essaim wheel>``.
"""

from __future__ import annotations

import sys
from importlib.metadata import PackageNotFoundError, distribution
from pathlib import Path

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

__all__ = ["runtime_closure", "render_lock", "read_lock", "LOCK_FILE", "DEPLOY_EXTRAS"]

#: essaim's extras a deployment installs (several processes on Valkey, the PostgreSQL store); dev and load are the tests' own.
DEPLOY_EXTRAS = ("cluster", "postgres")

LOCK_FILE = Path(__file__).resolve().parent / "requirements.lock"
HEADER = ("# essaim's runtime dependencies, pinned to the versions its test suite ran against.\n"
          "# Produced by `make lock` (deploy/lock.py) from the test virtualenv; checked by\n"
          "# tests/deploy/test_lock.py. Install: pip install -c deploy/requirements.lock essaim\n")


def runtime_closure(root: str = "essaim") -> dict[str, str]:
    """Canonical name -> installed version of every runtime dependency of ``root``."""
    found: dict[str, str] = {}
    todo = [Requirement(r) for r in distribution(root).requires or ()
            if _wanted(Requirement(r), ("", *DEPLOY_EXTRAS))]
    while todo:
        req = todo.pop()
        name = canonicalize_name(req.name)
        if name in found:
            continue
        try:
            dist = distribution(req.name)
        except PackageNotFoundError:
            raise SystemExit(f"{req.name} (needed by essaim) is not installed here: run `make venv` first") from None
        found[name] = dist.version
        todo.extend(sub for sub in map(Requirement, dist.requires or ()) if _wanted(sub, ("",)))
    return dict(sorted(found.items()))


def _wanted(req: Requirement, extras: tuple[str, ...]) -> bool:
    return req.marker is None or any(req.marker.evaluate({"extra": extra}) for extra in extras)


def render_lock(pins: dict[str, str]) -> str:
    return HEADER + "".join(f"{name}=={version}\n" for name, version in pins.items())


def read_lock(path: Path = LOCK_FILE) -> dict[str, str]:
    pins = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        if line and not line.startswith("#"):
            name, _, version = line.partition("==")
            pins[canonicalize_name(name)] = version
    return pins


if __name__ == "__main__":
    text = render_lock(runtime_closure())
    if sys.argv[1:] == ["--check"]:
        sys.exit(0 if LOCK_FILE.read_text(encoding="utf-8") == text else "deploy/requirements.lock is stale: make lock")
    LOCK_FILE.write_text(text, encoding="utf-8")
    print(f"wrote {LOCK_FILE} ({text.count(chr(10)) - HEADER.count(chr(10))} pins)")
